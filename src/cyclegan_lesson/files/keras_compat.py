"""Load ``.keras`` files saved by a newer Keras than the one installed.

Every ``.keras`` file the course ships was saved by a recent Keras, which writes some
configuration keys that older Keras 3 releases do not know, for instance ``input_axes`` and
``output_axes`` on every Glorot/He/LeCun initializer (Keras 3.15), ``renorm`` on
``BatchNormalization`` or ``quantization_config`` on ``Dense``. An older Keras refuses the whole
file (``GlorotUniform.__init__() got an unexpected keyword argument 'input_axes'``), although
these keys hold their default values, which mean exactly what the older Keras does anyway.
Google Colab's preinstalled Keras is such an older one.

:func:`load_model` first loads the file as it is. Only when that fails and the file was saved by
a newer Keras does it load a copy whose configuration leaves out the keys listed in
:data:`NEWER_DEFAULTS` wherever they hold their default value. A key set to anything else is
never dropped: the load then fails with one line saying which Keras saved the file and to
upgrade. This spares a Colab reader a Keras upgrade (and the runtime restart it would need).
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from typing import Any

__all__ = ["NEWER_DEFAULTS", "KerasTooOldError", "load_model", "strip_newer_defaults"]

_FAN_AXES = {"input_axes": None, "output_axes": None}
_QUANTIZABLE = {"quantization_config": None, "lora_alpha": None}

#: ``class name -> {config key: default value}``: keys that Keras releases newer than the
#: declared floor (``keras>=3.6``) write into built-in Keras classes' configurations, with the
#: value that means "the behaviour older Keras has". ``tests/test_keras_compat.py`` checks every
#: default against the installed Keras' signatures.
NEWER_DEFAULTS: dict[str, dict[str, Any]] = {
    **{name: _FAN_AXES for name in ("VarianceScaling", "GlorotUniform", "GlorotNormal",
                                    "LecunNormal", "LecunUniform", "HeNormal", "HeUniform")},
    "BatchNormalization": {"renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99},
    **{name: _QUANTIZABLE for name in ("Dense", "EinsumDense", "Embedding")},
    "InputLayer": {"optional": False},
}


class KerasTooOldError(RuntimeError):
    """A ``.keras`` file needs a newer Keras than the installed one."""


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in str(text).split(".")[:3]:
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def _is_default(value: Any, default: Any) -> bool:
    return value is None if default is None else (type(value) is type(default)
                                                   and value == default)


def strip_newer_defaults(config: Any) -> list[str]:
    """Remove, in place, every key of :data:`NEWER_DEFAULTS` that holds its default value from
    the built-in Keras objects (``module`` starting with ``keras``) anywhere in the model
    configuration ``config`` (the parsed ``config.json`` of a ``.keras`` file). Returns the
    removed keys as ``"Class.key"`` (repeats included); keys with other values stay."""
    removed: list[str] = []
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        inner = node.get("config")
        defaults = NEWER_DEFAULTS.get(node.get("class_name"))
        if (defaults and isinstance(inner, dict)
                and str(node.get("module") or "keras").startswith("keras")):
            for key, default in defaults.items():
                if key in inner and _is_default(inner[key], default):
                    del inner[key]
                    removed.append(f"{node['class_name']}.{key}")
        stack.extend(node.values())
    return removed


def _saved_by(path: str) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("metadata.json")).get("keras_version")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


def load_model(path: str | os.PathLike, *, compile: bool = False, **kwargs: Any):
    """``keras.models.load_model(path, compile=compile, **kwargs)``, which also loads a file
    saved by a newer Keras when its only novelties are configuration keys holding their
    defaults (see the module docstring).

    Raises:
        KerasTooOldError: the installed Keras cannot load the file even so; the message names
            the Keras that saved it and the upgrade command.
    """
    import keras

    path = os.fspath(path)
    try:
        return keras.models.load_model(path, compile=compile, **kwargs)
    except (TypeError, ValueError) as error:
        saved = _saved_by(path)
        if saved is None or _version(saved) <= _version(keras.__version__):
            raise
        first = error
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
        if not strip_newer_defaults(config):
            raise KerasTooOldError(_upgrade(path, saved, first)) from first
        with tempfile.TemporaryDirectory(prefix="keras-compat-") as folder:
            copy = os.path.join(folder, os.path.basename(path))
            with zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as out:
                for item in archive.infolist():
                    data = (json.dumps(config).encode() if item.filename == "config.json"
                            else archive.read(item.filename))
                    out.writestr(item, data)
            try:
                return keras.models.load_model(copy, compile=compile, **kwargs)
            except (TypeError, ValueError) as error:
                raise KerasTooOldError(_upgrade(path, saved, error)) from error


def _upgrade(path: str, saved: str, error: BaseException) -> str:
    import keras

    return (f"{path} was saved by Keras {saved}, which the installed Keras {keras.__version__} "
            f"cannot read ({_first_line(error)}); upgrade Keras: "
            f"pip install --upgrade 'keras>={saved}'")


def _first_line(error: BaseException) -> str:
    """The last informative line of a Keras deserialization error (it nests the real cause)."""
    text = str(error).strip()
    marker = "Exception encountered:"
    if marker in text:
        text = text.rsplit(marker, 1)[1].strip()
    return (text.splitlines() or [type(error).__name__])[0][:200]
