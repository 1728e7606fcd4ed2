"""keras_compat.load_model: a ``.keras`` file saved by a newer Keras loads when its only novelties
are configuration keys holding their defaults; any other value is refused with one line. The
real older Keras releases are exercised by tests/test_reader_environments.py; here a "newer
Keras" is simulated by a key the installed Keras does not know and a later ``keras_version``."""

from __future__ import annotations

import inspect
import json
import zipfile

import keras
import numpy as np
import pytest

from cyclegan_lesson.files import keras_compat


def _small_model() -> keras.Model:
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(3, kernel_initializer=keras.initializers.GlorotUniform(seed=1))(
        inputs)
    outputs = keras.layers.BatchNormalization()(hidden)
    return keras.Model(inputs, outputs)


def _rewrite(path, *, version=None, edit=None):
    """Rewrite the archive ``path`` with another ``keras_version`` and/or ``edit(config)``."""
    with zipfile.ZipFile(path) as archive:
        items = {i.filename: archive.read(i.filename) for i in archive.infolist()}
    meta, config = json.loads(items["metadata.json"]), json.loads(items["config.json"])
    if version:
        meta["keras_version"] = version
    if edit:
        edit(config)
    items["metadata.json"], items["config.json"] = json.dumps(meta), json.dumps(config)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in items.items():
            archive.writestr(name, data)


def _objects(config, class_name):
    found, stack = [], [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("class_name") == class_name and isinstance(node.get("config"), dict):
                found.append(node["config"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


@pytest.fixture()
def future_file(tmp_path, monkeypatch):
    """A model saved by this Keras, stamped as saved by Keras 99.0 and carrying a key
    (``future_axes``, default None) that this Keras' GlorotUniform does not accept."""
    monkeypatch.setitem(keras_compat.NEWER_DEFAULTS, "GlorotUniform",
                        {**keras_compat.NEWER_DEFAULTS["GlorotUniform"], "future_axes": None})
    model = _small_model()
    path = tmp_path / "model.keras"
    model.save(path)
    return model, path


def _set_future_axes(value):
    def edit(config):
        for initializer in _objects(config, "GlorotUniform"):
            initializer["future_axes"] = value
    return edit


def test_newer_default_key_is_dropped_and_the_weights_load(future_file):
    model, path = future_file
    _rewrite(path, version="99.0.0", edit=_set_future_axes(None))
    with pytest.raises(TypeError, match="future_axes"):  # what plain Keras does
        keras.models.load_model(path, compile=False)
    loaded = keras_compat.load_model(path)
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(model(x)))
    with zipfile.ZipFile(path) as archive:  # the user's file is left as it was
        assert "future_axes" in archive.read("config.json").decode()


def test_a_non_default_value_is_refused_with_the_upgrade_line(future_file):
    _, path = future_file
    _rewrite(path, version="99.0.0", edit=_set_future_axes([0, 1]))
    with pytest.raises(keras_compat.KerasTooOldError) as info:
        keras_compat.load_model(path)
    message = str(info.value)
    assert "\n" not in message
    assert "saved by Keras 99.0.0" in message and keras.__version__ in message
    assert "pip install --upgrade 'keras>=99.0.0'" in message
    assert "future_axes" in message


def test_a_file_from_the_same_keras_fails_as_plain_keras_does(future_file):
    """Not saved by a newer Keras: nothing is rewritten, the original error comes through."""
    _, path = future_file
    _rewrite(path, edit=_set_future_axes(None))
    with pytest.raises(TypeError, match="future_axes"):
        keras_compat.load_model(path)


def test_strip_keeps_other_values_and_other_modules():
    config = {"layers": [
        {"module": "keras.layers", "class_name": "BatchNormalization",
         "config": {"renorm": False, "renorm_clipping": None, "renorm_momentum": 0.9}},
        {"module": "keras.layers", "class_name": "Dense",
         "config": {"quantization_config": None, "units": 3,
                    "kernel_initializer": {"module": "keras.initializers",
                                           "class_name": "HeNormal",
                                           "config": {"input_axes": [0], "output_axes": None}}}},
        {"module": "my_package.layers", "class_name": "Dense",
         "config": {"quantization_config": None}},
        {"module": "keras.layers", "class_name": "BatchNormalization",
         "config": {"renorm": 0}},  # 0 is not the default False
    ]}
    removed = keras_compat.strip_newer_defaults(config)
    assert sorted(removed) == ["BatchNormalization.renorm", "BatchNormalization.renorm_clipping",
                               "Dense.quantization_config", "HeNormal.output_axes"]
    layers = config["layers"]
    assert layers[0]["config"] == {"renorm_momentum": 0.9}
    assert layers[1]["config"]["kernel_initializer"]["config"] == {"input_axes": [0]}
    assert layers[2]["config"] == {"quantization_config": None}
    assert layers[3]["config"] == {"renorm": 0}


def test_the_defaults_are_the_installed_keras_defaults():
    """Where the installed Keras has a key of NEWER_DEFAULTS, its default is the one listed
    (dropping the key then means the same model); the pinned Keras has every listed key."""
    missing = []
    for class_name, defaults in keras_compat.NEWER_DEFAULTS.items():
        cls = getattr(keras.initializers, class_name, None) or getattr(keras.layers, class_name)
        parameters = inspect.signature(cls.__init__).parameters
        for key, default in defaults.items():
            if key not in parameters:
                missing.append(f"{class_name}.{key}")
                continue
            assert parameters[key].default == default, (class_name, key)
            assert type(parameters[key].default) is type(default), (class_name, key)
    assert not missing, f"the installed Keras {keras.__version__} lacks {missing}"
