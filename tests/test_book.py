"""The book builds with warnings as errors, and every page in the table of contents exists.

This is what `make book` does, run on a copy so the test never touches the working tree's _build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import DATA_DIR

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
        ignore=shutil.ignore_patterns(".venv", "_build", ".git", "runs", "build", "node_modules"),
    )
    # onnxruntime-web for the Try it page (`make test` runs `npm ci` first): linked, not copied
    if (ROOT / "node_modules").is_dir():
        (src / "node_modules").symlink_to(ROOT / "node_modules", target_is_directory=True)
    # the copy has no ../shared beside it: the build reads the same data as the tests
    env = dict(os.environ)
    if DATA_DIR.is_dir():
        env.setdefault("CYCLEGAN_DATA_DIR", str(DATA_DIR))
    result = subprocess.run(
        [str(jb), "build", str(src), "-W", "--keep-going"],
        capture_output=True, text=True, timeout=900, env=env,
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


#: A 7 drawn with the mouse, in the drawing area's 28x28 pixel coordinates.
SEVEN = [(7, 6), (20, 6), (19, 8), (16, 13), (13, 18), (11, 23)]
#: |page - Python onnxruntime| allowed (the same ONNX files; WebAssembly vs native kernels)
WEB_TOLERANCE = 1e-3


@pytest.mark.slow
def test_try_it_page_translates_in_the_browser(built_book, data_dir):
    """book/try_it opened from _build/html in headless Chromium with networking unavailable: the
    models load (onnxruntime-web, WebAssembly), a real MNIST test digit loaded through the page's
    API gives the input data.py makes of it and the outputs Python's onnxruntime computes from the
    built book's ONNX files; a 7 drawn with pointer events is translated and read; without
    WebAssembly the page says so. Screenshot and timings go to _build/screenshots/."""
    import base64
    import itertools
    import json
    import time

    import numpy as np

    from cyclegan_lesson import data
    from cyclegan_lesson.tools import onnx_export

    if CHROMIUM is None:
        pytest.fail("chromium is not installed (apt-get install chromium; .ci/run does this)")
    sync_api = pytest.importorskip("playwright.sync_api")
    returncode, log, html = built_book
    assert returncode == 0, log
    onnx_dir = html / "_static" / "tryit" / "onnx"
    # the page links into chapter 13's discussion: those anchors exist
    chapter13 = (html / "notebooks" / "13_mnist_svhn.html").read_text()
    try_it_html = (html / "book" / "try_it.html").read_text()
    for anchor in ("where-the-digits-flip", "where-the-cycle-hides-what-it-cannot-carry"):
        assert f"13_mnist_svhn.html#{anchor}" in try_it_html
        assert f'id="{anchor}"' in chapter13, f"chapter 13 has no section #{anchor}"
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page_bytes = sum((html / "_static" / f).stat().st_size for f in (
        "tryit/ort.wasm.min.js", "tryit/ort-wasm-embedded.js", "tryit/models.js", "try_it.js",
        "try_it.css"))
    facts = {"page_scripts_bytes": page_bytes}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(offline=True, viewport={"width": 1280, "height": 1000})
        outside = []
        context.route(lambda url: not url.startswith(("file:", "blob:", "data:")),
                      lambda route: (outside.append(route.request.url), route.abort()))
        page = context.new_page()
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        started = time.perf_counter()
        page.goto((html / "book" / "try_it.html").as_uri(), wait_until="load")
        page.evaluate("() => TryIt.ready")
        facts["load_to_ready_s"] = round(time.perf_counter() - started, 2)
        facts["models_load_ms"] = round(page.evaluate("TryIt.loadMs"))
        facts["models_load_stages_ms"] = page.evaluate("TryIt.loadStages")
        assert page.get_attribute("#tryit", "data-state") == "ready"
        assert "Ready" in page.inner_text("#tryit-status")

        # 1. a real MNIST test digit, through the page's API
        samples = page.evaluate("TryItAssets.samples")
        assert [s["label"] for s in samples] == list(range(10))
        sample = samples[7]
        pixels = np.frombuffer(base64.b64decode(sample["pixels"]), np.uint8)
        result = page.evaluate(
            "async (px) => { TryIt.setDigit(px); const r = await TryIt.idle(); return {"
            " input: Array.from(r.input), translation: Array.from(r.translation),"
            " reconstruction: Array.from(r.reconstruction), logits: r.logits,"
            " digits: Object.fromEntries(Object.entries(r.readings).map(([k, v]) =>"
            " [k, v.digit])), shift: r.shift}; }", pixels.tolist())
        x_page = np.array(result["input"], np.float32).reshape(1, 32, 32, 1)
        x_data, labels = data.load_arrays("mnist", "test", data_dir,
                                          limit=sample["test_index"] + 1, image_size=32)
        assert labels[-1] == 7 and result["shift"] == [0, 0]
        np.testing.assert_allclose(x_page, x_data[-1:], atol=1e-6)  # exactly data.py's input
        y_py = onnx_export.run_onnx(onnx_dir / "G_XY.onnx", x_page)
        y_page = np.array(result["translation"], np.float32).reshape(y_py.shape)
        rec_py = onnx_export.run_onnx(onnx_dir / "G_YX.onnx", y_page)
        rec_page = np.array(result["reconstruction"], np.float32).reshape(rec_py.shape)
        logits_py = {
            "input": onnx_export.run_onnx(onnx_dir / "C_mnist.onnx", x_page)[0],
            "translation": onnx_export.run_onnx(onnx_dir / "C_svhn.onnx", y_page)[0],
            "reconstruction": onnx_export.run_onnx(onnx_dir / "C_mnist.onnx", rec_page)[0],
        }
        facts["max_abs_diff_page_vs_python"] = {
            "translation": float(np.abs(y_page - y_py).max()),
            "reconstruction": float(np.abs(rec_page - rec_py).max()),
            **{f"logits_{k}": float(np.abs(np.array(result["logits"][k]) - v).max())
               for k, v in logits_py.items()},
        }
        assert max(facts["max_abs_diff_page_vs_python"].values()) < WEB_TOLERANCE, facts
        for key, logits in logits_py.items():
            digit = int(np.argmax(logits))
            assert result["digits"][key] == digit
            shown = page.inner_text(f"#tryit-read-{key}")
            assert f"reads {digit}" in " ".join(shown.split()), shown
        assert result["digits"]["input"] == 7  # the shipped classifier reads this test 7

        # 2. a 7 drawn with the mouse (pointer events on the canvas)
        page.evaluate("async () => { TryIt.clear(); await TryIt.idle(); }")
        box = page.locator("#tryit-canvas").bounding_box()

        def at(q):
            return box["x"] + q[0] * box["width"] / 28, box["y"] + q[1] * box["height"] / 28

        before = int(page.get_attribute("#tryit", "data-results"))
        page.mouse.move(*at(SEVEN[0]))
        page.mouse.down()
        for a, b in itertools.pairwise(SEVEN):
            for t in (0.25, 0.5, 0.75, 1.0):
                page.mouse.move(*at((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))))
        page.mouse.up()
        drawn = page.evaluate(
            "async () => { const r = await TryIt.idle(); return {input: Array.from(r.input),"
            " translation: Array.from(r.translation), latency: r.latencyMs, ms: r.ms,"
            " sequence: r.sequence, digits: Object.fromEntries(Object.entries(r.readings)"
            ".map(([k, v]) => [k, v.digit]))}; }")
        assert drawn["sequence"] > before + 1, "the page did not update while drawing"
        x = np.array(drawn["input"], np.float32).reshape(1, 32, 32, 1)
        ink = (x[0, :, :, 0] + 1) / 2
        assert 40 < ink.sum() < 200, ink.sum()  # about an MNIST digit's ink
        assert np.all(x[0, :2] == -1) and np.all(x[0, :, :2] == -1)  # padded like data.py
        rows, cols = np.mgrid[0:32, 0:32]
        centre = ((ink * rows).sum() / ink.sum(), (ink * cols).sum() / ink.sum())
        assert np.allclose(centre, 16, atol=0.75), centre  # centre of mass moved to the middle
        y_py = onnx_export.run_onnx(onnx_dir / "G_XY.onnx", x)
        assert np.abs(np.array(drawn["translation"]).reshape(y_py.shape) - y_py).max() \
            < WEB_TOLERANCE
        assert drawn["digits"]["input"] == 7, drawn["digits"]
        facts["drawn_seven_read_as"] = drawn["digits"]
        facts["drawing_to_result_ms"] = round(drawn["latency"], 1)
        facts["one_inference_ms"] = round(drawn["ms"], 1)
        # the time from a change of the drawing to its result on the screen, over 5 strokes
        latencies = [page.evaluate(
            "async (k) => { TryIt.drawStroke([[9 + k, 20], [9.5 + k, 21]]);"
            " return (await TryIt.idle()).latencyMs; }", k) for k in range(5)]
        facts["stroke_to_result_ms_median"] = round(float(np.median(latencies)), 1)
        page.screenshot(path=str(shots / "book_try_it_drawn.png"), full_page=True)
        assert not errors, errors

        # 3. no WebAssembly: the page says so instead of failing silently
        bare = context.new_page()
        bare.add_init_script("delete window.WebAssembly;")
        bare.goto((html / "book" / "try_it.html").as_uri(), wait_until="load")
        bare.wait_for_selector("#tryit[data-state=unsupported]", timeout=10_000)
        assert "needs WebAssembly" in bare.inner_text("#tryit-status")
        bare.screenshot(path=str(shots / "book_try_it_no_wasm.png"))
        browser.close()
    assert not outside, f"requests that needed the network: {sorted(set(outside))[:10]}"
    (shots / "try_it_facts.json").write_text(json.dumps(facts, indent=1))
    print(json.dumps(facts))
