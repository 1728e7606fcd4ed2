"""Readers' environments other than the pinned ``requirements.txt``: the versions Google Colab
had preinstalled (``environments/colab-2025.txt``) and the lowest versions ``pyproject.toml``
admits (``environments/floor.txt``).

Each is a virtual environment built once per machine and pin set, in
``$CYCLEGAN_TEST_VENVS`` (default ``~/.cache/cyclegan-lesson/test-venvs``), as a reader gets it:
the pinned packages first, then the course wheel installed **with** its dependencies (what the
notebooks' Colab bootstrap cell does). What that install changed is recorded
(``bootstrap.json``), the course package is uninstalled again, and every test session installs
its own current wheel beside it (``--no-deps --target``), so the cached environment stays as
the reader had it. Building one takes a few minutes (TensorFlow's wheels) and is done under a
file lock, so parallel test processes share it.

``CYCLEGAN_READER_ENV=colab-2025 pytest tests/test_notebook_*.py`` runs the notebook tests on
such an environment instead of the pinned one (:func:`conftest.reader_machine`).
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENTS = ROOT / "tests" / "environments"
#: Installed beside the pins: what runs the notebooks (Colab has its own kernel).
TOOLS = ["papermill", "ipykernel"]
#: name -> (Python "major.minor", pins file)
SPECS = {"colab-2025": ("3.12", "colab-2025.txt"), "floor": ("3.11", "floor.txt")}
#: Building one environment (pip downloads TensorFlow) may take this long at most.
BUILD_TIMEOUT_S = 1800


def cache_root() -> Path:
    return Path(os.environ.get("CYCLEGAN_TEST_VENVS")
                or Path.home() / ".cache" / "cyclegan-lesson" / "test-venvs")


def pins(name: str) -> dict[str, str]:
    """``package -> version`` of the environment ``name`` (its file's ``name==version`` lines)."""
    out = {}
    for line in (ENVIRONMENTS / SPECS[name][1]).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            package, version = line.split("==")
            out[normalize(package)] = version.strip()
    return out


def normalize(package: str) -> str:
    return package.strip().lower().replace("_", "-").replace(".", "-")


def pyproject_dependencies() -> list[str]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["dependencies"]


def find_python(version: str) -> str | None:
    """An interpreter for Python ``version`` ("3.12"): this one, a pyenv install, or on PATH."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return getattr(sys, "_base_executable", sys.executable)
    pyenv = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates = sorted(glob.glob(f"{pyenv}/versions/{version}.*/bin/python{version}"),
                        reverse=True)
    candidates += [p for p in (shutil.which(f"python{version}"),) if p]
    for candidate in candidates:
        try:
            got = subprocess.run([candidate, "-c", "import sys; print(sys.version[:5])"],
                                 capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        if got.startswith(version + "."):
            return candidate
    return None


def _run(cmd, **kwargs) -> str:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout


def _freeze(python: Path) -> dict[str, str]:
    listed = json.loads(_run([python, "-m", "pip", "list", "--format", "json"], timeout=300))
    return {normalize(p["name"]): p["version"] for p in listed}


@contextlib.contextmanager
def _locked(name: str):
    cache_root().mkdir(parents=True, exist_ok=True)
    with open(cache_root() / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def build_wheel(folder: Path) -> Path:
    """The course wheel, built (without dependencies) from a copy of this checkout's package."""
    source = folder / "source"
    source.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    shutil.copytree(ROOT / "src", source / "src",
                    ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", folder / "dist",
          source], timeout=600)
    return next((folder / "dist").glob("cyclegan_lesson-*.whl"))


def environment(name: str, wheel: Path) -> Path:
    """The folder of the cached environment ``name`` (built now if missing; ``wheel`` is the
    course wheel whose dependencies the bootstrap install resolves). Skips when its Python is
    not on this machine, except in CI (``CYCLEGAN_REQUIRE_DATA`` set), where that fails."""
    version, _ = SPECS[name]
    python = find_python(version)
    if python is None:
        message = f"no Python {version} on this machine for the {name} environment"
        if os.environ.get("CYCLEGAN_REQUIRE_DATA"):
            pytest.fail(message)
        pytest.skip(message)
    key = hashlib.sha256(json.dumps(
        [version, sorted(pins(name).items()), TOOLS, pyproject_dependencies()]).encode()
    ).hexdigest()[:12]
    folder = cache_root() / f"{name}-{key}"
    with _locked(name):
        if (folder / "bootstrap.json").exists():
            return folder
        # built in place (a venv's scripts name its folder); bootstrap.json, written last,
        # marks it complete, so a build cut short is redone
        shutil.rmtree(folder, ignore_errors=True)
        _run([python, "-m", "venv", folder / "venv"], timeout=600)
        venv_python = folder / "venv" / "bin" / "python"
        pins_file = ENVIRONMENTS / SPECS[name][1]
        _run([venv_python, "-m", "pip", "install", "-q", "-r", pins_file, *TOOLS],
             timeout=BUILD_TIMEOUT_S)
        before = _freeze(venv_python)
        # the bootstrap cell: the course package with its dependencies, nothing pinned
        _run([venv_python, "-m", "pip", "install", "-q", wheel], timeout=BUILD_TIMEOUT_S)
        after = _freeze(venv_python)
        _run([venv_python, "-m", "pip", "uninstall", "-q", "-y", "cyclegan-lesson"], timeout=300)
        changed = {p: [before.get(p), v] for p, v in after.items() if before.get(p) != v}
        changed.update({p: [v, None] for p, v in before.items() if p not in after})
        record = {"pins": pins(name), "changed_by_the_wheel": changed, "installed": after}
        tmp = folder / "bootstrap.json.tmp"
        tmp.write_text(json.dumps(record, indent=1))
        os.replace(tmp, folder / "bootstrap.json")
    return folder


def bootstrap_record(folder: Path) -> dict:
    return json.loads((folder / "bootstrap.json").read_text())


def install_current(folder: Path, wheel: Path, where: Path) -> Path:
    """Install ``wheel`` (no dependencies: the environment has them) into ``where``, a folder
    the caller puts on ``PYTHONPATH``; returns it."""
    _run([folder / "venv" / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps",
          "--target", where, wheel], timeout=600)
    return where


def machine(name: str):
    """A :class:`conftest.ReaderMachine` on the cached environment ``name`` with this
    checkout's wheel: ``execute`` runs a notebook alone in an empty folder there."""
    from conftest import FolderServer, ReaderMachine

    class PinnedMachine(ReaderMachine):
        def __init__(self):  # noqa: D401 - no super().__init__: the venv is cached
            import atexit

            self.root = Path(tempfile.mkdtemp(prefix=f"reader-{name}-"))
            atexit.register(shutil.rmtree, self.root, ignore_errors=True)
            wheel = build_wheel(self.root)
            self.folder = environment(name, wheel)
            self.python = self.folder / "venv" / "bin" / "python"
            self.site = install_current(self.folder, wheel, self.root / "site")
            self.server = FolderServer(ROOT / "models")
            atexit.register(self.server.close)
            self.env = {k: v for k, v in os.environ.items()
                        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "JUPYTER_PATH")}
            self.env.update({
                "PYTHONPATH": str(self.site),
                "CYCLEGAN_LESSON_MODELS_URL": self.server.url,
                "CYCLEGAN_LESSON_CACHE": str(self.root / "cache"),
                "JUPYTER_DATA_DIR": str(self.root / "jupyter"),
                "MPLCONFIGDIR": str(self.root / "matplotlib"),
                "MPLBACKEND": "Agg",
                "PATH": f"{self.python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            })

        def python_run(self, code: str, timeout: int = 900) -> subprocess.CompletedProcess:
            """Run ``python -c code`` in this environment (cwd: an empty folder)."""
            cwd = Path(tempfile.mkdtemp(dir=self.root))
            return subprocess.run([str(self.python), "-c", code], cwd=cwd, env=self.env,
                                  capture_output=True, text=True, timeout=timeout)

    return PinnedMachine()


_MACHINES: dict = {}


def cached_machine(name: str):
    """The session's :func:`machine` for ``name`` (built on first use)."""
    if name not in _MACHINES:
        _MACHINES[name] = machine(name)
    return _MACHINES[name]


def _build_all(names: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="reader-envs-") as folder:
        wheel = build_wheel(Path(folder))
        for name in names:
            if find_python(SPECS[name][0]) is not None:
                print(f"{name}: {environment(name, wheel)}", flush=True)


def main(argv: list[str]) -> int:
    """``python tests/reader_envs.py [--background] NAME...``: build the environments now
    (``make test`` starts this in the background, so that downloading them overlaps the other
    tests; the tests that need one wait for its lock)."""
    names = [a for a in argv if not a.startswith("--")] or list(SPECS)
    unknown = [n for n in names if n not in SPECS]
    if unknown:
        print(f"error: unknown environment {unknown}; known: {', '.join(SPECS)}", file=sys.stderr)
        return 2
    if "--background" in argv:
        cache_root().mkdir(parents=True, exist_ok=True)
        log = open(cache_root() / "build.log", "a")
        for name in names:  # one process each: the downloads overlap
            subprocess.Popen([sys.executable, __file__, name], stdout=log, stderr=log,
                             stdin=subprocess.DEVNULL, start_new_session=True, cwd=ROOT)
        print(f"building the reader environments {', '.join(names)} in the background "
              f"(log: {cache_root() / 'build.log'})")
        return 0
    _build_all(names)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main(sys.argv[1:]))
