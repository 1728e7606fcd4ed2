"""Figures used across chapters: image grids and loss curves.

Images come in as NHWC or HWC arrays (or tensors) in [-1, 1], the package's convention, and are
converted to uint8 only here, at the edge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["image_grid", "labelled_grid", "plot_history", "plot_image_rows", "save_image_grid",
           "to_uint8"]


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


def labelled_grid(rows: Sequence, col_labels: Sequence[str] | None = None,
                  row_labels: Sequence[str] | None = None, pad: int = 2,
                  min_cell: int = 72) -> np.ndarray:
    """:func:`image_grid` with the column labels drawn above and the row labels to the left
    (PIL's built-in font; images are enlarged by an integer factor, nearest neighbour, until a
    cell is at least ``min_cell`` pixels wide so that the labels fit). Returns uint8 RGB."""
    from PIL import Image, ImageDraw

    grid = image_grid(rows, pad=pad)
    if not col_labels and not row_labels:
        return grid
    first = np.asarray(rows[0][0])
    h, w = first.shape[:2]
    factor = max(1, -(-min_cell // w))
    img = Image.fromarray(grid).resize((grid.shape[1] * factor, grid.shape[0] * factor),
                                       Image.NEAREST)
    cell_w, cell_h = (w + pad) * factor, (h + pad) * factor
    top = 14 if col_labels else 0
    left = 8 + 6 * max((len(t) for t in row_labels), default=0) if row_labels else 0
    canvas = Image.new("RGB", (img.width + left, img.height + top), (255, 255, 255))
    canvas.paste(img, (left, top))
    draw = ImageDraw.Draw(canvas)
    for j, text in enumerate(col_labels or []):
        draw.text((left + pad * factor + j * cell_w, 2), str(text), fill=(0, 0, 0))
    for i, text in enumerate(row_labels or []):
        draw.text((2, top + pad * factor + i * cell_h + cell_h // 2 - 6), str(text),
                  fill=(0, 0, 0))
    return np.asarray(canvas)


def save_image_grid(rows: Sequence, path, pad: int = 2, col_labels: Sequence[str] | None = None,
                    row_labels: Sequence[str] | None = None) -> str:
    """Write :func:`image_grid` of ``rows`` (with labels: :func:`labelled_grid`) as a PNG file
    and return its path."""
    from PIL import Image

    Image.fromarray(labelled_grid(rows, col_labels, row_labels, pad=pad)).save(path)
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


# --- diagrams ----------------------------------------------------------------------------------
# The course's pictures of the model: the cycle (intro, chapter 11) and the two architectures.
# Colours are from the Okabe-Ito palette, distinguishable with the common colour-vision
# deficiencies. Architecture shapes and receptive fields are read from the Keras models the
# package builds, so a diagram cannot disagree with the code.

__all__ += [
    "cycle_diagram",
    "patchgan_diagram",
    "plot_normalization_cubes",
    "resnet_generator_diagram",
]

#: Okabe-Ito colours used by the diagrams.
_OKABE_ITO = {"blue": "#0072B2", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
              "yellow": "#F0E442", "vermillion": "#D55E00", "purple": "#CC79A7",
              "gray": "#555555"}


def _diagram_axes(ax, figsize, xlim, ylim):
    """A fresh figure (or the given axes) with no frame, equal aspect and the given limits."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax.figure, ax


def _box(ax, xy, width, height, text="", *, face, edge, fontsize=11, lw=1.4, rounding=0.08,
         text_color="black", zorder=2, **text_kw):
    """A rounded box centred at ``xy`` with ``text`` in its middle; returns the patch."""
    from matplotlib.patches import FancyBboxPatch

    x, y = xy
    patch = FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                           boxstyle=f"round,pad=0,rounding_size={rounding}",
                           facecolor=face, edgecolor=edge, linewidth=lw, zorder=zorder)
    ax.add_patch(patch)
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=text_color,
                zorder=zorder + 1, **text_kw)
    return patch


def _arrow(ax, start, end, *, color="black", lw=1.5, style="-|>", rad=0.0, ls="-",
           shrink=0.0, zorder=1, mutation_scale=14):
    from matplotlib.patches import FancyArrowPatch

    arrow = FancyArrowPatch(start, end, arrowstyle=style, color=color, linewidth=lw,
                            linestyle=ls, connectionstyle=f"arc3,rad={rad}",
                            shrinkA=shrink, shrinkB=shrink, mutation_scale=mutation_scale,
                            zorder=zorder)
    ax.add_patch(arrow)
    return arrow


def cycle_diagram(ax=None, show_identity: bool = False):
    """The CycleGAN cycle: two domains, two generators, two discriminators and where each loss acts.

    Domain X (left) and domain Y (right) hold the images; the generators sit between them.
    Upper loop (forward cycle): ``x -> G_XY -> y' -> G_YX -> x''``; lower loop (backward cycle):
    ``y -> G_YX -> x' -> G_XY -> y''``. ``D_X`` compares real ``x`` with translations ``x'``,
    ``D_Y`` real ``y`` with ``y'``; the cycle-consistency losses compare each image with its
    reconstruction. With ``show_identity`` the identity losses ``||G_YX(x) - x||_1`` and
    ``||G_XY(y) - y||_1`` are drawn as loops on the real images. A note at the bottom maps the
    symbols to the paper's (``G``, ``F``) and the code's (``G_AB``, ``G_BA``, ``D_A``, ``D_B``).

    Args:
        ax: matplotlib axes to draw in, or ``None`` for a new 10 x 5 inch figure.
        show_identity: also draw the two identity losses.

    Returns:
        the ``matplotlib.figure.Figure``.
    """
    c = _OKABE_ITO
    fig, ax = _diagram_axes(ax, (10, 5), (0, 12), (-0.2, 5.8))

    # The two domains: shaded regions, each holding its images and its discriminator.
    dom_x, dom_y = "#DCEBF7", "#FBEBCD"  # light sky blue, light orange
    _box(ax, (2.15, 2.95), 4.0, 5.3, face=dom_x, edge=c["blue"], lw=1.2, rounding=0.25,
         zorder=0)
    _box(ax, (9.85, 2.95), 4.0, 5.3, face=dom_y, edge=c["orange"], lw=1.2, rounding=0.25,
         zorder=0)
    ax.text(0.35, 5.32, "domain $X$", ha="left", va="center", fontsize=13, color=c["blue"],
            fontweight="bold")
    ax.text(11.65, 5.32, "domain $Y$", ha="right", va="center", fontsize=13,
            color="#8A5A00", fontweight="bold")

    # Images (x column 3.3 in X, 8.7 in Y) and networks (generators in the middle at 6.0).
    img_w, img_h, gen_w, gen_h = 0.75, 0.5, 1.1, 0.55
    xc, yc, gc = 3.3, 8.7, 6.0
    row_x, row_rec_x, row_fake_y = 4.5, 3.3, 3.9      # forward cycle
    row_y, row_rec_y, row_fake_x = 1.1, 2.3, 1.7      # backward cycle
    images = {
        "x": ((xc, row_x), "$x$", "white", c["blue"]),
        "x''": ((xc, row_rec_x), "$x''$", "white", c["blue"]),
        "x'": ((xc, row_fake_x), "$x'$", "white", c["blue"]),
        "y": ((yc, row_y), "$y$", "white", c["orange"]),
        "y''": ((yc, row_rec_y), "$y''$", "white", c["orange"]),
        "y'": ((yc, row_fake_y), "$y'$", "white", c["orange"]),
    }
    for (xy, label, face, edge) in images.values():
        _box(ax, xy, img_w, img_h, label, face=face, edge=edge, fontsize=13, lw=1.8)
    gen_xy, gen_yx = c["green"], c["purple"]
    gens = {  # (centre, label, colour)
        "fwd_xy": ((gc, row_x), "$G_{XY}$", gen_xy),
        "fwd_yx": ((gc, row_rec_x), "$G_{YX}$", gen_yx),
        "bwd_yx": ((gc, row_y), "$G_{YX}$", gen_yx),
        "bwd_xy": ((gc, row_rec_y), "$G_{XY}$", gen_xy),
    }
    for xy, label, colour in gens.values():
        _box(ax, xy, gen_w, gen_h, label, face=colour, edge=colour, fontsize=13,
             text_color="white")

    def left(name, dy=0.0):
        (x, y) = images[name][0]
        return (x - img_w / 2, y + dy)

    def right(name, dy=0.0):
        (x, y) = images[name][0]
        return (x + img_w / 2, y + dy)

    def gen_side(key, side):
        (x, y) = gens[key][0]
        return (x - gen_w / 2 if side == "left" else x + gen_w / 2, y)

    # Forward cycle x -> G_XY -> y' -> G_YX -> x''
    _arrow(ax, right("x"), gen_side("fwd_xy", "left"), color=gen_xy)
    _arrow(ax, gen_side("fwd_xy", "right"), left("y'", 0.1), color=gen_xy)
    _arrow(ax, left("y'", -0.1), gen_side("fwd_yx", "right"), color=gen_yx)
    _arrow(ax, gen_side("fwd_yx", "left"), right("x''"), color=gen_yx)
    # Backward cycle y -> G_YX -> x' -> G_XY -> y''
    _arrow(ax, left("y"), gen_side("bwd_yx", "right"), color=gen_yx)
    _arrow(ax, gen_side("bwd_yx", "left"), right("x'", -0.1), color=gen_yx)
    _arrow(ax, right("x'", 0.1), gen_side("bwd_xy", "left"), color=gen_xy)
    _arrow(ax, gen_side("bwd_xy", "right"), left("y''"), color=gen_xy)

    # Cycle-consistency losses: each real image against its reconstruction.
    cyc = "black"
    _arrow(ax, (xc, row_x - img_h / 2), (xc, row_rec_x + img_h / 2), style="<|-|>", ls="--",
           color=cyc, lw=1.2, mutation_scale=10)
    ax.text(xc + 0.2, (row_x + row_rec_x) / 2, r"cycle $\Vert x'' - x \Vert_1$", ha="left",
            va="center", fontsize=10.5, color=cyc)
    _arrow(ax, (yc, row_y + img_h / 2), (yc, row_rec_y - img_h / 2), style="<|-|>", ls="--",
           color=cyc, lw=1.2, mutation_scale=10)
    ax.text(yc - 0.2, (row_y + row_rec_y) / 2, r"cycle $\Vert y'' - y \Vert_1$", ha="right",
            va="center", fontsize=10.5, color=cyc)

    # Discriminators, each in its own domain: real image vs translation into that domain.
    _cycle_discriminators(ax, left, right, (row_x, row_fake_x, row_y, row_fake_y))
    if show_identity:  # G_YX fed a real x should leave it unchanged (and G_XY a real y)
        _cycle_identity_loops(ax, (xc, row_x + img_h / 2), (yc, row_y - img_h / 2),
                              gen_xy, gen_yx)

    ax.text(6.0, 5.55, "forward cycle  $x \\to y' \\to x''$", ha="center", va="center",
            fontsize=10.5, color="black")
    ax.text(6.0, 0.35, "backward cycle  $y \\to x' \\to y''$", ha="center", va="center",
            fontsize=10.5, color="black")
    ax.text(6.0, -0.05,
            "paper: $G = G_{XY}$, $F = G_{YX}$   ·   code: $G_{XY}$ = G_AB, $G_{YX}$ = G_BA, "
            "$D_X$ = D_A, $D_Y$ = D_B (domains A = $X$, B = $Y$)",
            ha="center", va="center", fontsize=9.5, color=c["gray"])
    return fig


def _cycle_discriminators(ax, left, right, rows) -> None:
    """:func:`cycle_diagram`'s ``D_X`` and ``D_Y``: each compares a real image with the
    translation into its domain (``rows``: the rows of x, x', y, y')."""
    c = _OKABE_ITO
    row_x, row_fake_x, row_y, row_fake_y = rows
    d_w, d_h = 1.0, 0.55
    dx_xy, dy_xy = (1.05, (row_x + row_fake_x) / 2), (10.95, (row_y + row_fake_y) / 2)
    adv = c["vermillion"]
    for xy, label in ((dx_xy, "$D_X$"), (dy_xy, "$D_Y$")):
        _box(ax, xy, d_w, d_h, label, face="white", edge=adv, fontsize=13, lw=2.0)
    d_in = 0.1  # the real and the fake image enter a discriminator side by side
    _arrow(ax, left("x"), (dx_xy[0] + d_w / 2, dx_xy[1] + d_in), color=c["gray"], lw=1.2,
           rad=0.2)
    _arrow(ax, left("x'"), (dx_xy[0] + d_w / 2, dx_xy[1] - d_in), color=c["gray"], lw=1.2,
           rad=-0.2)
    _arrow(ax, right("y"), (dy_xy[0] - d_w / 2, dy_xy[1] - d_in), color=c["gray"], lw=1.2,
           rad=0.2)
    _arrow(ax, right("y'"), (dy_xy[0] - d_w / 2, dy_xy[1] + d_in), color=c["gray"], lw=1.2,
           rad=-0.2)
    for xy, real, fake, game in ((dx_xy, "x", "x'", "G_{YX}, D_X"),
                                 (dy_xy, "y", "y'", "G_{XY}, D_Y")):
        ax.text(xy[0], xy[1] + d_h / 2 + 0.1,
                "adversarial\n" + rf"$\mathcal{{L}}_{{\mathrm{{GAN}}}}({game})$", ha="center",
                va="bottom", fontsize=10.5, color=adv)
        ax.text(xy[0], xy[1] - d_h / 2 - 0.1, f"real ${real}$ vs.\nfake ${fake}$",
                ha="center", va="top", fontsize=9.5, color=c["gray"])


def _cycle_identity_loops(ax, x_at, y_at, gen_xy, gen_yx) -> None:
    """:func:`cycle_diagram`'s identity losses: loops on the top of the real ``x`` (at
    ``x_at``) and the bottom of the real ``y`` (at ``y_at``)."""
    c = _OKABE_ITO
    (xc, x_top), (yc, y_bottom) = x_at, y_at
    idt = c["blue"]
    _arrow(ax, (xc + 0.15, x_top), (xc - 0.15, x_top), rad=1.6, color=gen_yx, lw=1.2,
           mutation_scale=10)
    ax.text(xc - 0.3, x_top + 0.4, r"identity $\Vert G_{YX}(x) - x \Vert_1$", ha="center",
            va="bottom", fontsize=10, color=idt)
    _arrow(ax, (yc - 0.15, y_bottom), (yc + 0.15, y_bottom), rad=1.6, color=gen_xy, lw=1.2,
           mutation_scale=10)
    ax.text(yc + 0.3, y_bottom - 0.4, r"identity $\Vert G_{XY}(y) - y \Vert_1$", ha="center",
            va="top", fontsize=10, color=idt)


def _shape_text(shape) -> str:
    """``(H, W, C)`` as ``"H×W×C"`` (the label the architecture diagrams print)."""
    return "×".join(str(int(v)) for v in shape)


def _architecture_diagram(ax, stages, *, title, footnote, rf_rows=False, max_h=1.6,
                          min_width=8.0, skip_over=None, group=None):
    """Draw ``stages`` left to right, one box each, and return ``(fig, ax, boxes)``.

    A stage is a dict with ``name``, ``shape`` (H, W, C), ``color`` and optionally ``detail``
    (smaller text under the name) and ``rf`` (receptive field), or ``None`` for an ellipsis.
    Box heights are proportional to H, widths to log2(C); ``boxes`` holds each box's
    ``(x, width, height)`` (``None`` for an ellipsis). ``skip_over`` is the index of a stage that
    gets a residual shortcut, ``group`` ``(first, last, label)`` a bracket under a run of stages.
    """
    import math

    n = len(stages)
    slot = max(0.95, min_width / n)
    h_in = max(s["shape"][0] for s in stages if s is not None)
    boxes = [None if s is None else
             (i * slot, 0.15 + 0.07 * math.log2(max(int(s["shape"][2]), 1)),
              max(max_h * s["shape"][0] / h_in, 0.06))
             for i, s in enumerate(stages)]
    line = 0.19  # height of a text line (9 pt) in data units (inches)
    detail_lines = max((s.get("detail", "").count("\n") + 1 if s and s.get("detail") else 0)
                       for s in stages)
    top = max_h / 2
    detail_y = top + 0.1
    name_y = detail_y + (detail_lines * 0.16 + 0.04 if detail_lines else 0.0)
    title_y = name_y + line + 0.3
    title_lines = title.count("\n") + 1
    shape_y = -top - 0.1
    rf_y = shape_y - 0.25
    below = (rf_y if rf_rows else shape_y) - 0.3
    group_y = below
    foot_y = below - (0.45 if group else 0.05)
    foot_lines = footnote.count("\n") + 1
    x0, x1 = -slot / 2, (n - 1) * slot + slot / 2
    y0, y1 = foot_y - 0.15 * foot_lines - 0.1, title_y + line * title_lines + 0.1
    fig, ax = _diagram_axes(ax, (x1 - x0, y1 - y0), (x0, x1), (y0, y1))

    for stage, box in zip(stages, boxes):
        if stage is None:
            continue
        x, w, h = box
        _box(ax, (x, 0), w, h, face=stage["color"], edge="#333333", lw=1.0,
             rounding=min(0.04, h / 3))
        ax.text(x, name_y, stage["name"], ha="center", va="bottom", fontsize=9.5,
                fontweight="bold")
        if stage.get("detail"):
            ax.text(x, detail_y, stage["detail"], ha="center", va="bottom", fontsize=8,
                    linespacing=1.0, color="#333333")
        ax.text(x, shape_y, _shape_text(stage["shape"]), ha="center", va="top", fontsize=8.5)
        if rf_rows and stage.get("rf"):
            ax.text(x, rf_y, f"RF {stage['rf']}×{stage['rf']}", ha="center", va="top",
                    fontsize=8.5, color=_OKABE_ITO["vermillion"])
    for i, stage in enumerate(stages):
        if stage is None:
            ax.text(i * slot, 0, "…", ha="center", va="center", fontsize=16, color="#333333")
    # arrows between neighbours (to and from an ellipsis' slot edge)
    for i in range(n - 1):
        a = i * slot + (0.22 if boxes[i] is None else boxes[i][1] / 2)
        b = (i + 1) * slot - (0.22 if boxes[i + 1] is None else boxes[i + 1][1] / 2)
        _arrow(ax, (a + 0.02, 0), (b - 0.02, 0), lw=1.2, mutation_scale=10, color="#333333")
    if skip_over is not None:  # the identity shortcut of one residual block: out = x + F(x)
        x, w, h = boxes[skip_over]
        join = x + w / 2 + 0.11
        green = _OKABE_ITO["green"]
        _arrow(ax, (x - w / 2 - 0.12, 0.02), (join, 0.07), rad=-1.1, lw=1.2, mutation_scale=9,
               color=green)
        ax.plot([join], [0], marker=r"$\oplus$", markersize=10, color=green, zorder=4)
    if group is not None:  # a bracket under a run of stages, e.g. the residual blocks
        first, last, label = group
        xa, xb = boxes[first][0] - 0.35, boxes[last][0] + 0.35
        ax.plot([xa, xa, xb, xb], [group_y + 0.08, group_y, group_y, group_y + 0.08],
                color="#333333", lw=1.0)
        ax.text((xa + xb) / 2, group_y - 0.06, label, ha="center", va="top", fontsize=9)
    ax.text((x0 + x1) / 2, title_y, title, ha="center", va="bottom", fontsize=11)
    ax.text((x0 + x1) / 2, foot_y, footnote, ha="center", va="top", fontsize=8,
            color=_OKABE_ITO["gray"])
    return fig, ax, boxes


def _model_stages(model):
    """``(input_shape, rows)`` of a builder's model: :func:`networks.block_summary` rows."""
    from ..nn import networks

    return tuple(model.input.shape[1:]), networks.block_summary(model)


def resnet_generator_diagram(n_blocks: int = 9, ngf: int = 64, image_size: int = 256,
                             in_channels: int = 3, out_channels: int = 3, ax=None):
    """The ResNet generator as one box per stage (``c7s1-64, d128, d256, R256 x n, u128, u64,
    c7s1-3``), each labelled with its output shape ``H×W×C``.

    The shapes come from the model :func:`cyclegan_lesson.nn.networks.resnet_generator` builds with
    these arguments (its :func:`~cyclegan_lesson.nn.networks.block_summary`), so the picture follows
    the code. Box heights are proportional to the spatial size, widths to ``log2`` of the
    channels. With more than four residual blocks, the first two and the last are drawn with an
    ellipsis between them; the green arc over the first is its identity shortcut.

    Returns:
        the ``matplotlib.figure.Figure``.
    """
    import re

    from ..nn import networks

    model = networks.resnet_generator(n_blocks=n_blocks, ngf=ngf, image_size=image_size,
                                      in_channels=in_channels, out_channels=out_channels)
    in_shape, rows = _model_stages(model)
    c = _OKABE_ITO
    colours = {"c7s1": c["sky"], "d": c["blue"], "R": c["green"], "u": c["orange"],
               "out": c["purple"]}
    stages = [{"name": "input", "shape": in_shape, "color": "white"}]
    res = [r for r in rows if re.fullmatch(r"R\d+_\d+", r["block"])]
    for row in rows:
        block = row["block"]
        if re.fullmatch(r"R\d+_\d+", block):
            index = int(block.rsplit("_", 1)[1])
            if len(res) > 4 and 2 < index < len(res):
                if index == 3:
                    stages.append(None)
                continue
            name, colour = block.split("_")[0], colours["R"]
        elif block.endswith("_out"):
            name = block[: -len("_out")].replace("_", "-")
            colour = colours["out"]
        elif block.startswith("c7s1"):
            name, colour = block.replace("_", "-"), colours["c7s1"]
        else:
            name, colour = block, colours[block[0]]
        stages.append({"name": name, "shape": row["output_shape"], "color": colour,
                       "detail": "+ tanh" if block.endswith("_out") else ""})
    res_idx = [i for i, s in enumerate(stages) if s is not None and s["color"] == colours["R"]]
    group = None
    if res_idx:
        first_res = stages[res_idx[0]]
        group = (res_idx[0], res_idx[-1],
                 f"{first_res['name']} × {len(res)}: residual blocks, output = x + F(x)")
    params = model.count_params()
    title = (f"ResNet generator ({n_blocks} residual blocks, ngf = {ngf}): "
             f"{_shape_text(in_shape)} → {_shape_text(model.output.shape[1:])}, "
             f"{params:,} parameters")
    footnote = ("box height ∝ H, width ∝ log₂ C   ·   each convolution followed by instance norm "
                "and ReLU (the last by tanh)\nc7s1-k: 7×7 conv, stride 1, k filters; "
                "dk: 3×3 conv, stride 2; Rk: residual block; uk: 3×3 transposed conv, stride ½")
    fig, _, _ = _architecture_diagram(ax, stages, title=title, footnote=footnote,
                                      skip_over=res_idx[0] if res_idx else None, group=group)
    return fig


def patchgan_diagram(n_layers: int = 3, ndf: int = 64, image_size: int = 256,
                     in_channels: int = 3, ax=None):
    """The PatchGAN discriminator as one box per stage (``C64 - C128 - C256 - C512 - 1-channel
    output`` for ``n_layers = 3``), each labelled with its output shape and receptive field.

    Shapes, strides, which layers are normalized and the receptive fields (``RF``, 70×70 at the
    output for ``n_layers = 3``) are read from the model
    :func:`cyclegan_lesson.nn.networks.patch_discriminator` builds and from
    :func:`~cyclegan_lesson.nn.networks.receptive_field_table`. The red band on the input box marks
    the
    rows one output value sees (its receptive field), to scale.

    Returns:
        the ``matplotlib.figure.Figure``.
    """
    import re

    from matplotlib.patches import Rectangle

    from ..nn import networks

    model = networks.patch_discriminator(n_layers=n_layers, ndf=ndf, in_channels=in_channels,
                                         image_size=image_size)
    in_shape, rows = _model_stages(model)
    rf = {r["layer"]: r for r in networks.receptive_field_table(model)}
    names = {layer.name for layer in model.layers}
    c = _OKABE_ITO
    stages = [{"name": "input", "shape": in_shape, "color": "white"}]
    for row in rows:
        block = row["block"]
        table = rf[block]
        norm = "" if f"{block}_norm" in names else "\nno norm"
        if block == "logits":
            name, detail, colour = "output", f"1 channel{norm}", c["vermillion"]
        else:
            name = "C" + re.match(r"C(\d+)", block).group(1)
            detail = f"stride {table['stride']}{norm}"
            colour = c["blue"] if table["stride"] == 2 else c["green"]
        stages.append({"name": name, "detail": detail, "shape": row["output_shape"],
                       "color": colour, "rf": table["rf"]})
    out_shape = tuple(model.output.shape[1:])
    field = rf["logits"]["rf"]
    title = (f"PatchGAN discriminator (n_layers = {n_layers}, ndf = {ndf})\n"
             f"{_shape_text(in_shape)} → {out_shape[0]}×{out_shape[1]} logits, "
             f"each judging a {field}×{field} patch of the input")
    footnote = ("box height ∝ H, width ∝ log₂ C   ·   Ck: 4×4 conv, k filters, instance norm, "
                "LeakyReLU 0.2\nRF: receptive field of one unit, in input pixels; "
                "red band on the input: the rows one output value sees, to scale")
    fig, ax, boxes = _architecture_diagram(ax, stages, title=title, footnote=footnote,
                                           rf_rows=True)
    x, w, h = boxes[0]
    band = min(field / in_shape[0], 1.0) * h
    ax.add_patch(Rectangle((x - w / 2, h / 2 - band), w, band, facecolor=c["vermillion"],
                           alpha=0.35, edgecolor=c["vermillion"], lw=1.0, zorder=3))
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
