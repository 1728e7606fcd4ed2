"""One address for the repository: ``_config.yml``'s ``repository`` (url, branch). Every copy a
reader's machine needs (the notebooks' Colab bootstrap cells, the Colab links, the manifest the
model downloads use) agrees with it, and ``tools/set_repository.py`` moves them all at once."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import set_repository  # noqa: E402

#: the places a repository address is written: pip's git URL, a Colab link, a raw file URL
ADDRESS = re.compile(r"git\+https://github\.com/(?P<pip>[\w.-]+/[\w.-]+)"
                     r"|colab\.research\.google\.com/github/(?P<colab>[\w.-]+/[\w.-]+)/blob/"
                     r"(?P<branch>[\w.-]+)/"
                     r"|raw\.githubusercontent\.com/(?P<raw>[\w.-]+/[\w.-]+)/"
                     r"|github\.com/(?P<own>[\w.-]+/[\w.-]+)/(?:blob|tree)/(?P<own_branch>[\w.-]+)/"
                     r"(?P<file>[\w./-]+)")


def _text_files(root: Path) -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True,
                                check=True).stdout.split()
        files = [root / f for f in listed]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: the known copies
        files = set_repository.copies(root)
    files = [f for f in files if f.name != Path(__file__).name]  # its own examples
    return [f for f in files if f.suffix in {".md", ".ipynb", ".yml", ".yaml", ".py", ".json",
                                             ".toml", ".txt", ".cfg", ""} and f.is_file()]


def mismatches(root: Path) -> list[str]:
    """Every address in ``root``'s text files that is not ``_config.yml``'s."""
    url, branch = set_repository.configured(root)
    path = url[len("https://github.com/"):]
    wrong = []
    for file in _text_files(root):
        try:
            text = file.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        for match in ADDRESS.finditer(text):
            if match.group("own") and not (root / match.group("file")).exists():
                continue  # a link to another project's file
            named = (match.group("pip") or match.group("colab") or match.group("raw")
                     or match.group("own"))
            named_branch = match.group("branch") or match.group("own_branch") or branch
            if named.removesuffix(".git") != path or named_branch != branch:
                wrong.append(f"{file.relative_to(root)}: {match.group(0)}")
    manifest = json.loads((root / "src" / "cyclegan_lesson" / "models_manifest.json").read_text())
    if (manifest["repository"], manifest["branch"]) != (url, branch):
        wrong.append(f"models_manifest.json: {manifest['repository']} {manifest['branch']}")
    for notebook in sorted((root / "notebooks").glob("*.ipynb")):
        bootstrap = nbformat.read(notebook, as_version=4).cells[1].source
        if f'"cyclegan-lesson @ git+{url}"' not in bootstrap:
            wrong.append(f"{notebook.name}: its bootstrap cell does not install from {url}")
    return wrong


def test_every_copy_of_the_address_is_config_ymls():
    wrong = mismatches(ROOT)
    assert not wrong, ("these disagree with _config.yml's repository; run "
                       "python tools/set_repository.py URL:\n" + "\n".join(wrong))


def test_set_repository_moves_every_copy(tmp_path, monkeypatch):
    """On a copy of the checkout's files: after the move, everything names the new address
    (and the check above would have caught a copy left behind)."""
    for name in ("notebooks", "book"):
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("_ext", "_static", "_generated"))
    for name in ("README.md", "_config.yml", "src/cyclegan_lesson/models_manifest.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    monkeypatch.setattr(set_repository, "ROOT", tmp_path)
    monkeypatch.setattr(set_repository, "MANIFEST",
                        tmp_path / "src" / "cyclegan_lesson" / "models_manifest.json")
    readme = tmp_path / "README.md"
    readme.write_text(readme.read_text() + "\nsee git+https://github.com/someone/else\n")
    assert mismatches(tmp_path) == ["README.md: git+https://github.com/someone/else"]
    readme.write_text(readme.read_text().replace("someone/else", "cyclegan-lesson/cyclegan-lesson"))
    old_url, old_branch = set_repository.configured(tmp_path)
    assert set_repository.main(["https://github.com/alice/gan-course", "--branch", "v2"]) == 0
    assert set_repository.configured(tmp_path) == ("https://github.com/alice/gan-course", "v2")
    assert mismatches(tmp_path) == []
    moved = [f for f in _text_files(tmp_path) if "alice/gan-course" in f.read_text()]
    assert len([f for f in moved if f.suffix == ".ipynb"]) == len(list(
        (tmp_path / "notebooks").glob("*.ipynb")))
    for file in _text_files(tmp_path):
        assert old_url[len("https://github.com/"):] not in file.read_text(), file
    # only the cells' sources that name the address changed in the notebooks' JSON
    new_url = "https://github.com/alice/gan-course"
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        before = nbformat.read(notebook, as_version=4)
        after = nbformat.read(tmp_path / "notebooks" / notebook.name, as_version=4)
        for cell in before.cells:
            cell.source = (cell.source.replace(f"git+{old_url}", f"git+{new_url}")
                           .replace(f"{old_url}/blob/{old_branch}/", f"{new_url}/blob/v2/"))
        assert before == after, notebook.name


def test_set_repository_refuses_a_non_github_url(capsys):
    assert set_repository.main(["https://gitlab.com/alice/course"]) == 2
    assert "expected https://github.com/OWNER/REPO" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["git+https://github.com/a/b", "colab.research.google.com/"
                                  "github/a/b/blob/main/x.ipynb"])
def test_the_pattern_sees_both_kinds_of_copies(text):
    assert ADDRESS.search(text)
