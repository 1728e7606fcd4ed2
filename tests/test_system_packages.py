"""``make test`` sets up its own machine: .ci/system-packages installs Debian's chromium, a CJK
font (fonts-noto-cjk) and npm when they are missing, and says how to fix it when it cannot.

The script's logic runs here with a PATH of stubs (a recording ``apt-get``, present or absent
``chromium``/``fc-list``/``npm``), so the install path is tested also on a machine that has
them; the last test checks the real result: Korean text renders in headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "system-packages"
BASH = shutil.which("bash")


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!{BASH}\n{body}\n")
    path.chmod(0o755)


def _run(tmp_path, *items, have=(), korean=True, apt=True, apt_fails_first=False):
    """Run the script with PATH = stubs only: ``have`` lists the commands present; fc-list
    prints a Korean font when ``korean``; apt-get records its arguments to ``apt.log``."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    log = tmp_path / "apt.log"
    for name in have:
        _stub(stubs, name, "exit 0")
    if "fc-list" in have:
        _stub(stubs, "fc-list", 'echo "Noto Sans CJK KR"' if korean else "exit 0")
    if apt:
        fail = (f'if [ "$1" = install ] && [ ! -e {tmp_path}/updated ]; then exit 100; fi\n'
                f'if [ "$1" = update ]; then : > {tmp_path}/updated; fi\n'
                if apt_fails_first else "")
        _stub(stubs, "apt-get", f'echo "$@" >> {log}\n{fail}exit 0')
    env = {"PATH": str(stubs), "HOME": str(tmp_path)}
    proc = subprocess.run([BASH, str(SCRIPT), *items], env=env, capture_output=True, text=True,
                          timeout=60)
    calls = log.read_text().splitlines() if log.exists() else []
    return proc, calls


pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the stub runs assume root (no sudo)")


def test_installs_everything_missing_in_one_apt_call(tmp_path):
    proc, calls = _run(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert calls == ["install -y -qq chromium fonts-noto-cjk npm"]


def test_installs_only_what_is_missing(tmp_path):
    proc, calls = _run(tmp_path, have=("chromium", "npm", "fc-list"), korean=False)
    assert proc.returncode == 0, proc.stderr
    assert calls == ["install -y -qq fonts-noto-cjk"]


def test_does_nothing_when_all_is_there(tmp_path):
    proc, calls = _run(tmp_path, have=("chromium", "npm", "fc-list"))
    assert proc.returncode == 0 and not calls and not proc.stderr


def test_only_the_items_asked_for(tmp_path):
    proc, calls = _run(tmp_path, "npm", have=("fc-list",), korean=False)
    assert proc.returncode == 0 and calls == ["install -y -qq npm"]


def test_updates_the_package_lists_when_the_first_install_fails(tmp_path):
    proc, calls = _run(tmp_path, "chromium", apt_fails_first=True)
    assert proc.returncode == 0, proc.stderr
    assert calls == ["install -y -qq chromium", "update -qq", "install -y -qq chromium"]


def test_without_apt_get_one_line_says_what_to_install(tmp_path):
    proc, calls = _run(tmp_path, have=("npm",), apt=False)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "chromium fonts-noto-cjk" in lines[0]
    assert "apt-get install chromium fonts-noto-cjk" in lines[0]


def test_an_unknown_item_is_refused(tmp_path):
    proc, _ = _run(tmp_path, "firefox")
    assert proc.returncode == 2 and "unknown item 'firefox'" in proc.stderr


def test_make_test_and_make_book_run_it():
    makefile = (ROOT / "Makefile").read_text()
    assert "\t@bash .ci/system-packages chromium cjk-font" in makefile
    assert "\t@bash .ci/system-packages npm" in makefile
    test_rule = next(line for line in makefile.splitlines() if line.startswith("test:"))
    assert "system" in test_rule.split(":", 1)[1].split()


@pytest.mark.slow
def test_korean_text_renders_in_headless_chromium(tmp_path):
    """The glossary's title in headless Chromium (as the book's screenshots are taken) is drawn
    with real glyphs: its Korean word differs from as many unassigned code points, which every
    browser draws as the same empty box (what happens without a CJK font)."""
    from test_book import CHROMIUM, CHROMIUM_ARGS

    if CHROMIUM is None:
        pytest.fail("chromium is not installed (make test installs it: .ci/system-packages)")
    sync_api = pytest.importorskip("playwright.sync_api")
    title = (ROOT / "book" / "appendix_glossary.md").read_text().splitlines()[0]
    korean = "".join(c for c in title if "\uac00" <= c <= "\ud7a3")
    assert len(korean) >= 3, title
    unassigned = "\u0378\u0379\u0380"[:len(korean)] + "\u0378" * max(0, len(korean) - 3)
    shots = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        for text in (korean, unassigned):
            page.set_content(f'<span id="t" style="font-size:48px">{text}</span>')
            shots.append(page.locator("#t").screenshot())
        browser.close()
    drawn = shots[0] != shots[1]
    assert drawn, (f"Chromium draws {korean!r} as empty boxes: no font with "
                                  "Korean glyphs (apt-get install fonts-noto-cjk)")
