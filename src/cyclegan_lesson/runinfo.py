"""What every notebook prints about its own run: versions, hardware, parameters, wall time.

A stored notebook output is only meaningful with the conditions it was produced under, so each
chapter calls :func:`describe_run` after its ``parameters`` cell and :meth:`RunClock.report` at
the end.
"""

from __future__ import annotations

import os
import platform
import random
import sys
import time
from collections.abc import Mapping

import numpy as np

#: The package version (``cyclegan_lesson.__version__``; ``pyproject.toml`` holds the same).
__version__ = "0.1.0"

__all__ = ["set_seed", "device_summary", "describe_run", "RunClock", "repository_root",
           "default_data_dir"]


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and Keras (and through it the backend) random generators."""
    import keras

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_summary() -> str:
    """One line naming the accelerator (GPU name) or the CPU and its core count."""
    import keras

    backend = keras.backend.backend()
    gpus: list[str] = []
    if backend == "tensorflow":
        import tensorflow as tf

        for gpu in tf.config.list_physical_devices("GPU"):
            details = tf.config.experimental.get_device_details(gpu)
            gpus.append(details.get("device_name", gpu.name))
    elif backend == "jax":
        import jax

        gpus = [d.device_kind for d in jax.devices() if d.platform != "cpu"]
    if gpus:
        return f"GPU: {', '.join(gpus)}"
    return f"CPU: {_cpu_name()} ({os.cpu_count()} cores)"


def describe_run(parameters: Mapping[str, object] | None = None) -> dict:
    """Print (and return) versions, device and parameters of this run."""
    import keras

    info: dict[str, object] = {
        "python": sys.version.split()[0],
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
    }
    if info["backend"] == "tensorflow":
        import tensorflow as tf

        info["tensorflow"] = tf.__version__
    where = "repository checkout" if repository_root() else "installed package"
    info["cyclegan_lesson"] = f"{__version__} ({where})"
    info["device"] = device_summary()
    info["platform"] = platform.platform()
    info["started"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    width = max(len(k) for k in info)
    for key, value in info.items():
        print(f"{key:<{width}} : {value}")
    if parameters:
        print("parameters:")
        pwidth = max(len(k) for k in parameters)
        for key, value in parameters.items():
            print(f"  {key:<{pwidth}} = {value!r}")
        info["parameters"] = dict(parameters)
    return info


class RunClock:
    """Wall-clock timer for a notebook: ``clock = RunClock()`` at the top, ``clock.report()`` at
    the end prints the elapsed wall time (``elapsed`` gives it in seconds)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def report(self, what: str = "this notebook") -> None:
        """Print the elapsed wall time; return nothing, so a chapter's last cell shows one line
        (not the seconds a second time)."""
        seconds = self.elapsed
        print(f"Wall time of {what}: {seconds:.1f} s ({seconds / 60:.1f} min) on {device_summary()}")


def repository_root() -> str | None:
    """The course repository root when the package is used from a checkout, else ``None``."""
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.abspath(os.path.join(here, "..", ".."))
    return root if os.path.exists(os.path.join(root, "_toc.yml")) else None


def default_data_dir() -> str | None:
    """The offline data folder: ``$CYCLEGAN_DATA_DIR`` if set, else ``../shared/data`` beside a
    repository checkout when it exists, else ``None`` (meaning: use tfds downloads)."""
    env = os.environ.get("CYCLEGAN_DATA_DIR")
    if env:
        return env
    root = repository_root()
    if root:
        candidate = os.path.abspath(os.path.join(root, "..", "shared", "data"))
        if os.path.isdir(candidate):
            return candidate
    return None


def shipped_model_parser(module: str, shipped_folder: str, description: str | None,
                         steps_default: int, steps_what: str = "training steps"):
    """The ``argparse`` parser shared by the training commands of the chapters' shipped models
    (``python -m cyclegan_lesson.models.<module> --out DIR --data-dir DIR --steps N``): the three
    common options; each module adds its recipe's options to the returned parser."""
    import argparse

    parser = argparse.ArgumentParser(prog=f"python -m cyclegan_lesson.{module}",
                                     description=description)
    parser.add_argument("--out", required=True, help=f"output folder (models/{shipped_folder} "
                        "in a checkout replaces the shipped one; then run python -m "
                        "cyclegan_lesson.pretrained --write-manifest)")
    parser.add_argument("--data-dir", default=default_data_dir(),
                        help="offline data folder (default: ../shared/data beside a checkout "
                             "if present, else tfds)")
    parser.add_argument("--steps", type=int, default=None,
                        help=f"{steps_what} (default {steps_default})")
    return parser


def run_command(main, prog: str, argv=None) -> int:
    """Run a chapter's training command ``main(argv)``; bad input (``ValueError``, a missing or
    unwritable file) is one line ``<prog>: error: ...`` on stderr and exit code 2, never a
    traceback."""
    import sys

    try:
        return main(argv)
    except (ValueError, FileNotFoundError, PermissionError, NotADirectoryError,
            IsADirectoryError) as exc:
        text = " ".join((str(exc).strip() or type(exc).__name__).splitlines()[0].split())
        print(f"{prog}: error: {text}", file=sys.stderr)
        return 2
