"""Chapter 14's measures (monet_photo) on hand-made images and tiny networks, and the judge's
training command."""

from __future__ import annotations

import json

import numpy as np
import pytest

import cyclegan_lesson  # noqa: F401  (quiet TensorFlow first)
from cyclegan_lesson.evaluation import monet_photo, painting_classifier as pc


def _images(n=6, size=32, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.uniform(-1, 1, (n, size // 8, size // 8, 3)).astype(np.float32)
    return np.repeat(np.repeat(base, 8, axis=1), 8, axis=2)  # blocky: structure at 64 px


class _Constant:
    """A 'judge' whose logit is +big for images whose mean red exceeds 0, else -big."""

    def __init__(self):
        import keras

        x = keras.Input((None, None, 3))
        red = keras.layers.Lambda(lambda t: keras.ops.mean(t[..., :1], axis=(1, 2)))(x)
        feat = keras.layers.Concatenate()([red, red * 2.0])
        out = keras.layers.Dense(1, kernel_initializer=keras.initializers.Constant([[50.0], [0.0]]),
                                 bias_initializer="zeros")(feat)
        self.model = keras.Model(x, out)


def test_content_scores_of_an_image_with_itself_are_perfect():
    x = _images()
    c = monet_photo.content_scores(x, x, size=16)
    assert c["luma_ssim"]["median"] == pytest.approx(1.0, abs=1e-6)
    assert c["edge_similarity"]["median"] == pytest.approx(1.0, abs=1e-6)
    assert c["hue_shift"]["mean"] == pytest.approx(0.0, abs=1e-4)
    assert c["colour_histogram_distance"]["mean"] == pytest.approx(0.0, abs=1e-6)
    assert len(c["values"]["luma_ssim"]) == len(x)


def test_content_scores_fall_when_the_picture_is_replaced():
    x, y = _images(seed=0), _images(seed=1)
    c = monet_photo.content_scores(x, y, size=16)
    assert c["luma_ssim"]["median"] < 0.5
    assert c["colour_histogram_distance"]["mean"] > 0.3
    with pytest.raises(ValueError, match="translations"):
        monet_photo.content_scores(x, y[:3], size=16)
    with pytest.raises(ValueError, match="RGB"):
        monet_photo.content_scores(x[..., :1], y[..., :1], size=16)


def test_style_scores_count_the_share_with_an_interval():
    judge = _Constant().model
    x = _images(n=10)
    x[:7, ..., 0] = 0.9   # 7 "Monet" (red) images
    x[7:, ..., 0] = -0.9
    s = monet_photo.style_scores(judge, x, x, monet=True)
    assert (s["k"], s["n"]) == (7, 10) and s["low"] < 0.7 < s["high"]
    assert s["fd"] == pytest.approx(0.0, abs=1e-6)  # the same images as the reference
    t = monet_photo.style_scores(judge, x, x, monet=False)
    assert t["k"] == 3 and t["share"] == pytest.approx(0.3)


def test_report_scores_both_directions_and_the_real_images():
    judge = _Constant().model
    photos, paintings = _images(n=6, seed=0), _images(n=4, seed=1)
    photos[..., 0], paintings[..., 0] = -0.8, 0.8
    identity = (photos, paintings)  # untranslated: the 'do nothing' translator
    swapped = (np.repeat(paintings[:1], 6, axis=0), np.repeat(photos[:1], 4, axis=0))
    r = monet_photo.monet_photo_report({"identity": identity, "swap": swapped}, photos, paintings,
                                       {"judge": judge}, size=16)
    assert r["n"] == {"photos": 6, "paintings": 4}
    assert r["real"]["judge"]["photos_read_as_monet"]["share"] == 0.0
    assert r["real"]["judge"]["paintings_read_as_monet"]["share"] == 1.0
    assert r["rows"]["identity"]["photo->monet"]["judge"]["share"] == 0.0
    assert r["rows"]["swap"]["photo->monet"]["judge"]["share"] == 1.0
    assert r["rows"]["swap"]["monet->photo"]["judge"]["share"] == 1.0
    assert r["rows"]["identity"]["photo->monet"]["content"]["luma_ssim"]["median"] > 0.99
    assert r["rows"]["swap"]["photo->monet"]["content"]["luma_ssim"]["median"] < 0.9
    json.dumps(r)  # JSON-able
    with pytest.raises(ValueError, match="judge"):
        monet_photo.monet_photo_report({}, photos, paintings, {})


def test_translate_runs_a_generator_in_batches():
    import keras

    g = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Lambda(lambda t: -t)])
    x = _images(n=5, size=8)
    np.testing.assert_allclose(monet_photo.translate(g, x, batch_size=2), -x)


def test_painting_classifier_command_trains_and_records(data_dir, tmp_path):
    out = tmp_path / "judge.keras"
    assert pc.main(["--out", str(out), "--data-dir", str(data_dir), "--image-size", "16",
                    "--width", "2", "--epochs", "1"]) == 0
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["n_test"] == [30, 150]
    assert 0 <= record["balanced_accuracy"] <= 1
    assert record["recipe"]["image_size"] == 16
    import keras

    model = keras.models.load_model(out)
    assert model.output_shape == (None, 1)
    with pytest.raises(SystemExit):
        pc.main(["--out", str(tmp_path / "judge.h5")])


def test_paired_difference_interval_sees_a_shift_and_not_noise():
    from cyclegan_lesson.evaluation import metrics

    rng = np.random.default_rng(0)
    a = rng.normal(10, 1, 200)
    shifted = metrics.paired_difference_interval(a + 2 + rng.normal(0, 0.1, 200), a)
    assert 1.9 < shifted["low"] < 2 < shifted["high"] < 2.1 and shifted["n"] == 200
    same = metrics.paired_difference_interval(a + rng.normal(0, 1, 200), a)
    assert same["low"] < 0 < same["high"]
    b = a.copy()
    b[0] = np.nan
    assert metrics.paired_difference_interval(a, b)["n"] == 199
    with pytest.raises(ValueError, match="same"):
        metrics.paired_difference_interval(a, a[:5])


@pytest.mark.parametrize("batch_norm", [False, True])
def test_at_resolution_reads_any_size_as_the_training_size(batch_norm):
    net = pc.painting_classifier(width=2, batch_norm=batch_norm)
    rng = np.random.default_rng(3)
    for layer in net.layers:  # batch statistics that are not the initial ones: copied too
        if batch_norm and layer.name.endswith("_bn1"):
            layer.set_weights([w + rng.uniform(0.5, 1.0, w.shape).astype(np.float32)
                               for w in layer.get_weights()])
    wrapped = pc.at_resolution(net, 16)
    x = _images(n=2, size=64)
    small = np.asarray(__import__("keras").layers.Resizing(16, 16, interpolation="area")(x))
    np.testing.assert_allclose(wrapped.predict(x, verbose=0), net.predict(small, verbose=0),
                               rtol=1e-5, atol=1e-5)
    from cyclegan_lesson.evaluation import sample_quality

    assert sample_quality.classifier_features(wrapped, x).shape == (2, 16)
    with pytest.raises(ValueError, match="size"):
        pc.at_resolution(net, 4)


def test_style_scores_takes_reference_images_or_their_features():
    from cyclegan_lesson.evaluation import sample_quality

    judge = _Constant().model
    x, ref = _images(n=6, seed=0), _images(n=8, seed=1)
    by_images = monet_photo.style_scores(judge, x, ref, monet=True)
    feats = sample_quality.classifier_features(judge, ref)
    by_features = monet_photo.style_scores(judge, x, monet=True, reference_features=feats)
    assert by_images == pytest.approx(by_features)
    with pytest.raises(ValueError, match="reference"):
        monet_photo.style_scores(judge, x, monet=True)
    with pytest.raises(ValueError, match="reference"):
        monet_photo.style_scores(judge, x, ref, monet=True, reference_features=feats)
