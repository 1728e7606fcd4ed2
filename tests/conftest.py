"""Shared fixtures: where the real offline data is, and how to run a chapter notebook."""

from __future__ import annotations

import os
import subprocess
import sys
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


def run_notebook(name: str, tmp_path: Path, **parameters) -> Path:
    """Execute ``notebooks/<name>`` with papermill (cwd = notebooks/) and return the output path.

    ``out_dir`` defaults to a folder inside ``tmp_path`` so runs never write into the repository.
    """
    import papermill as pm

    parameters.setdefault("out_dir", str(tmp_path / "out"))
    output = tmp_path / name
    pm.execute_notebook(
        str(NOTEBOOKS / name),
        str(output),
        parameters=parameters,
        cwd=str(NOTEBOOKS),
        kernel_name="python3",
        progress_bar=False,
        request_save_on_cell_execute=False,
    )
    return output


#: The smallest CycleGAN the command line builds: fast enough for tests on 2 CPU cores.
TINY_MODEL_OPTIONS = ["--n-blocks", "1", "--ngf", "4", "--ndf", "4", "--n-layers", "2"]


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
