"""Sample grids, checkpoints and resume (the whole training state survives a restart)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

import cyclegan_lesson  # noqa: F401
import keras
import tensorflow as tf

from cyclegan_lesson.nn import losses
from cyclegan_lesson.training.callbacks import (
    SampleMonitor,
    TrainingCheckpoint,
    history_logger,
    latest_checkpoint,
)
from cyclegan_lesson.models.cyclegan import build_cyclegan

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny(seed=0, pool_size=3):
    keras.utils.set_random_seed(seed)
    model = build_cyclegan(32, 1, 3, n_blocks=1, ngf=4, ndf=4, n_layers=2, pool_size=pool_size,
                           seed=seed, weights=losses.CycleGANLossWeights(lambda_identity=0))
    model.compile(learning_rate=1e-3)
    return model


def random_pairs(n=8, batch=2, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, (n, 32, 32, 1)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, 32, 32, 3)).astype(np.float32)
    return tf.data.Dataset.from_tensor_slices((a, b)).batch(batch)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny model trained 2 epochs x 4 steps with all three callbacks (shared by the tests
    below to keep the suite fast), then one more epoch appended to history.csv."""
    out = tmp_path_factory.mktemp("run")
    model = tiny(seed=0)
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (3, 32, 32, 1)).astype(np.float32)
    b = rng.uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
    monitor = SampleMonitor(a, b, out / "samples", at_start=True)
    ckpt = TrainingCheckpoint(model, out, every_n_steps=3)
    model.fit(random_pairs(8), epochs=2, verbose=0, callbacks=[ckpt, monitor,
                                                               history_logger(out)],
              shuffle=False)
    snapshot = {
        "weights": {n: getattr(model, n).get_weights() for n in ("G_AB", "G_BA", "D_A", "D_B")},
        "optimizers": {o: [np.asarray(v).copy() for v in getattr(model, o).variables]
                       for o in ("g_optimizer", "d_optimizer")},
        "pools": {p: getattr(model, p).get_state() for p in ("pool_A", "pool_B")},
    }
    model.fit(random_pairs(4), epochs=1, verbose=0, callbacks=[history_logger(out)],
              shuffle=False)
    return {"out": out, "model": model, "monitor": monitor, "ckpt": ckpt, "a": a, "b": b,
            "snapshot": snapshot}


def test_sample_monitor_writes_one_grid_per_epoch(trained):
    monitor, model, a, b = trained["monitor"], trained["model"], trained["a"], trained["b"]
    assert [os.path.basename(p) for p in monitor.paths] == ["epoch_000.png", "epoch_001.png",
                                                            "epoch_002.png"]
    grid = np.asarray(Image.open(monitor.paths[-1]))
    pad, factor, header = 2, 3, 14  # image_grid's pad; enlarged 3x for the labels; label strip
    assert grid.shape == (header + factor * (3 * (32 + pad) + pad),
                          factor * (6 * (32 + pad) + pad), 3)
    assert (grid[:header] < 128).any(), "the column labels are drawn above the grid"
    cells = grid[header:][::factor, ::factor]           # back to one pixel per image pixel
    assert cells.shape == (3 * (32 + pad) + pad, 6 * (32 + pad) + pad, 3)
    rows = monitor.rows()
    assert len(rows) == 3 and len(rows[0]) == 6
    np.testing.assert_array_equal(rows[0][0], a[0])  # input a
    np.testing.assert_allclose(rows[0][1], model.G_AB(a[:1])[0], atol=1e-5)  # translation
    np.testing.assert_allclose(rows[0][2], model.G_BA(model.G_AB(a[:1]))[0], atol=1e-5)
    np.testing.assert_array_equal(rows[0][3], b[0])
    assert rows[0][2].shape == (32, 32, 1) and rows[0][4].shape == (32, 32, 1)
    with pytest.raises(ValueError, match="NHWC"):
        SampleMonitor(a[0], b, trained["out"])


def test_checkpoint_round_trip_restores_everything(trained):
    out, ckpt, snap = trained["out"], trained["ckpt"], trained["snapshot"]
    # 4 steps per epoch: saves at step 3, at the epoch end (4), 6 and the end (8).
    assert ckpt.saved_steps == [3, 4, 6, 8]
    assert latest_checkpoint(out).endswith("ckpt-8")
    state = json.loads((out / "train_state.json").read_text())
    assert state["step"] == 8 and state["epochs_done"] == 2

    fresh = tiny(seed=1)  # different initial weights, empty pools, zero counters
    restored = TrainingCheckpoint(fresh, out)
    assert restored.restore() == 8
    assert restored.epochs_done == 2
    for net, weights in snap["weights"].items():
        for w0, w1 in zip(weights, getattr(fresh, net).get_weights(), strict=True):
            np.testing.assert_array_equal(w0, w1)
    for opt, variables in snap["optimizers"].items():
        assert int(getattr(fresh, opt).iterations.numpy()) == 8
        for v0, v1 in zip(variables, getattr(fresh, opt).variables, strict=True):
            np.testing.assert_array_equal(v0, np.asarray(v1))
    for pool, s0 in snap["pools"].items():
        s1 = getattr(fresh, pool).get_state()
        assert s0["num_images"] == s1["num_images"] == 3 and s0["draws"] == s1["draws"] == 16
        np.testing.assert_array_equal(s0["images"], s1["images"])

    # A checkpoint of another architecture is refused with a clear message.
    keras.utils.set_random_seed(0)
    other = build_cyclegan(32, 1, 3, n_blocks=1, ngf=6, ndf=4, n_layers=2, pool_size=3,
                           weights=losses.CycleGANLossWeights(lambda_identity=0))
    other.compile()
    with pytest.raises(ValueError, match="does not match this model"):
        TrainingCheckpoint(other, out).restore()


def test_history_logger_appends(trained):
    lines = (trained["out"] / "history.csv").read_text().strip().splitlines()
    assert lines[0].startswith("epoch,") and "G_total" in lines[0]
    assert [line.split(",")[0] for line in lines[1:]] == ["0", "1", "0"]


RESUME = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf
    tf.config.experimental.enable_op_determinism()
    import numpy as np, keras, cyclegan_lesson
    from cyclegan_lesson.training.trainer import train

    data_dir, out = sys.argv[1], sys.argv[2]
    options = dict(epochs=3, steps_per_epoch=4, batch_size=2, n_blocks=0, ngf=4, ndf=4,
                   n_layers=1, pool_size=3, checkpoint_every=3, sample_images=0, verbose=0,
                   n_epochs_decay=2)

    class Crash(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if self.model.step == 6:
                raise RuntimeError("simulated crash")

    def summary(run):
        m = run.model
        return {
            "step": m.step,
            "d_step": int(m.d_optimizer.iterations.numpy()),
            "lr": float(m.g_optimizer.learning_rate.numpy()),
            "weights": [w.tolist() for net in (m.G_AB, m.G_BA, m.D_A, m.D_B)
                        for w in net.get_weights()[:2]],
            "pool_A": m.pool_A.get_state()["images"].tolist(),
            "pool_draws": m.pool_B.get_state()["draws"],
            "history": run.history, "resumed_from": run.resumed_from,
        }

    straight = summary(train("gray2color", out + "/straight", data_dir, **options))
    try:
        train("gray2color", out + "/resumed", data_dir, callbacks=[Crash()], **options)
        raise SystemExit("the crash did not happen")
    except RuntimeError:
        pass
    resumed = summary(train("gray2color", out + "/resumed", data_dir, **options))
    print("RESULT" + json.dumps({"straight": straight, "resumed": resumed}))
    """
)


@pytest.mark.slow
def test_resume_after_a_crash_equals_one_straight_run(tmp_path, data_dir):
    # 3 epochs x 4 steps = 12 steps; the crash comes right after step 6 (checkpointed: every 3),
    # in the middle of epoch 2, so the resumed run first completes that epoch (2 steps).
    proc = subprocess.run([sys.executable, "-c", RESUME, str(data_dir), str(tmp_path)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT")][-1]
    out = json.loads(line[len("RESULT"):])
    straight, resumed = out["straight"], out["resumed"]
    assert straight["resumed_from"] is None and resumed["resumed_from"] == 6
    assert straight["step"] == resumed["step"] == 12
    assert straight["d_step"] == resumed["d_step"] == 12
    # LinearDecay(2e-4, n_epochs=1, n_epochs_decay=2, steps_per_epoch=4) at step 12: zero.
    assert straight["lr"] == resumed["lr"] == pytest.approx(0.0, abs=1e-12)
    assert straight["pool_draws"] == resumed["pool_draws"] == 24
    for w0, w1 in zip(straight["weights"], resumed["weights"], strict=True):
        np.testing.assert_allclose(w1, w0, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(resumed["pool_A"], straight["pool_A"], atol=1e-6)
    # The last full epoch's mean losses agree too.
    for key, values in straight["history"].items():
        assert resumed["history"][key][-1] == pytest.approx(values[-1], rel=1e-5, abs=1e-6), key
    history = (tmp_path / "resumed" / "history.csv").read_text().strip().splitlines()
    assert [row.split(",")[0] for row in history[1:]] == ["0", "1", "2"]


@pytest.mark.parametrize("damage", ["truncated_data", "garbage_index"])
def test_a_damaged_newest_checkpoint_falls_back_to_the_older_one(trained, tmp_path, damage,
                                                                  capsys):
    """Probe rows 76-77: a truncated ``.data`` or a garbage ``.index`` of the newest
    checkpoint is named and the older kept checkpoint restored; all damaged: one-line
    ValueError."""
    import shutil

    out = tmp_path / "run"
    shutil.copytree(trained["out"], out)
    ckpts = out / "checkpoints"
    if damage == "truncated_data":
        data = ckpts / "ckpt-8.data-00000-of-00001"
        data.write_bytes(data.read_bytes()[:1000])
    else:
        (ckpts / "ckpt-8.index").write_bytes(b"garbage" * 3)
    fresh = tiny(seed=1)
    assert TrainingCheckpoint(fresh, out).restore() == 6
    assert "ckpt-8 is damaged" in capsys.readouterr().err
    assert int(fresh.g_optimizer.iterations.numpy()) == 6
    (ckpts / "ckpt-6.index").write_bytes(b"")
    with pytest.raises(ValueError, match="no intact checkpoint in .*ckpt-8.*ckpt-6"):
        TrainingCheckpoint(tiny(seed=1), out).restore()


@pytest.mark.parametrize("lose", ["index_file", "timestamps"])
def test_a_run_whose_checkpoint_index_is_lost_is_refused_not_restarted(trained, tmp_path, lose):
    """``train_state.json`` says the run reached step 8, but the ``checkpoint`` index file is
    gone (or lists paths without the timestamps TensorFlow's manager pairs them with, as a
    hand-copied folder does): restoring must refuse in one line instead of starting over from
    step 0 (which would overwrite the run's history and samples). A folder with no
    ``train_state.json`` still starts fresh."""
    import shutil

    out = tmp_path / "run"
    shutil.copytree(trained["out"], out)
    index = out / "checkpoints" / "checkpoint"
    if lose == "index_file":
        index.unlink()
    else:
        index.write_text('model_checkpoint_path: "ckpt-8"\nall_model_checkpoint_paths: "ckpt-8"\n')
    with pytest.raises(ValueError, match="reached step 8, but .* lists no checkpoint"):
        TrainingCheckpoint(tiny(seed=1), out).restore()
    (out / "train_state.json").unlink()
    assert TrainingCheckpoint(tiny(seed=1), out).restore() is None
