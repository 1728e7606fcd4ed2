"""Figures for the Markdown pages, drawn at build time by the package itself.

``book/intro.md`` cannot run code, yet its cycle diagram must be the one
:func:`cyclegan_lesson.book.plotting.cycle_diagram` draws (no stored image drifting away from the
code). On ``builder-inited`` -- before Sphinx reads a page -- this extension renders every figure
in :data:`FIGURES` into ``book/_generated/`` (ignored by git), where the pages reference them
with a MyST ``{figure}`` directive. The package is imported from this checkout's ``src/``, so
the book always shows the diagrams of the code it ships with.

A file is rewritten only when its bytes change, so an unchanged diagram does not make Sphinx
re-read the pages that show it.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "book" / "_generated"

#: file name -> (plotting function name, keyword arguments, dpi)
FIGURES = {
    "cycle_diagram.png": ("cycle_diagram", {}, 110),
}


def _plotting():
    src = ROOT / "src"
    if (src / "cyclegan_lesson").is_dir() and str(src) not in sys.path:
        sys.path.insert(0, str(src))
    import matplotlib

    matplotlib.use("Agg")
    from cyclegan_lesson.book import plotting

    return plotting


def render(out_dir: Path = OUT) -> list[Path]:
    """Draw every figure of :data:`FIGURES` into ``out_dir``; returns the paths."""
    import matplotlib.pyplot as plt

    plotting = _plotting()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (function, kwargs, dpi) in FIGURES.items():
        fig = getattr(plotting, function)(**kwargs)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
        plt.close(fig)
        path = out_dir / name
        if not path.exists() or path.read_bytes() != buffer.getvalue():
            path.write_bytes(buffer.getvalue())
        paths.append(path)
    return paths


def _on_builder_inited(app):
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    for path in render():
        logger.info("book_figures: drew %s", path.relative_to(ROOT))


def setup(app):
    app.connect("builder-inited", _on_builder_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
