"""Colour metrics of the gray <-> colour chapter (cyclegan_lesson.evaluation.colour_metrics), the disjoint
halves of gray2color's training data, the luma-consistency loss and the CIFAR-10 classifier
inputs: formulas on hand-made images, and the data on the real offline CIFAR-10 file."""

from __future__ import annotations

import numpy as np
import pytest

import cyclegan_lesson  # noqa: F401  (quiet TensorFlow import first)
from cyclegan_lesson import data
from cyclegan_lesson.evaluation import case_studies, classifiers, metrics
from cyclegan_lesson.evaluation import colour_metrics as cm
from cyclegan_lesson.nn import losses


def _rgb(r, g, b, size=4):
    """A flat image of one colour, given in [0, 1], as (1, size, size, 3) in [-1, 1]."""
    return (np.ones((1, size, size, 3), np.float32) * np.array([r, g, b], np.float32)) * 2 - 1


# -- Y Cb Cr ----------------------------------------------------------------------------------

def test_ycbcr_of_pure_colours_matches_itu_r_601():
    red = cm.rgb_to_ycbcr(_rgb(1, 0, 0))[0, 0, 0]
    # On [0, 1]: Y = 0.299, Cb = (0 - 0.299) / 1.772, Cr = (1 - 0.299) / 1.402; [-1, 1] doubles
    # the chroma and maps Y to 2 Y - 1.
    np.testing.assert_allclose(red, [2 * 0.299 - 1, 2 * -0.299 / 1.772, 2 * 0.701 / 1.402],
                               atol=1e-6)
    blue = cm.rgb_to_ycbcr(_rgb(0, 0, 1))[0, 0, 0]
    np.testing.assert_allclose(blue[1], 1.0, atol=1e-6)  # Cb reaches +1 for pure blue
    np.testing.assert_allclose(cm.rgb_to_ycbcr(_rgb(1, 0, 0))[0, 0, 0, 2], 1.0, atol=1e-6)


def test_chroma_of_gray_is_zero_and_luma_matches_the_data_layer():
    rng = np.random.default_rng(0)
    gray = rng.uniform(-1, 1, (3, 8, 8, 1)).astype(np.float32)
    assert np.abs(cm.chroma(np.repeat(gray, 3, axis=-1))).max() < 1e-6
    rgb = rng.uniform(-1, 1, (3, 8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(cm.luma(rgb), np.asarray(metrics.to_channels(rgb, 1)), atol=1e-6)


def test_ycbcr_round_trip():
    rgb = np.random.default_rng(6).uniform(-1, 1, (2, 4, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(cm.ycbcr_to_rgb(cm.rgb_to_ycbcr(rgb)), rgb, atol=1e-5)


def test_rgb_functions_reject_gray_input_with_a_fix():
    with pytest.raises(ValueError, match="to_channels"):
        cm.colourfulness(np.zeros((2, 4, 4, 1), np.float32))


# -- luma correlation ---------------------------------------------------------------------------

def test_luma_correlation_detects_kept_and_inverted_brightness():
    rng = np.random.default_rng(1)
    gray = rng.uniform(-1, 1, (5, 8, 8, 1)).astype(np.float32)
    kept = np.repeat(0.5 * gray + 0.1, 3, axis=-1)  # lower contrast, same order
    inverted = np.repeat(-gray, 3, axis=-1)
    np.testing.assert_allclose(cm.luma_correlation(gray, kept), 1.0, atol=1e-5)
    np.testing.assert_allclose(cm.luma_correlation(gray, inverted), -1.0, atol=1e-5)
    flat = np.zeros((5, 8, 8, 3), np.float32)
    np.testing.assert_array_equal(cm.luma_correlation(gray, flat), 0.0)


def test_luma_correlation_needs_matching_batches():
    with pytest.raises(ValueError, match="matching"):
        cm.luma_correlation(np.zeros((2, 8, 8, 1)), np.zeros((3, 8, 8, 3)))


# -- colourfulness and saturation ---------------------------------------------------------------

def test_colourfulness_by_hand():
    assert cm.colourfulness(_rgb(0.3, 0.3, 0.3))[0] == pytest.approx(0.0, abs=1e-9)
    # A flat pure red image: rg = 255, yb = 127.5, no spread: M = 0.3 * sqrt(255^2 + 127.5^2).
    assert cm.colourfulness(_rgb(1, 0, 0))[0] == pytest.approx(0.3 * np.hypot(255, 127.5),
                                                               rel=1e-6)
    # Half red, half green: rg = +-255 (sd 255, mean 0), yb = 127.5 (sd 0).
    img = _rgb(1, 0, 0, size=4)
    img[0, :, 2:] = _rgb(0, 1, 0, size=4)[0, :, 2:]
    assert cm.colourfulness(img)[0] == pytest.approx(255 + 0.3 * 127.5, rel=1e-6)


def test_saturation_and_its_distance():
    np.testing.assert_allclose(cm.saturation(_rgb(1, 0.5, 0.5)), 0.5, atol=1e-6)
    np.testing.assert_allclose(cm.saturation(_rgb(0.4, 0.4, 0.4)), 0.0, atol=1e-6)
    np.testing.assert_array_equal(cm.saturation(_rgb(0, 0, 0)), 0.0)  # black: no hue
    gray, vivid = _rgb(0.5, 0.5, 0.5), _rgb(1, 0, 0)
    assert cm.saturation_distance(vivid, vivid) == pytest.approx(0.0)
    # All mass at saturation 0 vs all at 1: the earth mover's distance is (about) 1, the
    # histogram's bin width making it 1 - 1/bins.
    assert cm.saturation_distance(gray, vivid, bins=50) == pytest.approx(1 - 1 / 50)
    half = _rgb(1, 0.5, 0.5)
    assert cm.saturation_distance(gray, half) < cm.saturation_distance(gray, vivid)


# -- the luma-consistency loss -------------------------------------------------------------------

def test_luma_consistency_loss_is_zero_for_any_chroma_with_the_right_luma():
    rng = np.random.default_rng(2)
    rgb = rng.uniform(-0.5, 0.5, (2, 8, 8, 3)).astype(np.float32)
    gray = np.asarray(metrics.to_channels(rgb, 1))
    assert float(losses.luma_consistency_loss(gray, rgb)) == pytest.approx(0.0, abs=1e-6)
    assert float(losses.luma_consistency_loss(-gray, rgb)) == pytest.approx(
        2 * np.abs(gray).mean(), rel=1e-5)
    with pytest.raises(ValueError, match="gray image first"):
        losses.luma_consistency_loss(rgb, gray)


def test_cyclegan_reports_luma_terms_and_refuses_them_for_two_colour_domains():
    from cyclegan_lesson.models import cyclegan

    w = losses.CycleGANLossWeights(lambda_identity=0.0, lambda_luma=3.0)
    model = cyclegan.build_cyclegan(32, 1, 3, generator="unet", ngf=4, ndf=4, n_layers=1,
                                    weights=w, pool_size=0, seed=0)
    rng = np.random.default_rng(3)
    a = rng.uniform(-1, 1, (2, 32, 32, 1)).astype(np.float32)
    b = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    terms, fake_a, fake_b = model.generator_losses(a, b, training=False)
    expected = 3.0 * float(losses.luma_consistency_loss(a, fake_b))
    assert float(terms["luma_ab"]) == pytest.approx(expected, rel=1e-5)
    assert float(terms["luma_ba"]) == pytest.approx(
        3.0 * float(losses.luma_consistency_loss(fake_a, b)), rel=1e-5)
    parts = sum(float(v) for k, v in terms.items() if k != "G_total")
    assert float(terms["G_total"]) == pytest.approx(parts, rel=1e-5)
    with pytest.raises(ValueError, match="lambda_luma=0"):
        cyclegan.build_cyclegan(32, 3, 3, generator="unet", ngf=4, ndf=4, n_layers=1,
                                weights=w, pool_size=0)


def test_lambda_adv_zero_removes_the_adversarial_terms():
    from cyclegan_lesson.models import cyclegan

    w = losses.CycleGANLossWeights(lambda_identity=0.0, lambda_adv=0.0)
    model = cyclegan.build_cyclegan(32, 1, 3, generator="unet", ngf=4, ndf=4, n_layers=1,
                                    weights=w, pool_size=0, seed=0)
    rng = np.random.default_rng(5)
    a = rng.uniform(-1, 1, (1, 32, 32, 1)).astype(np.float32)
    b = rng.uniform(-1, 1, (1, 32, 32, 3)).astype(np.float32)
    terms, _, _ = model.generator_losses(a, b, training=False)
    assert float(terms["adv_ab"]) == 0.0 and float(terms["adv_ba"]) == 0.0
    assert float(terms["cycle_aba"]) > 0


# -- disjoint halves -----------------------------------------------------------------------------

def test_half_indices_are_disjoint_and_cover_the_split():
    even, odd = data.half_indices(7, 0), data.half_indices(7, 1)
    assert even.tolist() == [0, 2, 4, 6] and odd.tolist() == [1, 3, 5]
    with pytest.raises(ValueError, match="half must be 0"):
        data.half_indices(7, 2)


def _min_distances(x, y) -> np.ndarray:
    """For each image of ``x``, the smallest RMS pixel difference to any image of ``y``."""
    x = x.reshape(len(x), -1).astype(np.float64)
    y = y.reshape(len(y), -1).astype(np.float64)
    d2 = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2 * x @ y.T
    return np.sqrt(np.maximum(d2, 0).min(axis=1) / x.shape[1])


def test_gray2color_domains_share_no_training_image(data_dir):
    """Domain A (luma, even-numbered images) and domain B (colour, odd-numbered) of the offline
    CIFAR-10 training split: compare A's images with the luma of B's, image by image."""
    half_a, half_b = data.TASK_HALVES["gray2color"]

    def first(name, half, n):
        ds = data.load_domain(name, "train", str(data_dir), half=half)
        return np.stack(list(ds.take(n).as_numpy_iterator()))

    n = int(data.load_domain("cifar10_gray", "train", str(data_dir), half=half_a).cardinality())
    assert n == 12_500
    a = first("cifar10_gray", half_a, 1000)
    luma_b = np.asarray(metrics.to_channels(first("cifar10_color", half_b, 1000), 1))
    assert _min_distances(a, luma_b).min() > 0.01
    # ... while the *same* half of both domains pairs up exactly (so the test can fail).
    luma_same = np.asarray(metrics.to_channels(first("cifar10_color", half_a, 1000), 1))
    assert _min_distances(a, luma_same).max() < 0.01


# -- classifier input and report -----------------------------------------------------------------

def test_cifar_classifier_input_shapes():
    rgb = np.zeros((2, 32, 32, 3), np.float32)
    assert classifiers.cifar_classifier_input(rgb, "cifar10").shape == (2, 32, 32, 3)
    assert classifiers.cifar_classifier_input(rgb[..., :1], "cifar10_chroma").shape == \
        (2, 32, 32, 2)
    with pytest.raises(ValueError, match="cifar10_chroma"):
        classifiers.cifar_classifier_input(rgb, "chroma")


def test_gray2color_report_scores_truth_perfectly_and_gray_with_no_colour():
    rng = np.random.default_rng(4)
    colour = rng.uniform(-1, 1, (6, 32, 32, 3)).astype(np.float32)
    gray = np.asarray(metrics.to_channels(colour, 1), np.float32)
    inverted = np.repeat(-gray, 3, axis=-1)
    report = case_studies.gray2color_report({"inverted": inverted}, gray, colour, np.zeros(6))
    rows = report["rows"]
    assert list(rows) == ["gray", "inverted", "truth"]
    assert rows["truth"]["ssim"] == pytest.approx(1.0)
    assert rows["truth"]["saturation_distance"] == pytest.approx(0.0)
    assert rows["gray"]["colourfulness"] == pytest.approx(0.0, abs=1e-6)
    assert rows["gray"]["luma_corr"]["mean"] == pytest.approx(1.0, abs=1e-5)
    assert rows["inverted"]["luma_corr_negative"] == 1.0
    assert rows["inverted"]["psnr"] < rows["gray"]["psnr"]


# -- the command line ------------------------------------------------------------------------------

def test_evaluate_gray2color_prints_the_table_as_json(data_dir):
    import json

    from conftest import ROOT, run_cli

    result = run_cli("evaluate", "--task", "gray2color", "--models", ROOT / "models" / "gray2color",
                     "--data-dir", data_dir, "--limit", "100")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    rows = report["rows"]
    assert report["n"] == 100 and list(rows) == ["gray", "G_AB", "truth"]
    assert rows["gray"]["classifiers"]["cifar10_chroma"]["accuracy"] < 0.25  # chance on gray
    assert rows["truth"]["classifiers"]["cifar10_chroma"]["accuracy"] > 0.3
    assert rows["G_AB"]["luma_corr"]["mean"] > 0.9  # the shipped generator keeps the brightness


def test_train_refuses_luma_consistency_for_other_tasks(tmp_path):
    from conftest import run_cli

    result = run_cli("train", "--task", "mnist2svhn", "--out", tmp_path / "run",
                     "--lambda-luma", "1", "--epochs", "1", "--steps-per-epoch", "1")
    assert result.returncode == 2
    assert "gray2color task only" in result.stderr
