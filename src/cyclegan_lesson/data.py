"""The course's data layer: named image domains, loaded the same way online and offline.

A *domain* is one set of images (``mnist``, ``svhn``, ``cifar10_gray``, ``cifar10_color``,
``monet``, ``photo``) that knows its native image size and channels; a *task* pairs two domains
(``mnist2svhn``, ``gray2color``, ``monet2photo``). Every loader returns images in the package's
convention: HWC (one image) or NHWC (a batch) ``float32`` in ``[-1, 1]``.

Two sources give the same shapes, dtypes and value ranges:

* ``data_dir=None`` (Colab, any machine with internet), downloaded on first use and cached:
  TensorFlow Datasets for ``mnist`` (11.6 MB), ``cifar10`` (170.1 MB) and
  ``cycle_gan/monet2photo`` (305.2 MB, both ``monet`` and ``photo``); SVHN from the official
  ``test_32x32.mat`` (64.3 MB) and ``train_32x32.mat`` (182.0 MB) files, read directly and checked
  by SHA-256, so that only the split asked for is downloaded (tfds' ``svhn_cropped`` would also
  download the 1.3 GB ``extra`` split, 1.58 GB in all). SVHN's online *test* split is official test
  crops 10,000-26,031: crops 0-9,999 are the offline file, on which the shipped classifiers and
  generators were trained and scored, so the two paths never share a test image with them;
* ``data_dir="../shared/data"`` (or any folder with that layout, see :data:`EXPECTED_LAYOUT`):
  the offline files ``mnist.npz``, ``cifar10.npz``, ``svhn_cropped.npz`` and the
  ``monet2photo/{trainA,testA,trainB,testB}/*.jpg`` folders.

Memory: the small datasets are held as ``uint8`` (at most ~80 MB for CIFAR-10) and converted
to float per element; Monet/photo JPEGs are decoded lazily, one image at a time. Nothing
augmented is ever cached: :func:`unpaired` applies :func:`jitter` afresh every epoch.

Example::

    from cyclegan_lesson import data
    ds = data.load_domain("svhn", "train", data_dir="../shared/data")   # (32, 32, 3) float32
    pairs = data.unpaired(data.load_domain("monet", data_dir=...),
                          data.load_domain("photo", data_dir=...), batch_size=1, jitter=True,
                          seed=0)
    a, b = next(iter(pairs))                                             # (1, 256, 256, 3) each
"""

from __future__ import annotations

import csv
import functools
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "Domain",
    "DOMAINS",
    "TASKS",
    "SPLITS",
    "LUMA_WEIGHTS",
    "EXPECTED_LAYOUT",
    "DatasetUnavailableError",
    "get_domain",
    "get_task",
    "load_domain",
    "load_arrays",
    "load_labels",
    "unpaired",
    "jitter",
    "default_load_size",
    "check_images",
    "to_float",
    "TASK_HALVES",
    "half_indices",
]

#: ITU-R BT.601 luma weights for R, G, B (they sum to 1).
LUMA_WEIGHTS: tuple[float, float, float] = (0.299, 0.587, 0.114)

#: Tasks whose two domains come from the *same* source images: domain A reads one half of the
#: training split and domain B the other (``load_domain(..., half=0 / 1)``), so that no training
#: image is seen in both domains and the training data holds no pairs. gray2color: A = the luma of
#: the even-numbered CIFAR-10 training images, B = the colour of the odd-numbered ones.
TASK_HALVES: dict[str, tuple[int, int]] = {"gray2color": (0, 1)}


def half_indices(n: int, half: int) -> np.ndarray:
    """Positions ``half, half + 2, half + 4, ...`` of a split of ``n`` images: ``half=0`` the
    even-numbered, ``half=1`` the odd-numbered ones (disjoint, together all ``n``)."""
    if half not in (0, 1):
        raise ValueError(f"half must be 0 (even-numbered images) or 1 (odd-numbered), got {half!r}")
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    return np.arange(half, int(n), 2, dtype=np.int64)


#: The splits every domain offers.
SPLITS: tuple[str, ...] = ("train", "test")

#: The folder layout a ``data_dir`` must have (the layout of ``../shared/data``).
EXPECTED_LAYOUT = """\
<data_dir>/
    mnist.npz            x_train (60000, 28, 28) uint8, y_train, x_test (10000, 28, 28), y_test
    cifar10.npz          x_train (N, 32, 32, 3) uint8, y_train, x_test, y_test
    svhn_cropped.npz     x_train (N, 32, 32, 3) uint8, y_train, x_test, y_test
    monet2photo/
        trainA/*.jpg     Monet paintings (domain "monet", split "train")
        testA/*.jpg      Monet paintings (domain "monet", split "test")
        trainB/*.jpg     landscape photos (domain "photo", split "train")
        testB/*.jpg      landscape photos (domain "photo", split "test")
        manifest.csv     optional: split,filename,sha256 (used to detect missing files)"""

_FIX_HINT = (
    "Point data_dir (or the command line's --data-dir) to a folder with this layout, e.g. "
    "data_dir='../shared/data' from the repository root (or set CYCLEGAN_DATA_DIR), or pass "
    "data_dir=None to download the datasets with tensorflow_datasets."
)

_DIGITS = tuple(str(i) for i in range(10))
_CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                    "ship", "truck")


class DatasetUnavailableError(RuntimeError):
    """The online source cannot provide a dataset (no internet, or not downloaded yet)."""


#: Where the online path reads SVHN (the official cropped-digit files, "format 2");
#: ``$CYCLEGAN_LESSON_SVHN_URL`` replaces the base URL (a mirror, or a local copy in tests).
SVHN_URL = "http://ufldl.stanford.edu/housenumbers"
SVHN_URL_ENV = "CYCLEGAN_LESSON_SVHN_URL"
#: split -> (official file, bytes, SHA-256): the sizes and hashes tfds' svhn_cropped records.
SVHN_FILES: dict[str, tuple[str, int, str]] = {
    "train": ("train_32x32.mat", 182_040_794,
              "435e94d69a87fde4fd4d7f3dd208dfc32cb6ae8af2240d066de1df7508d083b8"),
    "test": ("test_32x32.mat", 64_275_384,
             "cdce80dfb2a2c4c6160906d0bd7c68ec5a99d7ca4831afa54f09182025b6a75b"),
}
#: The online SVHN test split starts at this official test crop: crops 0-9,999 are the offline
#: ``svhn_cropped.npz`` (its train and test splits), which trained and scored the shipped models.
SVHN_ONLINE_TEST_START = 10_000

#: What the online path downloads per domain (bytes, first use; then cached).
ONLINE_DOWNLOAD_BYTES: dict[str, dict[str, int]] = {
    "mnist": {"train": 9_912_422 + 28_881 + 1_648_877 + 4_542,
              "test": 9_912_422 + 28_881 + 1_648_877 + 4_542},
    "svhn": {"train": SVHN_FILES["train"][1], "test": SVHN_FILES["test"][1]},
    "cifar10_color": {"train": 170_052_171, "test": 170_052_171},
    "cifar10_gray": {"train": 170_052_171, "test": 170_052_171},
    "monet": {"train": 305_231_073, "test": 305_231_073},
    "photo": {"train": 305_231_073, "test": 305_231_073},
}


@dataclass(frozen=True)
class Domain:
    """One image domain and where its images come from.

    Attributes:
        name: the domain's name (a key of :data:`DOMAINS`).
        image_size: native height = width in pixels of the images :func:`load_domain` returns.
        channels: 1 (grayscale) or 3 (RGB).
        num_classes: number of labels, or ``None`` for a domain without labels.
        class_names: the label names (index = label), or ``None``.
        description: one line for tables and figures.
        tfds_name: the TensorFlow Datasets name (``data_dir=None``).
        tfds_splits: our split name -> the tfds split name.
        offline_file: the file (``.npz``) or folder under ``data_dir``.
        offline_splits: our split name -> npz key suffix (``x_<s>``) or sub-folder.
        luma: ``True`` when the domain is the ITU-R 601 luma of RGB sources.
        pad_to_grow: ``True`` when enlarging pads with the (black) background instead of
            resizing (MNIST 28 -> 32).
    """

    name: str
    image_size: int
    channels: int
    num_classes: int | None
    class_names: tuple[str, ...] | None
    description: str
    tfds_name: str
    tfds_splits: Mapping[str, str] = field(default_factory=lambda: {"train": "train",
                                                                    "test": "test"})
    offline_file: str = ""
    offline_splits: Mapping[str, str] = field(default_factory=lambda: {"train": "train",
                                                                       "test": "test"})
    luma: bool = False
    pad_to_grow: bool = False

    @property
    def shape(self) -> tuple[int, int, int]:
        """Native ``(height, width, channels)`` of one image."""
        return (self.image_size, self.image_size, self.channels)

    @property
    def has_labels(self) -> bool:
        return self.num_classes is not None

    @property
    def is_folder(self) -> bool:
        return not self.offline_file.endswith(".npz")


DOMAINS: dict[str, Domain] = {
    d.name: d
    for d in (
        Domain("mnist", 28, 1, 10, _DIGITS, "MNIST handwritten digits, white on black",
               "mnist", offline_file="mnist.npz", pad_to_grow=True),
        Domain("svhn", 32, 3, 10, _DIGITS, "SVHN house-number digits (cropped), colour photos",
               "svhn_cropped", offline_file="svhn_cropped.npz"),
        Domain("cifar10_color", 32, 3, 10, _CIFAR10_CLASSES, "CIFAR-10 objects, RGB",
               "cifar10", offline_file="cifar10.npz"),
        Domain("cifar10_gray", 32, 1, 10, _CIFAR10_CLASSES,
               "CIFAR-10 objects, ITU-R 601 luma of the same images", "cifar10",
               offline_file="cifar10.npz", luma=True),
        Domain("monet", 256, 3, None, None, "Claude Monet paintings", "cycle_gan/monet2photo",
               tfds_splits={"train": "trainA", "test": "testA"}, offline_file="monet2photo",
               offline_splits={"train": "trainA", "test": "testA"}),
        Domain("photo", 256, 3, None, None, "landscape photographs", "cycle_gan/monet2photo",
               tfds_splits={"train": "trainB", "test": "testB"}, offline_file="monet2photo",
               offline_splits={"train": "trainB", "test": "testB"}),
    )
}

#: task name -> (domain X, domain Y); the generators are G_XY: X -> Y and G_YX: Y -> X.
TASKS: dict[str, tuple[str, str]] = {
    "mnist2svhn": ("mnist", "svhn"),
    "gray2color": ("cifar10_gray", "cifar10_color"),
    "monet2photo": ("monet", "photo"),
}


def get_domain(name: str | Domain) -> Domain:
    """The :class:`Domain` called ``name``; ``ValueError`` listing the valid names otherwise."""
    if isinstance(name, Domain):
        return name
    try:
        return DOMAINS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown domain {name!r}; valid domains are: {', '.join(DOMAINS)}"
        ) from None


def online_source(name: str | Domain) -> str:
    """Where ``data_dir=None`` reads a domain, in words (for tables): the tfds name, or the
    official SVHN files."""
    domain = get_domain(name)
    if domain.name == "svhn":
        return "official SVHN `train_32x32.mat` / `test_32x32.mat` (test: crops 10,000-26,031)"
    return f"tfds `{domain.tfds_name}`"


def get_task(name: str) -> tuple[Domain, Domain]:
    """The two domains ``(X, Y)`` of a task; ``ValueError`` listing the valid tasks otherwise."""
    try:
        x, y = TASKS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown task {name!r}; valid tasks are: {', '.join(TASKS)}") from None
    return DOMAINS[x], DOMAINS[y]


def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; valid splits are: {', '.join(SPLITS)}")
    return split


def _check_size(image_size: int | None, domain: Domain) -> int:
    if image_size is None:
        return domain.image_size
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) \
            or image_size < 1:
        raise ValueError(f"image_size must be a positive int (or None), got {image_size!r}")
    return int(image_size)


# ---------------------------------------------------------------------------------------------
# uint8 -> float32 in [-1, 1]: the one conversion both sources share
# ---------------------------------------------------------------------------------------------

def _resize(x, size: int):
    """Resize HWC/NHWC float images to ``size`` x ``size`` (bilinear, antialiased when
    shrinking); a no-op where the size already matches, decided statically when possible."""
    import tensorflow as tf

    static = tuple(x.shape[-3:-1])
    if static == (size, size):
        return x
    resized = lambda: tf.image.resize(x, (size, size), method="bilinear",  # noqa: E731
                                      antialias=True)
    if None not in static:
        return resized()
    shape = tf.shape(x)
    same = tf.logical_and(tf.equal(shape[-3], size), tf.equal(shape[-2], size))
    out = tf.cond(same, lambda: tf.identity(x), resized)
    return tf.ensure_shape(out, (*x.shape[:-3], size, size, x.shape[-1]))


def _pad_or_resize(x, size: int, domain: Domain):
    """Bring native-size images to ``size``: pad with the background (-1) for domains that
    grow by padding (MNIST), resize otherwise."""
    import tensorflow as tf

    native = domain.image_size
    if size == native:
        return x
    if domain.pad_to_grow and size > native:
        before = (size - native) // 2
        after = size - native - before
        paddings = [[0, 0]] * (len(x.shape) - 3) + [[before, after], [before, after], [0, 0]]
        return tf.pad(x, paddings, constant_values=-1.0)
    return _resize(x, size)


def to_float(images, domain: str | Domain, image_size: int | None = None):
    """Convert ``uint8`` source images of ``domain`` to the package's convention.

    Args:
        images: HWC or NHWC ``uint8`` tensor/array in [0, 255] as stored by the source (RGB for
            the CIFAR domains, also for ``cifar10_gray``; one trailing channel for MNIST). Any
            height/width: sources that differ from the domain's native size are resized to it
            first (tfds' ``cycle_gan`` images, for instance).
        domain: the domain (or its name).
        image_size: output height = width (default: the domain's native size).

    Returns:
        ``float32`` tensor of shape ``(..., image_size, image_size, domain.channels)`` in
        [-1, 1]. ``cifar10_gray`` is the ITU-R 601 luma ``0.299 R + 0.587 G + 0.114 B``.
    """
    import tensorflow as tf

    domain = get_domain(domain)
    size = _check_size(image_size, domain)
    x = tf.convert_to_tensor(images)
    if x.dtype != tf.uint8:
        raise ValueError(f"to_float expects uint8 source images in [0, 255], got {x.dtype}")
    x = tf.cast(x, tf.float32)
    if domain.luma:
        if x.shape[-1] != 3:
            raise ValueError(f"domain {domain.name!r} converts RGB sources, got shape {x.shape}")
        x = tf.tensordot(x, tf.constant(LUMA_WEIGHTS, tf.float32), axes=[[-1], [0]])[..., None]
    x = x / 127.5 - 1.0
    x = _resize(x, domain.image_size)
    x = _pad_or_resize(x, size, domain)
    return tf.clip_by_value(x, -1.0, 1.0)


# ---------------------------------------------------------------------------------------------
# the offline source: the layout of ../shared/data
# ---------------------------------------------------------------------------------------------

def _layout_error(message: str) -> FileNotFoundError:
    return FileNotFoundError(f"{message}\nExpected layout:\n{EXPECTED_LAYOUT}\n{_FIX_HINT}")


def _data_root(data_dir) -> Path:
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise _layout_error(f"data_dir {str(root)!r} does not exist or is not a folder.")
    return root


class DataFileError(ValueError):
    """A data file that exists but cannot be used (truncated, not the right format, or not the
    file ``manifest.csv`` lists); the message names it and says how to fix it."""


def _damaged(path, reason: str) -> DataFileError:
    reason = " ".join(str(reason).split())[:160]
    return DataFileError(f"data file {path} is damaged or not what it should be ({reason}); "
                         "replace it with a fresh copy (../shared/data/README.md lists the "
                         "SHA-256 of each file)")


@functools.lru_cache(maxsize=4)
def _npz_arrays(path: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """``(x uint8 NHWC, y int64)`` of one split of an npz file, cached (uint8: small)."""
    import zipfile

    try:
        npz = np.load(path)  # allow_pickle=False: object data is refused, never loaded
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _damaged(path, f"not a readable .npz file: {exc}") from None
    except ValueError as exc:
        text = str(exc)
        if "pickle" in text:
            text = "it holds pickled (object) data, which is never loaded"
        raise _damaged(path, text) from None
    if not hasattr(npz, "files"):  # a plain .npy file
        raise _damaged(path, "a single .npy array, not an .npz archive")
    with npz:
        missing = [k for k in (f"x_{split}", f"y_{split}") if k not in npz.files]
        if missing:
            raise _layout_error(
                f"{path} is incomplete: it has no {' / '.join(missing)} "
                f"(keys found: {', '.join(npz.files)})."
            )
        try:
            x = npz[f"x_{split}"]
            y = npz[f"y_{split}"].astype(np.int64).reshape(-1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError) as exc:
            text = str(exc)
            if "pickle" in text or "Object arrays" in text:
                text = "it holds object arrays (pickled data), which are never loaded"
            raise _damaged(path, text) from None
    if x.dtype != np.uint8:
        raise _layout_error(f"{path}: x_{split} must be uint8, found {x.dtype}.")
    if x.ndim == 3:
        x = x[..., None]
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def _offline_arrays(domain: Domain, split: str, data_dir) -> tuple[np.ndarray, np.ndarray]:
    path = _data_root(data_dir) / domain.offline_file
    if not path.is_file():
        raise _layout_error(
            f"data_dir {str(path.parent)!r} is incomplete: {domain.offline_file} is missing "
            f"(needed for domain {domain.name!r})."
        )
    return _npz_arrays(str(path), domain.offline_splits[split])


@functools.lru_cache(maxsize=2)
def _svhn_official_arrays(split: str, base: str, download: bool) -> tuple[np.ndarray, np.ndarray]:
    """The official SVHN crops of ``split`` as ``(uint8 NHWC, int64 labels 0-9)``: all 73,257
    training crops, or test crops from :data:`SVHN_ONLINE_TEST_START` on (16,032)."""
    from scipy.io import loadmat

    from . import pretrained

    name, size, sha256 = SVHN_FILES[split]
    dest = pretrained.cache_dir() / "svhn" / name
    url = f"{base}/{name}"
    fix = ("Without internet, use the offline files instead: pass data_dir='../shared/data' "
           f"(or --data-dir on the command line); or set {SVHN_URL_ENV} to a mirror.")
    if not download and not (dest.is_file() and pretrained.sha256_of(dest) == sha256):
        raise DatasetUnavailableError(f"SVHN {name} is not in the cache {dest.parent} and "
                                      f"download=False. {fix}")
    try:
        pretrained.download_verified(url, dest, sha256, size, what=f"SVHN {name}", fix=fix,
                                     progress=True)
    except pretrained.PretrainedUnavailableError as err:
        raise DatasetUnavailableError(str(err)) from err
    mat = loadmat(str(dest))
    x = np.ascontiguousarray(np.transpose(mat["X"], (3, 0, 1, 2)))
    y = mat["y"].reshape(-1).astype(np.int64)
    y[y == 10] = 0  # SVHN labels the digit 0 as 10
    if split == "test":
        x, y = x[SVHN_ONLINE_TEST_START:], y[SVHN_ONLINE_TEST_START:]
    return x, y


def _array_source(domain: Domain, split: str, data_dir,
                  download: bool = True) -> tuple[np.ndarray, np.ndarray] | None:
    """``(uint8 images, labels)`` when the split is held in memory (the offline ``.npz`` files,
    and SVHN online), else ``None`` (image folders, tfds)."""
    if data_dir is not None:
        return None if domain.is_folder else _offline_arrays(domain, split, data_dir)
    if domain.name == "svhn":
        base = os.environ.get(SVHN_URL_ENV, SVHN_URL).rstrip("/")
        return _svhn_official_arrays(split, base, download)
    return None


def _offline_files(domain: Domain, split: str, data_dir) -> list[str]:
    """Sorted JPEG paths of one folder split, checked against ``manifest.csv`` when present."""
    root = _data_root(data_dir) / domain.offline_file
    sub = domain.offline_splits[split]
    folder = root / sub
    if not folder.is_dir():
        raise _layout_error(
            f"data_dir {str(root.parent)!r} is incomplete: folder "
            f"{domain.offline_file}/{sub}/ is missing (domain {domain.name!r}, split {split!r})."
        )
    files = sorted(p.name for p in folder.iterdir()
                   if p.suffix.lower() in (".jpg", ".jpeg"))
    manifest = root / "manifest.csv"
    expected: dict[str, str] = {}
    if manifest.is_file():
        with open(manifest, newline="") as f:
            expected = {row["filename"]: row.get("sha256") or ""
                        for row in csv.DictReader(f) if row.get("split") == sub}
        missing = sorted(set(expected) - set(files))
        if missing:
            shown = ", ".join(f"{domain.offline_file}/{sub}/{m}" for m in missing[:3])
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            raise _layout_error(
                f"data_dir {str(root.parent)!r} is incomplete: {len(missing)} of "
                f"{len(expected)} images listed in manifest.csv are missing ({shown}{more})."
            )
    for name in files:
        _check_jpeg(folder / name, expected.get(name))
    if not files:
        raise _layout_error(
            f"data_dir {str(root.parent)!r} is incomplete: {domain.offline_file}/{sub}/ "
            "holds no .jpg images."
        )
    return [str(folder / name) for name in files]


def _check_jpeg(path: Path, sha256: str | None) -> None:
    """:class:`DataFileError` naming ``path`` when its SHA-256 differs from ``manifest.csv``'s
    (``sha256``; when the manifest lists it) or, without one, when it is not a whole JPEG (no
    start or end marker: truncated or another kind of file). Cached per size and time."""
    stat = path.stat()
    _check_jpeg_cached(str(path), sha256 or "", stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8192)
def _check_jpeg_cached(path: str, sha256: str, size: int, mtime_ns: int) -> None:
    import hashlib

    data = Path(path).read_bytes()
    if sha256:
        found = hashlib.sha256(data).hexdigest()
        if found != sha256.lower():
            raise _damaged(path, f"SHA-256 {found[:12]}..., manifest.csv lists "
                                 f"{sha256[:12]}...")
    elif not (data[:2] == b"\xff\xd8" and b"\xff\xd9" in data[-4096:]):
        raise _damaged(path, "not a complete JPEG file (start or end marker missing)")


def _decode_file(path, domain: Domain, size: int):
    import tensorflow as tf

    # INTEGER_ACCURATE: the same IDCT as Pillow/libjpeg defaults (TF's default is the fast one)
    image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3, dct_method="INTEGER_ACCURATE")
    return to_float(image, domain, size)


# ---------------------------------------------------------------------------------------------
# the tfds source
# ---------------------------------------------------------------------------------------------

def _tfds_dataset(domain: Domain, split: str, *, shuffle: bool, seed: int | None,
                  tfds_data_dir, download: bool):
    """The encoded tfds split (images not decoded yet: cheap to shuffle)."""
    import tensorflow_datasets as tfds

    tfds_split = domain.tfds_splits[split]
    hint = (
        "Without internet, use the offline files instead: pass data_dir='../shared/data' "
        f"(or --data-dir on the command line).\nExpected layout:\n{EXPECTED_LAYOUT}"
    )
    try:
        builder = tfds.builder(domain.tfds_name, data_dir=tfds_data_dir)
        if download:
            builder.download_and_prepare()
        read_config = tfds.ReadConfig(shuffle_seed=seed) if shuffle else None
        ds = builder.as_dataset(split=tfds_split, shuffle_files=shuffle, read_config=read_config,
                                decoders={"image": tfds.decode.SkipDecoding()})
        feature = builder.info.features["image"]
    except Exception as err:  # noqa: BLE001  (any failure here means: tfds has no data)
        what = (f"could not download {domain.tfds_name!r} (no internet?)" if download else
                f"has no prepared copy of {domain.tfds_name!r} and download=False")
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise DatasetUnavailableError(
            f"tensorflow_datasets {what} (split {tfds_split!r}, domain {domain.name!r}): "
            f"{type(err).__name__}: {first[:300]}\n{hint}"
        ) from err
    return ds, feature


# ---------------------------------------------------------------------------------------------
# public loaders
# ---------------------------------------------------------------------------------------------

def load_domain(
    name: str,
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    *,
    with_labels: bool = False,
    image_size: int | None = None,
    shuffle: bool = False,
    seed: int | None = None,
    tfds_data_dir: str | os.PathLike | None = None,
    download: bool = True,
    half: int | None = None,
):
    """One split of a domain as a ``tf.data.Dataset`` of single images.

    Args:
        name: a domain of :data:`DOMAINS`: ``mnist``, ``svhn``, ``cifar10_color``,
            ``cifar10_gray``, ``monet``, ``photo``.
        split: ``"train"`` or ``"test"``.
        data_dir: ``None`` reads the online sources, downloading on first use (MNIST 11.6 MB,
            CIFAR-10 170.1 MB and Monet/photo 305.2 MB through TensorFlow Datasets; SVHN's
            official ``train_32x32.mat`` 182.0 MB or ``test_32x32.mat`` 64.3 MB, only the split
            asked for, checked by SHA-256; see :data:`ONLINE_DOWNLOAD_BYTES`); a folder reads the
            offline files laid out as :data:`EXPECTED_LAYOUT` (``../shared/data``). The splits
            differ in size but never in role: online SVHN ``test`` is official test crops
            10,000-26,031 (16,032), disjoint from the offline file's official crops 0-9,999 that
            trained and scored the shipped models; online ``train`` is the official 73,257.
        with_labels: yield ``(image, label)`` with an int64 scalar label in
            ``[0, num_classes)``; ``ValueError`` for domains without labels (monet, photo).
        image_size: output height = width; default the domain's native size (mnist 28,
            svhn/cifar 32, monet/photo 256). MNIST grows by padding with its black background
            (28 -> 32 adds 2 pixels per side); other changes resize bilinearly (antialiased).
        shuffle: shuffle the whole split, reshuffled each iteration, *before* decoding
            (cheap: indices, file names or encoded bytes are shuffled, not float images).
        seed: seed for ``shuffle`` (deterministic order given the seed).
        tfds_data_dir: where tfds keeps its files (tfds default when ``None``).
        download: allow downloading when the data is missing (``data_dir=None`` only).
        half: ``None`` (all images), ``0`` (the even-numbered images of the split, in the
            source's order) or ``1`` (the odd-numbered ones): :func:`half_indices`. Two domains of
            the same source read with ``half=0`` and ``half=1`` share no image
            (:data:`TASK_HALVES`).

    Returns:
        A finite dataset (known cardinality) of ``float32`` images of shape
        ``(image_size, image_size, channels)`` in ``[-1, 1]``, or ``(image, label)`` pairs.

    Raises:
        ValueError: unknown domain, split, or labels asked of an unlabelled domain.
        FileNotFoundError: ``data_dir`` missing or incomplete (names the missing file).
        DatasetUnavailableError: tfds cannot download or find the dataset.
    """
    import tensorflow as tf

    domain = get_domain(name)
    split = _check_split(split)
    size = _check_size(image_size, domain)
    if with_labels and not domain.has_labels:
        raise ValueError(f"domain {domain.name!r} has no labels; use with_labels=False")
    autotune = tf.data.AUTOTUNE

    if half is not None:
        half_indices(0, half)  # checks the value
    arrays = _array_source(domain, split, data_dir, download)
    if arrays is not None:
        x_u8, y = arrays
        images = tf.constant(x_u8)
        labels = tf.constant(y)
        ds = tf.data.Dataset.range(len(x_u8))
        if half is not None:
            ds = tf.data.Dataset.from_tensor_slices(half_indices(len(x_u8), half))
        n_images = int(ds.cardinality())
        if shuffle:
            ds = ds.shuffle(n_images, seed=seed, reshuffle_each_iteration=True)

        def from_index(i):
            image = to_float(tf.gather(images, i), domain, size)
            return (image, tf.gather(labels, i)) if with_labels else image

        return ds.map(from_index, num_parallel_calls=autotune)

    if data_dir is not None:
        files = _offline_files(domain, split, data_dir)
        if half is not None:
            files = [files[i] for i in half_indices(len(files), half)]
        ds = tf.data.Dataset.from_tensor_slices(files)
        if shuffle:
            ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
        return ds.map(lambda p: _decode_file(p, domain, size), num_parallel_calls=autotune)

    # With ``half``, the files are read in their fixed order (no file shuffling) so that the
    # even/odd positions name the same images for both domains; shuffle() below still shuffles.
    ds, feature = _tfds_dataset(domain, split, shuffle=shuffle and half is None, seed=seed,
                                tfds_data_dir=tfds_data_dir, download=download)
    if half is not None:
        ds = ds.shard(2, half)
    if shuffle:
        n = int(ds.cardinality())
        ds = ds.shuffle(max(1, min(n, 20_000)) if n > 0 else 10_000, seed=seed,
                        reshuffle_each_iteration=True)

    def from_example(example):
        image = feature.decode_example(example["image"])
        image = to_float(image, domain, size)
        if with_labels:
            return image, tf.cast(example["label"], tf.int64)
        return image

    return ds.map(from_example, num_parallel_calls=autotune)


def load_arrays(
    name: str,
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    *,
    limit: int | None = None,
    image_size: int | None = None,
    **tfds_options,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The first ``limit`` images of a split as NumPy arrays (same contract as
    :func:`load_domain`, in the source's order).

    Returns:
        ``(images, labels)``: ``float32`` NHWC images in ``[-1, 1]`` and int64 labels of
        shape ``(N,)``, or ``None`` for domains without labels (monet, photo).
    """

    domain = get_domain(name)
    split = _check_split(split)
    size = _check_size(image_size, domain)
    if limit is not None and (isinstance(limit, bool) or int(limit) != limit or limit < 0):
        raise ValueError(f"limit must be a non-negative int or None, got {limit!r}")

    arrays = _array_source(domain, split, data_dir, tfds_options.get("download", True))
    if arrays is not None:
        x_u8, y = arrays
        x_u8, y = x_u8[:limit], y[:limit]
        chunks = [to_float(x_u8[i:i + 4096], domain, size).numpy()
                  for i in range(0, len(x_u8), 4096)]
        images = (np.concatenate(chunks) if chunks
                  else np.zeros((0, size, size, domain.channels), np.float32))
        return images, np.array(y, dtype=np.int64)

    ds = load_domain(domain.name, split, data_dir, with_labels=domain.has_labels,
                     image_size=size, **tfds_options)
    if limit is not None:
        ds = ds.take(int(limit))
    images, labels = [], []
    for element in ds.batch(256).as_numpy_iterator():
        if domain.has_labels:
            images.append(element[0])
            labels.append(element[1])
        else:
            images.append(element)
    x = (np.concatenate(images).astype(np.float32) if images
         else np.zeros((0, size, size, domain.channels), np.float32))
    if not domain.has_labels:
        return x, None
    return x, (np.concatenate(labels).astype(np.int64) if labels else np.zeros(0, np.int64))


def load_labels(
    name: str,
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    *,
    limit: int | None = None,
    **tfds_options,
) -> np.ndarray:
    """The int64 labels, shape ``(N,)``, of a split (in :func:`load_domain`'s order), without
    decoding a single image: cheap even for all 60,000 MNIST labels.
    ``ValueError`` for domains without labels (monet, photo)."""
    import tensorflow as tf

    domain = get_domain(name)
    split = _check_split(split)
    if not domain.has_labels:
        raise ValueError(f"domain {domain.name!r} has no labels")
    arrays = _array_source(domain, split, data_dir, tfds_options.get("download", True))
    if arrays is not None:
        return np.array(arrays[1][:limit], dtype=np.int64)
    ds, _ = _tfds_dataset(domain, split, shuffle=False, seed=None,
                          tfds_data_dir=tfds_options.get("tfds_data_dir"),
                          download=tfds_options.get("download", True))
    ds = ds.map(lambda ex: tf.cast(ex["label"], tf.int64))
    if limit is not None:
        ds = ds.take(int(limit))
    chunks = list(ds.batch(4096).as_numpy_iterator())
    return np.concatenate(chunks).astype(np.int64) if chunks else np.zeros(0, np.int64)


# ---------------------------------------------------------------------------------------------
# augmentation and the unpaired training stream
# ---------------------------------------------------------------------------------------------

def default_load_size(crop_size: int) -> int:
    """The paper's jitter load size scaled to ``crop_size``: 286/256 of it, rounded
    (256 -> 286, 128 -> 143, 32 -> 36, 28 -> 31)."""
    return int(round(crop_size * 286 / 256))


def jitter(image, seed, *, load_size: int | None = None, crop_size: int | None = None,
           flip: bool = True):
    """The CycleGAN paper's augmentation of one image: resize to ``load_size`` x
    ``load_size`` (bicubic, as the official ``get_transform``), random crop ``crop_size`` x
    ``crop_size``, random horizontal flip.

    Args:
        image: HWC ``float32`` tensor in [-1, 1].
        seed: shape-(2,) integer tensor for the stateless random ops (a different seed per
            image and epoch gives a different crop/flip; the same seed the same result).
        load_size: resize target; default :func:`default_load_size` of ``crop_size``.
        crop_size: crop (= output) size; default the image's height.
        flip: random horizontal flip with probability 1/2.

    Returns:
        ``float32`` tensor ``(crop_size, crop_size, C)`` in [-1, 1].
    """
    import tensorflow as tf

    image = tf.convert_to_tensor(image)
    if image.dtype != tf.float32 or image.shape.rank != 3:
        raise ValueError(
            f"jitter expects one HWC float32 image in [-1, 1], got {image.dtype} {image.shape}"
        )
    if crop_size is None:
        if image.shape[0] is None:
            raise ValueError("jitter: pass crop_size for images of unknown height")
        crop_size = int(image.shape[0])
    load_size = default_load_size(crop_size) if load_size is None else int(load_size)
    if load_size < crop_size:
        raise ValueError(f"jitter: load_size {load_size} must be >= crop_size {crop_size}")
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    channels = image.shape[-1]
    x = tf.image.resize(image, (load_size, load_size), method="bicubic")
    x = tf.image.stateless_random_crop(x, (crop_size, crop_size, channels), seed=seed)
    if flip:
        x = tf.image.stateless_random_flip_left_right(x, seed=seed[::-1] + 1)
    return tf.clip_by_value(x, -1.0, 1.0)


_jitter_image = jitter  # unpaired() has a ``jitter`` flag that shadows the function's name


def check_images(images, name: str = "images") -> np.ndarray:
    """Validate a user-given NHWC batch: float32 (or another float), 1 or 3 channels, finite,
    values in [-1, 1]. Returns it as a float32 array; ``ValueError`` explaining the problem."""
    arr = np.asarray(images)
    if not np.issubdtype(arr.dtype, np.floating):
        hint = " (uint8 pixels? convert with x / 127.5 - 1)" if arr.dtype == np.uint8 else ""
        raise ValueError(f"{name} must be float32 in [-1, 1], got dtype {arr.dtype}{hint}")
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3):
        raise ValueError(
            f"{name} must be NHWC with 1 or 3 channels, got shape {arr.shape}"
        )
    arr = arr.astype(np.float32, copy=False)
    if arr.size:
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contain NaN or inf values")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < -1.0 - 1e-6 or hi > 1.0 + 1e-6:
            hint = " (pixels in [0, 255]? use x / 127.5 - 1; in [0, 1]? use 2 x - 1)" \
                if hi > 1.0 else ""
            raise ValueError(f"{name} must lie in [-1, 1], found [{lo:.4g}, {hi:.4g}]{hint}")
    return arr


def _image_dataset(source, name: str):
    """A dataset of single HWC float32 images from a dataset (labels dropped) or an array."""
    import tensorflow as tf

    if not isinstance(source, tf.data.Dataset):
        arr = check_images(source, name)
        if len(arr) == 0:
            raise ValueError(f"{name} is empty")
        return tf.data.Dataset.from_tensor_slices(arr)
    spec = source.element_spec
    if isinstance(spec, tuple):  # (image, label, ...) -> image
        source = source.map(lambda *xs: xs[0])
        spec = source.element_spec
    if not isinstance(spec, tf.TensorSpec) or spec.dtype != tf.float32 \
            or spec.shape.rank != 3 or spec.shape[-1] not in (1, 3):
        raise ValueError(
            f"{name} must be a dataset of single HWC float32 images in [-1, 1] (unbatched, "
            f"e.g. from load_domain), got element_spec {spec}"
        )
    if int(source.cardinality()) == 0:
        raise ValueError(f"{name} is empty")
    return source


def _auto_buffer(ds, budget_bytes: int = 256 * 2**20, max_images: int = 10_000) -> int:
    """A shuffle buffer holding the whole dataset when it has at most ``max_images`` images
    and their float32 pixels fit ``budget_bytes``, else as many as allowed (at least 64).
    (The buffer is refilled every epoch: a full 60,000-image buffer would stall each epoch.)"""
    n = int(ds.cardinality())
    h, w, c = ds.element_spec.shape
    per_image = 4 * (h or 256) * (w or 256) * (c or 3)
    fit = max(64, min(max_images, budget_bytes // per_image))
    return fit if n < 0 else max(1, min(n, fit))


def _seeded_map(ds, fn, seed: int):
    """``ds.map(fn(element, (seed, index)))``: each element's randomness is a function of the
    base ``seed`` and its position, so the stream replays exactly and ``skip`` resumes it."""
    import tensorflow as tf

    def apply(index, element):
        return fn(element, tf.stack([tf.constant(seed, tf.int64), index]))

    return ds.enumerate().map(apply, num_parallel_calls=tf.data.AUTOTUNE)


def unpaired(
    domain_a,
    domain_b,
    batch_size: int,
    *,
    jitter: bool = False,
    load_size: int | None = None,
    crop_size: int | None = None,
    flip: bool = True,
    seed: int | None = None,
    shuffle_buffer: int | None = None,
    prefetch: bool = True,
    augment_a=None,
    augment_b=None,
):
    """The unpaired training stream: two independently shuffled domains, zipped in batches.

    Each side is shuffled with its own seed (reshuffled every epoch), repeated forever,
    optionally jittered afresh every epoch (:func:`jitter`: resize to ``load_size``, random
    crop ``crop_size``, random flip; nothing augmented is cached), batched with
    ``drop_remainder=True``, then the two are zipped and prefetched. Given ``seed`` the stream
    is deterministic; with ``seed=None`` one is drawn from Python's ``random`` (so
    ``runinfo.set_seed`` makes it reproducible).

    Args:
        domain_a, domain_b: datasets of single HWC float32 images in [-1, 1] (``(image,
            label)`` elements have their labels dropped), or NHWC float32 arrays in [-1, 1].
        batch_size: images per batch on each side.
        jitter: apply the paper's jitter.
        load_size, crop_size: jitter sizes; defaults: crop = the image size, load =
            :func:`default_load_size` (286 for 256, 36 for 32).
        flip: random horizontal flip in the jitter.
        seed: base seed of the two shuffles and the jitter.
        shuffle_buffer: shuffle buffer per side; default the whole dataset when it has at
            most 10,000 images whose floats fit in 256 MB, else what fits (e.g. 341 of
            256x256x3). 0 disables. For a cheap full shuffle of a large domain, also pass
            ``load_domain(..., shuffle=True, seed=...)`` (shuffles indices or file names).
        prefetch: end with ``prefetch(AUTOTUNE)``.
        augment_a, augment_b: optional batch augmentation of one side,
            ``fn(batch, seed) -> batch`` with ``batch`` ``(batch_size, H, W, C)`` in [-1, 1] and
            ``seed`` a ``(2,)`` int64 tensor derived from ``seed`` and the batch index, so the
            stream stays a function of ``seed`` (e.g. ``lambda x, s:
            classifiers.augment_batch(x, strength="svhn", seed=s)``).

    Returns:
        An infinite ``tf.data.Dataset`` of ``(a_batch, b_batch)``, each
        ``(batch_size, H, W, C)`` float32 in [-1, 1] (``H = W = crop_size`` with jitter).
    """
    import tensorflow as tf

    do_jitter = jitter
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if seed is None:
        seed = random.randrange(2**31)
    shuffle_a, shuffle_b, jitter_a, jitter_b, augment_seed_a, augment_seed_b = (
        int(s) for s in np.random.SeedSequence(int(seed)).generate_state(6) % (2**31 - 1)
    )
    for name, fn in (("augment_a", augment_a), ("augment_b", augment_b)):
        if fn is not None and not callable(fn):
            raise ValueError(f"{name} must be a function (batch, seed) -> batch, got {fn!r}")

    def side(source, name, shuffle_seed, jitter_seed, augment_fn, augment_seed):
        ds = _image_dataset(source, name)
        buffer = _auto_buffer(ds) if shuffle_buffer is None else int(shuffle_buffer)
        if buffer > 1:
            ds = ds.shuffle(buffer, seed=shuffle_seed, reshuffle_each_iteration=True)
        ds = ds.repeat()
        if do_jitter:
            crop = crop_size
            if crop is None:
                crop = ds.element_spec.shape[0]
                if crop is None:
                    raise ValueError(f"{name}: pass crop_size (image size unknown)")
            load = load_size

            def augment(image, step_seed):
                return _jitter_image(image, step_seed, load_size=load, crop_size=int(crop),
                                     flip=flip)

            ds = _seeded_map(ds, augment, jitter_seed)
        ds = ds.batch(int(batch_size), drop_remainder=True)
        return ds if augment_fn is None else _seeded_map(ds, augment_fn, augment_seed)

    pairs = tf.data.Dataset.zip((
        side(domain_a, "domain_a", shuffle_a, jitter_a, augment_a, augment_seed_a),
        side(domain_b, "domain_b", shuffle_b, jitter_b, augment_b, augment_seed_b)))
    return pairs.prefetch(tf.data.AUTOTUNE) if prefetch else pairs
