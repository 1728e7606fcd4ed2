"""The CycleGAN engine: image pool, schedule, training step, distribution, export."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cyclegan_lesson  # noqa: F401  (imports TensorFlow quietly, registers layers)
import keras
import tensorflow as tf

from cyclegan_lesson.nn import losses
from cyclegan_lesson.models.cyclegan import (
    LOSS_NAMES,
    CycleGAN,
    ImagePool,
    LinearDecay,
    build_cyclegan,
    load_generator,
    save_generators,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ids(n, start=0, shape=(2, 2, 1)):
    """A batch whose image k is filled with the number ``start + k`` (an identity tag)."""
    return np.arange(start, start + n, dtype=np.float32).reshape(-1, 1, 1, 1) * np.ones(
        (n, *shape), np.float32
    )


def tags(batch):
    return np.asarray(batch)[:, 0, 0, 0].astype(int).tolist()


# ---------------------------------------------------------------- ImagePool


def test_pool_fill_phase_returns_inputs_and_stores_them():
    pool = ImagePool(5, seed=0)
    out = pool.query(ids(3))
    assert isinstance(out, np.ndarray) and tags(out) == [0, 1, 2]
    out = pool.query(ids(2, start=3))
    assert tags(out) == [3, 4]
    state = pool.get_state()
    assert state["num_images"] == 5 and tags(state["images"]) == [0, 1, 2, 3, 4]


def test_pool_fill_then_swap_within_one_batch():
    # A batch that crosses the fill boundary: the first 4 images fill the pool and come back
    # unchanged; later images are either returned or swapped with a stored one.
    pool = ImagePool(4, seed=1)
    out = tags(pool.query(ids(10)))
    assert out[:4] == [0, 1, 2, 3]
    stored = tags(pool.get_state()["images"])
    for k, returned in enumerate(out[4:], start=4):
        assert returned == k or returned < k  # itself, or an earlier image from the pool
    assert len(stored) == 4 and len(set(stored)) == 4


def test_pool_swap_statistics_half_and_half():
    pool = ImagePool(10, seed=0)
    pool.query(ids(10))  # fill
    query = tf.function(lambda x: pool(x))  # graph mode: the way train_step runs it
    n_images, swapped, start = 1600, 0, 10
    for _ in range(n_images // 16):
        before = set(tags(pool.get_state()["images"]))
        batch = ids(16, start=start)
        out = tags(query(tf.constant(batch)))
        for k, returned in zip(range(start, start + 16), out, strict=True):
            if returned != k:
                swapped += 1
                # a swapped-out image was stored before (earlier batch or earlier in this one)
                assert returned in before or start <= returned < k
        start += 16
        after = tags(pool.get_state()["images"])
        assert len(after) == 10
    frac = swapped / n_images
    # Binomial(1600, 0.5): standard deviation 0.0125; 4 sigma.
    assert abs(frac - 0.5) < 0.05, frac


def test_pool_is_deterministic_and_resumable():
    a, b = ImagePool(6, seed=7), ImagePool(6, seed=7)
    for k in range(4):
        np.testing.assert_array_equal(a.query(ids(4, start=4 * k)), b.query(ids(4, start=4 * k)))
    # Copy a's state into a fresh pool: both continue identically.
    c = ImagePool(6, seed=0)
    c.set_state(a.get_state())
    for k in range(4, 8):
        np.testing.assert_array_equal(a.query(ids(4, start=4 * k)), c.query(ids(4, start=4 * k)))
    # A different seed makes different choices.
    d = ImagePool(6, seed=8)
    outs = [tags(d.query(ids(4, start=4 * k))) for k in range(8)]
    e = ImagePool(6, seed=7)
    outs_e = [tags(e.query(ids(4, start=4 * k))) for k in range(8)]
    assert outs != outs_e


def test_pool_graph_mode_matches_eager_and_size_zero_passes_through():
    eager, graph = ImagePool(3, seed=5), ImagePool(3, seed=5)
    fn = tf.function(lambda x: graph(x))
    for k in range(5):
        x = ids(2, start=2 * k)
        np.testing.assert_array_equal(eager.query(x), fn(tf.constant(x)).numpy())
    off = ImagePool(0)
    x = ids(3)
    np.testing.assert_array_equal(off.query(x), x)


def test_pool_rejects_bad_arguments():
    with pytest.raises(ValueError, match="size must be >= 0"):
        ImagePool(-1)
    with pytest.raises(ValueError, match="known height"):
        ImagePool(2).build((None, None, None, 3))


# ---------------------------------------------------------------- LinearDecay


def test_linear_decay_values():
    s = LinearDecay(2e-4, n_epochs=100, n_epochs_decay=100, steps_per_epoch=10)
    lr = lambda epoch: float(s(int(epoch * 10)))  # noqa: E731
    assert lr(0) == pytest.approx(2e-4)
    assert lr(50) == pytest.approx(2e-4)
    assert lr(100) == pytest.approx(2e-4)  # last moment of the constant phase
    assert lr(125) == pytest.approx(1.5e-4)
    assert lr(150) == pytest.approx(1e-4)  # halfway through the decay
    assert lr(200) == pytest.approx(0.0, abs=1e-12)  # the end
    assert lr(250) == pytest.approx(0.0, abs=1e-12)
    # Monotone per step and serializable.
    values = np.array([float(s(i)) for i in range(0, 2100, 7)])
    assert np.all(np.diff(values) <= 1e-12)
    clone = LinearDecay.from_config(s.get_config())
    assert float(clone(1500)) == pytest.approx(float(s(1500)))
    opt = keras.optimizers.Adam(learning_rate=s)
    restored = keras.optimizers.Adam.from_config(opt.get_config())
    assert isinstance(restored.learning_rate, LinearDecay) or restored.get_config()["learning_rate"]


def test_linear_decay_rejects_bad_arguments():
    with pytest.raises(ValueError, match="steps_per_epoch"):
        LinearDecay(steps_per_epoch=0)
    with pytest.raises(ValueError, match="n_epochs"):
        LinearDecay(n_epochs=-1)


# ---------------------------------------------------------------- the model


def tiny_model(channels_a=1, channels_b=3, lambda_identity=0.0, pool_size=4, seed=0, **kw):
    keras.utils.set_random_seed(seed)
    return build_cyclegan(
        32, channels_a, channels_b, n_blocks=1, ngf=8, ndf=8, n_layers=2, pool_size=pool_size,
        weights=losses.CycleGANLossWeights(lambda_identity=lambda_identity), seed=seed, **kw
    )


@pytest.fixture(scope="module")
def cifar(data_dir):
    from cyclegan_lesson import data

    gray, _ = data.load_arrays("cifar10_gray", "test", data_dir, limit=64)
    color, _ = data.load_arrays("cifar10_color", "test", data_dir, limit=64)
    return gray, color


def test_train_step_reports_every_term_and_cycle_loss_decreases(cifar):
    gray, color = cifar
    model = tiny_model()
    model.compile(learning_rate=2e-3)
    ds = tf.data.Dataset.from_tensor_slices((gray[:32], color[32:])).batch(4).repeat()
    first = model.evaluate(ds, steps=8, verbose=0, return_dict=True)
    assert set(first) == set(LOSS_NAMES)
    hist = model.fit(ds, epochs=3, steps_per_epoch=8, verbose=0, shuffle=False).history
    assert set(hist) == set(LOSS_NAMES)
    last = model.evaluate(ds, steps=8, verbose=0, return_dict=True)
    cycle = lambda d: d["cycle_aba"] + d["cycle_bab"]  # noqa: E731
    assert cycle(last) < 0.8 * cycle(first), (first, last)
    for h in hist.values():
        assert np.all(np.isfinite(h))
    # G_total is the sum of its terms (epoch means of sums = sums of epoch means).
    total = sum(np.array(hist[k]) for k in losses.GENERATOR_LOSS_TERMS)
    np.testing.assert_allclose(hist["G_total"], total, rtol=1e-5)
    assert model.step == 24 and int(model.d_optimizer.iterations.numpy()) == 24
    assert model.pool_A.get_state()["num_images"] == 4  # pools filled
    assert float(hist["identity_ab"][0]) == 0.0


def test_identity_terms_and_channel_checks():
    model = tiny_model(3, 3, lambda_identity=0.5)
    a = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    terms, _, _ = model.generator_losses(a, a[::-1], training=False)
    assert float(terms["identity_ab"]) > 0 and float(terms["identity_ba"]) > 0
    with pytest.raises(ValueError, match="identity"):
        tiny_model(1, 3, lambda_identity=0.5)
    with pytest.raises(ValueError, match="wgan"):
        build_cyclegan(32, 3, 3, n_blocks=0, ngf=4, ndf=4, n_layers=1,
                       weights=losses.CycleGANLossWeights(mode="wgan"))
    with pytest.raises(ValueError, match="resnet"):
        build_cyclegan(32, generator="dense")


MIRRORED = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import numpy as np, keras, cyclegan_lesson
    from cyclegan_lesson.nn import losses
    from cyclegan_lesson.models.cyclegan import build_cyclegan, LinearDecay

    def make():
        keras.utils.set_random_seed(0)
        m = build_cyclegan(32, 1, 3, n_blocks=1, ngf=4, ndf=4, n_layers=2, pool_size=4, seed=3,
                           weights=losses.CycleGANLossWeights(lambda_identity=0.0))
        m.compile(learning_rate=LinearDecay(1e-3, 1, 1, 3))
        return m

    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (24, 32, 32, 1)).astype("float32")
    b = rng.uniform(-1, 1, (24, 32, 32, 3)).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices((a, b)).batch(4)
    out = {}
    for name in ("single", "mirrored"):
        if name == "mirrored":
            strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
            with strategy.scope():
                m = make()
            out["replicas"] = strategy.num_replicas_in_sync
            with strategy.scope():
                other = build_cyclegan(32, 1, 3, n_blocks=0, ngf=4, ndf=4, n_layers=1,
                                       weights=losses.CycleGANLossWeights(lambda_identity=0.0))
                try:
                    other.compile(jit_compile=True)
                    out["jit_refused"] = False
                except ValueError as exc:
                    out["jit_refused"] = "multi-replica" in str(exc)
        else:
            m = make()
        h = m.fit(ds, epochs=2, verbose=0, shuffle=False).history
        out[name] = {"history": {k: [float(x) for x in v] for k, v in h.items()},
                     "step": m.step, "pool": m.pool_A.get_state()["num_images"],
                     "weights": float(sum(np.abs(w).sum() for w in m.G_AB.get_weights())),
                     "pool_images": m.pool_B.get_state()["images"].ravel().tolist()}
    print("RESULT" + json.dumps(out))
    """
)


def run_python(code: str, timeout=240, env=None) -> dict:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT"):])


def run_python_bounded_by_work(code: str, cpu_seconds: float, stall_s: float = 300) -> dict:
    """:func:`run_python` with limits sized from the work, not the wall clock (a loaded machine
    stretches the wall time, not the CPU time): the child may use ``cpu_seconds`` of CPU time
    (``RLIMIT_CPU``), and is stopped as hung only when it uses no CPU for ``stall_s`` seconds."""
    import resource
    import time

    def limit():
        resource.setrlimit(resource.RLIMIT_CPU, (int(cpu_seconds), int(cpu_seconds) + 5))

    def cpu_used(pid):  # utime + stime of the child (all its threads), from /proc
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, preexec_fn=limit)
    last, progress_at = -1.0, time.monotonic()
    while True:
        try:
            stdout, stderr = proc.communicate(timeout=min(10.0, max(1.0, stall_s / 3)))
            break
        except subprocess.TimeoutExpired:
            try:
                used = cpu_used(proc.pid)
            except (OSError, ValueError, IndexError):  # no /proc: progress cannot be seen
                used = last + 1
            if used > last:
                last, progress_at = used, time.monotonic()
            elif time.monotonic() - progress_at > stall_s:
                proc.kill()
                proc.communicate()
                pytest.fail(f"no CPU used for {stall_s:.0f} s after {last:.0f} CPU-seconds: hung")
    assert proc.returncode != -signal.SIGXCPU, (
        f"used more than its {cpu_seconds:.0f} CPU-seconds (about 80 on 2 cores)")
    assert proc.returncode == 0, stderr[-3000:]
    line = [x for x in stdout.splitlines() if x.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT"):])


def test_the_work_bound_stops_a_spinning_child_and_a_hung_one():
    with pytest.raises(AssertionError, match="more than its 2 CPU-seconds"):
        run_python_bounded_by_work("while True: pass", cpu_seconds=2)
    with pytest.raises(pytest.fail.Exception, match="no CPU used for 3 s"):
        run_python_bounded_by_work("import time; time.sleep(120)", cpu_seconds=60, stall_s=3)
    assert run_python_bounded_by_work('print("RESULT[1]")', cpu_seconds=60) == [1]


@pytest.mark.slow
def test_mirrored_strategy_two_logical_cpus_matches_single_device():
    # 24 images / batch 4 = 6 steps per epoch, 12 steps: the pools (size 4) fill in the first
    # step and swap afterwards, so the pooled path under distribution is exercised too.
    # Measured: 79 CPU-seconds on 2 cores (314 s wall at load 9.5, past the old 240 s timeout).
    out = run_python_bounded_by_work(MIRRORED, cpu_seconds=600)
    assert out["replicas"] == 2 and out["jit_refused"]
    single, mirrored = out["single"], out["mirrored"]
    assert single["step"] == mirrored["step"] == 12
    assert single["pool"] == mirrored["pool"] == 4
    # The replicas sum their half-batch gradients in another order than one device does, and
    # twelve Adam steps (which normalize the gradients) grow that float32 round-off to a few
    # 1e-4 of the losses; a real error (a loss averaged per replica, a pool per replica) is
    # off by percents.
    # The first epoch's losses agree to rtol 1e-3. The adversarial terms of the second epoch
    # (the discriminators' outputs near their 0.5 decision point, judged on pooled images) are
    # the most sensitive to that round-off: on one machine (the same code, before and after the
    # package's layout change) adv_ab's second-epoch mean differed by 0.44 %, deterministically,
    # while the weights below still agreed to 1e-4. They get rtol 1e-2; a loss averaged per
    # replica or a pool per replica also moves the weights and the pooled pixels checked below.
    for key in LOSS_NAMES:
        got, want = mirrored["history"][key], single["history"][key]
        np.testing.assert_allclose(got[0], want[0], rtol=1e-3, atol=1e-5, err_msg=key)
        rtol = 1e-2 if key.startswith(("adv_", "d_")) else 1e-3
        np.testing.assert_allclose(got[1:], want[1:], rtol=rtol, atol=1e-5, err_msg=key)
    assert mirrored["weights"] == pytest.approx(single["weights"], rel=1e-4)
    pooled = [np.asarray(out[name]["pool_images"]) for name in ("single", "mirrored")]
    assert pooled[0].size == 4 * 32 * 32 * 3
    # the same images in the same slots: the pixels agree to about 1e-2 on average (a pool per replica or
    # a shuffled pool would differ by the images' own spread)
    gap = np.abs(pooled[0] - pooled[1])
    # Measured: mean 0.0025 / max 0.017 on one machine, mean 0.015 / max 0.088 on another (the
    # same code); the same pools with two slots swapped: mean 0.144, max 0.81.
    assert gap.mean() < 0.2 * pooled[0].std() and gap.max() < 0.25, (gap.mean(), gap.max(),
                                                                      pooled[0].std())


# ---------------------------------------------------------------- export


def test_export_round_trip(tmp_path):
    model = tiny_model(1, 3, pool_size=0)
    model.compile()
    meta = save_generators(model, tmp_path, domain_a="cifar10_gray", domain_b="cifar10_color",
                           extra={"task": "gray2color"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["G_AB.keras", "G_BA.keras",
                                                          "generators.json"]
    saved = json.loads((tmp_path / "generators.json").read_text())
    assert saved == json.loads(json.dumps(meta))
    assert saved["value_range"] == [-1.0, 1.0] and saved["training_steps"] == 0
    assert saved["generators"]["G_AB"]["input_channels"] == 1
    assert saved["generators"]["G_AB"]["output_channels"] == 3
    assert saved["generators"]["G_BA"]["image_size"] == [32, 32]
    assert saved["generators"]["G_AB"]["parameter_count"] == model.G_AB.count_params()
    assert saved["parameters"] == {"task": "gray2color"}

    x = np.random.default_rng(1).uniform(-1, 1, (3, 32, 32, 1)).astype(np.float32)
    plain = keras.models.load_model(tmp_path / "G_AB.keras")
    np.testing.assert_allclose(plain.predict(x, verbose=0), model.G_AB(x, training=False),
                               atol=1e-5)
    loaded, info = load_generator(tmp_path / "G_BA.keras")
    assert info["from"] == "cifar10_color" and info["to"] == "cifar10_gray"
    assert info["parameter_count"] == model.G_BA.count_params()
    assert info["parameters"] == {"task": "gray2color"} and info["domain_a"] == "cifar10_gray"
    y = np.random.default_rng(2).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded(y), model.G_BA(y, training=False), atol=1e-5)
    with pytest.raises(FileNotFoundError):
        load_generator(tmp_path / "missing.keras")


def test_cyclegan_needs_matching_domains():
    from cyclegan_lesson.nn import networks

    g1 = networks.resnet_generator(0, 4, 32, 1, 3)
    g2 = networks.resnet_generator(0, 4, 32, 1, 3)  # should map 3 -> 1
    d = networks.patch_discriminator(1, 4, 1, 32)
    with pytest.raises(ValueError, match="cycles close"):
        CycleGAN(g1, g2, d, d, weights=losses.CycleGANLossWeights(lambda_identity=0))


def test_keep_luma_generator_keeps_the_luma_and_round_trips(tmp_path):
    """build_cyclegan(keep_luma=True): G_AB predicts only Cb, Cr (its inner U-Net has 2 output
    channels), the luma of its output is the input wherever nothing clips, it trains, and the
    exported .keras file loads after ``import cyclegan_lesson`` with the same outputs."""
    from cyclegan_lesson.evaluation import colour_metrics

    model = tiny_model(1, 3, generator="unet", keep_luma=True)
    inner = [layer for layer in model.G_AB.layers if isinstance(layer, keras.Model)]
    assert len(inner) == 1 and inner[0].output_shape[-1] == 2
    x = np.random.default_rng(3).uniform(-0.3, 0.3, (4, 32, 32, 1)).astype(np.float32)
    out = np.asarray(model.G_AB(x, training=False))
    assert out.shape == (4, 32, 32, 3)
    np.testing.assert_allclose(colour_metrics.luma(out), x, atol=1e-5)
    plain = tiny_model(1, 3, generator="unet")
    assert np.abs(colour_metrics.luma(np.asarray(plain.G_AB(x, training=False))) - x).max() > 0.01
    model.compile()
    gray, colour = x, np.random.default_rng(4).uniform(-1, 1, (4, 32, 32, 3)).astype(np.float32)
    ds = tf.data.Dataset.from_tensors((gray, colour)).repeat()
    logs = model.fit(ds, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False).history
    assert np.isfinite(logs["G_total"][-1])
    trained = np.asarray(model.G_AB(x, training=False))
    assert np.abs(trained - out).max() > 1e-4  # it did learn ...
    np.testing.assert_allclose(colour_metrics.luma(trained), x, atol=1e-5)  # ... only colour
    save_generators(model, tmp_path, domain_a="cifar10_gray", domain_b="cifar10_color")
    loaded = keras.models.load_model(tmp_path / "G_AB.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.G_AB(x, training=False),
                               atol=1e-5)


def test_keep_luma_and_norm_options_are_checked():
    with pytest.raises(ValueError, match="channels_a = 1 and channels_b = 3"):
        tiny_model(3, 3, generator="unet", keep_luma=True)
    with pytest.raises(ValueError, match="norm must be 'instance' or 'batch'"):
        tiny_model(1, 3, generator="unet", norm="layer")
    with pytest.raises(ValueError, match="option of the U-Net"):
        tiny_model(1, 3, generator="resnet", norm="batch")
    bn = tiny_model(1, 3, generator="unet", norm="batch")
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in bn.G_AB.layers)
    inst = tiny_model(1, 3, generator="unet")
    assert not any(isinstance(layer, keras.layers.BatchNormalization)
                   for layer in inst.G_AB.layers)


def test_pixel_g_ba_is_learnt_per_pixel_and_round_trips(tmp_path):
    """build_cyclegan(g_ba="pixel"): G_BA is a learnt network whose output pixel depends on its
    input pixel only (changing one input pixel changes exactly that output pixel), a training
    step changes it, and it round-trips through .keras; bad combinations are refused."""
    model = tiny_model(1, 3, generator="unet", g_ba="pixel")
    assert model.G_BA.output_shape == (None, 32, 32, 1) and model.G_BA.count_params() < 1000
    y = np.random.default_rng(6).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    y2 = y.copy()
    y2[0, 5, 7] = -y2[0, 5, 7]
    diff = np.abs(np.asarray(model.G_BA(y2)) - np.asarray(model.G_BA(y)))[..., 0]
    assert diff[0, 5, 7] > 0 and np.count_nonzero(diff) == 1
    model.compile()
    before = [np.array(w) for w in model.G_BA.weights]
    gray = y[..., :1]
    ds = tf.data.Dataset.from_tensors((gray, y)).repeat()
    model.fit(ds, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
    assert max(np.abs(np.array(w) - b).max() for w, b in zip(model.G_BA.weights, before)) > 1e-5
    model.G_BA.save(tmp_path / "pixel.keras")
    loaded = keras.models.load_model(tmp_path / "pixel.keras")
    np.testing.assert_allclose(loaded.predict(y, verbose=0), model.G_BA(y), atol=1e-6)
    with pytest.raises(ValueError, match="g_ba must be one of"):
        tiny_model(1, 3, g_ba="luma")
    with pytest.raises(ValueError, match="cannot also be"):
        tiny_model(1, 3, generator="unet", keep_luma=True, luma_g_ba=True, g_ba="pixel")


def test_luma_g_ba_is_the_exact_frozen_luma(tmp_path):
    """build_cyclegan(luma_g_ba=True): G_BA is ITU-R 601 luma, has nothing to train, and a
    training step leaves it unchanged (only G_AB learns); it round-trips through .keras."""
    from cyclegan_lesson.evaluation import colour_metrics
    from cyclegan_lesson.models.cyclegan import luma_generator

    model = tiny_model(1, 3, generator="unet", keep_luma=True, luma_g_ba=True)
    y = np.random.default_rng(5).uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(model.G_BA(y), colour_metrics.luma(y), atol=1e-6)
    assert model.G_BA.trainable_variables == [] and model.G_BA.count_params() == 3
    model.compile()
    gray = colour_metrics.luma(y)
    before = np.asarray(model.G_AB(gray, training=False))
    ds = tf.data.Dataset.from_tensors((gray, y)).repeat()
    model.fit(ds, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
    np.testing.assert_allclose(model.G_BA(y), colour_metrics.luma(y), atol=1e-6)
    assert np.abs(np.asarray(model.G_AB(gray, training=False)) - before).max() > 1e-4
    luma_generator(32).save(tmp_path / "luma.keras")
    loaded = keras.models.load_model(tmp_path / "luma.keras")
    np.testing.assert_allclose(loaded.predict(y, verbose=0), colour_metrics.luma(y), atol=1e-6)
    with pytest.raises(ValueError, match="channels_a = 1 and channels_b = 3"):
        tiny_model(3, 3, luma_g_ba=True)
    with pytest.raises(ValueError, match="positive int"):
        luma_generator(0)
