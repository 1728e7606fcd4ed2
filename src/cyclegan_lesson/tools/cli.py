"""The command line: ``python -m cyclegan_lesson COMMAND ...`` (train, translate, bench, evaluate,
export-onnx).

A thin layer over the package: ``train`` calls :func:`cyclegan_lesson.training.trainer.train`,
``translate`` applies an exported generator (:func:`cyclegan_lesson.models.cyclegan.load_generator`)
to image files, ``bench`` runs :func:`cyclegan_lesson.training.trainer.benchmark`, ``export-onnx``
writes a model as ONNX (:mod:`cyclegan_lesson.tools.onnx_export`).

Bad input (unknown task or option value, missing file, a file that is not an image, an output
folder that cannot be written) ends with a one-line ``error:`` message on stderr and exit code 2;
a training step whose loss turns NaN or infinite ends with a one-line message naming the step and
the term, and exit code 3 (the newest checkpoint is the last good one).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["main", "build_parser", "translate_files", "IMAGE_EXTENSIONS"]

PROG = "python -m cyclegan_lesson"
TASK_CHOICES = ("mnist2svhn", "gray2color", "monet2photo")
#: the tasks ``evaluate`` scores (labels or true colours to score against)
EVALUATE_TASKS = ("mnist2svhn", "gray2color")
#: ``--precision`` values (``cyclegan_lesson.models.cyclegan.PRECISIONS``, repeated here so that
#: ``--help`` does not import TensorFlow).
PRECISION_CHOICES = ("float32", "mixed_bfloat16", "mixed_float16")
PRECISION_HELP = ("float32 (default); mixed_bfloat16 (bfloat16 compute, float32 weights, "
                  "normalization statistics, losses and tanh: CPUs with AVX512-BF16/AMX, TPUs, "
                  "recent GPUs); mixed_float16 (GPUs, with loss scaling)")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


class UsageError(ValueError):
    """Bad input found after argument parsing (reported as a one-line error, exit code 2)."""


# ---------------------------------------------------------------------------- argument types


def _int(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    parse.__name__ = f"int>={minimum}"
    return parse


def _float(minimum: float, strict: bool = False):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value != value or value < minimum or (strict and value == minimum):
            raise argparse.ArgumentTypeError(
                f"must be {'>' if strict else '>='} {minimum}, got {text}")
        if value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        return value

    parse.__name__ = "number"
    return parse


# ---------------------------------------------------------------------------- the parser


#: Help of --data-dir: what `runinfo.default_data_dir()` does when the option is left out.
DATA_DIR_HELP = ("offline data folder with the layout of ../shared/data (default: "
                 "$CYCLEGAN_DATA_DIR, else ../shared/data beside a repository checkout, "
                 "else download with tensorflow_datasets)")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` ends each option's help with ``(default: ...)``, unless the option has no
    default (``None``, an off flag) or its help already says what the default is."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in text:
            return text
        return super()._get_help_string(action)


def _subcommand_parser(**kwargs) -> argparse.ArgumentParser:
    """A subcommand's parser: its ``--help`` shows the defaults too (:class:`HelpFormatter`)."""
    return argparse.ArgumentParser(formatter_class=HelpFormatter, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The command line: one sub-parser per command, each built by its ``_add_*`` function."""
    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=HelpFormatter,
        description="CycleGAN (Zhu et al. 2017) in Keras 3: train on a task, translate images "
                    "with an exported generator, benchmark training steps.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_subcommand_parser)
    t = _add_train(sub)
    _add_train_losses(t)
    _add_train_run(t)
    _add_translate(sub)
    _add_bench(sub)
    _add_evaluate(sub)
    _add_export_onnx(sub)
    return parser


def _add_train(sub) -> argparse.ArgumentParser:
    """``train``: the task, the data and the networks (the losses and the run follow)."""
    t = sub.add_parser(
        "train", help="train CycleGAN on a task (resumes if --out holds a checkpoint)",
        description="Train CycleGAN on a task. Writes into --out: checkpoints/, train_state.json, "
                    "history.csv, samples/epoch_NNN.png and the exported G_AB.keras / G_BA.keras "
                    "(+ generators.json). Running the same command again resumes from the last "
                    "checkpoint (weights, optimizers, image pools, counters, schedule, data "
                    "position).",
    )
    t.add_argument("--task", required=True, choices=TASK_CHOICES,
                   help="gray2color: CIFAR-10 luma <-> colour (32x32, 1 <-> 3 channels); "
                        "mnist2svhn: MNIST padded to 32x32 <-> SVHN; monet2photo: Monet "
                        "paintings <-> photos (256x256, jitter)")
    t.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    t.add_argument("--data-dir", metavar="DIR", default=None, help=DATA_DIR_HELP)
    t.add_argument("--epochs", type=_int(1), default=200,
                   help="total epochs, constant rate then linear decay (paper: 200)")
    t.add_argument("--steps-per-epoch", type=_int(1), default=None,
                   help="training steps per epoch (default: larger training set / batch size)")
    t.add_argument("--batch-size", type=_int(1), default=1,
                   help="images per domain per step (paper: 1)")
    t.add_argument("--image-size", type=_int(8), default=None,
                   help="image height = width (default: 32 for gray2color/mnist2svhn, 256 for "
                        "monet2photo)")
    t.add_argument("--generator", choices=("resnet", "unet"), default="resnet",
                   help="generator architecture (paper: resnet)")
    t.add_argument("--n-blocks", type=_int(0), default=None,
                   help="residual blocks of the resnet generator (default: 6 at 32x32, 9 at 256)")
    t.add_argument("--n-downsampling", type=_int(0), default=2,
                   help="stride-2 layers of the resnet generator (paper: 2; 0 = full resolution "
                        "throughout, a small receptive field: local changes only)")
    t.add_argument("--ngf", type=_int(1), default=64, help="generator base filters (paper: 64)")
    t.add_argument("--ndf", type=_int(1), default=64,
                   help="discriminator base filters (paper: 64)")
    t.add_argument("--n-layers", type=_int(1), default=3,
                   help="PatchGAN stride-2 layers (3 = 70x70 patches)")
    t.add_argument("--upsample", choices=("transpose", "resize"), default="transpose",
                   help="generator upsampling: transposed conv (paper) or resize-then-conv "
                        "(against checkerboard artifacts)")
    return t


def _add_train_losses(t: argparse.ArgumentParser) -> None:
    """``train``: the loss weights and the adversarial loss."""
    t.add_argument("--lambda-cycle", type=_float(0.0), default=10.0,
                   help="weight of the cycle-consistency losses (paper: 10)")
    t.add_argument("--lambda-cycle-b", type=_float(0.0), default=None,
                   help="weight of the B -> A -> B cycle alone (default: --lambda-cycle); "
                        "lower it when B holds information A cannot (SVHN colours -> MNIST)")
    t.add_argument("--lambda-identity", type=_float(0.0), default=None,
                   help="identity weight relative to --lambda-cycle (default: 0.5 for "
                        "monet2photo, 0 where the domains differ in channels)")
    t.add_argument("--lambda-adv", type=_float(0.0), default=1.0,
                   help="weight of the adversarial terms (paper: 1; 0 = 'cycle alone', the "
                        "paper's ablation)")
    t.add_argument("--lambda-luma", type=_float(0.0), default=0.0,
                   help="weight of the luma-consistency terms |lum(G_AB(a)) - a| + "
                        "|G_BA(b) - lum(b)| (gray2color only; default 0 = off)")
    t.add_argument("--keep-luma", action="store_true",
                   help="gray2color only: G_AB predicts only the chroma (Cb, Cr) and keeps its "
                        "gray input as the luma of its output (networks.keep_luma)")
    t.add_argument("--luma-g-ba", action="store_true",
                   help="gray2color only: G_BA is the fixed ITU-R 601 luma (nothing learnt), the "
                        "exact colour -> gray map")
    t.add_argument("--norm", choices=("instance", "batch"), default="instance",
                   help="normalization of the U-Net generators (default instance; batch = the "
                        "official U-Net's)")
    t.add_argument("--luma-every", type=_int(0), default=100,
                   help="gray2color: write the luma correlation of 256 colourized test images "
                        "to luma.csv every N steps (0: off)")
    t.add_argument("--adversarial", choices=("lsgan", "bce"), default="lsgan",
                   help="adversarial loss: least squares (paper) or binary cross-entropy")
    t.add_argument("--pool-size", type=_int(0), default=50,
                   help="image pool size for the discriminators (paper: 50; 0 disables)")


def _add_train_run(t: argparse.ArgumentParser) -> None:
    """``train``: seed, schedule, precision, checkpoints, samples, the semantic loss."""
    t.add_argument("--seed", type=_int(0), default=0,
                   help="seed of weights, data order and pools")
    t.add_argument("--lr", type=_float(0.0, strict=True), default=2e-4,
                   help="initial learning rate of Adam (beta_1 0.5) (paper: 2e-4)")
    t.add_argument("--n-epochs-decay", type=_int(0), default=None,
                   help="final epochs over which the rate decays linearly to 0 "
                        "(default: half of --epochs)")
    t.add_argument("--jitter", action=argparse.BooleanOptionalAction, default=None,
                   help="random resize-crop and flip (default: on for monet2photo only)")
    t.add_argument("--augment-b", action="store_true",
                   help="augment domain B's training crops like the SVHN classifier's (shifts, "
                        "rotations, contrast, colours, polarity; no flip); mnist2svhn only")
    t.add_argument("--jit", action="store_true", help="compile the training step with XLA")
    t.add_argument("--precision", choices=PRECISION_CHOICES, default="float32",
                   help=PRECISION_HELP)
    t.add_argument("--checkpoint-every", type=_int(0), default=500,
                   help="save a checkpoint every N steps as well as at each epoch end "
                        "(0: epoch ends only)")
    t.add_argument("--sample-images", type=_int(0), default=6,
                   help="test images per domain in the per-epoch sample grid (0: none; at most "
                        "64)")
    t.add_argument("--val-steps", type=_int(0), default=0,
                   help="validation batches from the test splits after each epoch (0: none)")
    t.add_argument("--mirrored", action="store_true",
                   help="train with tf.distribute.MirroredStrategy on all local GPUs")
    t.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                   help="0: silent, 1: progress bar (default), 2: one line per epoch")
    t.add_argument("--lambda-semantic", type=_float(0.0), default=0.0,
                   help="weight of the CyCADA semantic-consistency loss: frozen digit "
                        "classifiers must read the same digit in input and translation "
                        "(mnist2svhn only; default 0 = plain CycleGAN)")
    t.add_argument("--lambda-identity-x", type=_float(0.0), default=0.0,
                   help="identity weight (relative to --lambda-cycle) for domains with different "
                        "channel counts: gray levels kept for an image already of the target "
                        "domain (default 0)")
    t.add_argument("--g-ba", choices=("same", "pixel"), default="same",
                   help="architecture of G_BA: 'same' as --generator (default) or 'pixel', a "
                        "learnt per-pixel network (1x1 convolutions: it cannot read or write "
                        "spatial patterns)")
    t.add_argument("--identity-x", choices=("both", "ab", "ba"), default="both",
                   help="which generators --lambda-identity-x trains (default both); gray2color: "
                        "'ba' = the paper's identity where the shapes allow it (G_BA keeps a gray "
                        "image written as RGB)")
    t.add_argument("--semantic-labels", choices=("both", "source", "source_b"), default="both",
                   help="classifiers of the semantic loss: 'both' = each domain's own (uses "
                        "labelled domain-B images too), 'source' = domain A's only, on input and "
                        "translation in both directions (CyCADA; labels of A only), 'source_b' = "
                        "domain B's only (CyCADA as published for digits: labelled SVHN, "
                        "unlabelled MNIST)")
    t.add_argument("--classifier-a", metavar="FILE.keras", default=None,
                   help="domain-A classifier of the semantic loss (default: "
                        "models/classifiers/<domain>_semantic.keras)")
    t.add_argument("--classifier-b", metavar="FILE.keras", default=None,
                   help="domain-B classifier of the semantic loss (default: "
                        "models/classifiers/<domain>_semantic.keras)")
    t.add_argument("--allow-changed-options", action="store_true",
                   help="resume even if the batch size, steps per epoch, seed, learning rate "
                        "or a loss option differs from the run in --out (the change is "
                        "recorded in train_state.json; by default such a resume is refused)")


def _add_translate(sub) -> None:
    """``translate``: apply an exported generator to image files."""
    r = sub.add_parser(
        "translate", help="translate image files with an exported generator",
        description="Apply an exported generator (G_AB.keras or G_BA.keras) to image files or "
                    "folders of images. Each image (any size; grayscale, RGB or RGBA) is "
                    "converted to the model's input: alpha dropped, RGB -> gray by ITU-R 601 "
                    "luma or gray -> RGB by repetition, resized to the model's size. Results "
                    "are written as PNG files named after the inputs.",
    )
    r.add_argument("--model", required=True, metavar="G.keras",
                   help="an exported generator (.keras) written by `train`")
    r.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="image files, or folders (their image files are translated, sorted)")
    r.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    r.add_argument("--keep-size", action="store_true",
                   help="resize each result back to its input's size")
    r.add_argument("--full-size", action="store_true",
                   help="translate each image at its own size and aspect ratio (fully "
                        "convolutional; large images in overlapping, blended tiles) instead of "
                        "resizing it to the model's square size")
    r.add_argument("--short-side", type=_int(8), default=None,
                   help="with --full-size: first resize each image (aspect ratio kept) so that "
                        "its shorter side has this many pixels (e.g. the training size, so "
                        "strokes keep their size relative to the picture)")
    r.add_argument("--tile", type=_int(16), default=512,
                   help="with --full-size: the largest side translated in one pass; larger "
                        "images go in overlapping tiles of this size (a multiple of 4)")
    r.add_argument("--batch-size", type=_int(1), default=16, help="images per model call")


def _add_bench(sub) -> None:
    """``bench``: time training steps on random data."""
    b = sub.add_parser(
        "bench", help="time training steps on random data; print one JSON line",
        description="Build CycleGAN (ResNet generators, 70x70 PatchGANs, LSGAN, pool 50), run "
                    "--warmup untimed training steps (tracing/compilation), then time --steps "
                    "steps on random images and print one JSON line: images_per_s, step_ms "
                    "(median), configuration, parameters, device, versions. With "
                    "--compare-plain, time the engine and a plain keras.io-style CycleGAN of "
                    "the same networks in one process, interleaved (--rounds rounds of --steps "
                    "steps each), and print their medians and ratio. Every run reports the "
                    "step's operations (gflop_per_step, counted from the networks' layers) and "
                    "the achieved GFLOP/s; --peak adds the machine's matrix-product rate and the "
                    "fraction of it reached, --profile the TensorFlow profiler's op time by part "
                    "of the step and by op type.",
    )
    b.add_argument("--size", type=_int(8), default=32, help="image height = width")
    b.add_argument("--batch-size", type=_int(1), default=32, help="images per domain per step")
    b.add_argument("--n-blocks", type=_int(0), default=6, help="residual blocks per generator")
    b.add_argument("--ngf", type=_int(1), default=64, help="generator base filters")
    b.add_argument("--ndf", type=_int(1), default=64, help="discriminator base filters")
    b.add_argument("--generator", choices=("resnet", "unet"), default="resnet",
                   help="generator architecture")
    b.add_argument("--steps", type=_int(1), default=20, help="timed training steps")
    b.add_argument("--warmup", type=_int(0), default=3, help="untimed steps before timing")
    b.add_argument("--jit", action="store_true", help="compile the training step with XLA")
    b.add_argument("--precision", choices=PRECISION_CHOICES, default="float32",
                   help=PRECISION_HELP)
    b.add_argument("--compare-plain", action="store_true",
                   help="also time cyclegan_lesson.tools.bench_plain (keras.io-style, float32) "
                        "interleaved with the engine; print both and the ratio")
    b.add_argument("--rounds", type=_int(1), default=5,
                   help="with --compare-plain: rounds of --steps steps per model, the order "
                        "alternating")
    b.add_argument("--n-layers", type=_int(1), default=3, help="PatchGAN stride-2 layers")
    b.add_argument("--seed", type=_int(0), default=0, help="seed of weights and random data")
    b.add_argument("--peak", action="store_true",
                   help="also measure the rate of a 2048x2048 matrix product in float32 (and "
                        "in the precision's compute type) and report the fraction of it the "
                        "training step reaches")
    b.add_argument("--profile", action="store_true",
                   help="also profile 3 steps with the TensorFlow profiler: op self-time by "
                        "part of the step and by op type")


def _add_evaluate(sub) -> None:
    """``evaluate``: the metric table of trained generators."""
    e = sub.add_parser(
        "evaluate", help="the metric table of trained generators (JSON): mnist2svhn label "
                         "preservation, gray2color colour metrics",
        description="gray2color: colourize the CIFAR-10 test split with G_AB.keras and print, "
                    "as JSON, PSNR and SSIM against the true colours, the luma correlation with "
                    "the input (inversion detector), colourfulness, the saturation-histogram "
                    "distance and the accuracy of the shipped CIFAR-10 classifiers (full colour "
                    "and chroma-only), beside the gray baseline and the true colours. "
                    "mnist2svhn: translate the full MNIST and SVHN test splits with G_AB.keras / "
                    "G_BA.keras and print, as JSON, the label preservation read by the shipped "
                    "digit "
                    "classifiers (judges and the semantic-loss pair), their accuracy on the "
                    "untranslated source images, the cycle reconstruction error, and realism: the "
                    "share of translations the MNIST-vs-SVHN realism judge reads as the target "
                    "domain and Frechet/kernel distances on the target judge's features "
                    "(FD-SVHN, FD-MNIST; not comparable with FID).",
    )
    e.add_argument("--task", required=True, choices=EVALUATE_TASKS,
                   help="the task the generators were trained on (only these two have labels "
                        "or true colours to score against)")
    where = e.add_mutually_exclusive_group(required=True)
    where.add_argument("--run", metavar="DIR", help="a training output folder (train --out)")
    where.add_argument("--models", metavar="DIR",
                       help="a folder with G_AB.keras and G_BA.keras")
    where.add_argument("--shipped", metavar="NAME", choices=["mnist2svhn", "gray2color"],
                       help="the course's shipped generators (mnist2svhn, gray2color), found "
                            "through "
                            "cyclegan_lesson.pretrained: the checkout's models/ or a verified "
                            "download")
    e.add_argument("--data-dir", metavar="DIR", default=None, help=DATA_DIR_HELP)
    e.add_argument("--limit", type=_int(1), default=None,
                   help="test images per domain (default: all, 10,000 MNIST / 1,997 SVHN / "
                        "5,000 CIFAR-10 offline)")
    e.add_argument("--batch-size", type=_int(1), default=256, help="images per model call")


def _add_export_onnx(sub) -> None:
    """``export-onnx``: a ``.keras`` model as ONNX, checked against Keras."""
    x = sub.add_parser(
        "export-onnx", help="export a .keras generator or classifier to ONNX, checked against Keras",
        description="Write a .keras model (a generator or a digit classifier) as an ONNX file "
                    "(input 'image', NHWC float32, batch free) and print, as JSON, the largest "
                    "absolute difference between Keras and onnxruntime on real test images of "
                    "the domain the model reads (32x32x1: MNIST padded, 32x32x3: SVHN). Needs "
                    "the onnx, tf2onnx and onnxruntime packages.",
    )
    x.add_argument("--model", required=True, metavar="MODEL.keras", help="the model to export")
    x.add_argument("--out", required=True, metavar="MODEL.onnx", help="the ONNX file to write")
    x.add_argument("--data-dir", metavar="DIR", default=None, help=DATA_DIR_HELP)
    x.add_argument("--check-images", type=_int(0), default=64,
                   help="test images the export is checked on (0: no check)")
    x.add_argument("--opset", type=_int(7), default=None,
                   help="ONNX opset version (default: tf2onnx's)")


# ---------------------------------------------------------------------------- translate


def _collect_inputs(inputs) -> list[Path]:
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*")
                           if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
            if not found:
                raise UsageError(f"folder {path} contains no image files "
                                 f"({', '.join(IMAGE_EXTENSIONS)})")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return files


def _read_image(path: Path, size: tuple[int, int] | None, channels: int):
    """``(float32 HWC in [-1, 1] at ``size`` (None: its own size), original (width, height))``
    (:func:`cyclegan_lesson.image_io.read_image`: true 16-bit and float levels, EXIF
    orientation, decompression bombs refused)."""
    from .image_io import read_image

    return read_image(path, size, channels)


def _check_out_apart(inputs, files: list[Path], out: Path) -> None:
    """:class:`UsageError` when ``out`` is an input folder, lies inside one (a later run would
    translate its own outputs) or is the folder of an input file (the translations would
    be mixed with, and could overwrite, the inputs)."""
    import os

    target = Path(os.path.realpath(out))
    for item in inputs:
        folder = Path(os.path.realpath(item))
        if Path(item).is_dir() and (target == folder or folder in target.parents):
            raise UsageError(f"--out {out} is inside the input folder {item}: the translations "
                             "would be read back as inputs or overwrite them; choose an output "
                             "folder outside it")
    for f in files:
        if Path(os.path.realpath(f)).parent == target:
            raise UsageError(f"--out {out} is the folder of the input {f}: the translations "
                             "could overwrite the inputs; choose another output folder")


def translate_files(model_path, inputs, out_dir, *, keep_size: bool = False,
                    batch_size: int = 16, full_size: bool = False,
                    short_side: int | None = None, tile: int = 512) -> list[str]:
    """Translate image files/folders ``inputs`` with the generator at ``model_path``; write PNGs
    into ``out_dir`` and return their paths.

    By default each image is resized to the model's square input size. With ``full_size`` it is
    translated at its own size and aspect ratio by :func:`cyclegan_lesson.tools.any_size.
    translate_any_size` (after resizing its shorter side to ``short_side`` pixels, if given;
    images larger than ``tile`` go in overlapping tiles). Errors: ``FileNotFoundError`` (missing
    input or model), :class:`UsageError` (not an image, unreadable model, a generator that is
    not fully convolutional), ``PermissionError``."""
    import numpy as np

    from ..book import plotting
    from ..models.cyclegan import load_generator
    from ..training.trainer import check_output_dir

    files = _collect_inputs(inputs)
    _check_out_apart(inputs, files, Path(out_dir))
    out = check_output_dir(out_dir)
    try:
        model, meta = load_generator(model_path)
    except ValueError as exc:
        raise UsageError(str(exc).splitlines()[0]) from None
    height, width = meta["image_size"]
    channels = int(meta["input_channels"])
    if full_size:
        return _translate_full_size(model, files, out, channels, keep_size=keep_size,
                                    short_side=short_side, tile=tile)
    images = [_read_image(f, (height, width), channels) for f in files]  # all checked first
    written: list[str] = []
    used: set[str] = set()
    for start in range(0, len(files), batch_size):
        chunk = images[start:start + batch_size]
        batch = np.stack([im for im, _ in chunk]).astype(np.float32)
        result = plotting.to_uint8(np.asarray(model(batch, training=False)))
        for (_, original), src, arr in zip(chunk, files[start:start + batch_size], result,
                                           strict=True):
            written.append(_write_result(arr, original, src, out, used, keep_size))
    return written


def _write_result(arr, original: tuple[int, int], src: Path, out: Path, used: set[str],
                  keep_size: bool) -> str:
    """Save one translated ``uint8`` HWC image as ``out/<input stem>.png`` (``_1``, ``_2``, ...
    when two inputs share a stem), resized back to ``original`` (width, height) if
    ``keep_size``; return its path."""
    from PIL import Image

    img = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr)
    if keep_size and img.size != original:
        img = img.resize(original, Image.Resampling.BICUBIC)
    name, k = f"{src.stem}.png", 1
    while name in used:
        name, k = f"{src.stem}_{k}.png", k + 1
    used.add(name)
    from ..files.atomic import replacing

    with replacing(out / name) as tmp:  # a symlink in out is replaced, never followed
        img.save(tmp, format="PNG")
    return str(out / name)


def _translate_full_size(model, files: list[Path], out: Path, channels: int, *,
                         keep_size: bool, short_side: int | None, tile: int) -> list[str]:
    """``translate --full-size``: each image at its own aspect ratio, one at a time."""
    from ..book import plotting
    from . import any_size

    try:
        free = any_size.fully_convolutional(model)
    except ValueError as exc:
        raise UsageError(f"--full-size: {exc}") from None
    multiple = any_size.total_stride(free)
    if tile % multiple:
        raise UsageError(f"--tile must be a multiple of the generator's stride {multiple}, "
                         f"got {tile}")
    from .image_io import image_size

    sizes = [image_size(f) for f in files]  # all checked first (headers only)
    written: list[str] = []
    used: set[str] = set()
    for (w, h), src in zip(sizes, files, strict=True):  # decoded one at a time
        target = None
        if short_side is not None:
            target = any_size.fit_scale(h, w, short_side, multiple)
        image, original = _read_image(src, target, channels)
        try:
            result = any_size.translate_any_size(free, image, tile=tile,
                                                 overlap=min(64, tile // 4))
        except Exception as exc:  # e.g. a side too small for the generator's padding
            if type(exc).__name__ != "InvalidArgumentError":
                raise
            raise UsageError(f"{src} ({image.shape[1]}x{image.shape[0]}) cannot be translated "
                             "at full size (too small for the generator?): "
                             f"{str(exc).strip().splitlines()[0][:150]}") from None
        arr = plotting.to_uint8(result[None])[0]
        written.append(_write_result(arr, original, src, out, used, keep_size))
    return written


# ---------------------------------------------------------------------------- commands


def _cmd_train(args) -> int:
    from .. import runinfo
    from ..training.trainer import TrainConfig, train

    data_dir = args.data_dir if args.data_dir is not None else runinfo.default_data_dir()
    if data_dir is not None and not Path(data_dir).is_dir():
        raise FileNotFoundError(f"data folder {data_dir} does not exist")
    strategy = None
    if args.mirrored:
        import tensorflow as tf

        strategy = tf.distribute.MirroredStrategy()
    config = TrainConfig(
        args.task, args.out, data_dir, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
        batch_size=args.batch_size, image_size=args.image_size, generator=args.generator,
        n_blocks=args.n_blocks, ngf=args.ngf, ndf=args.ndf, n_layers=args.n_layers,
        upsample=args.upsample, lambda_cycle=args.lambda_cycle,
        lambda_cycle_b=args.lambda_cycle_b,
        lambda_identity=args.lambda_identity, adversarial=args.adversarial,
        pool_size=args.pool_size, seed=args.seed, lr=args.lr,
        n_epochs_decay=args.n_epochs_decay, jitter=args.jitter, augment_b=args.augment_b,
        jit=args.jit,
        checkpoint_every=args.checkpoint_every, sample_images=args.sample_images,
        val_steps=args.val_steps, strategy=strategy, verbose=args.verbose,
        precision=args.precision,
        lambda_semantic=args.lambda_semantic, lambda_identity_x=args.lambda_identity_x,
        identity_x_sides=args.identity_x,
        semantic_classifiers=(args.classifier_a, args.classifier_b),
        semantic_labels=args.semantic_labels,
        lambda_adv=args.lambda_adv, lambda_luma=args.lambda_luma, luma_every=args.luma_every,
        keep_luma=args.keep_luma, norm=args.norm, luma_g_ba=args.luma_g_ba,
        g_ba=args.g_ba,
        n_downsampling=args.n_downsampling,
        allow_changed_options=args.allow_changed_options,
    )
    run = train(config)
    out = Path(run.out_dir)
    print(f"trained {run.steps} steps"
          + (f" (resumed from step {run.resumed_from})" if run.resumed_from is not None else "")
          + f" in {run.wall_s:.1f} s")
    print(f"generators: {', '.join(run.generators)}")
    print(f"history:    {out / 'history.csv'}")
    if run.samples:
        print(f"samples:    {run.samples[-1]}")
    return 0


def _cmd_translate(args) -> int:
    if not args.full_size and (args.short_side is not None or args.tile != 512):
        raise UsageError("--short-side and --tile apply only with --full-size")
    written = translate_files(args.model, args.inputs, args.out, keep_size=args.keep_size,
                              batch_size=args.batch_size, full_size=args.full_size,
                              short_side=args.short_side, tile=args.tile)
    print(f"translated {len(written)} image(s) into {args.out}")
    return 0


def _cmd_bench(args) -> int:
    from ..training.trainer import benchmark

    if args.compare_plain and (args.generator != "resnet" or args.jit):
        raise UsageError("--compare-plain times the ResNet generator without XLA; drop "
                         "--generator unet / --jit")
    peaks = {}
    if args.peak:
        from ..training.profiling import matmul_peak

        # measured first, on a machine not yet holding the models (the better of two tries)
        compute = {"float32": "float32", "mixed_bfloat16": "bfloat16",
                   "mixed_float16": "float16"}[args.precision]
        peaks = {dtype: round(max(matmul_peak(dtype) for _ in range(2)), 1)
                 for dtype in dict.fromkeys(("float32", compute))}
    if args.compare_plain:
        from .bench_plain import compare_plain

        result = compare_plain(size=args.size, batch_size=args.batch_size,
                               n_blocks=args.n_blocks, ngf=args.ngf, ndf=args.ndf,
                               n_layers=args.n_layers, rounds=args.rounds, steps=args.steps,
                               warmup=args.warmup, precision=args.precision, seed=args.seed,
                               profile=args.profile)
        rates = {"engine": result["engine_gflops"], "plain": result["plain_gflops"]}
    else:
        result = benchmark(size=args.size, batch_size=args.batch_size, n_blocks=args.n_blocks,
                           ngf=args.ngf, ndf=args.ndf, n_layers=args.n_layers, steps=args.steps,
                           warmup=args.warmup, jit=args.jit, generator=args.generator,
                           seed=args.seed, precision=args.precision, profile=args.profile)
        rates = {"engine": result["gflops"]}
    if peaks:
        result["peak_gflops"] = peaks
        result["fraction_of_peak"] = {
            name: round(rate / peaks["float32" if name == "plain" else compute], 3)
            for name, rate in rates.items()}
    print(json.dumps(result))
    return 0


def _cmd_evaluate(args) -> int:
    import json

    from .. import runinfo
    from ..evaluation.case_studies import mnist_svhn_report
    from ..models.cyclegan import load_generator

    if args.shipped and args.shipped != args.task:
        raise UsageError(f"--shipped {args.shipped} holds generators of another task than "
                         f"--task {args.task}")
    if args.shipped:
        from .. import pretrained

        folder = Path(pretrained.folder(args.shipped))
    else:
        folder = Path(args.run or args.models)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder {folder} does not exist")
    _check_run_task(folder, args.task)
    paths = [folder / "G_AB.keras", folder / "G_BA.keras"]
    for path in paths[:1] if args.task == "gray2color" else paths:
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found (expected G_AB.keras and G_BA.keras)")
    data_dir = args.data_dir if args.data_dir is not None else runinfo.default_data_dir()
    if data_dir is not None and not Path(data_dir).is_dir():
        raise FileNotFoundError(f"data folder {data_dir} does not exist")
    if args.task == "gray2color":
        return _evaluate_gray2color(paths[0], folder, data_dir, args)
    (g_ab, _), (g_ba, _) = (load_generator(p) for p in paths)
    for g, ch_in, ch_out in ((g_ab, 1, 3), (g_ba, 3, 1)):
        if tuple(g.input_shape[1:]) != (32, 32, ch_in) or g.output_shape[-1] != ch_out:
            raise UsageError(f"{g.name}: expected a 32x32x{ch_in} -> {ch_out}-channel generator "
                             f"for mnist2svhn, got {g.input_shape[1:]} -> {g.output_shape[1:]}")
    report = mnist_svhn_report(g_ab, g_ba, data_dir, limit=args.limit,
                               batch_size=args.batch_size)
    report = {"task": args.task, "generators": str(folder), **report}
    print(json.dumps(report, indent=2))
    return 0


def _check_run_task(folder: Path, task: str) -> None:
    """:class:`UsageError` when ``folder``'s ``generators.json`` names other domains than
    ``task``'s (e.g. ``evaluate --task gray2color`` on a mnist2svhn run)."""
    from .. import data

    record = folder / "generators.json"
    if not record.is_file():
        return
    try:
        saved = json.loads(record.read_text())
    except (OSError, ValueError):
        return
    domains = (saved.get("domain_a"), saved.get("domain_b"))
    wanted = tuple(d.name for d in data.get_task(task))
    if None not in domains and domains != wanted:
        raise UsageError(f"{folder} holds generators of {domains[0]} <-> {domains[1]} "
                         f"(generators.json), not of --task {task} ({wanted[0]} <-> "
                         f"{wanted[1]})")


def _cmd_export_onnx(args) -> int:
    from .. import runinfo
    from . import onnx_export

    if not args.out.endswith(".onnx"):
        raise UsageError(f"--out should name a .onnx file, got {args.out}")
    data_dir = args.data_dir if args.data_dir is not None else runinfo.default_data_dir()
    if args.check_images and data_dir is not None and not Path(data_dir).is_dir():
        raise FileNotFoundError(f"data folder {data_dir} does not exist")
    try:
        if args.check_images == 0:
            out = onnx_export.export_onnx(args.model, args.out, opset=args.opset)
            report = {"model": args.model, "onnx": str(out), "onnx_bytes": out.stat().st_size}
        else:
            report = onnx_export.export_and_check(args.model, args.out, data_dir=data_dir,
                                                  n=args.check_images, opset=args.opset)
    except ImportError as exc:  # onnx / tf2onnx / onnxruntime missing: the message says the fix
        raise UsageError(str(exc)) from None
    print(json.dumps(report, indent=2))
    return 0


def _evaluate_gray2color(path: Path, folder: Path, data_dir, args) -> int:
    from .. import data
    from ..evaluation import classifiers
    from ..evaluation.case_studies import gray2color_report
    from ..models.cyclegan import load_generator

    g_ab, _ = load_generator(path)
    if tuple(g_ab.input_shape[1:]) != (32, 32, 1) or tuple(g_ab.output_shape[1:]) != (32, 32, 3):
        raise UsageError(f"{path}: expected a 32x32x1 -> 32x32x3 generator for gray2color, got "
                         f"{g_ab.input_shape[1:]} -> {g_ab.output_shape[1:]}")
    colour, labels = data.load_arrays("cifar10_color", "test", data_dir, limit=args.limit)
    gray, _ = data.load_arrays("cifar10_gray", "test", data_dir, limit=args.limit)
    judges = {kind: classifiers.load_cifar_classifier(kind) for kind in classifiers.CIFAR_KINDS}
    report = gray2color_report({"G_AB": g_ab}, gray, colour, labels, judges,
                               batch_size=args.batch_size)
    for row in report["rows"].values():  # per-class lists make the JSON long; keep them
        for entry in row.get("classifiers", {}).values():
            entry["per_class"] = [round(v, 4) for v in entry["per_class"]]
    report = {"task": args.task, "generators": str(folder), **report}
    print(json.dumps(report, indent=2))
    return 0


COMMANDS = {"train": _cmd_train, "translate": _cmd_translate, "bench": _cmd_bench,
            "evaluate": _cmd_evaluate, "export-onnx": _cmd_export_onnx}


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, KeyError):
        text = text.strip("'\"")
    return " ".join(text.splitlines()[0].split())


def main(argv=None) -> int:
    """Run the command line; return the exit code (0 ok, 2 bad input, 3 a loss or weight
    became NaN or infinite, 130 interrupted)."""
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 with a usage message for bad options/choices
    from ..training.callbacks import NonFiniteError

    try:
        return COMMANDS[args.command](args)
    except NonFiniteError as exc:
        print(f"{PROG} {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted"
              + ("; run the same command again to resume from the last checkpoint"
                 if args.command == "train" else ""), file=sys.stderr)
        return 130
    except (UsageError, ValueError, OSError) as exc:  # bad input, unreadable or unwritable files
        print(f"{PROG} {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        from ..data import DatasetUnavailableError

        if isinstance(exc, DatasetUnavailableError):
            print(f"{PROG} {args.command}: error: {_one_line(exc)}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
