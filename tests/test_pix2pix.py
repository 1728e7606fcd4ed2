"""pix2pix (chapter 9): the loss, the conditioning of D, the training step, resumable training,
the 1x1 PatchGAN, and the shipped colourizer (shapes, range, luma kept, the recorded numbers)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import cyclegan_lesson  # noqa: F401  (registers the package's layers before any load)
from cyclegan_lesson import pretrained
from cyclegan_lesson.evaluation import colour_metrics
from cyclegan_lesson.models import pix2pix
from cyclegan_lesson.nn import losses, networks


def test_pix2pix_loss_is_the_weighted_sum_of_its_terms():
    logits = np.array([[0.0, 2.0], [-1.0, 0.5]], np.float32).reshape(1, 2, 2, 1)
    fake = np.zeros((1, 2, 2, 3), np.float32)
    real = np.full((1, 2, 2, 3), 0.5, np.float32)
    real[0, 0, 0] = -0.25
    out = pix2pix.pix2pix_loss(logits, fake, real, lambda_l1=100.0, lambda_gan=2.0, mode="bce")
    # by hand: -mean(log sigmoid(logits)) and mean |real - fake|
    gan = float(np.mean(np.log1p(np.exp(-logits))))
    l1 = float(np.mean(np.abs(real - fake)))
    assert float(out["gan"]) == pytest.approx(gan, rel=1e-5)
    assert float(out["l1"]) == pytest.approx(l1, rel=1e-6)
    assert float(out["total"]) == pytest.approx(2.0 * gan + 100.0 * l1, rel=1e-5)
    # the package's adversarial term is the one used
    assert float(out["gan"]) == pytest.approx(
        float(losses.generator_adversarial_loss(logits, "bce")), rel=1e-6)
    only_l1 = pix2pix.pix2pix_loss(logits, fake, real, lambda_l1=100.0, lambda_gan=0.0)
    assert float(only_l1["total"]) == pytest.approx(100.0 * l1, rel=1e-6)


@pytest.mark.parametrize("patch", pix2pix.PATCHES)
def test_the_gray_condition_reaches_the_discriminator(patch):
    d = pix2pix.build_discriminator(patch, ndf=8)
    rng = np.random.default_rng(0)
    colour = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    gray = rng.uniform(-1, 1, (2, 32, 32, 1)).astype(np.float32)
    a = np.asarray(d([gray, colour], training=False))
    b = np.asarray(d([-gray, colour], training=False))  # same colour image, other condition
    assert a.shape == b.shape and a.shape[-1] == 1
    # an untrained D's logits are small (weights ~ N(0, 0.02)); if the gray input did not reach
    # D, a and b would be identical
    assert np.abs(a - b).max() > 1e-2 * np.abs(a).max() > 0


def test_patch_sizes_and_receptive_fields():
    rf = {p: networks.receptive_field(pix2pix.build_discriminator(p, ndf=8).get_layer("patchgan"))
          for p in pix2pix.PATCHES}
    assert rf == {"pixel": 1, 1: 16, 2: 34, 3: 70}
    out = {p: pix2pix.build_discriminator(p, ndf=8).output_shape[1:3] for p in pix2pix.PATCHES}
    assert out == {"pixel": (32, 32), 1: (14, 14), 2: (6, 6), 3: (2, 2)}
    with pytest.raises(ValueError, match="patch must be one of"):
        pix2pix.build_discriminator(4)


def test_pixel_discriminator_sees_one_pixel():
    d = networks.pixel_discriminator(ndf=4, in_channels=4)
    x = np.random.default_rng(1).uniform(-1, 1, (1, 8, 8, 4)).astype(np.float32)
    y = x.copy()
    y[0, 3, 5] = -y[0, 3, 5]
    diff = np.abs(np.asarray(d(x)) - np.asarray(d(y)))[0, ..., 0]
    assert diff[3, 5] > 0 and np.count_nonzero(diff > 1e-7) == 1


def test_generator_keeps_the_luma_and_range():
    g = pix2pix.build_generator(ngf=4)
    gray = np.random.default_rng(2).uniform(-0.5, 0.5, (3, 32, 32, 1)).astype(np.float32)
    out = np.asarray(g(gray, training=False))
    assert out.shape == (3, 32, 32, 3) and out.min() >= -1 and out.max() <= 1
    np.testing.assert_allclose(colour_metrics.luma(out), gray, atol=1e-5)


def test_train_step_moves_both_players_and_l1_alone_leaves_d():
    rng = np.random.default_rng(3)
    gray = rng.uniform(-1, 1, (4, 32, 32, 1)).astype(np.float32)
    colour = rng.uniform(-1, 1, (4, 32, 32, 3)).astype(np.float32)
    for lambda_gan, d_moves in ((1.0, True), (0.0, False)):
        m = pix2pix.make_pix2pix(ngf=4, ndf=4, patch=1, lambda_gan=lambda_gan, steps=10)
        g0 = [w.copy() for w in m.generator.get_weights()]
        d0 = [np.asarray(v).copy() for v in m.discriminator.trainable_variables]
        logs = m.train_on_batch(gray, colour, return_dict=True)
        assert set(logs) >= {"d_loss", "g_gan", "g_l1", "d_real", "d_fake"}
        assert any(np.abs(a - b).max() > 0 for a, b in zip(g0, m.generator.get_weights()))
        d_changed = any(np.abs(a - np.asarray(v)).max() > 0
                        for a, v in zip(d0, m.discriminator.trainable_variables))
        assert d_changed is d_moves
    with pytest.raises(ValueError, match="not both 0"):
        pix2pix.Pix2Pix(pix2pix.build_generator(4), pix2pix.build_discriminator(1, 4),
                        lambda_l1=0.0, lambda_gan=0.0)


def test_train_resumes_from_its_checkpoint(tmp_path, data_dir):
    kw = dict(data_dir=data_dir, train_limit=64, checkpoint_every=2, chunk=2, ngf=4, ndf=4,
              batch_size=8, on_progress=lambda s: None)
    first = pix2pix.train(tmp_path / "run", steps=2, **kw)
    assert first["steps_done"] == 2
    assert (tmp_path / "run" / "checkpoint" / "step-000000002" / "state.json").exists()
    lines = []
    second = pix2pix.train(tmp_path / "run", steps=4, **{**kw, "on_progress": lines.append})
    assert second["steps_done"] == 4 and lines[0].startswith("resuming from step 2")
    assert int(np.asarray(second["model"].g_optimizer.iterations)) == 4
    info = json.loads((tmp_path / "run" / "G.json").read_text())
    assert info["steps_done"] == 4 and info["recipe"]["ngf"] == 4
    g = pix2pix.load_generator(tmp_path / "run" / "G.keras")
    assert g.output_shape == (None, 32, 32, 3)
    with pytest.raises(ValueError, match="unknown recipe options"):
        pix2pix.train(tmp_path / "bad", steps=2, lambda_cycle=10.0, **kw)
    with pytest.raises(FileNotFoundError, match="pix2pix generator file not found"):
        pix2pix.load_generator(tmp_path / "missing.keras")


def test_shipped_generator_shapes_range_and_luma():
    import keras

    g = keras.models.load_model(pretrained.path(pix2pix.SHIPPED_GENERATOR), compile=False)
    assert tuple(g.input_shape) == (None, 32, 32, 1)
    assert tuple(g.output_shape) == (None, 32, 32, 3)
    gray = np.linspace(-1, 1, 4 * 32 * 32, dtype=np.float32).reshape(4, 32, 32, 1)
    out = np.asarray(g(gray, training=False))
    assert out.dtype == np.float32 and out.min() >= -1 and out.max() <= 1
    # the luma is the input wherever no channel clips
    inside = (np.abs(out) < 0.999).all(axis=-1, keepdims=True)
    np.testing.assert_allclose(colour_metrics.luma(out)[inside], gray[inside], atol=1e-4)


@pytest.mark.slow
def test_shipped_generator_reproduces_its_recorded_numbers(data_dir):
    g, info = pix2pix.load_shipped_generator()
    ev = info["evaluation"]
    rows = pix2pix.evaluate({"G": g}, data_dir=data_dir, limit=ev["limit"])["rows"]
    assert ev["test_images"] == 5000
    for name in ("G", "gray", "truth"):
        assert rows[name]["psnr"] == pytest.approx(ev["rows"][name]["psnr"], abs=0.01)
        assert rows[name]["ssim"] == pytest.approx(ev["rows"][name]["ssim"], abs=1e-3)
        assert rows[name]["colourfulness"] == pytest.approx(ev["rows"][name]["colourfulness"],
                                                            abs=0.05)
        for kind in ("cifar10", "cifar10_chroma"):
            assert rows[name]["classifiers"][kind]["accuracy"] == pytest.approx(
                ev["rows"][name]["classifiers"][kind]["accuracy"], abs=0.002)
    chroma = {k: rows[k]["classifiers"]["cifar10_chroma"]["accuracy"] for k in rows}
    # at least halfway from gray (chance) to the true colours on the chroma-only classifier
    assert (chroma["G"] - chroma["gray"]) / (chroma["truth"] - chroma["gray"]) >= 0.5
