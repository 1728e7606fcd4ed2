"""Figures used across chapters: image grids and loss curves.

Images come in as NHWC or HWC arrays (or tensors) in [-1, 1], the package's convention, and are
converted to uint8 only here, at the edge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["to_uint8", "image_grid", "save_image_grid", "plot_image_rows", "plot_history"]


def to_uint8(images) -> np.ndarray:
    """Map images in [-1, 1] (any leading shape, last axis channels) to uint8 in [0, 255].

    Values outside [-1, 1] are clipped. Raises ``ValueError`` for non-finite values.
    """
    arr = np.asarray(images, dtype=np.float32)
    if not np.all(np.isfinite(arr)):
        raise ValueError("to_uint8: images contain NaN or inf values.")
    return np.round((np.clip(arr, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


def _as_rgb(img: np.ndarray) -> np.ndarray:
    if img.ndim != 3 or img.shape[-1] not in (1, 3):
        raise ValueError(f"expected an HWC image with 1 or 3 channels, got shape {img.shape}")
    return np.repeat(img, 3, axis=-1) if img.shape[-1] == 1 else img


def image_grid(rows: Sequence, pad: int = 2) -> np.ndarray:
    """Tile rows of images into one uint8 RGB array.

    ``rows`` is a sequence of rows, each a sequence (or NHWC array) of images in [-1, 1] with
    1 or 3 channels; images of one grid share height and width. Grayscale is shown as gray RGB.
    """
    rows = [[_as_rgb(to_uint8(im)) for im in row] for row in rows]
    if not rows or not rows[0]:
        raise ValueError("image_grid: no images given")
    h, w = rows[0][0].shape[:2]
    ncols = max(len(r) for r in rows)
    grid = np.full(
        (len(rows) * (h + pad) + pad, ncols * (w + pad) + pad, 3), 255, dtype=np.uint8
    )
    for i, row in enumerate(rows):
        for j, im in enumerate(row):
            if im.shape[:2] != (h, w):
                raise ValueError(
                    f"image_grid: all images must share one size, got {im.shape[:2]} and {(h, w)}"
                )
            top, left = pad + i * (h + pad), pad + j * (w + pad)
            grid[top : top + h, left : left + w] = im
    return grid


def save_image_grid(rows: Sequence, path, pad: int = 2) -> str:
    """Write :func:`image_grid` of ``rows`` as a PNG file and return its path."""
    from PIL import Image

    Image.fromarray(image_grid(rows, pad=pad)).save(path)
    return str(path)


def plot_image_rows(
    rows: Sequence,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    scale: float = 1.2,
    title: str | None = None,
):
    """A matplotlib figure with one subplot per image (rows x columns), labelled; returns it.

    Each image is HWC in [-1, 1] with 1 or 3 channels; images may differ in size.
    """
    import matplotlib.pyplot as plt

    nrows, ncols = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(scale * ncols + 0.8, scale * nrows + 0.4), squeeze=False
    )
    for i in range(nrows):
        for j in range(ncols):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if j < len(rows[i]):
                ax.imshow(_as_rgb(to_uint8(rows[i][j])), interpolation="nearest")
            if row_labels is not None and j == 0:
                ax.set_ylabel(row_labels[i], rotation=0, ha="right", va="center")
            if col_labels is not None and i == 0 and j < len(col_labels):
                ax.set_title(col_labels[j], fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_history(history: Mapping[str, Sequence[float]], keys: Sequence[str] | None = None,
                 title: str | None = None, xlabel: str = "epoch", logy: bool = False):
    """Line plot of training curves: ``history`` maps a name to its values; returns the figure."""
    import matplotlib.pyplot as plt

    keys = list(history) if keys is None else list(keys)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for key in keys:
        values = list(history[key])
        ax.plot(range(1, len(values) + 1), values, label=key)
    ax.set_xlabel(xlabel)
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


# --- normalization cubes (chapter 3) ---------------------------------------------------------


def plot_normalization_cubes(n: int = 6, c: int = 6, hw: int = 5, group_size: int = 2):
    """Wu & He's (2018, Figure 2) picture of batch, layer, instance and group norm; returns the
    figure.

    Each panel is a box of ``n x c x hw`` voxels: the batch axis N, the channel axis C and the
    pixels H, W flattened into one vertical axis. The voxels that share one mean and variance
    are shaded blue. The slab is always put on a face the viewer sees (C = the front face,
    N = the right-hand face), so every variant's shading is visible: batch norm shades a C-slice
    (all of N and H, W), layer norm an N-slice (all of C and H, W), instance norm one column
    (one image, one channel) and group norm ``group_size`` channels of one image.
    """
    import matplotlib.pyplot as plt

    front_c, right_n = 0, n - 1  # faces seen from the viewpoint below (azimuth -55 degrees)
    panels = [
        ("Batch Norm", np.s_[:, front_c, :]),
        ("Layer Norm", np.s_[right_n, :, :]),
        ("Instance Norm", np.s_[right_n, front_c, :]),
        (f"Group Norm ({c // group_size} groups)",
         np.s_[right_n, front_c:front_c + group_size, :]),
    ]
    fig = plt.figure(figsize=(12, 3.4))
    for index, (title, shade) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), index + 1, projection="3d")
        colors = np.full((n, c, hw), "#f2f2f2", dtype=object)
        colors[shade] = "#4a90d9"
        ax.voxels(np.ones((n, c, hw), dtype=bool), facecolors=colors, edgecolors="#555555",
                  linewidth=0.3)
        ax.set_xlabel("N", labelpad=-12)
        ax.set_ylabel("C", labelpad=-12)
        ax.set_zlabel("H, W", labelpad=-12)
        ax.set_xticks([]), ax.set_yticks([]), ax.set_zticks([])
        ax.set_box_aspect((n, c, hw), zoom=0.8)
        ax.view_init(elev=20, azim=-55)
        ax.set_title(title, y=0.98)
    fig.tight_layout()
    return fig
