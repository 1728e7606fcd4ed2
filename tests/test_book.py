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


@pytest.mark.slow
def test_book_builds_without_warnings(tmp_path):
    jb = Path(sys.executable).with_name("jupyter-book")
    assert jb.exists(), "jupyter-book is not installed in this environment"
    src = tmp_path / "book"
    shutil.copytree(
        ROOT, src,
        # Only what is too big to copy is left out: caches and egg-info stay, as in a real
        # checkout after `make test` (a stray README.md in .pytest_cache once broke `make book`).
        ignore=shutil.ignore_patterns(".venv", "_build", ".git", "runs"),
    )
    result = subprocess.run(
        [str(jb), "build", str(src), "-W", "--keep-going"],
        capture_output=True, text=True, timeout=900,
    )
    log = result.stdout[-6000:] + result.stderr[-6000:]
    assert result.returncode == 0, f"jupyter-book build failed or warned:\n{log}"
    html = src / "_build" / "html"
    assert (html / "index.html").exists()
    assert (html / "book" / "intro.html").exists()
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        page = html / "notebooks" / f"{nb.stem}.html"
        assert page.exists(), f"{page} was not rendered"
        assert "<img" in page.read_text(), (
            f"{nb.stem}: rendered page shows no figure; were stored outputs lost?"
        )
