"""Shared fixtures: where the real offline data is, and how to run a chapter notebook."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def _data_dir() -> Path:
    env = os.environ.get("CYCLEGAN_DATA_DIR")
    return Path(env) if env else (ROOT.parent / "shared" / "data")


DATA_DIR = _data_dir()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real datasets (``../shared/data``). Skips when absent, except in CI
    (``CYCLEGAN_REQUIRE_DATA=1``), where a missing folder is a failure."""
    if not (DATA_DIR / "README.md").exists() and not (DATA_DIR / "mnist.npz").exists():
        message = f"real data folder not found at {DATA_DIR} (set CYCLEGAN_DATA_DIR)"
        if os.environ.get("CYCLEGAN_REQUIRE_DATA"):
            pytest.fail(message)
        pytest.skip(message)
    return DATA_DIR


class ReaderMachine:
    """A reader's machine: the package built as a wheel and installed into a fresh virtual
    environment (no editable install, no checkout on ``sys.path``; the pinned dependencies
    shared with the checkout's venv), shipped models served over HTTP on 127.0.0.1
    (``CYCLEGAN_LESSON_MODELS_URL``) into an empty download cache. Built once per test worker,
    on first use (about 10 s)."""

    def __init__(self):
        import atexit
        import shutil
        import tempfile

        self.root = Path(tempfile.mkdtemp(prefix="reader-machine-"))
        atexit.register(shutil.rmtree, self.root, ignore_errors=True)
        source = self.root / "source"
        source.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(ROOT / name, source)
        shutil.copytree(ROOT / "src", source / "src",
                        ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
        self._run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                   str(self.root / "dist"), str(source)])
        wheel = next((self.root / "dist").glob("cyclegan_lesson-*.whl"))
        base = getattr(sys, "_base_executable", sys.executable)
        self._run([base, "-m", "venv", "--without-pip", str(self.root / "venv")])
        self.python = self.root / "venv" / "bin" / "python"
        site = Path(self._run([str(self.python), "-c",
                               "import sysconfig; print(sysconfig.get_paths()['purelib'])"]))
        # The package from the wheel, unpacked into the new venv's own site-packages; its
        # dependencies (the pinned versions of requirements.txt, papermill, ipykernel) from the
        # checkout's venv, added as plain paths *after* it. A path line in a .pth file does not
        # process that folder's own .pth files, so the checkout's editable install (a .pth naming
        # src/) stays invisible. Installing the pinned TensorFlow again into every test run's
        # venv took 2-3 minutes per test worker; whether pip resolves the wheel's declared
        # dependencies is what tests/test_reader_environments.py checks (Colab's set, the floor).
        self._run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                   str(site), str(wheel)])
        deps = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
        (site / "checkout-dependencies.pth").write_text("".join(f"{d}\n" for d in sorted(deps)))
        found = self._run([str(self.python), "-c",
                           "import cyclegan_lesson; print(cyclegan_lesson.__file__)"])
        assert Path(found).is_relative_to(site), f"the reader's venv imports {found}"
        self.server = FolderServer(ROOT / "models")
        atexit.register(self.server.close)
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("PYTHONPATH", "VIRTUAL_ENV", "JUPYTER_PATH")}
        self.env.update({
            "CYCLEGAN_LESSON_MODELS_URL": self.server.url,
            "CYCLEGAN_LESSON_CACHE": str(self.root / "cache"),
            "JUPYTER_DATA_DIR": str(self.root / "jupyter"),  # no user kernelspecs
            # its own font cache: a shared one would point at this venv's fonts after it is gone
            "MPLCONFIGDIR": str(self.root / "matplotlib"),
            "MPLBACKEND": "Agg",
            "PATH": f"{self.python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        })

    @staticmethod
    def _run(cmd) -> str:
        """Run ``cmd``; its stripped stdout (``RuntimeError`` with its stderr on failure)."""
        # without PYTHONPATH: a checkout's src/ on it would be seen before the reader's venv
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
        if proc.returncode:
            raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{proc.stderr[-3000:]}")
        return proc.stdout.strip()

    def execute(self, notebook: Path, folder: Path, parameters: dict) -> Path:
        """Copy ``notebook`` alone into the empty ``folder`` and execute it there with papermill
        in this environment; returns the executed copy (``CalledProcessError`` text on failure)."""
        import shutil

        import yaml

        folder.mkdir(parents=True, exist_ok=False)
        shutil.copy(notebook, folder / notebook.name)
        params = folder.parent / f"{notebook.stem}.parameters.yaml"
        params.write_text(yaml.safe_dump(parameters))
        output = folder.parent / f"{notebook.stem}.executed.ipynb"
        proc = subprocess.run(
            [str(self.python), "-m", "papermill", notebook.name, str(output), "-f", str(params),
             "-k", "python3", "--no-progress-bar", "--cwd", str(folder)],
            cwd=folder, env=self.env, capture_output=True, text=True, timeout=1500)
        if proc.returncode:
            raise AssertionError(f"{notebook.name} failed on the reader's machine:\n"
                                 f"{proc.stderr[-5000:]}")
        return output


_READER: ReaderMachine | None = None


def reader_machine() -> ReaderMachine:
    """The session's :class:`ReaderMachine` (built on first use)."""
    global _READER
    if _READER is None:  # CYCLEGAN_READER_ENV=colab-2025 or floor: see tests/reader_envs.py
        env = os.environ.get("CYCLEGAN_READER_ENV")
        _READER = __import__("reader_envs").cached_machine(env) if env else ReaderMachine()
    return _READER


def run_notebook(name: str, tmp_path: Path, **parameters) -> Path:
    """Execute ``notebooks/<name>`` as a reader would: the notebook file alone in an empty
    folder, on the :func:`reader_machine` (package installed from a wheel, shipped models
    downloaded over HTTP and checked). Returns the executed notebook; asserts that it ran on the
    installed package, not on a checkout.

    ``out_dir`` defaults to a folder inside ``tmp_path`` so runs never write into the repository.
    """
    import nbformat

    parameters.setdefault("out_dir", str(tmp_path / "out"))
    output = reader_machine().execute(NOTEBOOKS / name, tmp_path / "reader", parameters)
    nb = nbformat.read(str(output), as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert "installed package" in printed, f"{name} did not run on the installed package"
    return output


#: The smallest CycleGAN the command line builds: fast enough for tests on 2 CPU cores.
TINY_MODEL_OPTIONS = ["--n-blocks", "1", "--ngf", "4", "--ndf", "4", "--n-layers", "2"]


def markdown_outputs(nb_path) -> str:
    """All Markdown a notebook's code cells displayed (tables from ``show.table``), joined."""
    import nbformat

    nb = nbformat.read(str(nb_path), as_version=4)
    return "".join(o.get("data", {}).get("text/markdown", "") for c in nb.cells
                   if c.cell_type == "code" for o in c.get("outputs", []))


def run_cli(*args, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run ``python -m cyclegan_lesson ARGS...`` from the repository root; capture its output."""
    return subprocess.run([sys.executable, "-m", "cyclegan_lesson", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


class FolderServer:
    """An HTTP server on 127.0.0.1 serving one folder (``url`` is its base URL), in a thread:
    the real download path of :mod:`cyclegan_lesson.pretrained` without the internet."""

    def __init__(self, folder: Path):
        import functools
        import http.server
        import threading

        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.requests: list[str] = []
        self.httpd.requests = self.requests
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _quiet_handler_base():
    import http.server

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - keep test output clean
            self.server.requests.append(self.path)

    return Handler


_QuietHandler = _quiet_handler_base()


@pytest.fixture()
def serve_folder():
    """``serve_folder(path) -> FolderServer``; every server is shut down after the test."""
    servers: list[FolderServer] = []

    def start(folder) -> FolderServer:
        server = FolderServer(Path(folder))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def check_stored_outputs_with_nbval(nb, name: str, tmp_path: Path, data_dir, *,
                                    timeout: int = 600) -> None:
    """Re-execute the notebook ``nb`` (a possibly trimmed or re-parameterized copy of a stored
    chapter) with ``pytest --nbval-lax`` and assert that every ``# NBVAL_CHECK_OUTPUT`` cell
    reproduces its stored output. It runs from ``tmp_path/book/notebooks/<name>`` beside a
    ``shared/data`` link to the real data (the stored ``../../shared/data``), so nothing is
    written into the repository."""
    import nbformat

    pytest.importorskip("nbval")
    work = tmp_path / "book" / "notebooks"
    work.mkdir(parents=True)
    nbformat.write(nb, str(work / name))
    (tmp_path / "shared").mkdir()
    os.symlink(Path(data_dir).resolve(), tmp_path / "shared" / "data")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider",
         "--rootdir", str(work), name],
        cwd=work, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout


def check_stored_checks_up_to_the_last(name: str, tmp_path: Path, data_dir, *,
                                       at_least: int = 1, timeout: int = 600,
                                       cheap: dict | None = None) -> None:
    """The stored chapter ``name`` cut after its last ``# NBVAL_CHECK_OUTPUT`` cell (which
    comes before any training), ``out_dir`` moved into ``tmp_path`` (added to the injected
    parameters), through :func:`check_stored_outputs_with_nbval`; it must mark at least
    ``at_least`` cells. ``cheap``: parameters the checked cells do not depend on, set smaller
    (added to the injected parameters too)."""
    import nbformat

    nb = nbformat.read(str(NOTEBOOKS / name), as_version=4)
    checked = [i for i, c in enumerate(nb.cells) if "# NBVAL_CHECK_OUTPUT" in c.source]
    assert len(checked) >= at_least, f"{name}: {len(checked)} NBVAL_CHECK_OUTPUT cells"
    nb.cells = nb.cells[:checked[-1] + 1]
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source += f"\nout_dir = {str(tmp_path / 'out')!r}"
            cell.source += "".join(f"\n{k} = {v!r}" for k, v in (cheap or {}).items())
    check_stored_outputs_with_nbval(nb, name, tmp_path, data_dir, timeout=timeout)


#: The test files that take longest, longest first: the per-file sum of the 60 slowest tests of
#: a CI run (2026-12-08: kill tests 490 s, chapter 14 215 s, conditional GAN 201 s, ...). They
#: are handed out first, so that under ``-n 2 --dist loadfile --no-loadscope-reorder`` the two
#: workers end together instead of one finishing a long file alone (without that flag xdist
#: orders files by their number of tests, which says little about their time).
#: test_reader_environments.py is left out on purpose: its tests wait for venvs that download
#: in the background, so it stays late.
LONGEST_FILES = ("test_kill_resume.py", "test_notebook_14.py", "test_conditional_gan.py",
                 "test_engine_speed.py", "test_cli.py", "test_notebook_11.py",
                 "test_notebook_13.py", "test_notebook_04.py", "test_notebook_10.py",
                 "test_cyclegan.py", "test_notebook_09.py", "test_notebook_08.py",
                 "test_book.py", "test_sample_quality.py", "test_notebook_06.py",
                 "test_notebook_07.py", "test_pix2pix.py", "test_callbacks.py",
                 "test_evaluate.py", "test_notebook_12.py")


def pytest_collection_modifyitems(config, items):
    """Run :data:`LONGEST_FILES` first, in that order; every other file after them in its usual
    order, and the tests inside a file in theirs (a stable sort)."""
    rank = {name: i for i, name in enumerate(LONGEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
