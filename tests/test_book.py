"""The book builds with warnings as errors, and every page in the table of contents exists.

This is what `make book` does, run on a copy so the test never touches the working tree's _build.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _toc_files(node) -> list[str]:
    files = []
    if isinstance(node, dict):
        if "file" in node:
            files.append(node["file"])
        if "root" in node:
            files.append(node["root"])
        for value in node.values():
            files.extend(_toc_files(value))
    elif isinstance(node, list):
        for item in node:
            files.extend(_toc_files(item))
    return files


def test_every_toc_entry_exists():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = _toc_files(toc)
    assert files, "the table of contents is empty"
    for f in files:
        candidates = [ROOT / f"{f}.md", ROOT / f"{f}.ipynb", ROOT / f]
        assert any(c.exists() for c in candidates), f"_toc.yml names {f}, which does not exist"


def test_every_notebook_is_in_the_toc():
    toc_files = set(_toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text())))
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"notebooks/{nb.stem}" in toc_files, f"{nb.name} is missing from _toc.yml"


@pytest.fixture(scope="module")
def built_book(tmp_path_factory):
    """``jupyter-book build -W --keep-going`` of a copy of the tree (what `make book` does):
    ``(returncode, log, html folder)``."""
    jb = Path(sys.executable).with_name("jupyter-book")
    assert jb.exists(), "jupyter-book is not installed in this environment"
    src = tmp_path_factory.mktemp("book") / "book"
    shutil.copytree(
        ROOT, src,
        # Only what is too big to copy is left out: caches and egg-info stay, as in a real
        # checkout after `make test` (a stray README.md in .pytest_cache once broke `make book`).
        ignore=shutil.ignore_patterns(".venv", "_build", ".git", "runs", "build"),
    )
    result = subprocess.run(
        [str(jb), "build", str(src), "-W", "--keep-going"],
        capture_output=True, text=True, timeout=900,
    )
    log = result.stdout[-6000:] + result.stderr[-6000:]
    return result.returncode, log, src / "_build" / "html"


@pytest.mark.slow
def test_book_builds_without_warnings(built_book):
    returncode, log, html = built_book
    assert returncode == 0, f"jupyter-book build failed or warned:\n{log}"
    assert (html / "index.html").exists()
    assert (html / "book" / "intro.html").exists()
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        page = html / "notebooks" / f"{nb.stem}.html"
        assert page.exists(), f"{page} was not rendered"
        assert "<img" in page.read_text(), (
            f"{nb.stem}: rendered page shows no figure; were stored outputs lost?"
        )
    # MathJax is served by the book itself, not a CDN
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    intro = (html / "book" / "intro.html").read_text()
    assert "_static/mathjax/tex-chtml.js" in intro and "cdn.jsdelivr" not in intro


@pytest.mark.slow
def test_intro_shows_the_cycle_diagram_drawn_at_build_time(built_book):
    """book/_ext/book_figures.py draws plotting.cycle_diagram() into book/_generated/ when the
    build starts; the intro's {figure} shows that PNG, and the build copies it to _images."""
    returncode, log, html = built_book
    assert returncode == 0, log
    generated = html.parents[1] / "book" / "_generated" / "cycle_diagram.png"
    assert generated.is_file(), "book_figures did not draw the cycle diagram"
    image = html / "_images" / "cycle_diagram.png"
    assert image.is_file(), "the cycle diagram was not copied into the built book"
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image.stat().st_size > 20_000
    assert image.read_bytes() == generated.read_bytes()
    intro = (html / "book" / "intro.html").read_text()
    assert 'src="../_images/cycle_diagram.png"' in intro, "intro.html does not show the diagram"
    assert "The CycleGAN cycle." in intro  # its caption


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Flags for a headless Chromium in a closed network (no background connections at start).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
MATH_PAGES = ("book/intro", "notebooks/11_cyclegan")


@pytest.mark.slow
def test_book_reads_offline_in_a_browser(built_book):
    """Every page of the table of contents, opened from _build/html in headless Chromium with
    networking unavailable: formulas typeset by the local MathJax (no raw \\( or \\[ left in
    the visible text), every <img> loaded, no console errors, no request leaving the machine.
    Screenshots go to _build/screenshots/ to be looked at."""
    if CHROMIUM is None:
        pytest.fail("chromium is not installed (apt-get install chromium; .ci/run does this)")
    sync_api = pytest.importorskip("playwright.sync_api")
    returncode, log, html = built_book
    assert returncode == 0, log
    pages = [f for f in _toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text()))]
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    problems = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
        outside = []
        context.route(lambda url: not url.startswith("file:"),
                      lambda route: (outside.append(route.request.url), route.abort()))
        for name in pages:
            page = context.new_page()
            errors = []
            page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))
            page.goto((html / f"{name}.html").as_uri(), wait_until="load")
            typeset = page.evaluate(
                "async () => { if (!window.MathJax || !MathJax.startup) return null;"
                " await MathJax.startup.promise; return document.querySelectorAll("
                "'mjx-container').length; }")
            text = page.inner_text("article") if page.query_selector("article") else \
                page.inner_text("body")
            broken = page.evaluate(
                "() => Array.from(document.images).filter(i => !(i.complete && "
                "i.naturalWidth > 0)).map(i => i.getAttribute('src'))")
            page.screenshot(path=str(shots / f"{name.replace('/', '_')}.png"), full_page=False)
            if "\\(" in text or "\\[" in text:
                problems.append(f"{name}: raw TeX left in the page text")
            if name in MATH_PAGES and not typeset:
                problems.append(f"{name}: no formula was typeset (MathJax: {typeset})")
            if broken:
                problems.append(f"{name}: images not loaded: {broken[:5]}")
            if errors:
                problems.append(f"{name}: console errors: {errors[:5]}")
            page.close()
        browser.close()
    if outside:
        problems.append(f"requests that needed the network: {sorted(set(outside))[:10]}")
    assert not problems, "\n".join(problems)
