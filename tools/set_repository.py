"""Move the course to another GitHub repository: ``_config.yml``'s ``repository`` (url,
branch) is the one source of truth for the repository's address; this script writes a new one
there and into every copy a reader's machine needs without the checkout: each notebook's Colab
bootstrap cell (``pip install "cyclegan-lesson @ git+URL"``), the Colab links in README.md and
the book, and the shipped-model manifest (where downloads come from).
``tests/test_repository_address.py`` checks that they all agree.

Usage: python tools/set_repository.py https://github.com/OWNER/REPO [--branch BRANCH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "src" / "cyclegan_lesson" / "models_manifest.json"
URL = re.compile(r"https://github\.com/([A-Za-z0-9-]+)/([A-Za-z0-9._-]+?)/?")


def configured(root: Path | None = None) -> tuple[str, str]:
    """``(url, branch)`` of ``_config.yml``'s ``repository``."""
    text = ((root or ROOT) / "_config.yml").read_text()
    block = text.split("\nrepository:", 1)[1]
    url = re.search(r"^\s+url:\s*(\S+)", block, re.M).group(1)
    branch = re.search(r"^\s+branch:\s*(\S+)", block, re.M).group(1)
    return url.rstrip("/"), branch


def copies(root: Path | None = None) -> list[Path]:
    """The files that hold a copy of the address."""
    root = root or ROOT
    return [*sorted((root / "notebooks").glob("*.ipynb")), root / "README.md",
            *sorted((root / "book").glob("*.md")), root / "_config.yml"]


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="https://github.com/OWNER/REPO")
    parser.add_argument("--branch", default=None, help="default: the configured branch")
    args = parser.parse_args(argv)
    if not URL.fullmatch(args.url):
        print(f"error: expected https://github.com/OWNER/REPO, got {args.url!r}", file=sys.stderr)
        return 2
    old_url, old_branch = configured()
    new_url, new_branch = args.url.rstrip("/"), args.branch or old_branch
    old_path, new_path = old_url[len("https://github.com/"):], new_url[len("https://github.com/"):]
    for path in copies():
        text = path.read_text()
        new = text.replace(f"colab.research.google.com/github/{old_path}/blob/{old_branch}/",
                           f"colab.research.google.com/github/{new_path}/blob/{new_branch}/")
        new = new.replace(f"git+{old_url}", f"git+{new_url}")
        for kind in ("blob", "tree"):  # links to the repository's own files
            new = new.replace(f"{old_url}/{kind}/{old_branch}/", f"{new_url}/{kind}/{new_branch}/")
        if path.name == "_config.yml":
            new = re.sub(r"(\nrepository:\n\s+url:\s*)\S+", rf"\g<1>{new_url}", new)
            new = re.sub(r"(\nrepository:\n(?:\s+\S.*\n)*?\s+branch:\s*)\S+",
                         rf"\g<1>{new_branch}", new)
        if new != text:
            _write(path, new)
            print(f"updated {path.relative_to(ROOT)}")
    manifest = json.loads(MANIFEST.read_text())
    manifest.update(repository=new_url, branch=new_branch)
    _write(MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    print(f"updated {MANIFEST.relative_to(ROOT)}; now: {configured()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
