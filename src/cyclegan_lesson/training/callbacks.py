"""Callbacks for :class:`cyclegan_lesson.models.cyclegan.CycleGAN` training: sample grids,
checkpoints.

* :class:`SampleMonitor` writes, after every epoch, one PNG grid of fixed test images: each row
  shows ``a | G_AB(a) | G_BA(G_AB(a))`` and ``b | G_BA(b) | G_AB(G_BA(b))`` (input, translation,
  reconstruction, both directions), so the progress of both translations and both cycles can be
  followed epoch by epoch.
* :class:`TrainingCheckpoint` saves everything training needs to continue -- the four networks,
  both optimizers (their moments and update counters, hence the learning-rate schedule's
  position), both image pools (buffer, fill count, random-draw counter) and the epoch counter --
  every N steps and at every epoch end, and restores the latest save.
* :class:`NonFiniteGuard` stops training at the first step whose loss is not finite
  (:class:`NonFiniteError`, one line naming the step and the term); :class:`TrainingCheckpoint`
  and :func:`~cyclegan_lesson.models.cyclegan.save_generators` refuse to write non-finite weights,
  so the
  newest checkpoint on disk is always the last good one and a resume starts from it.
* :func:`history_logger` is ``keras.callbacks.CSVLogger`` appending to ``history.csv``.

Why ``tf.train.Checkpoint`` (TensorFlow backend) rather than ``.keras`` files plus JSON: one
object graph holds the model, the pools' variables, both optimizers and the counters, and is
saved and restored in one call, with :class:`tf.train.CheckpointManager` keeping the last few
saves and naming the latest; optimizer slots and pool buffers need no hand-written serialization;
saving from a ``MirroredStrategy`` writes mirrored variables once and restores them onto every
replica. A ``.keras`` file stores a model (and its compiled optimizer), not a GAN's two optimizers
and pools. The exported generators (:func:`cyclegan_lesson.models.cyclegan.save_generators`) are
``.keras`` files: that format is for using a model, the checkpoint for resuming its training.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import keras
import numpy as np

from ..files import atomic
from ..book import plotting
from ..nn.numerics import NonFiniteError, first_non_finite_weight

__all__ = ["SampleMonitor", "LumaMonitor", "TrainingCheckpoint", "NonFiniteGuard", "NonFiniteError",
           "first_non_finite_weight", "history_logger", "latest_checkpoint"]

CHECKPOINT_SUBDIR = "checkpoints"
#: Beside each checkpoint ``ckpt-N``: the running epoch's loss sums (``ckpt-N.trackers.json``).
TRACKERS_SUFFIX = ".trackers.json"
STATE_FILE = "train_state.json"


class SampleMonitor(keras.callbacks.Callback):
    """Write ``<directory>/epoch_NNN.png`` after each epoch (and ``epoch_000.png`` before
    training when ``at_start``).

    Args:
        images_a, images_b: fixed test images of the two domains, NHWC float32 in [-1, 1]
            (``n`` of each; the grid has ``n`` rows if both have ``n``).
        directory: output folder (created).
        every: write every ``every`` epochs (the last epoch of a ``fit`` is always written).
        at_start: also write the grid of the untrained (or just restored) model.

    ``paths`` lists the files written. Grayscale images are drawn as gray RGB.
    """

    def __init__(self, images_a, images_b, directory, *, every: int = 1, at_start: bool = False):
        super().__init__()
        self.images_a = np.asarray(images_a, dtype=np.float32)
        self.images_b = np.asarray(images_b, dtype=np.float32)
        for name, images in (("images_a", self.images_a), ("images_b", self.images_b)):
            if images.ndim != 4 or len(images) == 0:
                raise ValueError(f"SampleMonitor: {name} must be a non-empty NHWC batch, got "
                                 f"shape {images.shape}.")
        self.directory = Path(directory)
        self.every = max(1, int(every))
        self.at_start = at_start
        self.paths: list[str] = []

    def rows(self, model=None) -> list[list[np.ndarray]]:
        """The grid's rows: ``[a, G_AB(a), G_BA(G_AB(a)), b, G_BA(b), G_AB(G_BA(b))]``."""
        model = model or self.model
        a, b = self.images_a, self.images_b
        fake_b = np.asarray(model.G_AB(a, training=False))
        rec_a = np.asarray(model.G_BA(fake_b, training=False))
        fake_a = np.asarray(model.G_BA(b, training=False))
        rec_b = np.asarray(model.G_AB(fake_a, training=False))
        rows = []
        for i in range(max(len(a), len(b))):
            row = []
            if i < len(a):
                row += [a[i], fake_b[i], rec_a[i]]
            if i < len(b):
                row += [b[i], fake_a[i], rec_b[i]]
            rows.append(row)
        return rows

    def write(self, epoch: int) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"epoch_{epoch:03d}.png"
        rows = self.rows()
        labels = ["x", "G_XY(x)", "x''", "y", "G_YX(y)", "y''"]
        with atomic.replacing(path) as tmp:  # complete or absent, never a cut-off PNG
            plotting.save_image_grid(rows, tmp, col_labels=labels[:max(len(r) for r in rows)])
        self.paths.append(str(path))
        return str(path)

    def on_train_begin(self, logs=None):
        if self.at_start:
            self.write(self._epochs_done())

    def _epochs_done(self) -> int:
        return int(self.params.get("initial_epoch", 0)) if self.params else 0

    def on_epoch_end(self, epoch, logs=None):
        last = self.params and epoch + 1 == self.params.get("epochs")
        if (epoch + 1) % self.every == 0 or last:
            self.write(epoch + 1)


class LumaMonitor(keras.callbacks.Callback):
    """Every ``every`` training steps, colourize fixed gray test images with ``G_AB`` and append
    the luma correlation (:func:`cyclegan_lesson.evaluation.colour_metrics.luma_correlation`: mean,
    median
    and the share of images below 0) and the mean colourfulness to ``<directory>/<filename>``
    (CSV: ``step, luma_corr_mean, luma_corr_median, inverted_share, colourfulness``). It shows
    when, during training, a gray -> colour generator starts to keep or to invert the brightness.

    Args:
        gray: ``(N, H, W, 1)`` gray images in [-1, 1] (e.g. 256 test images).
        directory: output folder (created). every: steps between measurements (also at step 0
            of a fresh run). filename: the CSV file's name.
    """

    COLUMNS = ("step", "luma_corr_mean", "luma_corr_median", "inverted_share", "colourfulness")

    def __init__(self, gray, directory, *, every: int = 100, filename: str = "luma.csv"):
        super().__init__()
        self.gray = np.asarray(gray, dtype=np.float32)
        if self.gray.ndim != 4 or self.gray.shape[-1] != 1 or len(self.gray) == 0:
            raise ValueError(f"LumaMonitor: gray must be a non-empty (N, H, W, 1) batch, got "
                             f"shape {self.gray.shape}.")
        if int(every) < 1:
            raise ValueError(f"LumaMonitor: every must be >= 1, got {every}.")
        self.every = int(every)
        self.path = Path(directory) / filename
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def measure(self, step: int) -> dict:
        from ..evaluation.colour_metrics import colourfulness, luma_correlation

        out = np.asarray(self.model.G_AB(self.gray, training=False), np.float32)
        r = luma_correlation(self.gray, out)
        row = {"step": int(step), "luma_corr_mean": float(r.mean()),
               "luma_corr_median": float(np.median(r)), "inverted_share": float(np.mean(r < 0)),
               "colourfulness": float(colourfulness(out).mean())}
        new = not self.path.is_file()
        with open(self.path, "a") as f:
            if new:
                f.write(",".join(self.COLUMNS) + "\n")
            f.write(",".join(f"{row[c]:.6g}" if c != "step" else str(row[c])
                             for c in self.COLUMNS) + "\n")
        return row

    def on_train_begin(self, logs=None):
        if self.model.step == 0 and not self.path.is_file():
            self.measure(0)

    def on_train_batch_end(self, batch, logs=None):
        step = self.model.step
        if step % self.every == 0:
            self.measure(step)


class NonFiniteGuard(keras.callbacks.Callback):
    """Stop training at the first step whose reported loss terms are not all finite.

    After every training step the logs (each loss term's running mean over the epoch, so one
    bad step makes it non-finite at once) are checked and :class:`NonFiniteError` is raised,
    e.g. ``step 37: loss term cycle_aba is nan; training stopped, ...``. Raising (rather than
    ``stop_training``) ends ``fit`` before any later callback of this step or the epoch end
    runs, so put the guard *first* in the callback list: the checkpoint callback then never
    sees the poisoned state (it also refuses non-finite weights itself).
    """

    def __init__(self, directory=None):
        super().__init__()
        self.directory = None if directory is None else Path(directory)

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            value = np.asarray(value)
            if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
                raise NonFiniteError(
                    f"step {self.model.step}: loss term {name} is {float(np.ravel(value)[0])}; "
                    f"training stopped, {_last_good(self.directory)}")


def _last_good(directory) -> str:
    found = latest_checkpoint(directory) if directory is not None else None
    if found:
        return (f"the newest checkpoint ({os.path.basename(found)}) is the last good one; "
                "run the same command again to resume from it")
    return "no checkpoint written"


def latest_checkpoint(directory) -> str | None:
    """Path prefix of the newest checkpoint under ``directory`` (the training output folder or
    its ``checkpoints/`` subfolder), or ``None``."""
    import tensorflow as tf

    directory = Path(directory)
    for candidate in (directory / CHECKPOINT_SUBDIR, directory):
        if candidate.is_dir():
            found = tf.train.latest_checkpoint(str(candidate))
            if found:
                return found
    return None


class TrainingCheckpoint(keras.callbacks.Callback):
    """Save and restore the complete training state of a compiled ``CycleGAN``.

    Args:
        model: the compiled :class:`~cyclegan_lesson.models.cyclegan.CycleGAN` (its optimizers must
            exist, so call it after ``compile``).
        directory: the training output folder; checkpoints go to ``<directory>/checkpoints``
            and a human-readable ``<directory>/train_state.json`` is rewritten at each save.
        every_n_steps: also save every this many training steps (0: only at epoch ends).
        max_to_keep: how many checkpoints to keep.
        state: extra JSON-serializable facts written into ``train_state.json`` (for example the
            training options, checked by :func:`cyclegan_lesson.training.trainer.train` on resume).

    Saves happen at steps that are multiples of ``every_n_steps`` and at every epoch end (never
    twice for one step). :meth:`restore` loads the newest checkpoint and returns the step it was
    taken at. Saved: ``model`` (the four networks, both image pools, the loss trackers),
    ``g_optimizer`` and ``d_optimizer`` (iterations, Adam moments), ``epoch`` (epochs completed).
    """

    def __init__(self, model, directory, *, every_n_steps: int = 0, max_to_keep: int = 2,
                 state: dict | None = None):
        super().__init__()
        import tensorflow as tf

        if getattr(model, "g_optimizer", None) is None:
            raise ValueError("TrainingCheckpoint: compile the model first (it saves optimizers).")
        self.cyclegan = model
        self.directory = Path(directory)
        self.every_n_steps = max(0, int(every_n_steps))
        self.state = dict(state or {})
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epochs_done")
        self.checkpoint = tf.train.Checkpoint(
            model=model, g_optimizer=model.g_optimizer, d_optimizer=model.d_optimizer,
            epoch=self.epoch,
        )
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, str(self.directory / CHECKPOINT_SUBDIR), max_to_keep=max_to_keep,
            checkpoint_name="ckpt",
        )
        self.saved_steps: list[int] = []
        self._last_saved_step = -1
        self._epoch_trackers: list | None = None

    # -- saving --------------------------------------------------------------------------------
    @property
    def step(self) -> int:
        return self.cyclegan.step

    @property
    def epochs_done(self) -> int:
        return int(self.epoch.numpy())

    def save(self) -> str:
        """Save now; returns the checkpoint path (``.../checkpoints/ckpt-<step>``).
        :class:`NonFiniteError` (nothing written) when a weight is NaN or infinite."""
        step = self.step
        bad = first_non_finite_weight(self.cyclegan)
        if bad is not None:
            raise NonFiniteError(f"step {step}: weight {bad} is not finite; checkpoint not "
                                 f"written, {_last_good(self.directory)}")
        atomic.fault_point("checkpoint.before_save")
        self._write_trackers(step)
        path = self._write(step)
        atomic.fault_point("checkpoint.saved")
        self._drop_stale_trackers()
        self._last_saved_step = step
        self.saved_steps.append(step)
        info = {
            **self.state,
            "step": step,
            "epochs_done": self.epochs_done,
            "checkpoint": os.path.relpath(path, self.directory),
            "saved": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        atomic.write_text(self.directory / STATE_FILE,
                          json.dumps(info, indent=2, default=str) + "\n")
        return path

    def _trackers_file(self, checkpoint: str) -> Path:
        return Path(f"{checkpoint}{TRACKERS_SUFFIX}")

    def _write_trackers(self, step: int) -> None:
        """The loss trackers' sums of the running epoch (not part of the model's checkpoint),
        beside the checkpoint of ``step``, written before it."""
        folder = self.directory / CHECKPOINT_SUBDIR
        folder.mkdir(parents=True, exist_ok=True)
        sums = {m.name: [float(np.asarray(v)) for v in m.variables]
                for m in self.cyclegan.metrics}
        atomic.write_text(self._trackers_file(str(folder / f"ckpt-{step}")), json.dumps(sums))

    def _drop_stale_trackers(self) -> None:
        kept = {str(self._trackers_file(c)) for c in self.manager.checkpoints}
        for file in (self.directory / CHECKPOINT_SUBDIR).glob(f"ckpt-*{TRACKERS_SUFFIX}"):
            if str(file) not in kept:
                file.unlink(missing_ok=True)

    def _write(self, step: int) -> str:
        import tensorflow as tf

        try:
            return self.manager.save(checkpoint_number=step)
        except (OSError, tf.errors.OpError) as exc:
            text = " ".join((getattr(exc, "message", None) or str(exc)).split())[:200]
            kind = (PermissionError if isinstance(exc, (PermissionError,
                                                        tf.errors.PermissionDeniedError))
                    else OSError)
            raise kind(f"step {step}: cannot write a checkpoint to "
                       f"{self.directory / CHECKPOINT_SUBDIR} ({text}); "
                       f"{_last_good(self.directory)}") from None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch.assign(epoch)
        if self._epoch_trackers:  # resumed mid-epoch: the epoch's means continue, not restart
            for variable, value in self._epoch_trackers:
                variable.assign(value)
        self._epoch_trackers = None

    def on_train_batch_end(self, batch, logs=None):
        if not self.every_n_steps:
            return
        steps = self.params.get("steps") if self.params else None
        if steps is not None and batch + 1 >= steps:
            return  # the epoch ends here: on_epoch_end saves
        step = self.step
        if step % self.every_n_steps == 0 and step != self._last_saved_step:
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.assign(epoch + 1)
        self.save()

    # -- restoring -----------------------------------------------------------------------------
    def restore(self, path: str | None = None) -> int | None:
        """Restore ``path`` (default: the newest intact checkpoint); return its step, or
        ``None`` when there is nothing to restore. ``ValueError`` when the checkpoint does not
        fit the model (e.g. it was written by a different architecture).

        A damaged checkpoint (a truncated or unreadable file) is named on stderr and the next
        older one kept by the manager is restored instead; ``ValueError`` (one line) when every
        kept checkpoint is damaged."""
        if path:
            return self._restore(path)
        problems = []
        for candidate in reversed(self.manager.checkpoints):  # newest first
            try:
                return self._restore(candidate)
            except _DamagedCheckpoint as exc:
                problems.append(f"{os.path.basename(candidate)}: {exc}")
                print(f"checkpoint {candidate} is damaged or unreadable ({exc}); trying an "
                      "older one", file=sys.stderr)
        if problems:
            raise ValueError(
                f"no intact checkpoint in {self.directory / CHECKPOINT_SUBDIR} "
                f"({'; '.join(problems)}); delete that folder (or use another --out) to start "
                "the run over")
        self._refuse_a_lost_run()
        return None

    def _refuse_a_lost_run(self) -> None:
        """``ValueError`` when ``train_state.json`` says the run got past step 0 but no
        checkpoint is listed: starting over would overwrite its history and samples."""
        try:
            step = int(json.loads((self.directory / STATE_FILE).read_text()).get("step") or 0)
        except (OSError, ValueError, TypeError, AttributeError):
            return
        if step > 0:
            raise ValueError(
                f"{self.directory / STATE_FILE} says this run reached step {step}, but "
                f"{self.directory / CHECKPOINT_SUBDIR} lists no checkpoint (its 'checkpoint' "
                "index file is missing or names none); put the checkpoints back, or use another "
                "--out to start a new run")

    def _restore(self, path: str) -> int:
        import tensorflow as tf

        try:
            status = self.checkpoint.restore(path)
            status.expect_partial()  # no deletion-time warnings; the assertion below checks
            status.assert_existing_objects_matched()
        except (AssertionError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValueError(
                f"the checkpoint {path} does not match this model (was it written with other "
                f"options, e.g. a different --ngf or --generator?): {first}"
            ) from exc
        except (OSError, EOFError, IndexError, KeyError, tf.errors.OpError) as exc:
            text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            raise _DamagedCheckpoint(" ".join(text.split())[:200]) from exc
        self._last_saved_step = self.step
        steps_per_epoch = (self.state.get("options") or {}).get("steps_per_epoch")
        self._epoch_trackers = None
        sums_file = self._trackers_file(path)
        if steps_per_epoch and self.step % int(steps_per_epoch) and sums_file.is_file():
            # Keras resets the loss trackers when the resumed epoch begins; their sums at the
            # save (the epoch's steps before it) are put back then (on_epoch_begin), so the
            # epoch's history row is the mean over all its steps.
            try:
                sums = json.loads(sums_file.read_text())
            except ValueError:
                sums = {}
            self._epoch_trackers = [
                (v, value) for m in self.cyclegan.metrics if len(sums.get(m.name, ())) ==
                len(m.variables) for v, value in zip(m.variables, sums[m.name], strict=True)]
        trim_logs(self.directory, self.epochs_done, self.step)
        return self.step


def trim_logs(directory, epochs_done: int, step: int) -> None:
    """Drop the rows a resumed run will write again: ``history.csv`` rows of epochs from
    ``epochs_done`` on and ``luma.csv`` rows after ``step`` (written after the checkpoint that
    is resumed, before the process was killed), and any cut-off row. So each epoch and each
    measured step has exactly one row after any number of interruptions."""
    for name, column, keep in (("history.csv", "epoch", lambda v: v < epochs_done),
                               ("luma.csv", "step", lambda v: v <= step)):
        path = Path(directory) / name
        if not path.is_file():
            continue
        lines = path.read_text().splitlines()
        if not lines:
            continue
        header = lines[0].split(",")
        if column not in header:
            continue
        at, kept = header.index(column), [lines[0]]
        for line in lines[1:]:
            fields = line.split(",")
            try:
                if len(fields) == len(header) and keep(int(float(fields[at]))):
                    kept.append(line)
            except ValueError:
                pass  # a cut-off row
        if kept != lines:
            atomic.write_text(path, "\n".join(kept) + "\n")


class _DamagedCheckpoint(Exception):
    """A checkpoint's files cannot be read (truncated, overwritten); an older one may be."""


def history_logger(directory, filename: str = "history.csv") -> keras.callbacks.CSVLogger:
    """``CSVLogger`` appending one row per epoch to ``<directory>/history.csv`` (a resumed run
    adds its rows below the earlier ones)."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    return keras.callbacks.CSVLogger(str(Path(directory) / filename), append=True)
