"""Resumable training in segments for the course's two-player GANs trained by a command
(chapters 8-10: :mod:`conditional_gan`, :mod:`pix2pix`, :mod:`stargan`).

A run of ``total_steps`` is cut into segments of ``every`` steps; after each one the weights of
both networks, the state of both optimizers, the random-number state, the step reached and the
loss history so far are written to one folder, so that running the same command again continues
from the last segment instead of starting over (a Colab disconnect costs at most one segment).
CycleGAN's engine has its own, richer checkpoint (image pools, data position;
:mod:`cyclegan_lesson.training.callbacks`).

* :func:`save_checkpoint` / :func:`load_checkpoint`: any model with ``generator``,
  ``discriminator``, ``g_optimizer`` and ``d_optimizer`` attributes. Each save is a complete
  folder ``<folder>/step-<N>/`` (``generator.weights.h5``, ``discriminator.weights.h5``,
  ``optimizers.npz``, ``state.json``), written under a temporary name, synced to disk and then
  renamed: a kill at any moment leaves the previous save intact. The two newest saves are kept,
  and :func:`load_checkpoint` falls back to the older one when the newest is damaged.
* :func:`train_in_segments`: the loop (resume, train a segment, record its wall time and
  losses, save, report).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..files.atomic import fault_point, fsync_path

__all__ = ["save_checkpoint", "load_checkpoint", "checkpoint_folders", "train_in_segments"]

FILES = ("generator.weights.h5", "discriminator.weights.h5", "optimizers.npz", "state.json")
_STEP_DIR = re.compile(r"^step-(\d+)$")
#: How many complete saves are kept (the newest and one to fall back on).
KEEP = 2


def checkpoint_folders(folder) -> list[Path]:
    """The complete saves under ``folder``, newest first (``step-<N>`` folders; a folder of
    the earlier layout, with the four files directly in ``folder``, comes last)."""
    folder = Path(folder)
    found = []
    if folder.is_dir():
        for entry in folder.iterdir():
            match = _STEP_DIR.match(entry.name)
            if match and entry.is_dir():
                found.append((int(match.group(1)), entry))
    found.sort(reverse=True)
    result = [path for _, path in found]
    if (folder / "state.json").is_file():
        result.append(folder)
    return result


def _rng_variables(model) -> list:
    """The model's random-number state (``keras.random.SeedGenerator`` variables outside the
    two networks): saved so that a resumed run draws the noise an uninterrupted one draws."""
    inside = {id(v) for net in (model.generator, model.discriminator) for v in net.variables}
    return [v for v in getattr(model, "variables", [])
            if id(v) not in inside and "seed_generator" in getattr(v, "path", "")]


def save_checkpoint(model, folder, step: int, history: dict) -> Path:
    """Write both networks' weights, both optimizers' variables, the random-number state,
    ``step`` and ``history`` (a JSON-serialisable dict of lists) as ``<folder>/step-<step>/``
    (complete or absent: written under a temporary name, synced, renamed), then remove all
    but the :data:`KEEP` newest saves. Returns the new save's folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"step-{int(step):09d}"
    tmp = folder / f".tmp-{os.getpid()}-{final.name}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    model.generator.save_weights(tmp / "generator.weights.h5")
    fault_point("resumable.save.generator")
    model.discriminator.save_weights(tmp / "discriminator.weights.h5")
    fault_point("resumable.save.discriminator")
    arrays = {}
    for name, o in (("g", model.g_optimizer), ("d", model.d_optimizer)):
        for i, v in enumerate(o.variables):
            arrays[f"{name}_{i}"] = np.asarray(v)
    for i, v in enumerate(_rng_variables(model)):
        arrays[f"rng_{i}"] = np.asarray(v)
    np.savez(tmp / "optimizers.npz", **arrays)
    (tmp / "state.json").write_text(json.dumps({"step": int(step), "history": history}))
    for name in FILES:
        fsync_path(tmp / name)
    fsync_path(tmp)
    fault_point("resumable.save.written")
    if final.exists():  # a step reached again after a fall-back: replace the damaged save
        shutil.rmtree(final)
    os.replace(tmp, final)
    fsync_path(folder)
    fault_point("resumable.save.renamed")
    for old in checkpoint_folders(folder)[KEEP:]:
        if old == folder:  # the earlier layout's files
            for name in FILES:
                (folder / name).unlink(missing_ok=True)
        else:
            shutil.rmtree(old, ignore_errors=True)
    for stale in folder.glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    return final


def _load_one(model, folder: Path) -> tuple[int, dict]:
    state = json.loads((folder / "state.json").read_text())
    step, history = int(state["step"]), state["history"]
    model.generator.load_weights(folder / "generator.weights.h5")
    model.discriminator.load_weights(folder / "discriminator.weights.h5")
    with np.load(folder / "optimizers.npz") as saved:
        for name, o, net in (("g", model.g_optimizer, model.generator),
                             ("d", model.d_optimizer, model.discriminator)):
            o.build(net.trainable_variables)
            for i, v in enumerate(o.variables):
                v.assign(saved[f"{name}_{i}"])
        for i, v in enumerate(_rng_variables(model)):
            if f"rng_{i}" in saved:
                v.assign(saved[f"rng_{i}"])
    return step, history


def load_checkpoint(model, folder, on_progress: Callable[[str], None] | None = None
                    ) -> tuple[int, dict]:
    """Restore the newest intact save of :func:`save_checkpoint` under ``folder`` into
    ``model`` (same architecture, compiled); returns ``(step, history)``, ``(0, {})`` when
    there is none. A damaged save (truncated or unreadable file) is reported through
    ``on_progress`` and the older one is used; ``ValueError`` (one line) when every save is
    damaged."""
    problems = []
    for candidate in checkpoint_folders(folder):
        try:
            return _load_one(model, candidate)
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
            first = " ".join((str(exc).strip() or type(exc).__name__).split())[:200]
            problems.append(f"{candidate.name}: {first}")
            if on_progress is not None:
                on_progress(f"checkpoint {candidate} is damaged or unreadable ({first}); "
                            "trying an older one")
    if problems:
        raise ValueError(f"no intact checkpoint in {folder} ({'; '.join(problems)}); delete "
                         "that folder to start the run over")
    return 0, {}


def train_in_segments(model, folder, total_steps: int, every: int,
                      run_segment: Callable[[int, int], tuple[dict, int]],
                      describe: Callable[[dict], str],
                      on_progress: Callable[[str], None] = print) -> tuple[int, dict]:
    """Train ``model`` to ``total_steps``, continuing from the checkpoint in ``folder`` if there
    is one, and checkpointing after every segment of (at most) ``every`` steps.

    Args:
        run_segment: ``(done, steps) -> (losses, trained)``: train about ``steps`` steps from
            step ``done`` (seed the data with ``done`` so that a resumed run sees new batches)
            and return the loss history of the segment (lists; a ``"step"`` list counts from
            the segment's start) and the number of steps actually trained.
        describe: ``losses -> str``: the segment's last losses, for the progress line.

    Returns:
        ``(done, history)``: the step reached and the whole run's history (``"step"`` counted
        from the start of the run, ``"wall_s"``: seconds spent training, over all segments).
    """
    folder = Path(folder)
    done, history = load_checkpoint(model, folder, on_progress)
    if done:
        on_progress(f"resuming from step {done} ({folder})")
    history.setdefault("wall_s", 0.0)
    while done < total_steps:
        t0 = time.perf_counter()
        losses, trained = run_segment(done, min(every, total_steps - done))
        history["wall_s"] += time.perf_counter() - t0
        for key, values in losses.items():
            history.setdefault(key, []).extend(
                [s + done for s in values] if key == "step" else values)
        done += trained
        fault_point("resumable.segment")
        save_checkpoint(model, folder, done, history)
        on_progress(f"step {done}/{total_steps}: {describe(losses)}; "
                    f"{history['wall_s']:.0f} s so far")
    return done, history
