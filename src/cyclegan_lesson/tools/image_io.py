"""Reading image files at their true values, one clear error per bad file.

:func:`read_image` turns any image file Pillow opens into a float32 HWC array in [-1, 1]:

* 8-bit images (gray, RGB, palette, CMYK, with or without alpha: alpha dropped) as they are;
* 16-bit gray (``I;16``, or ``I`` with values in 0..65535) divided by 65535 -- the true level,
  not the image's own maximum;
* float images (``F``, e.g. float32 TIFF) taken as levels in [0, 1]; values outside are
  refused (one line, with the range found);
* the EXIF orientation applied (a photo is read the way it is displayed);
* a file declaring more than :data:`MAX_PIXELS` pixels (a decompression bomb) refused before
  decoding.

Errors are :class:`ImageReadError` (a ``ValueError``) naming the file. :func:`image_size`
reads only the header (size after the EXIF rotation), so a folder of large images can be
checked without decoding any.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

__all__ = ["read_image", "image_size", "ImageReadError", "MAX_PIXELS"]

#: Largest image accepted, in pixels (Pillow's own bomb limit, 89.5 MP: e.g. 12,000 x 7,400).
MAX_PIXELS = 89_478_485

_ROTATED = (5, 6, 7, 8)  # EXIF orientations that swap width and height


class ImageReadError(ValueError):
    """An image file that cannot be read (the message names the file and the reason)."""


def _open(path: Path):
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
    except UnidentifiedImageError:
        raise ImageReadError(f"not an image file: {path}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageReadError(f"image {path} declares more than {MAX_PIXELS:,} pixels (a "
                             "decompression bomb?); resize it first") from None
    except (OSError, SyntaxError) as exc:
        raise ImageReadError(f"cannot read image {path}: {exc}") from None
    w, h = img.size
    if w * h > MAX_PIXELS:
        img.close()
        raise ImageReadError(f"image {path} is {w}x{h} = {w * h:,} pixels, more than the limit "
                             f"of {MAX_PIXELS:,} (a decompression bomb?); resize it first")
    return img


def _orientation(img) -> int:
    try:
        return int(img.getexif().get(0x0112, 1))
    except Exception:  # a damaged EXIF block: no rotation
        return 1


def image_size(path) -> tuple[int, int]:
    """``(width, height)`` of the image file as displayed (after its EXIF orientation), read
    from the header only; :class:`ImageReadError` when it is not an image or too large."""
    path = Path(path)
    img = _open(path)
    with img:
        w, h = img.size
        return (h, w) if _orientation(img) in _ROTATED else (w, h)


def _levels(img, path: Path) -> np.ndarray | None:
    """A high-bit-depth gray image as float32 levels in [0, 1]; ``None`` for 8-bit modes."""
    if img.mode.startswith("I;16"):
        return np.asarray(img, dtype=np.float32) / 65535.0
    if img.mode == "I":
        arr = np.asarray(img, dtype=np.float64)
        if arr.size and (arr.min() < 0 or arr.max() > 65535):
            raise ImageReadError(f"cannot read image {path}: 32-bit integer values in "
                                 f"[{arr.min():.0f}, {arr.max():.0f}], expected 0..65535; save "
                                 "it as an 8- or 16-bit image")
        return (arr / 65535.0).astype(np.float32)
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float32)
        if arr.size and (not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1):
            raise ImageReadError(f"cannot read image {path}: float values in "
                                 f"[{np.nanmin(arr):.4g}, {np.nanmax(arr):.4g}], expected levels "
                                 "in [0, 1]; scale it to 0..1 or save it as an 8-bit image")
        return arr
    return None


def read_image(path, size: tuple[int, int] | None = None, channels: int = 3
               ) -> tuple[np.ndarray, tuple[int, int]]:
    """Read one image file at its true values.

    Args:
        path: the file.
        size: ``(height, width)`` to resize to (bicubic), or ``None`` for its own size.
        channels: 1 (RGB -> ITU-R 601 luma) or 3 (gray repeated).

    Returns:
        ``(image, (width, height))``: float32 ``(H, W, channels)`` in [-1, 1] and the size of
        the file as displayed (after its EXIF orientation).

    Raises:
        ImageReadError: not an image, truncated or corrupt data, too many pixels, or values
            outside the range of its type.
    """
    from PIL import Image, ImageOps

    path = Path(path)
    if channels not in (1, 3):
        raise ValueError(f"read_image: channels must be 1 or 3, got {channels}")
    img = _open(path)
    try:
        with img:
            w, h = img.size
            original = (h, w) if _orientation(img) in _ROTATED else (w, h)
            if size is not None and img.format == "JPEG":  # decode at a reduced scale
                img.draft(img.mode, (max(size), max(size)))  # (never below the target size)
            img.load()
            img = ImageOps.exif_transpose(img)
            levels = _levels(img, path)
            if levels is not None:
                return _from_levels(levels, size, channels), original
            if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
                img = img.convert("RGBA").convert("RGB")  # drop alpha
            # PIL's RGB -> L conversion is the ITU-R 601 luma 0.299 R + 0.587 G + 0.114 B.
            img = img.convert("L" if channels == 1 else "RGB")
            if size is not None and img.size != (size[1], size[0]):
                img = img.resize((size[1], size[0]), Image.Resampling.BICUBIC)
            arr = np.asarray(img, dtype=np.float32)
    except ImageReadError:
        raise
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt image data
        raise ImageReadError(f"cannot read image {path}: {exc}") from None
    if arr.ndim == 2:
        arr = arr[..., None]
    return arr / 127.5 - 1.0, original


def _from_levels(levels: np.ndarray, size, channels: int) -> np.ndarray:
    from PIL import Image

    if size is not None and levels.shape != tuple(size):
        levels = np.asarray(Image.fromarray(levels.astype(np.float32))
                            .resize((size[1], size[0]), Image.Resampling.BICUBIC))
    levels = np.clip(levels, 0.0, 1.0).astype(np.float32)[..., None]
    if channels == 3:
        levels = np.repeat(levels, 3, axis=-1)
    return levels * 2.0 - 1.0
