"""Package-level promises: every `.keras` file the package writes loads after a plain
`import cyclegan_lesson` in a fresh process (no other module of the package imported first)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from cyclegan_lesson.models import cyclegan
from cyclegan_lesson.nn import networks, residual_nets


@pytest.mark.parametrize(
    "build",
    [
        lambda: networks.resnet_generator(n_blocks=1, ngf=4, image_size=32, in_channels=1,
                                          out_channels=3),
        lambda: networks.unet_generator(image_size=32, ngf=4, in_channels=1, out_channels=3),
        lambda: networks.patch_discriminator(n_layers=2, ndf=4, in_channels=3, image_size=32),
        lambda: residual_nets.residual_cnn(depth=8, width=4),
    ],
    ids=["resnet_generator", "unet_generator", "patch_discriminator", "residual_cnn"],
)
def test_saved_models_load_after_plain_package_import(build, tmp_path):
    model = build()
    path = tmp_path / "model.keras"
    model.save(path)
    x = np.random.default_rng(0).uniform(-1, 1, (2, *model.input_shape[1:])).astype("float32")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", keras.ops.convert_to_numpy(model(x, training=False)))
    code = textwrap.dedent(f"""
        import numpy as np, keras
        import cyclegan_lesson
        m = keras.models.load_model({str(path)!r})
        y = keras.ops.convert_to_numpy(m(np.load({str(tmp_path / 'x.npy')!r}), training=False))
        assert np.allclose(y, np.load({str(tmp_path / 'y.npy')!r}), atol=1e-5)
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-2000:]


def test_cyclegan_schedule_is_registered():
    schedule = cyclegan.LinearDecay(2e-4, n_epochs=2, n_epochs_decay=2, steps_per_epoch=3)
    config = keras.saving.serialize_keras_object(schedule)
    restored = keras.saving.deserialize_keras_object(config)
    assert float(restored(7)) == pytest.approx(float(schedule(7)))
