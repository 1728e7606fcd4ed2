"""Resumable training in segments for the course's two-player GANs trained by a command
(chapters 8-10: :mod:`conditional_gan`, :mod:`pix2pix`, :mod:`stargan`).

A run of ``total_steps`` is cut into segments of ``every`` steps; after each one the weights of
both networks, the state of both optimizers, the step reached and the loss history so far are
written to one folder, so that running the same command again continues from the last segment
instead of starting over (a Colab disconnect costs at most one segment). CycleGAN's engine has
its own, richer checkpoint (image pools, data position; :mod:`cyclegan_lesson.training.callbacks`).

* :func:`save_checkpoint` / :func:`load_checkpoint`: any model with ``generator``,
  ``discriminator``, ``g_optimizer`` and ``d_optimizer`` attributes (the folder holds
  ``generator.weights.h5``, ``discriminator.weights.h5``, ``optimizers.npz``, ``state.json``);
* :func:`train_in_segments`: the loop (resume, train a segment, record its wall time and
  losses, save, report).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["save_checkpoint", "load_checkpoint", "train_in_segments"]


def save_checkpoint(model, folder, step: int, history: dict) -> None:
    """Write both networks' weights, both optimizers' variables, ``step`` and ``history``
    (a JSON-serialisable dict of lists) to ``folder`` (created)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.generator.save_weights(folder / "generator.weights.h5")
    model.discriminator.save_weights(folder / "discriminator.weights.h5")
    opt = {}
    for name, o in (("g", model.g_optimizer), ("d", model.d_optimizer)):
        for i, v in enumerate(o.variables):
            opt[f"{name}_{i}"] = np.asarray(v)
    np.savez(folder / "optimizers.npz", **opt)
    (folder / "state.json").write_text(json.dumps({"step": step, "history": history}))


def load_checkpoint(model, folder) -> tuple[int, dict]:
    """Restore what :func:`save_checkpoint` wrote into ``model`` (same architecture, compiled);
    returns ``(step, history)``."""
    folder = Path(folder)
    model.generator.load_weights(folder / "generator.weights.h5")
    model.discriminator.load_weights(folder / "discriminator.weights.h5")
    saved = np.load(folder / "optimizers.npz")
    for name, o, net in (("g", model.g_optimizer, model.generator),
                         ("d", model.d_optimizer, model.discriminator)):
        o.build(net.trainable_variables)
        for i, v in enumerate(o.variables):
            v.assign(saved[f"{name}_{i}"])
    state = json.loads((folder / "state.json").read_text())
    return int(state["step"]), state["history"]


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
    done, history = 0, {}
    if (folder / "state.json").exists():
        done, history = load_checkpoint(model, folder)
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
        save_checkpoint(model, folder, done, history)
        on_progress(f"step {done}/{total_steps}: {describe(losses)}; "
                    f"{history['wall_s']:.0f} s so far")
    return done, history
