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
                             in_channels: int = 3, out_channels: int = 3, ax=None,
                             affine: bool = True):
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
                                      in_channels=in_channels, out_channels=out_channels,
                                      affine=affine)
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


# --- concept diagrams of chapters 6-10 (GAN game, cGAN wiring, U-Net, PatchGAN field, StarGAN) --


def _labelled_arrow(ax, start, end, text, *, color="black", offset=(0.0, 0.18), fontsize=9.5,
                    **kw):
    """An arrow with a short label near its middle (``offset`` in data units)."""
    _arrow(ax, start, end, color=color, **kw)
    mid = ((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1])
    ax.text(*mid, text, ha="center", va="bottom", fontsize=fontsize, color=color)


def gan_game_diagram(ax=None):
    """The GAN game (chapter 6): noise ``z`` -> generator ``G`` -> ``G(z)``; the discriminator
    ``D`` sees real ``x`` or fake ``G(z)`` and outputs the probability that its input is real.
    The value function each player optimizes is written under the networks.

    Returns:
        the ``matplotlib.figure.Figure`` (10 x 4.4 inches when ``ax`` is ``None``).
    """
    c = _OKABE_ITO
    fig, ax = _diagram_axes(ax, (10, 4.4), (0, 12), (0, 5.3))
    _box(ax, (1.1, 2.0), 1.7, 0.7, "noise $z \\sim p_z$", face="white", edge=c["gray"],
         fontsize=10.5)
    _box(ax, (3.5, 2.0), 1.1, 0.7, "$G$", face=c["green"], edge=c["green"], fontsize=14,
         text_color="white")
    _box(ax, (5.9, 2.0), 1.7, 0.7, "fake $G(z)$", face="white", edge=c["green"], fontsize=10.5)
    _box(ax, (5.9, 3.8), 1.7, 0.7, "real $x \\sim p_{data}$", face="white", edge=c["blue"],
         fontsize=10.5)
    _box(ax, (8.3, 2.9), 1.1, 0.7, "$D$", face=c["blue"], edge=c["blue"], fontsize=14,
         text_color="white")
    _box(ax, (10.6, 2.9), 2.2, 1.0, "$D(\\cdot) \\in (0, 1)$\nP(input is real)",
         face="white", edge=c["blue"], fontsize=10)
    _arrow(ax, (1.95, 2.0), (2.95, 2.0), color=c["green"])
    _arrow(ax, (4.05, 2.0), (5.05, 2.0), color=c["green"])
    _arrow(ax, (6.75, 2.1), (7.75, 2.75), color=c["green"])
    _arrow(ax, (6.75, 3.7), (7.75, 3.05), color=c["blue"])
    _arrow(ax, (8.85, 2.9), (9.5, 2.9), color=c["blue"])
    _arrow(ax, (8.3, 2.55), (3.5, 1.65), color=c["vermillion"], ls="--", rad=-0.25, lw=1.2)
    ax.text(6.0, 0.95, "gradient of $D$'s verdict on $G(z)$ trains $G$", ha="center",
            va="center", fontsize=9.5, color=c["vermillion"])
    ax.text(6.0, 5.0, "$\\min_G \\max_D V(D, G) = E_{x \\sim p_{data}}[\\log D(x)]"
            " + E_{z \\sim p_z}[\\log(1 - D(G(z)))]$", ha="center", va="center", fontsize=11.5)
    ax.text(6.0, 0.3, "$D$: raise $D(x)$, lower $D(G(z))$    ·    $G$: raise $D(G(z))$ "
            "(non-saturating: maximize $\\log D(G(z))$)", ha="center", va="center",
            fontsize=9.5, color=c["gray"])
    return fig


def cgan_diagram(ax=None):
    """The conditional GAN's wiring (chapter 8): the label ``y`` goes to both players. ``G``
    reads ``z`` and ``y`` (concatenated), ``D`` reads an image and the same ``y`` and says whether
    the pair is real.

    Returns:
        the ``matplotlib.figure.Figure`` (10 x 4.6 inches when ``ax`` is ``None``).
    """
    c = _OKABE_ITO
    fig, ax = _diagram_axes(ax, (10, 4.6), (0, 12), (0, 5.5))
    _box(ax, (1.0, 3.6), 1.4, 0.6, "noise $z$", face="white", edge=c["gray"], fontsize=10.5)
    _box(ax, (1.0, 2.1), 1.4, 0.9, "label $y$\none-hot", face=c["yellow"], edge=c["orange"],
         fontsize=10)
    _box(ax, (3.6, 2.9), 1.3, 0.7, "$G$", face=c["green"], edge=c["green"], fontsize=14,
         text_color="white")
    _box(ax, (6.1, 2.9), 1.6, 0.7, "$G(z \\mid y)$", face="white", edge=c["green"],
         fontsize=11)
    _box(ax, (6.1, 4.3), 1.6, 0.7, "real $x$", face="white", edge=c["blue"], fontsize=11)
    _box(ax, (8.5, 3.3), 1.1, 0.7, "$D$", face=c["blue"], edge=c["blue"], fontsize=14,
         text_color="white")
    _box(ax, (10.6, 3.3), 2.3, 1.0, "$D(\\cdot \\mid y)$: real, and\nthe label $y$?",
         face="white", edge=c["blue"], fontsize=10)
    _arrow(ax, (1.7, 3.55), (2.95, 3.05), color=c["gray"])
    _arrow(ax, (1.7, 2.2), (2.95, 2.75), color=c["orange"])
    ax.text(2.3, 2.9, "$[z, y]$", ha="center", va="center", fontsize=9.5)
    _arrow(ax, (4.25, 2.9), (5.3, 2.9), color=c["green"])
    _arrow(ax, (6.9, 3.0), (7.95, 3.2), color=c["green"])
    _arrow(ax, (6.9, 4.2), (7.95, 3.5), color=c["blue"])
    _arrow(ax, (9.05, 3.3), (9.45, 3.3), color=c["blue"])
    _arrow(ax, (1.0, 1.65), (8.5, 2.95), color=c["orange"], rad=0.25)
    ax.text(5.6, 1.05, "the same $y$ goes to $D$", ha="center", va="center", fontsize=9.5,
            color="#8A5A00")
    ax.text(6.0, 5.2, "$\\min_G \\max_D V = E_{x,y}[\\log D(x \\mid y)]"
            " + E_{z,y}[\\log(1 - D(G(z \\mid y) \\mid y))]$", ha="center", va="center",
            fontsize=11.5)
    ax.text(6.0, 0.35, "MLP: concatenate $y$ to the input    ·    convolutional $D$: $y$ tiled "
            "into $k$ constant planes stacked onto the image", ha="center", va="center",
            fontsize=9.5, color=c["gray"])
    return fig


def unet_diagram(image_size: int = 32, ngf: int = 16, in_channels: int = 1,
                 out_channels: int = 2, ax=None):
    """The U-Net generator (chapter 9): ``log2(image_size)`` stride-2 encoder stages down to 1x1,
    the mirrored decoder, and a skip connection (concatenation) from every encoder stage but the
    innermost to the decoder stage of the same size, as in
    :func:`cyclegan_lesson.nn.networks.unet_generator` (channels ``ngf, 2ngf, 4ngf, 8ngf, 8ngf,
    ...``).

    Returns:
        the ``matplotlib.figure.Figure``.
    """
    import math

    if image_size < 32 or image_size & (image_size - 1):
        raise ValueError(f"unet_diagram: image_size must be a power of two >= 32, got {image_size}.")
    c = _OKABE_ITO
    n = int(math.log2(image_size))
    width = 3.0 + 2.0 * n
    fig, ax = _diagram_axes(ax, (min(2.0 + 1.0 * n, 12), 5.2), (0, width), (-0.9, n + 1.6))
    chans = [ngf * min(2 ** i, 8) for i in range(n)]
    sizes = [image_size // 2 ** (i + 1) for i in range(n)]
    bw, bh = 1.5, 0.55
    x_in, x_out = 0.9, width - 0.9
    y_top = n + 0.6
    _box(ax, (x_in, y_top), bw, bh, f"{image_size}×{image_size}×{in_channels}", face="white",
         edge=c["gray"], fontsize=9)
    _box(ax, (x_out, y_top), bw, bh, f"{image_size}×{image_size}×{out_channels}",
         face="white", edge=c["gray"], fontsize=9)
    ax.text(x_in, y_top + 0.5, "input", ha="center", va="bottom", fontsize=9.5)
    ax.text(x_out, y_top + 0.5, "output", ha="center", va="bottom", fontsize=9.5)
    enc, dec = [], []
    for i in range(n):
        y = n - 0.4 - i
        xe, xd = x_in + 0.9 * (i + 1), x_out - 0.9 * (i + 1)
        if i == n - 1:
            xe = xd = width / 2
        enc.append((xe, y))
        dec.append((xd, y))
        _box(ax, (xe, y), bw, bh, f"{sizes[i]}×{sizes[i]}×{chans[i]}", face=c["sky"],
             edge=c["blue"], fontsize=9)
        if i < n - 1:
            _box(ax, (xd, y), bw, bh, f"{sizes[i]}×{sizes[i]}", face=c["yellow"],
                 edge=c["orange"], fontsize=9)
    _arrow(ax, (x_in, y_top - bh / 2), (enc[0][0] - 0.3, enc[0][1] + bh / 2), color=c["blue"])
    for i in range(n - 1):
        _arrow(ax, (enc[i][0], enc[i][1] - bh / 2), (enc[i + 1][0] - 0.3, enc[i + 1][1] + bh / 2),
               color=c["blue"])
        _arrow(ax, (dec[i + 1][0] + (0.3 if i < n - 2 else 0.3), dec[i + 1][1] + bh / 2),
               (dec[i][0], dec[i][1] - bh / 2), color=c["orange"])
        _arrow(ax, (enc[i][0] + bw / 2, enc[i][1]), (dec[i][0] - bw / 2, dec[i][1]),
               color=c["vermillion"], ls="--", lw=1.2)
    _arrow(ax, (dec[0][0] + 0.3, dec[0][1] + bh / 2), (x_out, y_top - bh / 2), color=c["orange"])
    ax.text(width / 2, enc[0][1] + 0.12, "skip: copy and concatenate", ha="center",
            va="bottom", fontsize=9, color=c["vermillion"])
    ax.text(width / 2, -0.35, f"encoder: 4×4 conv, stride 2 ({n} halvings to 1×1)   ·   "
            f"decoder: 4×4 transposed conv, stride 2   ·   {n - 1} skip connections",
            ha="center", va="center", fontsize=8.5, color=c["gray"])
    return fig


def patchgan_field_diagram(image=None, n_layers: int = 1, ndf: int = 32,
                           image_size: int = 32, in_channels: int = 4, unit=None, ax=None):
    """Where a PatchGAN looks (chapter 9): on an image, the receptive field of one output unit
    of :func:`cyclegan_lesson.nn.networks.patch_discriminator` (square, from
    :func:`~cyclegan_lesson.nn.networks.receptive_field_table`: ``offset + u * jump`` to
    ``offset + u * jump + rf - 1``, clipped to the image), beside the grid of output units with
    that unit marked. Each output unit judges its own patch; the loss averages them.

    Args:
        image: ``(S, S, C)`` in [-1, 1] to draw the field on, or ``None`` for a gray ramp.
        n_layers, ndf, image_size, in_channels: the discriminator's options.
        unit: ``(row, col)`` of the output unit to mark (default: a central one).

    Returns:
        the ``matplotlib.figure.Figure``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from ..nn import networks

    model = networks.patch_discriminator(n_layers=n_layers, ndf=ndf, in_channels=in_channels,
                                         image_size=image_size)
    last = networks.receptive_field_table(model)[-1]
    rf, jump, offset = last["rf"], last["jump"], last["offset"] or 0
    out_h, out_w = (int(d) for d in model.output.shape[1:3])
    u = unit if unit is not None else (out_h // 2, out_w // 2)
    if image is None:
        ramp = np.linspace(-1, 1, image_size, dtype=np.float32)
        image = np.repeat((ramp[None, :] * ramp[:, None])[..., None], 3, axis=-1)
    img = to_uint8(np.asarray(image))
    if ax is None:
        fig, (ax_img, ax_out) = plt.subplots(1, 2, figsize=(8.4, 4.4),
                                              gridspec_kw={"width_ratios": [1, 1]})
    else:
        fig, ax_img = ax.figure, ax
        ax_out = ax.inset_axes([1.15, 0.0, 1.0, 1.0])
    ax_img.imshow(img.squeeze(), cmap="gray" if img.shape[-1] == 1 else None,
                  extent=(0, image_size, image_size, 0))
    r0, c0 = offset + u[0] * jump, offset + u[1] * jump
    rows_, cols_ = (max(r0, 0), min(r0 + rf, image_size)), (max(c0, 0), min(c0 + rf, image_size))
    ax_img.add_patch(Rectangle((cols_[0], rows_[0]), cols_[1] - cols_[0], rows_[1] - rows_[0],
                               fill=False, edgecolor=_OKABE_ITO["vermillion"], lw=2.5))
    ax_img.set_title(f"input {image_size}×{image_size}: the {rf}×{rf} field of one output",
                     fontsize=10)
    ax_img.set_xticks([])
    ax_img.set_yticks([])
    grid = np.zeros((out_h, out_w))
    grid[u] = 1.0
    ax_out.imshow(grid, cmap="Reds", vmin=0, vmax=1.5, extent=(0, out_w, out_h, 0))
    ax_out.set_xticks(np.arange(out_w + 1), minor=True)
    ax_out.set_yticks(np.arange(out_h + 1), minor=True)
    ax_out.grid(which="minor", color="gray", lw=0.5)
    ax_out.tick_params(which="both", length=0)
    ax_out.set_xticks([])
    ax_out.set_yticks([])
    ax_out.set_title(f"output: {out_h}×{out_w} real/fake verdicts", fontsize=10)
    if ax is None:
        fig.tight_layout()
    return fig


def stargan_overview_diagram(domains=("1", "2", "3", "4"), ax=None):
    """The lecture's StarGAN picture (chapter 10): (a) cross-domain models need a generator
    ``G_ij`` for every ordered pair of the ``k`` domains, ``k(k-1)`` in all; (b) StarGAN needs
    one generator ``G(x, c)`` that every domain uses, the target ``c`` being an input.

    Args:
        domains: the domains' names (``k = len(domains)``, 2 to 8).

    Returns:
        the ``matplotlib.figure.Figure`` (10 x 4.8 inches when ``ax`` is ``None``).
    """
    import itertools
    import math

    from matplotlib.patches import Circle

    k = len(domains)
    if not 2 <= k <= 8:
        raise ValueError(f"stargan_overview_diagram: 2 to 8 domains, got {k}.")
    c = _OKABE_ITO
    fig, ax = _diagram_axes(ax, (10, 4.8), (0, 12), (0, 5.6))
    radius, node = 1.75, 0.42
    name_size = 8.5 if max(len(str(d)) for d in domains) > 3 else 11
    for centre_x, star in ((3.0, False), (9.0, True)):
        cy = 2.55
        pts = [(centre_x + radius * math.cos(math.pi / 2 - 2 * math.pi * i / k),
                cy + radius * math.sin(math.pi / 2 - 2 * math.pi * i / k)) for i in range(k)]
        for (x, y), name in zip(pts, domains):
            ax.add_patch(Circle((x, y), node, facecolor=c["sky"], edgecolor=c["blue"], lw=1.4,
                                zorder=2))
            ax.text(x, y, str(name), ha="center", va="center", fontsize=name_size, zorder=3)
        if star:
            _box(ax, (centre_x, cy), 1.0, 0.6, "$G$", face=c["green"], edge=c["green"],
                 fontsize=14, text_color="white")
            for x, y in pts:
                dx, dy = x - centre_x, y - cy
                dist = math.hypot(dx, dy)
                a = (centre_x + dx * 0.55 / dist, cy + dy * 0.38 / dist)
                b = (x - dx * node / dist, y - dy * node / dist)
                _arrow(ax, a, b, style="<|-|>", color=c["green"], lw=1.3, mutation_scale=11)
        else:
            for i, j in itertools.permutations(range(k), 2):
                (x1, y1), (x2, y2) = pts[i], pts[j]
                dist = math.hypot(x2 - x1, y2 - y1)
                ux, uy = (x2 - x1) / dist, (y2 - y1) / dist
                _arrow(ax, (x1 + ux * node, y1 + uy * node), (x2 - ux * node, y2 - uy * node),
                       color=c["purple"], lw=1.0, rad=0.12, mutation_scale=9)
    ax.text(3.0, 5.25, f"(a) cross-domain models: $k(k-1)$ = {k * (k - 1)} generators $G_{{ij}}$",
            ha="center", va="center", fontsize=10.5)
    ax.text(9.0, 5.25, "(b) StarGAN: one generator $G(x, c)$", ha="center", va="center",
            fontsize=10.5)
    ax.text(6.0, 0.2, f"k = {k} domains; each arrow of (a) is a network trained on two domains' "
            "images only", ha="center", va="center", fontsize=9, color=c["gray"])
    return fig


def stargan_training_diagram(ax=None):
    """StarGAN's training in four steps (chapter 10, the paper's Figure 3): (a) ``D`` learns to
    tell real from fake (``D_src``) and the domain of real images (``D_cls``); (b) ``G`` translates
    ``x`` to the target ``c``; (c) ``G`` translates the fake back to the original domain ``c'``
    (reconstruction loss); (d) ``G`` fools ``D``: the fake must look real and be classified as
    ``c``.

    Returns:
        the ``matplotlib.figure.Figure`` (14 x 4.4 inches when ``ax`` is ``None``).
    """
    c = _OKABE_ITO
    fig, ax = _diagram_axes(ax, (14, 4.4), (0, 24), (0, 7.5))
    img = {"face": "white", "fontsize": 9.5}
    g_style = {"face": c["green"], "edge": c["green"], "fontsize": 13, "text_color": "white"}
    d_style = {"face": c["blue"], "edge": c["blue"], "fontsize": 13, "text_color": "white"}
    lab = {"face": c["yellow"], "edge": c["orange"], "fontsize": 9.5}

    def d_with_heads(x_d, x_heads, x_from, x_to, cls_text):
        """D at x_d, its two heads (real? / domain) at x_heads, the arrows from D to them."""
        _box(ax, (x_d, 3.8), 0.9, 0.7, "$D$", **d_style)
        _box(ax, (x_heads, 4.8), 1.9, 0.7, "$D_{src}$: real?", edge=c["blue"], **img)
        _box(ax, (x_heads, 2.8), 1.9, 0.9, cls_text, edge=c["blue"], **img)
        _arrow(ax, (x_from, 3.95), (x_to, 4.5), color=c["blue"])
        _arrow(ax, (x_from, 3.65), (x_to, 3.2), color=c["blue"])

    # (a) training D
    x0 = 0.0
    _box(ax, (x0 + 1.3, 4.6), 2.0, 0.7, "real $x$", edge=c["blue"], **img)
    _box(ax, (x0 + 1.3, 3.0), 2.0, 0.7, "fake $G(x, c)$", edge=c["green"], **img)
    d_with_heads(x0 + 3.3, x0 + 4.8, x0 + 3.75, x0 + 3.85, "$D_{cls}$: domain\n$c'$ of real $x$")
    _arrow(ax, (x0 + 2.3, 4.5), (x0 + 2.85, 3.95), color=c["blue"])
    _arrow(ax, (x0 + 2.3, 3.1), (x0 + 2.85, 3.65), color=c["green"])
    # (b) original-to-target, (c) target-to-original: G takes an image and a domain label;
    # x positions of the inputs, G, the output and the arrows' ends, per panel
    for x0, (xi, xg, xo, xa, xb, xc), w, (image, image_colour), label, out in (
            (6.2, (1.1, 3.0, 4.6, 1.95, 2.55, 3.45), 1.7, ("input $x$", "blue"), "target $c$",
             "fake $G(x, c)$"),
            (12.0, (1.2, 3.1, 4.7, 2.15, 2.65, 3.55), 1.9, ("fake $G(x, c)$", "green"),
             "original $c'$", "$G(G(x, c), c')$")):
        _box(ax, (x0 + xi, 4.6), w, 0.7, image, edge=c[image_colour], **img)
        _box(ax, (x0 + xi, 3.0), w, 0.7, label, **lab)
        _box(ax, (x0 + xg, 3.8), 0.9, 0.7, "$G$", **g_style)
        _box(ax, (x0 + xo, 3.8), w, 0.7, out, edge=c["green"], **img)
        _arrow(ax, (x0 + xa, 4.5), (x0 + xb, 3.95), color=c[image_colour])
        _arrow(ax, (x0 + xa, 3.1), (x0 + xb, 3.65), color=c["orange"])
        _arrow(ax, (x0 + xc, 3.8), (x0 + 3.75, 3.8), color=c["green"])
    ax.text(x0 + 3.0, 2.0, "$\\mathcal{L}_{rec} = \\Vert x - G(G(x, c), c') \\Vert_1$",
            ha="center", va="center", fontsize=10)
    # (d) fooling D
    x0 = 18.1
    _box(ax, (x0 + 1.2, 3.8), 1.9, 0.7, "fake $G(x, c)$", edge=c["green"], **img)
    d_with_heads(x0 + 3.0, x0 + 4.6, x0 + 3.45, x0 + 3.6, "$D_{cls}$: is it\nthe target $c$?")
    _arrow(ax, (x0 + 2.15, 3.8), (x0 + 2.55, 3.8), color=c["green"])
    titles = ((3.0, "(a) training $D$"), (9.2, "(b) original → target"),
              (15.0, "(c) target → original"), (21.1, "(d) fooling $D$"))
    for x, t in titles:
        ax.text(x, 6.6, t, ha="center", va="center", fontsize=11, fontweight="bold")
    notes = ((3.0, "$\\mathcal{L}_{adv}$ (WGAN-GP) and $\\mathcal{L}^r_{cls}$"),
             (9.2, "one $G$ for every target"), (21.1, "$\\mathcal{L}_{adv}$ and "
                                                    "$\\mathcal{L}^f_{cls}$ for $G$"))
    for x, t in notes:
        ax.text(x, 1.2, t, ha="center", va="center", fontsize=10)
    for x in (6.0, 11.9, 17.95):
        ax.plot([x, x], [0.6, 7.0], color=c["gray"], lw=0.8, ls=":")
    return fig
