"""Import TensorFlow without its C++ start-up notices.

TensorFlow 2.21 prints oneDNN/CUDA notices from C++ *before* its logging is initialised, so
``TF_CPP_MIN_LOG_LEVEL`` cannot silence them; they reach notebooks (and break strict nbval) as
stderr text. We import TensorFlow once with file descriptor 2 redirected to a temporary file and
replay that text if the import fails, so no real error is hidden.
"""

from __future__ import annotations

import os
import sys
import tempfile


def import_tensorflow_quietly() -> None:
    if "tensorflow" in sys.modules or os.environ.get("CYCLEGAN_VERBOSE_TF"):
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real fd 2 (some embedded interpreters)
        import tensorflow  # noqa: F401
        return
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            import tensorflow  # noqa: F401

            # GPU/CPU device discovery prints its own notices at the first op: trigger it here.
            tensorflow.config.list_logical_devices()
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
