"""Chapter 10's package (StarGAN): the synthetic digit domains (shapes, range, known ground
truth, one domain per training digit), the target label reaches G (changing ``c`` changes
``G(x, c)``), D's two heads, the domain-classification, reconstruction and adversarial terms of
one training step on hand-made networks whose values are known, the mask vector's layout, and
the count of translators StarGAN replaces."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

import cyclegan_lesson  # noqa: F401
from cyclegan_lesson import digit_domains as dd
from cyclegan_lesson.models import stargan as sg

K = dd.NUM_DOMAINS


def _gray(n=6, seed=0):
    """Hand-made gray 'digits': a bar of ink on black, in [-1, 1], (n, 32, 32, 1)."""
    rng = np.random.default_rng(seed)
    x = -np.ones((n, 32, 32, 1), np.float32)
    for i in range(n):
        r, c = rng.integers(8, 20, 2)
        x[i, r:r + 10, c:c + 3] = 1.0
    return x


# ---------------------------------------------------------------------------------------------
# the digit domains


def test_every_domain_has_the_shape_range_and_the_transform_it_names():
    g = _gray()
    a = dd.all_domains(g)
    assert a.shape == (K, 6, 32, 32, 3) and a.dtype == np.float32
    assert a.min() >= -1.0 and a.max() <= 1.0
    orig, inv = a[dd.domain_index("original")], a[dd.domain_index("inverted")]
    np.testing.assert_allclose(inv, -orig, atol=1e-6)           # 1 - g in [0, 1] = -x in [-1, 1]
    np.testing.assert_allclose(orig[..., 0], g[..., 0], atol=1e-6)
    red = a[dd.domain_index("red")]
    assert red[..., 0].max() == pytest.approx(1.0) and red[..., 1].max() < 0.0   # mostly red
    ink = ((a + 1) / 2).mean(axis=(1, 2, 3, 4))
    assert ink[dd.domain_index("thick")] > ink[0] > ink[dd.domain_index("thin")] > 0
    # a 10x3 bar: the cross dilation adds one pixel on every side, the 2x2 erosion removes one
    bar = (a[:, 0, ..., 0] > 0).sum(axis=(1, 2))
    assert bar[0] == 30 and bar[dd.domain_index("thick")] == 12 * 3 + 2 * 10
    assert bar[dd.domain_index("thin")] == 9 * 2


def test_domains_reject_bad_input():
    with pytest.raises(ValueError, match="one channel"):
        dd.transform(np.zeros((2, 32, 32, 3), np.float32), "red")
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        dd.transform(np.full((1, 32, 32, 1), 255.0, np.float32), 0)
    with pytest.raises(ValueError, match="unknown domain"):
        dd.transform(_gray(1), "purple")
    with pytest.raises(ValueError, match="0..6"):
        dd.domain_index(7)


def test_make_split_puts_each_digit_in_one_balanced_domain():
    g = _gray(70)
    images, dom, y = dd.make_split(g, np.arange(70) % 10, seed=3)
    assert images.shape == (70, 32, 32, 3) and dom.shape == (70,) and y.dtype == np.int64
    assert np.bincount(dom, minlength=K).tolist() == [10] * K
    for i in (0, 17, 69):
        np.testing.assert_array_equal(images[i], dd.transform(g[i:i + 1], dom[i])[0])
    _, dom2, _ = dd.make_split(g, np.arange(70) % 10, seed=4)
    assert not np.array_equal(dom, dom2)
    with pytest.raises(ValueError, match="one label per"):
        dd.make_split(g, np.arange(3))


# ---------------------------------------------------------------------------------------------
# labels and the mask vector


def test_label_vector_is_one_hot_for_one_data_set():
    c = sg.label_vector([0, 6, 2])
    assert c.shape == (3, K) and c.dtype == np.float32
    np.testing.assert_array_equal(c.argmax(1), [0, 6, 2])
    assert c.sum() == 3
    with pytest.raises(ValueError, match="0..6"):
        sg.label_vector([7])


def test_mask_vector_layout():
    """[c_1 (7), c_2 (10), m (2)]: the known block's one-hot, zeros in the unknown one, and the
    mask one-hot naming the data set."""
    c = sg.label_vector([3, 4], dataset=[0, 1], sizes=(7, 10))
    assert c.shape == (2, 7 + 10 + 2)
    assert np.flatnonzero(c[0]).tolist() == [3, 17]
    assert np.flatnonzero(c[1]).tolist() == [7 + 4, 18]
    act = sg.active_logits([0, 1, 1], sizes=(7, 10))
    assert act.shape == (3, 17)
    assert act[0].tolist() == [1] * 7 + [0] * 10 and act[2].tolist() == [0] * 7 + [1] * 10
    with pytest.raises(ValueError, match="dataset"):
        sg.label_vector([3], sizes=(7, 10))
    with pytest.raises(ValueError, match="data set 1"):
        sg.label_vector([3, 12], dataset=[0, 1], sizes=(7, 10))


# ---------------------------------------------------------------------------------------------
# the losses on hand-made tensors


def test_domain_classification_loss_by_hand():
    assert float(sg.domain_classification_loss(np.zeros((2, 4)), [1, 3])) == pytest.approx(
        math.log(4), rel=1e-6)
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]], np.float32)
    want = -np.mean([2.0 - np.log(np.exp(2) + 1 + np.exp(-1)), 1.0 - np.log(2 + np.e)])
    assert float(sg.domain_classification_loss(logits, [0, 1])) == pytest.approx(want, rel=1e-5)
    # the mask: the last logit of sample 0 does not count -> softmax over the first two only
    active = np.array([[1, 1, 0], [1, 1, 1]], np.float32)
    want = -np.mean([2.0 - np.log(np.exp(2) + 1), 1.0 - np.log(2 + np.e)])
    assert float(sg.domain_classification_loss(logits, [0, 1], active)) == pytest.approx(
        want, rel=1e-5)
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        sg.domain_classification_loss(np.zeros(3), [0])


def _hand_made(k=K, shift=0.1, bias=None):
    """G(x, c) = x + shift (c ignored); D_src(x) = the mean pixel (one score per image),
    D_cls(x) = fixed logits ``bias`` whatever the image."""
    image = keras.Input((32, 32, 3))
    c = keras.Input((k,))
    g = keras.Model([image, c], keras.layers.Lambda(
        lambda t: t[0] + shift + 0.0 * keras.ops.sum(t[1]))([image, c]))
    x = keras.Input((32, 32, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(x)
    src = keras.layers.Reshape((1, 1, 1))(keras.layers.Dense(
        1, kernel_initializer=keras.initializers.Constant(1 / 3), bias_initializer="zeros")(pooled))
    cls = keras.layers.Dense(k, kernel_initializer="zeros", bias_initializer=(
        keras.initializers.Constant(bias) if bias is not None else "zeros"))(pooled)
    d = keras.Model(x, {"src": src, "cls": cls})
    return g, d


def test_one_training_step_computes_the_paper_terms():
    """With learning rate 0 the reported terms are the losses at known networks:
    d_adv = -(E D(fake) - E D(real)) = -shift, gp = (||grad mean pixel|| - 1)^2,
    d_cls = CE of the fixed logits at the source labels, g_rec = |x - (x + 2 shift)| = 2 shift,
    g_cls = log k for uniform logits."""
    rng = np.random.default_rng(0)
    real = rng.uniform(-0.8, 0.8, (8, 32, 32, 3)).astype(np.float32)
    c_org = np.array([0, 1, 2, 3, 4, 5, 6, 0], np.int32)
    bias = np.linspace(-1, 1, K).astype(np.float32)
    for b, want_g_cls in ((bias, None), (np.zeros(K, np.float32), math.log(K))):
        g, d = _hand_made(bias=b)
        model = sg.StarGAN(g, d, lambda_cls=1.0, lambda_rec=10.0, lambda_gp=10.0)
        model.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.0))
        logs = {k: float(v) for k, v in model.train_step((real, c_org)).items()}
        log_p = b - np.log(np.exp(b).sum())
        want_d_cls = -log_p[c_org].mean()
        gp = (1 / math.sqrt(32 * 32 * 3) - 1) ** 2
        assert logs["d_adv"] == pytest.approx(-0.1, abs=1e-5)
        assert logs["gp"] == pytest.approx(gp, rel=1e-4)
        assert logs["d_cls"] == pytest.approx(want_d_cls, rel=1e-5)
        assert logs["d_loss"] == pytest.approx(0.1 + want_d_cls + 10 * gp, rel=1e-4)
        assert logs["g_rec"] == pytest.approx(0.2, rel=1e-4)
        assert logs["g_adv"] == pytest.approx(-(real.mean() + 0.1), rel=1e-4)
        if want_g_cls is not None:
            assert logs["g_cls"] == pytest.approx(want_g_cls, rel=1e-5)
            assert logs["g_loss"] == pytest.approx(-(real.mean() + 0.1) + want_g_cls + 2.0,
                                                   rel=1e-4)


# ---------------------------------------------------------------------------------------------
# the networks


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    return (sg.build_stargan_generator(K, ngf=4, n_blocks=1),
            sg.build_stargan_discriminator(K, ndf=4))


def test_the_target_label_reaches_the_generator(tiny):
    g, _ = tiny
    x = dd.transform(_gray(4), "original")
    out = sg.translate_to_all(g, x)
    assert out.shape == (K, 4, 32, 32, 3) and out.dtype == np.float32
    assert out.min() >= -1.0 and out.max() <= 1.0
    for t in range(1, K):                             # every target gives another image
        assert np.abs(out[t] - out[0]).mean() > 1e-4, t
    np.testing.assert_allclose(sg.translate(g, x, 3), out[3], atol=1e-5)
    assert [tuple(t.shape) for t in g.inputs] == [(None, 32, 32, 3), (None, K)]


def test_the_discriminator_has_two_heads(tiny):
    _, d = tiny
    out = d(dd.transform(_gray(3), "red"))
    assert tuple(out["src"].shape) == (3, 4, 4, 1) and tuple(out["cls"].shape) == (3, K)
    with pytest.raises(ValueError, match="divisible"):
        sg.build_stargan_discriminator(K, ndf=4, image_size=36)


def test_stargan_checks_its_inputs(tiny):
    g, d = tiny
    with pytest.raises(ValueError, match="num_domains"):
        sg.StarGAN(g, d, num_domains=5)
    with pytest.raises(ValueError, match="lambda_rec"):
        sg.StarGAN(g, d, lambda_rec=-1)
    with pytest.raises(ValueError, match="targets"):
        sg.translate(g, np.zeros((3, 32, 32, 3), np.float32), [0, 1])


def test_translator_count():
    n = sg.translator_count(7)
    assert n["cyclegan_generators"] == 42 and n["cyclegan_models"] == 21
    assert n["stargan_generators"] == 1


@pytest.mark.slow
def test_train_writes_the_generator_and_resumes(tmp_path, data_dir):
    out = tmp_path / "run"
    tiny = dict(ngf=4, n_blocks=1, ndf=4, batch_size=8, train_limit=64)
    said = []
    record = sg.train(out, data_dir=data_dir, steps=2, checkpoint_every=1, chunk=1,
                      on_progress=said.append, **tiny)
    assert record["steps_done"] == 2 and record["recipe"]["ngf"] == 4
    assert len(record["history"]["g_rec"]) == 2 and record["history"]["step"] == [1, 2]
    g = sg.load_generator(out / "generator.keras")
    assert g.output_shape == (None, 32, 32, 3)
    record = sg.train(out, data_dir=data_dir, steps=3, checkpoint_every=1, chunk=1,
                      on_progress=said.append, **tiny)
    assert any("resuming from step 2" in s for s in said)
    assert record["history"]["step"] == [1, 2, 3]
    with pytest.raises(ValueError, match="multiples of chunk"):
        sg.train(out, data_dir=data_dir, steps=3, chunk=2)


def test_shipped_generator_translates_toward_the_ground_truth(data_dir):
    """The shipped G (models/stargan_digits): documented inputs and range, its record, and on
    real test digits its translations are closer to the ground truth than the input is."""
    from cyclegan_lesson.evaluation import classifiers, metrics

    g, info = sg.load_shipped_generator()
    assert [tuple(t.shape) for t in g.inputs] == [(None, 32, 32, 3), (None, K)]
    assert info["domains"] == list(dd.DOMAINS) and info["steps_done"] == info["recipe"]["steps"]
    assert len(info["history"]["step"]) == len(info["history"]["g_rec"]) > 0
    gray, _ = classifiers.load_digit_arrays("mnist", "test", data_dir, limit=140)
    x = dd.transform(gray, "original")
    fake = sg.translate(g, x, dd.domain_index("inverted"))
    assert fake.min() >= -1 and fake.max() <= 1
    truth = dd.transform(gray, "inverted")
    assert metrics.psnr(fake, truth).mean() > metrics.psnr(x, truth).mean() + 3
    # the colour targets: the stroke's dominant channel is the asked-for one
    for target, channel in (("red", 0), ("green", 1), ("blue", 2)):
        fake = sg.translate(g, x, dd.domain_index(target))
        ink = fake[fake.max(axis=-1) > 0.0]                 # (pixels, 3) of bright output
        assert ink.shape[0] > 100 and np.argmax(ink.mean(axis=0)) == channel, target
