"""The engine's speed mechanisms: vectorized pool, stacked passes, precision policies, the NaN
guard and the plain-Keras baseline of ``bench --compare-plain`` (tiny models, seconds each)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import cyclegan_lesson  # noqa: F401
import keras
import tensorflow as tf

from cyclegan_lesson.training import callbacks as cb
from cyclegan_lesson.nn import losses
from cyclegan_lesson.tools import cli
from cyclegan_lesson.models.cyclegan import (
    PRECISIONS,
    ImagePool,
    StepCountingLossScaleOptimizer,
    build_cyclegan,
    precision_scope,
    save_generators,
)

# ---------------------------------------------------------------- stacked passes


def tiny(channels_a=3, channels_b=3, lambda_identity=0.5, seed=0, **kw):
    keras.utils.set_random_seed(seed)
    return build_cyclegan(32, channels_a, channels_b, n_blocks=1, ngf=4, ndf=4, n_layers=2,
                          pool_size=4, seed=seed,
                          weights=losses.CycleGANLossWeights(lambda_identity=lambda_identity),
                          **kw)


def test_stacked_identity_and_discriminator_passes_equal_separate_calls():
    model = tiny()
    assert model.stack_calls is False  # off by default (see CycleGAN.stack_calls)
    model.stack_calls = True
    rng = np.random.default_rng(0)
    a, b = (rng.uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32) for _ in range(2))
    passes = model.forward_cycles(a, b, training=True)
    np.testing.assert_allclose(passes["fake_b"], model.G_AB(a, training=True), atol=1e-5)
    np.testing.assert_allclose(passes["same_b"], model.G_AB(b, training=True), atol=1e-5)
    np.testing.assert_allclose(passes["same_a"], model.G_BA(a, training=True), atol=1e-5)
    np.testing.assert_allclose(passes["rec_a"],
                               model.G_BA(model.G_AB(a, training=True), training=True), atol=1e-5)
    d_a, d_b = model.discriminator_losses(a, b, passes["fake_a"], passes["fake_b"])
    expected = losses.discriminator_loss(model.D_A(a, training=True),
                                         model.D_A(passes["fake_a"], training=True))
    assert float(d_a) == pytest.approx(float(expected), rel=1e-5)
    # A batch-norm discriminator mixes samples: it is called on each batch separately.
    from cyclegan_lesson.nn import networks
    from cyclegan_lesson.models.cyclegan import _per_sample

    assert _per_sample(model.D_A) and _per_sample(model.G_AB)
    assert not _per_sample(networks.patch_discriminator(1, 4, 3, 32, norm="batch"))


# ---------------------------------------------------------------- precision


def _op_dtypes(fn, *args) -> dict:
    graph = tf.function(fn).get_concrete_function(*args).graph
    found: dict = {}
    for op in graph.get_operations():
        if "T" in op.node_def.attr:
            found.setdefault(op.type, set()).add(tf.as_dtype(op.node_def.attr["T"].type).name)
    return found


def test_mixed_bfloat16_keeps_statistics_losses_and_outputs_float32():
    with precision_scope("mixed_bfloat16"):
        model = tiny()
        model.compile(learning_rate=1e-3)
    assert keras.mixed_precision.global_policy().name == "float32"  # restored
    assert model.precision == "mixed_bfloat16"
    x = tf.random.uniform((2, 32, 32, 3), -1, 1)
    gen = _op_dtypes(lambda t: model.G_AB(t, training=True), x)
    assert gen["Conv2D"] == {"bfloat16"}  # the convolutions compute in bfloat16...
    assert gen["Mean"] == {"float32"}  # ...the instance-norm statistics in float32
    assert gen["Tanh"] == {"float32"}
    assert model.G_AB(x).dtype == "float32" and model.D_A(x).dtype == "float32"
    assert all(w.dtype == "float32" for w in model.trainable_weights)
    assert model.pool_A.images.dtype == "float32"
    terms, fake_a, _ = model.generator_losses(x, x[::-1])
    assert all(v.dtype == "float32" for v in terms.values()) and fake_a.dtype == "float32"
    d_a, _ = model.discriminator_losses(x, x, fake_a, fake_a)
    assert d_a.dtype == "float32"
    rng = np.random.default_rng(0)
    batch = tuple(rng.uniform(-1, 1, (8, 32, 32, 3)).astype(np.float32) for _ in range(2))
    hist = model.fit(tf.data.Dataset.from_tensors(batch).repeat(), epochs=1, steps_per_epoch=2,
                     verbose=0).history
    assert all(np.isfinite(v[0]) for v in hist.values()) and model.step == 2


def test_mixed_float16_scales_the_loss_and_bad_precisions_are_refused(capsys):
    with precision_scope("mixed_float16"):
        model = tiny(lambda_identity=0.0)
        model.compile()
    assert isinstance(model.g_optimizer, StepCountingLossScaleOptimizer)
    assert isinstance(model.d_optimizer, StepCountingLossScaleOptimizer)
    assert set(PRECISIONS) == set(cli.PRECISION_CHOICES)
    with pytest.raises(ValueError, match="precision must be one of"):
        with precision_scope("bfloat16"):
            pass
    with pytest.raises(SystemExit) as exc:
        cli.main(["bench", "--precision", "fp8"])
    assert exc.value.code == 2 and "invalid choice: 'fp8'" in capsys.readouterr().err


def test_mixed_float16_counts_an_overflowed_step_so_the_data_position_stays_right():
    """A step whose scaled gradients overflow is skipped (weights kept, loss scale halved) but
    still counted: CycleGAN.step, the schedule and a resume's data position stay in step."""
    with precision_scope("mixed_float16"):
        model = tiny(lambda_identity=0.0)
        model.compile(learning_rate=2e-4)
    rng = np.random.default_rng(0)
    batch = tuple(rng.uniform(-1, 1, (2, 32, 32, c)).astype(np.float32) for c in (3, 3))
    ds = tf.data.Dataset.from_tensors(batch).repeat()
    model.fit(ds, steps_per_epoch=1, epochs=1, verbose=0)
    assert model.step == 1
    before = [np.array(w) for w in model.G_AB.weights]
    model.g_optimizer.dynamic_scale.assign(3e38)  # the scaled loss overflows: a skipped step
    model.fit(ds, steps_per_epoch=1, epochs=1, verbose=0)
    assert model.step == 2  # counted although skipped (stock Keras would still say 1)
    assert float(model.g_optimizer.dynamic_scale) == pytest.approx(1.5e38)
    assert all(np.array_equal(a, np.array(w)) for a, w in zip(before, model.G_AB.weights))
    model.g_optimizer.dynamic_scale.assign(1.0)  # small enough for no overflow
    model.fit(ds, steps_per_epoch=1, epochs=1, verbose=0)
    assert model.step == 3
    assert not all(np.array_equal(a, np.array(w)) for a, w in zip(before, model.G_AB.weights))


# ---------------------------------------------------------------- the NaN guard


def test_nan_guard_stops_at_a_poisoned_batch_and_keeps_the_last_good_checkpoint(
        tmp_path, data_dir, monkeypatch):
    from cyclegan_lesson import data
    from cyclegan_lesson.training.trainer import train

    options = dict(epochs=1, steps_per_epoch=8, n_epochs_decay=0, batch_size=2, n_blocks=0,
                   ngf=4, ndf=4, n_layers=1, pool_size=2, checkpoint_every=2, sample_images=0,
                   verbose=0)
    clean = data.unpaired

    def poisoned(*args, **kwargs):  # batch 5 (step 5) of domain A is all NaN
        ds = clean(*args, **kwargs).enumerate()
        return ds.map(lambda i, ab: (tf.where(i == 4, np.nan, ab[0]), ab[1]))

    monkeypatch.setattr(data, "unpaired", poisoned)
    out = tmp_path / "run"
    with pytest.raises(cb.NonFiniteError, match=r"^step 5: loss term \w+ is nan") as exc:
        train("gray2color", out, data_dir, **options)
    assert "ckpt-4" in str(exc.value) and "\n" not in str(exc.value)
    # On disk: the checkpoint of step 4 is the newest, nothing was exported.
    assert cb.latest_checkpoint(out).endswith("ckpt-4")
    assert json.loads((out / cb.STATE_FILE).read_text())["step"] == 4
    assert not (out / "G_AB.keras").exists()
    monkeypatch.setattr(data, "unpaired", clean)
    run = train("gray2color", out, data_dir, **options)  # resumes from the last good one
    assert run.resumed_from == 4 and run.steps == 8
    assert cb.first_non_finite_weight(run.model) is None and (out / "G_AB.keras").exists()


def test_non_finite_weights_are_never_saved_or_exported(tmp_path, capsys, monkeypatch):
    model = tiny(lambda_identity=0.0)
    model.compile()
    checkpoint = cb.TrainingCheckpoint(model, tmp_path)
    checkpoint.save()
    kernel = model.G_BA.trainable_variables[0]
    kernel.assign(np.full(kernel.shape, np.inf, np.float32))
    assert cb.first_non_finite_weight(model) == kernel.path
    with pytest.raises(cb.NonFiniteError, match=r"step 0: weight .* checkpoint not written"):
        checkpoint.save()
    assert cb.latest_checkpoint(tmp_path).endswith("ckpt-0")
    with pytest.raises(cb.NonFiniteError, match="generators not exported"):
        save_generators(model, tmp_path / "export", domain_a="a", domain_b="b")
    assert not (tmp_path / "export").exists()

    # The command line reports it in one line, exit code 3.
    from cyclegan_lesson.training import trainer

    def boom(*args, **kwargs):
        raise cb.NonFiniteError("step 7: loss term D_A is nan; training stopped, ...")

    monkeypatch.setattr(trainer, "train", boom)
    code = cli.main(["train", "--task", "gray2color", "--out", str(tmp_path / "cli"),
                     "--data-dir", str(tmp_path)])
    assert code == 3
    assert capsys.readouterr().err.strip().endswith("error: step 7: loss term D_A is nan; "
                                                    "training stopped, ...")


# ---------------------------------------------------------------- bench --compare-plain


def test_bench_compare_plain_prints_both_and_the_ratio(capsys):
    code = cli.main(["bench", "--compare-plain", "--size", "16", "--batch-size", "2",
                     "--n-blocks", "1", "--ngf", "4", "--ndf", "4", "--n-layers", "1",
                     "--steps", "1", "--rounds", "2", "--warmup", "1"])
    assert code == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    # The plain baseline has the engine's layer shapes and parameter counts.
    assert result["parameters"]["engine"] == result["parameters"]["plain"]
    assert result["engine_step_ms"] > 0 and result["plain_step_ms"] > 0
    assert result["ratio"] == pytest.approx(
        result["plain_step_ms"] / result["engine_step_ms"], rel=0.02)
    assert result["configuration"]["rounds"] == 2
