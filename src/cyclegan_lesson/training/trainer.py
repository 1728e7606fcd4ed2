"""One function to train CycleGAN on a task: :func:`train` of a :class:`TrainConfig` (used by the
CLI and the notebooks), and :func:`benchmark` (timed training steps on random data, for
``python -m cyclegan_lesson bench``).

A training run writes into one output folder::

    out_dir/
        checkpoints/ckpt-<step>.*   full training state (callbacks.TrainingCheckpoint)
        train_state.json            step, epochs done, options of the run
        history.csv                 one row of mean losses per epoch (appended on resume)
        samples/epoch_NNN.png       a | G_AB(a) | G_BA(G_AB(a)) | b | G_BA(b) | G_AB(G_BA(b))
        G_AB.keras, G_BA.keras      the exported generators (+ generators.json)

Running :func:`train` again with the same ``out_dir`` and options continues from the newest
checkpoint: weights, optimizer moments, image pools, the step and epoch counters and the
learning-rate schedule's position are restored, and the data stream is advanced to the same
batch (the stream is deterministic given ``seed``), so an interrupted run followed by a resumed
one computes what one uninterrupted run computes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

__all__ = ["TASK_DEFAULTS", "TrainConfig", "TrainingRun", "train", "train_paired",
           "benchmark", "check_output_dir", "check_resume_options", "read_train_state"]

#: Per-task defaults (the paper's choices where it has one): image size, residual blocks,
#: identity weight (the paper uses identity 0.5 for painting <-> photo; it is impossible when
#: the two domains differ in channels) and whether the paper's jitter (resize 286, random crop
#: 256, flip) is applied.
TASK_DEFAULTS: dict[str, dict] = {
    "gray2color": {"image_size": 32, "n_blocks": 6, "lambda_identity": 0.0, "jitter": False},
    "mnist2svhn": {"image_size": 32, "n_blocks": 6, "lambda_identity": 0.0, "jitter": False},
    "monet2photo": {"image_size": 256, "n_blocks": 9, "lambda_identity": 0.5, "jitter": True},
}

#: Options that fix the networks' and the pools' shapes (and the optimizers' state, which
#: loss scaling under ``mixed_float16`` extends): a checkpoint only resumes a run with the same
#: values.
ARCHITECTURE_KEYS = ("task", "image_size", "generator", "n_blocks", "ngf", "ndf", "n_layers",
                     "upsample", "pool_size", "precision", "keep_luma", "norm", "luma_g_ba",
                     "g_ba", "n_downsampling")

#: Largest ``sample_images``: the per-epoch grid has one row of 6 images per test image.
MAX_SAMPLE_IMAGES = 64

#: Options that fix the data position (the stream is skipped by ``step`` batches of
#: ``batch_size``; epochs of ``steps_per_epoch``) or the objective: a resume with other values
#: would silently mix two recipes, so it is refused unless ``allow_changed_options``
#: (:func:`check_resume_options`). ``epochs`` and ``n_epochs_decay`` may change: they extend
#: the schedule (a second cycle of the linear decay).
RESUME_KEYS = ("batch_size", "steps_per_epoch", "seed", "jitter", "augment_b", "lr",
               "lambda_cycle", "lambda_cycle_b", "lambda_identity", "adversarial", "lambda_adv",
               "lambda_luma", "lambda_semantic", "lambda_identity_x", "semantic_labels",
               "identity_x_sides")


@dataclasses.dataclass
class TrainingRun:
    """What :func:`train` returns.

    Attributes:
        model: the trained :class:`~cyclegan_lesson.models.cyclegan.CycleGAN`.
        history: per-epoch mean losses of *this call* (name -> list; see ``history.csv`` for
            all epochs of a resumed run).
        out_dir: the output folder.
        options: every option of the run (what ``train_state.json`` records).
        resumed_from: the step restored from a checkpoint, or ``None`` for a fresh start.
        steps: training steps done in total (including earlier runs).
        samples: the sample-grid PNG files written by this call.
        generators: paths of the exported ``G_AB.keras`` and ``G_BA.keras``.
        wall_s: wall time of this call in seconds.
    """

    model: object
    history: dict
    out_dir: str
    options: dict
    resumed_from: int | None
    steps: int
    samples: list
    generators: list
    wall_s: float


def check_output_dir(path) -> Path:
    """Create ``path`` if needed and check that files can be written there; ``PermissionError``
    / ``NotADirectoryError`` / ``FileExistsError`` with a clear message otherwise."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"output folder {path} exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write_test_{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise PermissionError(f"cannot write to output folder {path}: "
                              f"{exc.strerror or exc}") from exc
    return path


def _seeds(seed: int, n: int) -> list[int]:
    return [int(s) for s in np.random.SeedSequence(int(seed)).generate_state(n) % (2**31 - 1)]


def _resolve(task: str, **given) -> dict:
    from .. import data

    data.get_task(task)  # ValueError listing the valid tasks
    opts = dict(TASK_DEFAULTS[task])
    opts.update({k: v for k, v in given.items() if v is not None})
    return opts


def _checked_n_downsampling(n_downsampling, generator: str) -> int:
    """``n_downsampling`` checked: an integer >= 0, other than 2 only for the ResNet generator."""
    _positive("n_downsampling", n_downsampling, allow_zero=True)
    if n_downsampling != 2 and generator != "resnet":
        raise ValueError(f"n_downsampling is an option of the resnet generator; use "
                         f"generator='resnet' or n_downsampling=2 (got {generator!r})")
    return int(n_downsampling)


def _positive(name: str, value, allow_zero: bool = False):
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < (
        0 if allow_zero else 1
    ):
        raise ValueError(f"{name} must be an integer {'>= 0' if allow_zero else '>= 1'}, "
                         f"got {value!r}")


@dataclasses.dataclass
class TrainConfig:
    """Every option of a CycleGAN training run of :func:`train`: the command line's ``train``
    builds one from its options, a notebook passes one (or the same names as keywords).

    Attributes:
        task: ``"gray2color"`` (cifar10_gray <-> cifar10_color, 32x32, 1 <-> 3 channels),
            ``"mnist2svhn"`` (MNIST padded to 32x32, 1 <-> 3 channels) or ``"monet2photo"``
            (256x256 RGB with the paper's jitter).
        out_dir: the output folder (see the module docstring for its contents).
        data_dir: the offline data folder (``../shared/data``); ``None`` uses tfds downloads.
        epochs: total epochs (the paper: 200 = 100 constant + 100 decaying).
        steps_per_epoch: default: the larger domain's training images / ``batch_size`` (the
            official code's epoch).
        batch_size: global batch per domain (paper: 1).
        image_size: default per task (32, 32, 256); for monet2photo a smaller size (e.g. 128)
            resizes and crops accordingly.
        generator, n_blocks, ngf, ndf, n_layers, upsample: the networks (see
            :func:`cyclegan_lesson.models.cyclegan.build_cyclegan`); ``n_blocks`` default 6 at
            32 and 9 at 256. ``n_downsampling``: stride-2 layers of the ResNet generator (paper
            2; 0 = a generator that works at full resolution and can only change images
            locally).
        lambda_cycle, lambda_cycle_b, lambda_identity, adversarial: the loss weights and the
            adversarial loss (:class:`cyclegan_lesson.nn.losses.CycleGANLossWeights`):
            ``lambda_cycle_b`` weighs the B -> A -> B cycle (``None``: same as ``lambda_cycle``);
            identity default per task.
        pool_size: image pool size (paper 50).
        seed: seeds the weights, the data stream and the pools.
        lr: initial learning rate of :class:`~cyclegan_lesson.models.cyclegan.LinearDecay`.
        n_epochs_decay: epochs of linear decay at the end (default ``epochs // 2``).
        jitter: the paper's resize-and-random-crop + flip (default per task).
        augment_b: augment domain B's training batches with the digit classifiers' SVHN
            augmentation (:func:`cyclegan_lesson.evaluation.classifiers.augment_batch`: shifts,
            small rotations and zooms, contrast, channel permutation, grayscale, polarity; no
            flip); ``mnist2svhn`` only, where B is the small SVHN set (8,003 crops).
        jit: compile the training step with XLA.
        checkpoint_every: save a checkpoint every this many steps (0: only at epoch ends).
        sample_images: fixed test images per domain in the sample grids (0: no grids).
        val_steps: validation batches from the test splits after each epoch (0: none).
        strategy: a ``tf.distribute`` strategy (e.g. ``MirroredStrategy()``); default none.
        callbacks: more Keras callbacks.
        verbose: ``model.fit`` verbosity (1: progress bar, 2: one line per epoch).
        export: write ``G_AB.keras`` / ``G_BA.keras`` at the end.
        lambda_semantic: weight of the CyCADA semantic-consistency loss (0: plain CycleGAN;
            digit tasks only, see :mod:`cyclegan_lesson.models.semantic`).
        lambda_identity_x: identity weight (relative to lambda_cycle) across channel counts,
            for domains whose channels differ
            (:class:`~cyclegan_lesson.models.semantic.SemanticCycleGAN`).
        identity_x_sides: which generators that term trains: ``"both"``, ``"ab"`` or ``"ba"``
            (gray2color: ``"ba"`` = the paper's identity where the shapes allow it, ``G_BA``
            fed gray images written as RGB).
        semantic_classifiers: ``(path_a, path_b)`` ``.keras`` classifiers of the semantic loss
            (default: the shipped ``models/classifiers/<domain>_semantic.keras``).
        semantic_labels: ``"both"`` (each domain's own classifier: uses labels of domain B
            too), ``"source"`` (CyCADA: domain A's classifier on both sides, labels of A only)
            or ``"source_b"`` (domain B's classifier on both sides, labels of B only);
            see :mod:`cyclegan_lesson.models.semantic`.
        precision: ``"float32"`` (default), ``"mixed_bfloat16"`` or ``"mixed_float16"``
            (:func:`cyclegan_lesson.nn.numerics.precision_scope`: bfloat16/float16 compute,
            float32 weights, normalization statistics, losses and outputs; float16 with loss
            scaling).
        lambda_adv: weight of the adversarial terms (1; 0 = "cycle alone", the ablation of
            Zhu et al. 2017, Table 4).
        lambda_luma: weight of the luma-consistency terms (gray2color only; 0 = off):
            ``|lum(G_AB(a)) - a|`` and ``|G_BA(b) - lum(b)|``
            (:func:`cyclegan_lesson.nn.losses.luma_consistency_loss`).
        luma_every: gray2color: every this many steps, write the luma correlation of 256
            colourized test images to ``luma.csv``
            (:class:`~cyclegan_lesson.training.callbacks.LumaMonitor`; 0: off).
        keep_luma: gray2color only: ``G_AB`` predicts only the chroma (Cb, Cr) and keeps its
            input as the luma of its output (:func:`cyclegan_lesson.nn.networks.keep_luma`); the
            luma-consistency term of ``G_AB`` is then zero by construction (up to clipping).
        norm: the U-Net generators' normalization, ``"instance"`` (default) or ``"batch"``.
        luma_g_ba: gray2color only: ``G_BA`` is the fixed ITU-R 601 luma
            (:func:`cyclegan_lesson.models.cyclegan.luma_generator`, nothing learnt), the exact
            colour -> gray map; the backward cycle then regresses colours on their own luma.
        g_ba: ``"same"`` (``G_BA`` has ``generator``'s architecture) or ``"pixel"`` (a learnt
            per-pixel network, :func:`cyclegan_lesson.nn.networks.pixel_generator`).
        allow_changed_options: resume even when an option of :data:`RESUME_KEYS` (batch size,
            steps per epoch, loss weights, ...) differs from the stored run, recording the
            change; by default such a resume is refused (:func:`check_resume_options`).
    """

    task: str
    out_dir: str | os.PathLike
    data_dir: str | os.PathLike | None = None
    epochs: int = 200
    steps_per_epoch: int | None = None
    batch_size: int = 1
    image_size: int | None = None
    generator: str = "resnet"
    n_blocks: int | None = None
    ngf: int = 64
    ndf: int = 64
    n_layers: int = 3
    upsample: str = "transpose"
    lambda_cycle: float = 10.0
    lambda_cycle_b: float | None = None
    lambda_identity: float | None = None
    adversarial: str = "lsgan"
    pool_size: int = 50
    seed: int = 0
    lr: float = 2e-4
    n_epochs_decay: int | None = None
    jitter: bool | None = None
    augment_b: bool = False
    jit: bool = False
    checkpoint_every: int = 500
    sample_images: int = 6
    val_steps: int = 0
    strategy: object = None
    callbacks: Sequence = ()
    verbose: int | str = "auto"
    export: bool = True
    lambda_semantic: float = 0.0
    lambda_identity_x: float = 0.0
    identity_x_sides: str = "both"
    semantic_classifiers: Sequence[str | None] | None = None
    semantic_labels: str = "both"
    precision: str = "float32"
    lambda_adv: float = 1.0
    lambda_luma: float = 0.0
    luma_every: int = 100
    keep_luma: bool = False
    norm: str = "instance"
    luma_g_ba: bool = False
    g_ba: str = "same"
    n_downsampling: int = 2
    allow_changed_options: bool = False


def train(config: TrainConfig | str | None = None, out_dir=None, data_dir=None,
          **options) -> TrainingRun:
    """Train CycleGAN as ``config`` says and write everything into its ``out_dir`` (resuming if
    it holds a checkpoint of the same configuration).

    ``train(TrainConfig(task="gray2color", out_dir="runs/g2c", epochs=3))``; the options may
    also be given as arguments, ``train("gray2color", "runs/g2c", data_dir, epochs=3)``, which
    builds ``TrainConfig("gray2color", "runs/g2c", data_dir, epochs=3)``.

    The steps: check the options (:func:`_resolve_options`) and the output folder
    (:func:`_check_resume`: a checkpoint of another configuration is refused before any
    expensive work), build the data stream (:func:`_build_data`), build the model and restore
    the newest checkpoint (:func:`_build_model`), fit the remaining epochs in segments
    (:func:`_fit_in_segments`) and export the generators.

    For tasks of :data:`cyclegan_lesson.data.TASK_HALVES` (gray2color) domain A reads the
    even-numbered and domain B the odd-numbered training images, so no image is in both.

    A step whose loss is NaN or infinite stops training with
    :class:`~cyclegan_lesson.nn.numerics.NonFiniteError` (the step and the term); no checkpoint
    or generator with non-finite weights is ever written, so running again resumes from the
    last good checkpoint.

    Returns:
        a :class:`TrainingRun`.

    Raises:
        ValueError: unknown task or bad option values, or a checkpoint in ``out_dir`` written
            with different architecture options.
        NonFiniteError: a loss or weight became NaN or infinite.
        FileNotFoundError: missing data files; PermissionError: ``out_dir`` not writable.
    """
    from ..models import cyclegan

    if config is None:  # train(task=..., out_dir=..., ...)
        config = TrainConfig(out_dir=out_dir, data_dir=data_dir, **options)
    elif not isinstance(config, TrainConfig):
        config = TrainConfig(config, out_dir, data_dir, **options)
    elif out_dir is not None or data_dir is not None or options:
        raise TypeError("train(config): give every option in the TrainConfig "
                        "(dataclasses.replace(config, ...) changes some)")
    started = time.perf_counter()
    opts, weights = _resolve_options(config)
    out = check_output_dir(config.out_dir)
    _check_resume(out, opts, config.allow_changed_options)
    feed = _build_data(config, opts)
    model, checkpoint, resumed_from = _build_model(config, opts, weights, feed, out)
    callbacks, monitor = _build_callbacks(config, feed, checkpoint, out)
    history = _fit_in_segments(config, opts, model, feed, callbacks, resumed_from, out)
    generators = []
    if config.export:
        cyclegan.save_generators(model, out, domain_a=feed.dom_a.name, domain_b=feed.dom_b.name,
                                 extra={k: v for k, v in opts.items() if k != "data_dir"})
        generators = [str(out / "G_AB.keras"), str(out / "G_BA.keras")]
    return TrainingRun(model=model, history=history, out_dir=str(out), options=opts,
                       resumed_from=resumed_from, steps=model.step,
                       samples=list(monitor.paths) if monitor else [], generators=generators,
                       wall_s=time.perf_counter() - started)


def _resolve_options(c: TrainConfig) -> tuple[dict, object]:
    """The run's options with the per-task defaults filled in and checked (``ValueError``
    naming the bad option): what ``train_state.json`` records; and the loss weights."""
    from ..models import cyclegan
    from ..nn import losses

    opts = _resolve(c.task, image_size=c.image_size, n_blocks=c.n_blocks,
                    lambda_identity=c.lambda_identity, jitter=c.jitter)
    opts.update(task=c.task, epochs=c.epochs, steps_per_epoch=c.steps_per_epoch,
                batch_size=c.batch_size, generator=c.generator, ngf=c.ngf, ndf=c.ndf,
                n_layers=c.n_layers, upsample=c.upsample, lambda_cycle=float(c.lambda_cycle),
                lambda_cycle_b=None if c.lambda_cycle_b is None else float(c.lambda_cycle_b),
                adversarial=c.adversarial, pool_size=c.pool_size,
                seed=c.seed, lr=float(c.lr), jit=bool(c.jit), checkpoint_every=c.checkpoint_every,
                augment_b=bool(c.augment_b),
                lambda_semantic=float(c.lambda_semantic),
                lambda_identity_x=float(c.lambda_identity_x),
                identity_x_sides=_identity_x_sides(c.identity_x_sides),
                precision=cyclegan.check_precision(c.precision),
                semantic_classifiers=None if c.semantic_classifiers is None
                else [None if p is None else str(p) for p in c.semantic_classifiers],
                semantic_labels=str(c.semantic_labels),
                lambda_adv=float(c.lambda_adv), lambda_luma=float(c.lambda_luma),
                keep_luma=bool(c.keep_luma), norm=str(c.norm), luma_g_ba=bool(c.luma_g_ba),
                g_ba=str(c.g_ba), data_dir=None if c.data_dir is None else str(c.data_dir))
    opts["n_downsampling"] = _checked_n_downsampling(c.n_downsampling, c.generator)
    for key in ("epochs", "steps_per_epoch", "batch_size", "ngf", "ndf", "n_layers",
                "image_size"):
        _positive(key, opts[key])
    for key, value in (("n_blocks", opts["n_blocks"]), ("pool_size", c.pool_size),
                       ("checkpoint_every", c.checkpoint_every),
                       ("sample_images", c.sample_images), ("val_steps", c.val_steps)):
        _positive(key, value, allow_zero=True)
    _check_combinations(c)
    n_epochs_decay = c.epochs // 2 if c.n_epochs_decay is None else c.n_epochs_decay
    _positive("n_epochs_decay", n_epochs_decay, allow_zero=True)
    if n_epochs_decay > c.epochs:
        raise ValueError(f"n_epochs_decay ({n_epochs_decay}) cannot exceed epochs ({c.epochs})")
    opts["n_epochs_decay"] = n_epochs_decay
    weights = losses.CycleGANLossWeights(lambda_cycle=float(c.lambda_cycle),
                                         lambda_cycle_b=opts["lambda_cycle_b"],
                                         lambda_identity=float(opts["lambda_identity"]),
                                         mode=c.adversarial, lambda_adv=float(c.lambda_adv),
                                         lambda_luma=float(c.lambda_luma))
    return opts, weights


def _check_combinations(c: TrainConfig) -> None:
    """Options that only make sense for one task or one generator."""
    if c.generator not in ("resnet", "unet"):
        raise ValueError(f"generator must be 'resnet' or 'unet', got {c.generator!r}")
    if c.sample_images > MAX_SAMPLE_IMAGES:  # the grid is one PNG: rows of 6 images each
        raise ValueError(f"sample_images must be at most {MAX_SAMPLE_IMAGES}, "
                         f"got {c.sample_images}")
    if c.augment_b and c.task != "mnist2svhn":
        raise ValueError("augment_b applies the SVHN digit augmentation; it is for the "
                         f"mnist2svhn task only, got {c.task!r}")
    if c.lambda_luma and c.task != "gray2color":
        raise ValueError("lambda_luma asks G_AB to keep the luma of its gray input; it is for "
                         f"the gray2color task only, got {c.task!r}")
    if c.keep_luma and c.task != "gray2color":
        raise ValueError("keep_luma makes G_AB a gray -> colour network that predicts only the "
                         f"chroma; it is for the gray2color task only, got {c.task!r}")
    if c.luma_g_ba and c.task != "gray2color":
        raise ValueError("luma_g_ba makes G_BA the fixed colour -> luma map; it is for the "
                         f"gray2color task only, got {c.task!r}")
    if c.norm not in ("instance", "batch"):
        raise ValueError(f"norm must be 'instance' or 'batch', got {c.norm!r}")
    if c.norm == "batch" and c.generator != "unet":
        raise ValueError("norm='batch' is an option of the U-Net generator; use "
                         f"generator='unet' (got {c.generator!r})")
    if c.lr <= 0:
        raise ValueError(f"lr must be > 0, got {c.lr}")


def _check_resume(out: Path, opts: dict, allow_changed: bool = False) -> None:
    """Refuse (``ValueError``) a checkpoint in ``out`` written with other architecture options,
    or with other data or loss options (:func:`check_resume_options`), before any expensive
    work."""
    from . import callbacks as cb

    state_path = out / cb.STATE_FILE
    if cb.latest_checkpoint(out) and state_path.is_file():
        previous = read_train_state(state_path)
        old = previous.get("options", {})
        diff = [f"{k} {old.get(k)!r} (checkpoint) vs {opts.get(k)!r} (now)"
                for k in ARCHITECTURE_KEYS if k in old and old.get(k) != opts.get(k)]
        if diff:
            raise ValueError(f"{out} holds a checkpoint of a different configuration: "
                             f"{'; '.join(diff)}. Use another output folder or the same options.")
        check_resume_options(previous, opts, allow_changed)


def read_train_state(path) -> dict:
    """``train_state.json`` of a run as a dict; ``ValueError`` naming the file when it is not
    valid JSON (e.g. cut short)."""
    path = Path(path)
    try:
        state = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is damaged ({exc}); delete it to resume from the checkpoint "
                         "alone (the architecture is still checked), or use another output "
                         "folder") from None
    if not isinstance(state, dict):
        raise ValueError(f"{path} is damaged (not a JSON object); delete it to resume from the "
                         "checkpoint alone, or use another output folder")
    return state


def check_resume_options(previous: dict | None, opts: dict, allow_changed: bool = False) -> None:
    """Compare the options of a resumed run (``opts``) with those stored in its
    ``train_state.json`` (``previous``; ``None``: a fresh run, nothing to check) for every
    :data:`RESUME_KEYS` option. A difference raises ``ValueError`` (one line naming the
    options), unless ``allow_changed``: then each change is appended to
    ``opts["changed_options"]`` (``{"step", "option", "from", "to"}``, with the earlier
    changes of the run), which the checkpoint and ``generators.json`` record.

    A current value of ``None`` (``steps_per_epoch`` left to its default, computed from the
    data) is not compared."""
    if not previous:
        return
    old = previous.get("options", {})
    changed = [k for k in RESUME_KEYS
               if k in old and opts.get(k) is not None and old[k] != opts.get(k)]
    history = list(old.get("changed_options", []))
    if changed and not allow_changed:
        diff = "; ".join(f"{k.replace('_', '-')} {old[k]!r} (run) vs {opts[k]!r} (now)"
                         for k in changed)
        raise ValueError(f"resuming with other options than the run in progress: {diff}. Use "
                         "the run's options, another output folder, or --allow-changed-options "
                         "to continue with the change (it is recorded)")
    history += [{"step": previous.get("step"), "option": k, "from": old[k], "to": opts[k]}
                for k in changed]
    if history:
        opts["changed_options"] = history


@dataclasses.dataclass
class _Feed:
    """What :func:`_build_data` prepares: the domains, the training stream (a function of the
    number of batches to skip), validation data and the fixed sample images."""

    dom_a: object
    dom_b: object
    size: int
    seed_model: int
    stream: Callable
    val_ds: object
    samples: tuple | None


def _build_data(c: TrainConfig, opts: dict) -> _Feed:
    """The domains' data; fills in ``opts["steps_per_epoch"]`` when it is ``None``."""
    from .. import data

    dom_a, dom_b = data.get_task(c.task)
    size = int(opts["image_size"])
    seed_a, seed_b, seed_stream, seed_model = _seeds(c.seed, 4)
    load_size = None if opts["jitter"] else size  # jitter: load native, resize+crop in jitter
    half_a, half_b = data.TASK_HALVES.get(c.task, (None, None))

    def sources():
        # Shuffled file names / indices (cheap, the whole split) -> decoded images. Domains of
        # one source (gray2color) read disjoint halves of it: no image is in both.
        return (data.load_domain(dom_a.name, "train", c.data_dir, image_size=load_size,
                                 shuffle=True, seed=seed_a, half=half_a),
                data.load_domain(dom_b.name, "train", c.data_dir, image_size=load_size,
                                 shuffle=True, seed=seed_b, half=half_b))

    if c.steps_per_epoch is None:
        n_max = max(int(ds.cardinality()) for ds in sources())
        opts["steps_per_epoch"] = max(1, n_max // c.batch_size)

    augment = None
    if opts["augment_b"]:
        from ..evaluation.classifiers import augment_batch

        def augment(batch, batch_seed):
            return augment_batch(batch, strength="svhn", seed=batch_seed)

    def stream(skip: int):
        # Built afresh for every fit: a seeded shuffle with reshuffle_each_iteration gives a
        # new order to each further iterator of the *same* dataset object, but the same order
        # to a new object. So the stream is a function of the seed alone, and skipping the
        # batches already trained on reproduces exactly where an interrupted run stopped.
        train_a, train_b = sources()
        ds = data.unpaired(train_a, train_b, c.batch_size, jitter=bool(opts["jitter"]),
                           crop_size=size if opts["jitter"] else None, seed=seed_stream,
                           shuffle_buffer=0, augment_b=augment)
        return ds.skip(skip) if skip else ds

    val_ds = None
    if c.val_steps:
        val_ds = data.unpaired(data.load_domain(dom_a.name, "test", c.data_dir, image_size=size),
                               data.load_domain(dom_b.name, "test", c.data_dir, image_size=size),
                               c.batch_size, seed=c.seed, shuffle_buffer=0)
    samples = None
    if c.sample_images:
        samples = (data.load_arrays(dom_a.name, "test", c.data_dir, limit=c.sample_images,
                                    image_size=size)[0],
                   data.load_arrays(dom_b.name, "test", c.data_dir, limit=c.sample_images,
                                    image_size=size)[0])
    return _Feed(dom_a=dom_a, dom_b=dom_b, size=size, seed_model=seed_model, stream=stream,
                 val_ds=val_ds, samples=samples)


def _build_model(c: TrainConfig, opts: dict, weights, feed: _Feed, out: Path):
    """Seed, build and compile the model under the strategy and precision, and restore the
    newest checkpoint: ``(model, checkpoint callback, step restored or None)``."""
    import tensorflow as tf

    from .. import runinfo
    from ..models import cyclegan
    from . import callbacks as cb

    runinfo.set_seed(c.seed)
    strategy = c.strategy or tf.distribute.get_strategy()
    schedule = cyclegan.LinearDecay(c.lr, n_epochs=c.epochs - opts["n_epochs_decay"],
                                    n_epochs_decay=opts["n_epochs_decay"],
                                    steps_per_epoch=opts["steps_per_epoch"])
    with strategy.scope(), cyclegan.precision_scope(c.precision):
        model = cyclegan.build_cyclegan(
            feed.size, feed.dom_a.channels, feed.dom_b.channels, generator=c.generator,
            n_blocks=int(opts["n_blocks"]), ngf=c.ngf, ndf=c.ndf, n_layers=c.n_layers,
            upsample=c.upsample, weights=weights, pool_size=c.pool_size, seed=feed.seed_model,
            keep_luma=bool(c.keep_luma), norm=c.norm, luma_g_ba=bool(c.luma_g_ba),
            g_ba=str(c.g_ba),
            n_downsampling=opts["n_downsampling"],
        )
        if c.lambda_semantic or c.lambda_identity_x:
            from ..models import semantic

            model = semantic.with_semantic_terms(
                model, domains=(feed.dom_a.name, feed.dom_b.name),
                lambda_semantic=float(c.lambda_semantic),
                lambda_identity_x=float(c.lambda_identity_x),
                classifier_paths=opts["semantic_classifiers"], labels=c.semantic_labels,
                identity_x_sides=opts["identity_x_sides"])
        model.compile(learning_rate=schedule, jit_compile=bool(c.jit))
        checkpoint = cb.TrainingCheckpoint(model, out, every_n_steps=c.checkpoint_every,
                                           state={"options": opts})
        resumed_from = checkpoint.restore()
    return model, checkpoint, resumed_from


def _build_callbacks(c: TrainConfig, feed: _Feed, checkpoint, out: Path):
    """The callbacks of every fit, and the sample monitor (``None`` without sample images)."""
    from .. import data
    from . import callbacks as cb

    # The guard comes first: it raises before the checkpoint callback sees a poisoned step.
    # The logs and grids come before the checkpoint (a kill between the two redoes them from
    # the older checkpoint; TrainingCheckpoint.restore drops the rows written after it).
    all_callbacks = [cb.NonFiniteGuard(out), cb.history_logger(out)]
    monitor = None
    if feed.samples is not None:
        monitor = cb.SampleMonitor(feed.samples[0], feed.samples[1], out / "samples")
        all_callbacks.append(monitor)
    if (feed.dom_a.channels == 1 and feed.dom_b.channels == 3 and c.task == "gray2color"
            and c.luma_every):
        # The brightness kept or inverted, over training (luma.csv).
        gray_test = data.load_arrays(feed.dom_a.name, "test", c.data_dir, limit=256,
                                     image_size=feed.size)[0]
        all_callbacks.append(cb.LumaMonitor(gray_test, out, every=c.luma_every))
    all_callbacks += [checkpoint, *c.callbacks]
    return all_callbacks, monitor


def _fit_in_segments(c: TrainConfig, opts: dict, model, feed: _Feed, all_callbacks: list,
                     resumed_from, out: Path) -> dict[str, list]:
    """Fit from the step the model is at to ``epochs``: the rest of an interrupted epoch first,
    then whole epochs; the per-epoch mean losses of this call."""
    from . import callbacks as cb

    steps_per_epoch = opts["steps_per_epoch"]
    step = model.step
    total_steps = c.epochs * steps_per_epoch
    history: dict[str, list] = {}

    def fit(initial_epoch: int, last_epoch: int, steps: int):
        h = model.fit(feed.stream(model.step), initial_epoch=initial_epoch, epochs=last_epoch,
                      steps_per_epoch=steps, callbacks=all_callbacks, verbose=c.verbose,
                      validation_data=feed.val_ds, validation_steps=c.val_steps or None,
                      shuffle=False)
        for key, values in h.history.items():
            history.setdefault(key, []).extend(float(v) for v in values)

    if resumed_from is not None and c.verbose:
        print(f"Resuming from step {step} (epoch {step // steps_per_epoch + 1} of {c.epochs}, "
              f"checkpoint in {out / cb.CHECKPOINT_SUBDIR})", file=sys.stderr)
    if step < total_steps:
        epoch, offset = divmod(step, steps_per_epoch)
        if offset:  # finish the interrupted epoch first
            fit(epoch, epoch + 1, steps_per_epoch - offset)
            epoch += 1
        if epoch < c.epochs:
            fit(epoch, c.epochs, steps_per_epoch)
    elif c.verbose:
        print(f"Nothing to train: {out} already holds {step} of {total_steps} steps.",
              file=sys.stderr)
    return history


def _identity_x_sides(sides: str) -> str:
    """``sides`` checked against :data:`cyclegan_lesson.models.semantic.IDENTITY_X_SIDES`."""
    from ..models.semantic import check_identity_x_sides

    return check_identity_x_sides(str(sides))


def train_paired(
    out_dir,
    data_dir=None,
    *,
    steps: int = 1000,
    batch_size: int = 16,
    generator: str = "unet",
    ngf: int = 16,
    n_blocks: int = 6,
    lr: float = 2e-4,
    seed: int = 0,
    verbose: int = 0,
) -> TrainingRun:
    """The paired baseline of gray2color: the CycleGAN generator ``G_AB`` trained by plain L1
    regression on *pairs* ``(luma(x), x)`` of the CIFAR-10 training images (all of them; no
    discriminator, no cycle), with CycleGAN's optimizer (Adam, beta_1 0.5) and schedule
    (constant, then linear decay to 0 over the second half).

    It shows what pairs buy: the same network and budget as a CycleGAN run of ``steps`` steps
    and ``batch_size`` images. Writes ``G_AB.keras``, ``generators.json`` (only ``G_AB``) and
    ``history.csv`` (the L1 loss per epoch of 100 steps) into ``out_dir``.

    Returns:
        a :class:`TrainingRun` (``model`` is the generator).
    """
    import keras

    from .. import data, runinfo
    from ..models import cyclegan
    from ..nn import networks
    from . import callbacks as cb

    started = time.perf_counter()
    for key, value in (("steps", steps), ("batch_size", batch_size), ("ngf", ngf)):
        _positive(key, value)
    if generator not in ("resnet", "unet"):
        raise ValueError(f"generator must be 'resnet' or 'unet', got {generator!r}")
    out = check_output_dir(out_dir)
    runinfo.set_seed(seed)
    colour, _ = data.load_arrays("cifar10_color", "train", data_dir)
    gray, _ = data.load_arrays("cifar10_gray", "train", data_dir)  # the same images, in order
    if generator == "unet":
        g_ab = networks.unet_generator(image_size=32, ngf=ngf, in_channels=1, out_channels=3,
                                       norm="instance", name="G_AB")
    else:
        g_ab = networks.resnet_generator(n_blocks=n_blocks, ngf=ngf, image_size=32,
                                         in_channels=1, out_channels=3, name="G_AB")
    epoch_steps = min(100, steps)
    epochs = max(1, steps // epoch_steps)
    schedule = cyclegan.LinearDecay(lr, n_epochs=epochs - epochs // 2,
                                    n_epochs_decay=epochs // 2, steps_per_epoch=epoch_steps)
    g_ab.compile(optimizer=cyclegan.default_optimizer(schedule),
                 loss=keras.losses.MeanAbsoluteError())
    import tensorflow as tf

    ds = (tf.data.Dataset.from_tensor_slices((gray, colour))
          .shuffle(len(gray), seed=seed, reshuffle_each_iteration=True).repeat()
          .batch(batch_size, drop_remainder=True).prefetch(2))
    h = g_ab.fit(ds, epochs=epochs, steps_per_epoch=epoch_steps, verbose=verbose,
                 callbacks=[cb.history_logger(out)])
    options = dict(task="gray2color", paired=True, steps=epochs * epoch_steps,
                   batch_size=batch_size, generator=generator, ngf=ngf, lr=lr, seed=seed,
                   loss="L1 (mean absolute error) to the true colours")
    # Export the weights without the optimizer state (a third of the file otherwise).
    exported = keras.models.clone_model(g_ab)
    exported.set_weights(g_ab.get_weights())
    holder = _GeneratorOnly(exported, int(np.asarray(g_ab.optimizer.iterations)))
    cyclegan.save_generators(holder, out, domain_a="cifar10_gray", domain_b="cifar10_color",
                             extra=options, which=("G_AB",))
    return TrainingRun(model=g_ab, history={k: list(map(float, v))
                                            for k, v in h.history.items()},
                       out_dir=str(out), options=options, resumed_from=None,
                       steps=holder.step, samples=[], generators=[str(out / "G_AB.keras")],
                       wall_s=time.perf_counter() - started)


@dataclasses.dataclass
class _GeneratorOnly:
    """What :func:`cyclegan.save_generators` needs of a model that has only ``G_AB``."""

    G_AB: object
    step: int
    G_BA: object = None
    g_optimizer: object = True


def benchmark(
    size: int = 32,
    batch_size: int = 32,
    n_blocks: int = 6,
    ngf: int = 64,
    ndf: int = 64,
    n_layers: int = 3,
    steps: int = 20,
    warmup: int = 3,
    jit: bool = False,
    generator: str = "resnet",
    channels: int = 3,
    seed: int = 0,
    precision: str = "float32",
    upsample: str = "transpose",
    profile: bool = False,
) -> dict:
    """Time ``steps`` CycleGAN training steps (after ``warmup`` untimed ones, which include
    tracing and, with ``jit``, XLA compilation) on random images; return a JSON-able dict:
    ``images_per_s`` (images per domain per second at the median step time), ``step_ms`` (median),
    ``step_ms_min``/``step_ms_max``, ``gflop_per_step``
    (:func:`cyclegan_lesson.training.profiling.step_flops`
    x batch) and ``gflops`` (that over the median step), ``configuration``, ``parameters``,
    ``device``, ``versions``. ``precision``, ``upsample``: see :class:`TrainConfig`.
    ``profile=True`` adds ``profile``: :func:`cyclegan_lesson.training.profiling.profile_step` of 3
    steps.
    """
    import keras
    import tensorflow as tf

    from .. import runinfo
    from ..runinfo import __version__
    from ..models import cyclegan
    from . import profiling

    for key, value in (("size", size), ("batch_size", batch_size), ("ngf", ngf), ("ndf", ndf),
                       ("n_layers", n_layers), ("steps", steps)):
        _positive(key, value)
    _positive("n_blocks", n_blocks, allow_zero=True)
    _positive("warmup", warmup, allow_zero=True)
    runinfo.set_seed(seed)
    with cyclegan.precision_scope(precision):
        model = cyclegan.build_cyclegan(size, channels, channels, generator=generator,
                                        n_blocks=n_blocks, ngf=ngf, ndf=ndf, n_layers=n_layers,
                                        upsample=upsample, seed=seed)
        model.compile(learning_rate=2e-4, jit_compile=bool(jit))
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, (batch_size, size, size, channels)).astype(np.float32)
    b = rng.uniform(-1, 1, (batch_size, size, size, channels)).astype(np.float32)
    ds = tf.data.Dataset.from_tensors((a, b)).repeat()

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times: list[float] = []

        def on_train_batch_begin(self, batch, logs=None):
            self.t0 = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            float(np.asarray(logs["G_total"]))  # wait for the step to finish
            self.times.append(time.perf_counter() - self.t0)

    # One fit call for warm-up and timed steps: the same traced (and, with jit, XLA-compiled)
    # function and the same iterator run throughout; the first `warmup` steps are not timed.
    timer = Timer()
    model.fit(ds, epochs=1, steps_per_epoch=warmup + steps, verbose=0, callbacks=[timer],
              shuffle=False)
    warm_s = sum(timer.times[:warmup])
    times = timer.times[warmup:]
    median = statistics.median(times)
    flop = profiling.step_flops(model)["total"] * batch_size
    result = {
        "images_per_s": round(batch_size / median, 2),
        "step_ms": round(1000 * median, 2),
        "step_ms_min": round(1000 * min(times), 2),
        "step_ms_max": round(1000 * max(times), 2),
        "gflop_per_step": round(flop / 1e9, 2),
        "gflops": round(flop / 1e9 / median, 1),
        "warmup_s": round(warm_s, 2),  # tracing (+ XLA compilation) and first steps
        "configuration": {"size": size, "batch_size": batch_size, "generator": generator,
                          "n_blocks": n_blocks, "ngf": ngf, "ndf": ndf, "n_layers": n_layers,
                          "channels": channels,
                          "steps": steps, "warmup": warmup, "jit": bool(jit),
                          "precision": precision, "upsample": upsample,
                          "pool_size": 50, "adversarial": "lsgan"},
        "parameters": {"G_AB": model.G_AB.count_params(), "D_A": model.D_A.count_params(),
                       "total": int(sum(m.count_params() for m in
                                        (model.G_AB, model.G_BA, model.D_A, model.D_B)))},
        "device": runinfo.device_summary(),
        "versions": {"python": sys.version.split()[0], "tensorflow": tf.__version__,
                     "keras": keras.__version__, "cyclegan_lesson": __version__},
    }
    if profile:
        result["profile"] = profiling.profile_step(model, (a, b))
    return result
