"""Kill tests: every trainer of the course, killed with SIGKILL at chosen points (between
steps, in the middle of a checkpoint save, after a save before the old one is dropped, during the
export), resumes to the same weights as a straight run; a damaged newest checkpoint falls back
to the intact older one.

The kills are placed by :func:`cyclegan_lesson.files.atomic.fault_point` (the environment variable
``CYCLEGAN_LESSON_FAULT=NAME@K`` makes the process SIGKILL itself the K-th time it reaches the
point), not by timing.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

# tiny runs: 6 steps, a save every 2 (segments end at steps 2, 4, 6)
TRAINERS = {
    "conditional_gan": ("generator.keras", "steps=6, checkpoint_every=2, chunk=2, train_limit=64, "
                        "filters=4, latent_dim=8, batch_size=8"),
    "pix2pix": ("G.keras", "steps=6, checkpoint_every=2, chunk=2, train_limit=64, ngf=4, ndf=4, "
                "batch_size=8"),
    "stargan": ("generator.keras", "steps=6, checkpoint_every=2, chunk=2, train_limit=64, ngf=4, "
                "n_blocks=1, ndf=4, batch_size=4"),
}


def _run(module: str, out: Path, data_dir: Path, fault: str | None) -> subprocess.CompletedProcess:
    code = textwrap.dedent(f"""
        import os
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from cyclegan_lesson.models import {module} as m
        m.train({str(out)!r}, data_dir={str(data_dir)!r}, {TRAINERS[module][1]},
                on_progress=lambda s: print(s, flush=True))
    """)
    env = {k: v for k, v in os.environ.items() if k != "CYCLEGAN_LESSON_FAULT"}
    env.update(PYTHONPATH=str(ROOT / "src"), TF_NUM_INTRAOP_THREADS="1",
               TF_NUM_INTEROP_THREADS="1")
    if fault:
        env["CYCLEGAN_LESSON_FAULT"] = fault
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=1800)
    if fault:
        assert proc.returncode == -signal.SIGKILL, (fault, proc.returncode, proc.stderr[-2000:])
    else:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _h5_arrays(path: Path) -> dict:
    import h5py

    arrays = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: arrays.__setitem__(name, np.asarray(obj))
                     if isinstance(obj, h5py.Dataset) else None)
    return arrays


def _keras_arrays(path: Path) -> dict:
    import zipfile

    with zipfile.ZipFile(path) as z, z.open("model.weights.h5") as f:
        tmp = path.with_suffix(".weights.h5.test")
        tmp.write_bytes(f.read())
    try:
        return _h5_arrays(tmp)
    finally:
        tmp.unlink()


def _same(a: dict, b: dict, what: str) -> None:
    assert a.keys() == b.keys() and a, what
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=f"{what}: {key}")


def _assert_same_run(straight: Path, other: Path, export: str) -> None:
    last = straight / "checkpoint" / "step-000000006"
    mine = other / "checkpoint" / "step-000000006"
    for name in ("generator.weights.h5", "discriminator.weights.h5"):
        _same(_h5_arrays(last / name), _h5_arrays(mine / name), name)
    with np.load(last / "optimizers.npz") as a, np.load(mine / "optimizers.npz") as b:
        _same(dict(a), dict(b), "optimizers.npz")
    _same(_keras_arrays(straight / export), _keras_arrays(other / export), export)


@pytest.fixture(scope="module")
def straight_runs(tmp_path_factory, data_dir):
    root = tmp_path_factory.mktemp("straight")
    runs = {}
    for module in TRAINERS:
        _run(module, root / module, data_dir, None)
        runs[module] = root / module
    return runs


@pytest.mark.parametrize("module", list(TRAINERS))
def test_kills_at_every_kind_of_point_resume_to_the_straight_runs_weights(
        module, straight_runs, tmp_path, data_dir):
    out = tmp_path / "run"
    # 1. killed during the step-4 save (generator file written, nothing renamed yet)
    _run(module, out, data_dir, "resumable.save.generator@2")
    assert not (out / "checkpoint" / "step-000000004").exists()
    # 2. resumed from 2; killed after the step-4 save is complete, before step-2 is dropped
    _run(module, out, data_dir, "resumable.save.renamed@1")
    # 3. resumed from 4; killed after the last segment's steps, before its save
    _run(module, out, data_dir, "resumable.segment@1")
    # 4. resumed from 4; the step-6 save completes; killed during the export (pix2pix writes
    #    history.csv first)
    _run(module, out, data_dir, f"atomic.before_replace@{2 if module == 'pix2pix' else 1}")
    export = TRAINERS[module][0]
    assert not (out / export).exists()
    # 5. nothing left to train: the export is written
    proc = _run(module, out, data_dir, None)
    assert "resuming from step 6" in proc.stdout
    _assert_same_run(straight_runs[module], out, export)
    saves = sorted(p.name for p in (out / "checkpoint").iterdir())
    assert saves == ["step-000000004", "step-000000006"], saves  # two kept, no temp left


@pytest.mark.parametrize("module", list(TRAINERS))
def test_a_damaged_newest_checkpoint_falls_back_to_the_older_one(
        module, straight_runs, tmp_path, data_dir):
    out = tmp_path / "run"
    shutil.copytree(straight_runs[module], out)
    (out / TRAINERS[module][0]).unlink()
    newest = out / "checkpoint" / "step-000000006" / "generator.weights.h5"
    newest.write_bytes(newest.read_bytes()[:1000])  # truncated
    proc = _run(module, out, data_dir, None)
    assert "step-000000006 is damaged" in proc.stdout and "resuming from step 4" in proc.stdout
    _assert_same_run(straight_runs[module], out, TRAINERS[module][0])


# ---------------------------------------------------------------------------------------------
# CycleGAN (python -m cyclegan_lesson train): 3 epochs x 3 steps, a checkpoint every 2 steps and
# at each epoch end (steps 2, 3, 4, 6, 8, 9), luma.csv every 2 steps, a sample grid per epoch
# ---------------------------------------------------------------------------------------------

CYCLEGAN = ["--task", "gray2color", "--epochs", "3", "--steps-per-epoch", "3", "--batch-size",
            "2", "--checkpoint-every", "2", "--luma-every", "2", "--sample-images", "2",
            "--n-blocks", "1", "--ngf", "4", "--ndf", "4", "--n-layers", "2", "--verbose", "0"]


def _train(out: Path, data_dir: Path, fault: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CYCLEGAN_LESSON_FAULT"}
    env.update(PYTHONPATH=str(ROOT / "src"), TF_NUM_INTRAOP_THREADS="1",
               TF_NUM_INTEROP_THREADS="1", TF_CPP_MIN_LOG_LEVEL="3")
    if fault:
        env["CYCLEGAN_LESSON_FAULT"] = fault
    proc = subprocess.run([sys.executable, "-m", "cyclegan_lesson", "train", "--out", str(out),
                           "--data-dir", str(data_dir), *CYCLEGAN],
                          capture_output=True, text=True, env=env, timeout=1800)
    expected = -signal.SIGKILL if fault else 0
    assert proc.returncode == expected, (fault, proc.returncode, proc.stderr[-3000:])
    return proc


def _rows(path: Path) -> list[list[str]]:
    return [line.split(",") for line in path.read_text().strip().splitlines()]


def _same_rows(a: Path, b: Path) -> None:
    ra, rb = _rows(a), _rows(b)
    assert [r[0] for r in ra] == [r[0] for r in rb], (a.name, ra, rb)  # each once, in order
    def numbers(row):  # CSVLogger writes NA for the validation columns (no validation here)
        return np.array([np.nan if v == "NA" else float(v) for v in row])

    for x, y in zip(ra[1:], rb[1:], strict=True):
        np.testing.assert_allclose(numbers(y), numbers(x), rtol=1e-5, atol=1e-7,
                                   err_msg=a.name)


def test_cyclegan_killed_at_every_kind_of_point_resumes_to_the_straight_run(tmp_path, data_dir):
    straight, out = tmp_path / "straight", tmp_path / "killed"
    _train(straight, data_dir, None)
    # after ckpt-3 (epoch end) is written, before train_state.json
    _train(out, data_dir, "checkpoint.saved@2")
    # resumed at 3; after epoch 1's history row, grid and luma row 6, before ckpt-6
    _train(out, data_dir, "checkpoint.before_save@2")
    # resumed at 4 (mid-epoch); ckpt-6 written, killed halfway through train_state.json
    _train(out, data_dir, "atomic.half_written:train_state.json@1")
    # resumed at 6; killed while the last grid is written (before ckpt-9)
    _train(out, data_dir, "atomic.before_replace:epoch_003.png@1")
    # resumed at 8 (mid-epoch); killed during the export of G_AB.keras
    _train(out, data_dir, "atomic.before_replace:G_AB.keras@1")
    assert not (out / "G_AB.keras").exists()
    proc = _train(out, data_dir, None)
    assert "trained 9 steps" in proc.stdout
    for name in ("G_AB.keras", "G_BA.keras"):
        _same(_keras_arrays(straight / name), _keras_arrays(out / name), name)
    _same_rows(straight / "history.csv", out / "history.csv")  # no row lost or repeated
    _same_rows(straight / "luma.csv", out / "luma.csv")
    assert [r[0] for r in _rows(out / "luma.csv")] == ["step", "0", "2", "4", "6", "8"]
    for epoch in (1, 2, 3):
        grid = f"samples/epoch_{epoch:03d}.png"
        np.testing.assert_array_equal(np.asarray(_png(out / grid)), np.asarray(_png(straight / grid)))
    assert not [p for p in out.rglob(".tmp-*")], "temporary files left"


def _png(path: Path):
    from PIL import Image

    with Image.open(path) as img:
        img.load()
        return img.copy()
