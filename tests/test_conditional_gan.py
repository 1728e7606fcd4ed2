"""Chapter 8's package (conditional GAN): the condition reaches both players (changing the label
changes G's output and D's verdict), the training step and the resumable command line, the
figure helpers, the class-conditional measures (conditioning accuracy, CAS, per-class FD,
intra-class diversity) on hand-made cases, and the shipped generator
(models/cgan_mnist): it loads after ``import cyclegan_lesson``, has the documented inputs,
outputs and range, and the chapter's figures and measures come out of it as recorded."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cyclegan_lesson  # noqa: F401
from cyclegan_lesson.models import conditional_gan as cg
from cyclegan_lesson import pretrained
from cyclegan_lesson.models import gan
from cyclegan_lesson.evaluation import sample_quality as sq

LATENT = 8


@pytest.fixture(scope="module")
def tiny():
    import keras

    keras.utils.set_random_seed(0)
    return (cg.build_conditional_generator(LATENT, filters=4),
            cg.build_conditional_discriminator(filters=4))


def test_generator_shapes_range_and_label_input(tiny):
    g, _ = tiny
    assert [tuple(t.shape) for t in g.inputs] == [(None, LATENT), (None,)]
    assert "int" in g.inputs[1].dtype
    x = cg.sample(g, [0, 3, 9], seed=1)
    assert x.shape == (3, 32, 32, 1) and x.dtype == np.float32
    assert x.min() >= -1 and x.max() <= 1
    assert np.array_equal(x, cg.sample(g, [0, 3, 9], seed=1))


def test_changing_the_label_changes_the_generator_output(tiny):
    g, _ = tiny
    z = np.random.default_rng(0).standard_normal((1, LATENT)).astype("float32")
    outs = [cg.sample(g, [k], z=z) for k in range(10)]
    for k in range(1, 10):
        assert np.max(np.abs(outs[k] - outs[0])) > 1e-4, k
    # the same label with the same z is the same image
    assert np.array_equal(outs[4], cg.sample(g, [4], z=z))


def test_changing_the_label_changes_the_discriminator_output(tiny):
    _, d = tiny
    x = np.random.default_rng(0).uniform(-1, 1, (10, 32, 32, 1)).astype("float32")
    logits = [np.asarray(d([x, np.full(10, k, "int32")], training=False)) for k in range(10)]
    assert logits[0].shape == (10, 1)
    for k in range(1, 10):
        assert np.max(np.abs(logits[k] - logits[0])) > 1e-5, k


def test_discriminator_sees_the_label_as_constant_planes(tiny):
    _, d = tiny
    import keras

    tiled = keras.Model(d.inputs, d.get_layer("image_and_y").output)
    x = np.zeros((2, 32, 32, 1), "float32")
    planes = np.asarray(tiled([x, np.array([2, 7], "int32")]))
    assert planes.shape == (2, 32, 32, 11)
    assert np.all(planes[0, :, :, 1 + 2] == 1) and np.all(planes[1, :, :, 1 + 7] == 1)
    assert planes[..., 1:].sum() == 2 * 32 * 32


def test_bad_labels_and_noise_raise_clear_errors(tiny):
    g, _ = tiny
    with pytest.raises(ValueError, match=r"in 0\.\.9"):
        cg.sample(g, [10])
    with pytest.raises(ValueError, match="1-D"):
        cg.sample(g, np.eye(10))
    with pytest.raises(ValueError, match="integers"):
        cg.sample(g, [0.5])
    with pytest.raises(ValueError, match="z must have shape"):
        cg.sample(g, [1, 2], z=np.zeros((3, LATENT)))
    with pytest.raises(ValueError, match=r"\[z, label\]"):
        cg.sample(gan.build_dcgan_generator(LATENT, filters=4), [1])
    with pytest.raises(ValueError, match="generator must take"):
        cg.ConditionalGAN(gan.build_dcgan_generator(LATENT, filters=4),
                          gan.build_dcgan_discriminator(filters=4))


def test_grids_put_classes_in_rows_and_keep_the_noise_in_style_rows(tiny):
    g, _ = tiny
    grid = cg.class_grid(g, 3, seed=2)
    assert grid.shape == (10, 3, 32, 32, 1)
    style = cg.style_grid(g, 2, seed=2)
    assert style.shape == (2, 10, 32, 32, 1)
    z = np.random.default_rng(2).standard_normal((2, LATENT)).astype("float32")
    assert np.allclose(style[1, 6], cg.sample(g, [6], z=z[1:2])[0], atol=1e-6)
    assert np.array_equal(cg.evenly_labelled(2), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7,
                                                  8, 8, 9, 9])


def test_train_step_updates_both_players_and_uses_the_labels():
    model = cg.make_conditional_gan(latent_dim=LATENT, filters=4, seed=0)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (64, 32, 32, 1)).astype("float32")
    y = rng.integers(0, 10, 64)
    g0 = [np.array(v) for v in model.generator.trainable_variables]
    d0 = [np.array(v) for v in model.discriminator.trainable_variables]
    hist = gan.train_gan(model, x, labels=y, steps=4, chunk=2, batch_size=16)
    assert hist["step"] == [2, 4]
    assert all(np.isfinite(hist[k]).all() for k in ("d_loss", "g_loss", "d_real", "d_fake"))
    assert any(not np.allclose(a, np.array(b)) for a, b in
               zip(g0, model.generator.trainable_variables))
    assert any(not np.allclose(a, np.array(b)) for a, b in
               zip(d0, model.discriminator.trainable_variables))
    with pytest.raises(ValueError, match="labels must have shape"):
        gan.train_gan(model, x, labels=y[:10], steps=2, chunk=2, batch_size=16)


def test_command_line_trains_resumes_and_writes_the_documented_files(tmp_path, data_dir):
    out = tmp_path / "cgan"
    args = ["--out", out, "--data-dir", data_dir, "--latent-dim", LATENT, "--filters", 4,
            "--batch-size", 16, "--checkpoint-every", 100]
    cg.main([str(a) for a in args + ["--steps", 100]])
    info = json.loads((out / "generator.json").read_text())
    assert info["latent_dim"] == LATENT and info["image_size"] == 32
    assert info["steps_done"] == 100 and info["value_range"] == [-1.0, 1.0]
    cg.main([str(a) for a in args + ["--steps", 200]])           # resumes at step 100
    info = json.loads((out / "generator.json").read_text())
    history = json.loads((out / "history.json").read_text())
    assert info["steps_done"] == 200 and history["step"] == [100, 200]
    g = cg.load_generator(out / "generator.keras")
    assert cg.sample(g, [1, 2]).shape == (2, 32, 32, 1)
    with pytest.raises(FileNotFoundError, match="not found"):
        cg.load_generator(tmp_path / "none.keras")


# ---------------------------------------------------------------------------------------------
# the measures, on cases with a known answer
# ---------------------------------------------------------------------------------------------

class _Oracle:
    """A stand-in classifier: the logits are the first 10 pixels of the image (so the test
    chooses what it reads)."""

    input_shape = (None, 32, 32, 1)

    def __call__(self, x, training=False):
        return np.asarray(x).reshape(len(x), -1)[:, :10]


def _images_read_as(read):
    x = np.zeros((len(read), 32, 32, 1), "float32")
    x.reshape(len(read), -1)[np.arange(len(read)), read] = 1.0
    return x


def test_conditioning_accuracy_counts_matches_and_confusions():
    asked = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    read = np.array([0, 0, 1, 7, 2, 2, 3, 5])
    out = sq.conditioning_accuracy(_Oracle(), _images_read_as(read), asked)
    assert out["accuracy"] == pytest.approx(6 / 8) and out["n"] == 8
    assert out["per_class"][:4] == [1.0, 0.5, 1.0, 0.5]
    assert out["confusion"][1, 7] == 1 and out["confusion"][3, 5] == 1
    assert out["interval"][0] < 0.75 < out["interval"][1]
    with pytest.raises(ValueError, match="one per image"):
        sq.conditioning_accuracy(_Oracle(), _images_read_as(read), asked[:3])


def test_intra_class_diversity_is_zero_for_one_style_per_class():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 50)
    varied = rng.standard_normal((500, 6))
    collapsed = np.repeat(rng.standard_normal((10, 6)), 50, axis=0)
    d_varied = sq.intra_class_diversity(varied, labels)
    assert np.all(sq.intra_class_diversity(collapsed, labels) < 1e-6)
    # for N(0, I) in 6-D the mean distance between two points is about sqrt(2 * 6)
    assert np.all(np.abs(d_varied - np.sqrt(12)) < 0.5)
    with pytest.raises(ValueError, match="class 9 has 0 rows"):
        sq.intra_class_diversity(varied[:450], labels[:450])


def test_per_class_frechet_distance_finds_the_one_bad_class():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(10), 400)
    real = rng.standard_normal((4000, 3))
    fake = rng.standard_normal((4000, 3))
    fake[labels == 4] += 3.0                          # class 4 shifted by 3 in every coordinate
    fd = sq.per_class_frechet_distance(fake, labels, real, labels)
    assert fd.shape == (10,)
    assert fd[4] == pytest.approx(27.0, rel=0.1)      # |mu1 - mu2|^2 = 3 * 3^2
    assert np.all(np.delete(fd, 4) < 0.2)


def test_classification_accuracy_score_learns_real_and_fails_on_mislabelled(data_dir):
    from cyclegan_lesson.evaluation import classifiers

    x, y = classifiers.load_digit_arrays("mnist", "train", str(data_dir), limit=2000)
    x_te, y_te = classifiers.load_digit_arrays("mnist", "test", str(data_dir), limit=500)
    good = sq.classification_accuracy_score(x, y, x_te, y_te, width=8, epochs=8, batch_size=32)
    wrong = sq.classification_accuracy_score(x, (y + 1) % 10, x_te, y_te, width=8, epochs=8,
                                             batch_size=32)
    assert good["accuracy"] > 0.8 and good["n_test"] == 500 and good["n_train"] == 2000
    assert wrong["accuracy"] < 0.2   # a generator that draws digit y + 1 for label y
    with pytest.raises(ValueError, match="multiple of 8"):
        sq.classification_accuracy_score(x[:, :28, :28], y, x_te, y_te)


# ---------------------------------------------------------------------------------------------
# the shipped generator
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shipped():
    return cg.load_shipped_generator()


def test_shipped_generator_is_found_through_pretrained_and_is_small():
    import os

    path = pretrained.path(cg.SHIPPED_GENERATOR)
    assert os.path.getsize(path) < 10 * 2**20
    assert "cgan_mnist/generator.json" in pretrained.names()


def test_shipped_generator_loads_after_plain_package_import(tmp_path):
    code = textwrap.dedent(f"""
        import json, numpy as np, keras
        import cyclegan_lesson
        from cyclegan_lesson import pretrained
        g = keras.models.load_model(pretrained.path({cg.SHIPPED_GENERATOR!r}))
        info = json.load(open(pretrained.path("cgan_mnist/generator.json")))
        z = np.random.default_rng(0).standard_normal((3, info["latent_dim"])).astype("float32")
        x = keras.ops.convert_to_numpy(g([z, np.array([0, 5, 9], "int32")], training=False))
        assert x.shape == (3, info["image_size"], info["image_size"], 1), x.shape
        assert x.min() >= -1 and x.max() <= 1
        print("ok")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                          timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-2000:]


def test_shipped_generator_has_the_documented_interface(shipped):
    g, info = shipped
    assert info["latent_dim"] == int(g.inputs[0].shape[-1])
    assert tuple(g.inputs[1].shape) == (None,) and "int" in g.inputs[1].dtype
    assert tuple(g.output_shape) == (None, info["image_size"], info["image_size"], 1)
    assert info["image_size"] == 32 and info["num_classes"] == 10


def test_shipped_generator_reproduces_the_chapters_figures_and_measures(shipped, data_dir):
    """The chapter's grids come out of the shipped file (the judge reads nearly every row of
    the 10 x 10 class grid as its class, and the style grid's columns as theirs), and the
    conditioning accuracy on 1,000 samples is within the noise of the recorded 10,000-sample
    value."""
    from cyclegan_lesson.evaluation import classifiers, metrics

    g, info = shipped
    judge = classifiers.load_shipped_classifier("mnist")
    grid = cg.class_grid(g, 10, seed=info["figures"]["class_grid_seed"])
    read = classifiers.predict_labels(judge, grid.reshape(-1, 32, 32, 1)).reshape(10, 10)
    assert np.mean(read == np.arange(10)[:, None]) >= 0.9
    assert np.mean(read == np.arange(10)[:, None]) == pytest.approx(
        info["figures"]["class_grid_read_correctly"], abs=0.02)
    style = cg.style_grid(g, 6, seed=info["figures"]["style_grid_seed"])
    read = classifiers.predict_labels(judge, style.reshape(-1, 32, 32, 1)).reshape(6, 10)
    assert np.mean(read == np.arange(10)[None, :]) >= 0.9
    labels = cg.evenly_labelled(100)
    acc = sq.conditioning_accuracy(judge, cg.sample(g, labels, seed=123), labels)["accuracy"]
    recorded = info["evaluation"]["conditioning_accuracy"]
    low, high = metrics.binomial_interval(recorded, 1000)
    assert low - 0.01 <= acc <= high + 0.01, (acc, recorded)
    assert recorded >= 0.97
