"""The course's diagrams (plotting.cycle_diagram, resnet_generator_diagram, patchgan_diagram):
the labels a reader needs are there, they agree with the networks the package builds, no two
texts overlap or leave the figure, and the figures save as PNG."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from cyclegan_lesson.book import plotting
from cyclegan_lesson.nn import networks


def _texts(fig):
    """The visible, non-empty text artists of a figure's axes and the figure itself."""
    artists = list(fig.texts)
    for ax in fig.axes:
        artists += list(ax.texts) + [ax.title]
    return [t for t in artists if t.get_visible() and t.get_text().strip()]


def _strings(fig) -> list[str]:
    return [t.get_text() for t in _texts(fig)]


def _assert_layout_clean(fig):
    """No two text boxes intersect, and each lies inside the figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in _texts(fig)]
    assert boxes
    frame = fig.bbox
    for text, box in boxes:
        assert (box.x0 >= frame.x0 - 1 and box.x1 <= frame.x1 + 1
                and box.y0 >= frame.y0 - 1 and box.y1 <= frame.y1 + 1), (
            f"text {text!r} leaves the figure: {box} not in {frame}")
    for (ta, a), (tb, b) in itertools.combinations(boxes, 2):
        overlap_w = min(a.x1, b.x1) - max(a.x0, b.x0)
        overlap_h = min(a.y1, b.y1) - max(a.y0, b.y0)
        assert overlap_w <= 0.5 or overlap_h <= 0.5, f"texts overlap: {ta!r} and {tb!r}"


def _assert_saves_png(fig, path):
    fig.savefig(path, dpi=60)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------------------------------------
# The cycle
# ---------------------------------------------------------------------------------------------

CYCLE_LABELS = (
    "$G_{XY}$", "$G_{YX}$", "$D_X$", "$D_Y$", "$x$", "$y$", "$x'$", "$y'$", "$x''$", "$y''$",
    r"$\mathcal{L}_{\mathrm{GAN}}(G_{XY}, D_Y)$", r"$\mathcal{L}_{\mathrm{GAN}}(G_{YX}, D_X)$",
    r"$\Vert x'' - x \Vert_1$", r"$\Vert y'' - y \Vert_1$",
)
IDENTITY_LABELS = (r"$\Vert G_{YX}(x) - x \Vert_1$", r"$\Vert G_{XY}(y) - y \Vert_1$")


def _contains(strings, label) -> bool:
    return any(label in s for s in strings)


def test_cycle_diagram_names_networks_and_the_four_losses():
    fig = plotting.cycle_diagram()
    strings = _strings(fig)
    missing = [label for label in CYCLE_LABELS if not _contains(strings, label)]
    assert not missing, f"cycle diagram lacks {missing}"
    # both generators appear twice (once per cycle), each discriminator once
    assert strings.count("$G_{XY}$") == 2 and strings.count("$G_{YX}$") == 2
    assert strings.count("$D_X$") == 1 and strings.count("$D_Y$") == 1
    assert not any(_contains(strings, label) for label in IDENTITY_LABELS)
    # the mapping to the paper's G, F and the code's names
    note = " ".join(strings)
    for name in ("$G = G_{XY}$", "$F = G_{YX}$", "G_AB", "G_BA", "D_A", "D_B"):
        assert name in note
    assert tuple(fig.get_size_inches()) == (10, 5)


def test_cycle_diagram_identity_terms_only_when_asked():
    strings = _strings(plotting.cycle_diagram(show_identity=True))
    assert all(_contains(strings, label) for label in IDENTITY_LABELS + CYCLE_LABELS)


@pytest.mark.parametrize("show_identity", [False, True])
def test_cycle_diagram_layout_and_png(show_identity, tmp_path):
    fig = plotting.cycle_diagram(show_identity=show_identity)
    _assert_layout_clean(fig)
    _assert_saves_png(fig, tmp_path / "cycle.png")


def test_cycle_diagram_draws_into_given_axes():
    fig, ax = plt.subplots(figsize=(10, 5))
    assert plotting.cycle_diagram(ax=ax) is fig
    assert len(fig.axes) == 1 and ax.texts


# ---------------------------------------------------------------------------------------------
# ResNet generator
# ---------------------------------------------------------------------------------------------


def test_resnet_diagram_paper_configuration():
    fig = plotting.resnet_generator_diagram()  # 9 blocks, ngf 64, 256x256 RGB
    strings = _strings(fig)
    for name in ("c7s1-64", "d128", "d256", "R256", "u128", "u64", "c7s1-3"):
        assert name in strings, name
    for shape in ("256×256×3", "256×256×64", "128×128×128", "64×64×256"):
        assert shape in strings, shape
    # nine blocks: the first two, an ellipsis and the last, and a label that counts them all
    assert strings.count("R256") == 3 and "…" in strings
    assert _contains(strings, "R256 × 9")
    model = networks.resnet_generator(9, 64, 256)
    assert _contains(strings, f"{model.count_params():,} parameters")


def test_resnet_diagram_shapes_follow_the_builder():
    kwargs = {"n_blocks": 3, "ngf": 8, "image_size": 32, "in_channels": 1, "out_channels": 3}
    fig = plotting.resnet_generator_diagram(**kwargs)
    strings = _strings(fig)
    rows = networks.block_summary(networks.resnet_generator(**kwargs))
    shapes = ["32×32×1"] + ["×".join(map(str, r["output_shape"])) for r in rows]
    shown = [s for s in strings if "×" in s and s.replace("×", "").isdigit()]
    assert shown == shapes  # every stage once, in order, with the builder's shape
    assert "8×8×32" in strings and "32×32×3" in strings
    assert strings.count("R32") == 3 and "…" not in strings  # few blocks: all drawn


@pytest.mark.parametrize("kwargs", [{}, {"n_blocks": 6, "ngf": 16, "image_size": 64},
                                    {"n_blocks": 0, "ngf": 8, "image_size": 32}])
def test_resnet_diagram_layout_and_png(kwargs, tmp_path):
    fig = plotting.resnet_generator_diagram(**kwargs)
    _assert_layout_clean(fig)
    _assert_saves_png(fig, tmp_path / "resnet.png")


# ---------------------------------------------------------------------------------------------
# PatchGAN
# ---------------------------------------------------------------------------------------------


def test_patchgan_diagram_70x70():
    strings = _strings(plotting.patchgan_diagram())
    for name in ("C64", "C128", "C256", "C512", "output"):
        assert name in strings, name
    for shape in ("128×128×64", "64×64×128", "32×32×256", "31×31×512", "30×30×1"):
        assert shape in strings, shape
    assert "RF 70×70" in strings and _contains(strings, "70×70 patch")
    assert _contains(strings, "no norm")  # the first layer has no normalization


def test_patchgan_diagram_receptive_field_follows_the_model():
    model = networks.patch_discriminator(n_layers=2, ndf=8, image_size=32)
    field = networks.receptive_field_table(model)[-1]["rf"]
    assert field != 70
    strings = _strings(plotting.patchgan_diagram(n_layers=2, ndf=8, image_size=32))
    assert f"RF {field}×{field}" in strings and "RF 70×70" not in strings
    out = tuple(model.output.shape[1:])
    assert "×".join(map(str, out)) in strings
    assert "C32" in strings and "C64" not in strings  # 2 stride-2 layers + the stride-1 one


@pytest.mark.parametrize("kwargs", [{}, {"n_layers": 2, "ndf": 8, "image_size": 32},
                                    {"n_layers": 4, "ndf": 8, "image_size": 256}])
def test_patchgan_diagram_layout_and_png(kwargs, tmp_path):
    fig = plotting.patchgan_diagram(**kwargs)
    _assert_layout_clean(fig)
    _assert_saves_png(fig, tmp_path / "patchgan.png")


# ---------------------------------------------------------------------------------------------
# Concept diagrams of chapters 6-10
# ---------------------------------------------------------------------------------------------


def test_gan_game_diagram_names_players_and_value():
    strings = _strings(plotting.gan_game_diagram())
    assert "$G$" in strings and "$D$" in strings
    for label in ("noise $z", "fake $G(z)$", "real $x", r"\log D(x)", r"\log(1 - D(G(z)))",
                  "non-saturating"):
        assert _contains(strings, label), label


def test_cgan_diagram_label_reaches_both_players():
    strings = _strings(plotting.cgan_diagram())
    for label in ("label $y$", r"$G(z \mid y)$", r"D(x \mid y)", "the same $y$ goes to $D$",
                  "constant planes"):
        assert _contains(strings, label), label


@pytest.mark.parametrize("size", [32, 64])
def test_unet_diagram_follows_the_builder(size):
    strings = _strings(plotting.unet_diagram(image_size=size, ngf=16, in_channels=1,
                                             out_channels=2))
    model = networks.unet_generator(image_size=size, ngf=16, in_channels=1, out_channels=2)
    n = size.bit_length() - 1  # log2: halvings to 1x1
    assert f"{size}×{size}×1" in strings and f"{size}×{size}×2" in strings
    assert "1×1×128" in strings  # the bottleneck: 8 ngf
    assert _contains(strings, f"{n} halvings") and _contains(strings, f"{n - 1} skip")
    concats = [layer for layer in model.layers if "Concatenate" in type(layer).__name__]
    assert len(concats) == n - 1  # one skip per encoder stage but the innermost


def test_patchgan_field_diagram_marks_the_models_field():
    from matplotlib.patches import Rectangle

    for n_layers in (1, 2):
        fig = plotting.patchgan_field_diagram(n_layers=n_layers)
        model = networks.patch_discriminator(n_layers=n_layers, ndf=32, in_channels=4,
                                             image_size=32)
        rf = networks.receptive_field_table(model)[-1]["rf"]
        rects = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
        assert len(rects) == 1
        assert rects[0].get_width() == min(rf, 32) or rects[0].get_width() < rf  # clipped at edge
        out = model.output.shape[1:3]
        assert fig.axes[1].images[0].get_array().shape == tuple(out)
        assert _contains(_strings(fig), f"{rf}×{rf} field")


def test_stargan_diagrams_count_generators_and_name_the_four_steps():
    strings = _strings(plotting.stargan_overview_diagram(("a", "b", "c", "d", "e")))
    assert _contains(strings, "= 20 generators") and _contains(strings, "one generator")
    assert all(name in strings for name in "abcde")
    strings = _strings(plotting.stargan_training_diagram())
    for label in ("(a) training $D$", "(b) original → target", "(c) target → original",
                  "(d) fooling $D$", r"\mathcal{L}_{rec}", "$D_{src}$: real?"):
        assert _contains(strings, label), label
    with pytest.raises(ValueError, match="2 to 8 domains"):
        plotting.stargan_overview_diagram(("only one",))


@pytest.mark.parametrize("draw", [
    plotting.gan_game_diagram, plotting.cgan_diagram, plotting.unet_diagram,
    lambda: plotting.unet_diagram(image_size=64), plotting.patchgan_field_diagram,
    plotting.stargan_overview_diagram,
    lambda: plotting.stargan_overview_diagram(("original", "inverted", "red", "green", "blue",
                                               "thick", "thin")),
    plotting.stargan_training_diagram])
def test_concept_diagrams_layout_and_png(draw, tmp_path):
    fig = draw()
    _assert_layout_clean(fig)
    _assert_saves_png(fig, tmp_path / "diagram.png")
