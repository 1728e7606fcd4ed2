"""Files replaced atomically: a reader (or a run resumed after a crash) sees the old file or the
new one, complete, never a mix or a truncated file.

* :func:`replacing`: a context manager giving a temporary path beside ``path`` (same folder,
  same suffix, so ``keras`` / Pillow / h5py pick the right format); when the block ends
  without error the file is flushed to disk (``fsync``) and moved over ``path`` with
  :func:`os.replace` (atomic on POSIX and Windows), and the folder entry is synced too. On an
  error the temporary file is removed and ``path`` is untouched. A symbolic link at ``path``
  is replaced by the file, never written through.
* :func:`write_bytes`, :func:`write_text`: the same for data in memory.
* :func:`fsync_path`: flush a written file or folder to disk.
* :func:`fault_point`: a test hook. When the environment variable ``CYCLEGAN_LESSON_FAULT``
  is ``NAME`` (or ``NAME@K``), the process kills itself with ``SIGKILL`` the first (K-th)
  time it reaches ``fault_point("NAME")``: the kill tests stop a run at a chosen point of a
  save instead of relying on timing. :func:`replacing` has the points
  ``atomic.before_replace`` and ``atomic.before_replace:<file name>`` (the new file complete,
  not yet in place), :func:`write_bytes` also ``atomic.half_written[:<file name>]``.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["replacing", "write_bytes", "write_text", "fsync_path", "fault_point", "FAULT_ENV"]

#: The environment variable read by :func:`fault_point`.
FAULT_ENV = "CYCLEGAN_LESSON_FAULT"
_reached: Counter = Counter()


def fault_point(name: str) -> None:
    """Kill this process with ``SIGKILL`` if ``$CYCLEGAN_LESSON_FAULT`` names this point
    (``name`` or ``name@k``: at the k-th time it is reached, counting from 1). Does nothing
    otherwise (one dictionary look-up)."""
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    want, _, count = spec.partition("@")
    if want != name:
        return
    _reached[name] += 1
    if _reached[name] == int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)


def fsync_path(path) -> None:
    """Flush the file or folder ``path`` to disk (folders: their entries; ignored where the
    system cannot open a folder for syncing)."""
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    try:
        fd = os.open(path, flags)
    except OSError:
        if path.is_dir():
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not path.is_dir():
            raise
    finally:
        os.close(fd)


def temporary_name(path) -> Path:
    """The temporary file :func:`replacing` writes for ``path``: hidden, in the same folder,
    with the same suffixes and this process's id."""
    path = Path(path)
    return path.with_name(f".tmp-{os.getpid()}-{path.name}")


@contextmanager
def replacing(path) -> Iterator[Path]:
    """``with replacing(p) as tmp: write tmp``: ``p`` is replaced by the complete ``tmp`` when
    the block succeeds (fsync, :func:`os.replace`, fsync of the folder), and left as it was when
    the block raises or the process dies (a leftover ``.tmp-*`` file is all that remains)."""
    path = Path(path)
    tmp = temporary_name(path)
    if tmp.exists() or tmp.is_symlink():
        tmp.unlink()
    try:
        yield tmp
        if not tmp.is_file():
            raise FileNotFoundError(f"nothing was written to {tmp} (for {path})")
        fsync_path(tmp)
        fault_point("atomic.before_replace")
        fault_point(f"atomic.before_replace:{path.name}")
        os.replace(tmp, path)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
    fsync_path(path.parent if str(path.parent) else ".")
    _remove_stale(path)


def _remove_stale(path: Path) -> None:
    """Remove temporary files for ``path`` left by processes that died mid-write."""
    for stale in path.parent.glob(f".tmp-*-{path.name}"):
        pid = stale.name.split("-")[1]
        try:
            os.kill(int(pid), 0)
            continue  # its writer is still running
        except ProcessLookupError:
            pass
        except (ValueError, PermissionError, OSError):
            continue
        try:
            stale.unlink()
        except OSError:
            pass


def write_bytes(path, data: bytes) -> Path:
    """Replace ``path`` by ``data`` atomically (:func:`replacing`); returns ``path``."""
    with replacing(path) as tmp:
        with open(tmp, "wb") as f:
            half = len(data) // 2
            f.write(data[:half])
            f.flush()
            fault_point("atomic.half_written")
            fault_point(f"atomic.half_written:{Path(path).name}")
            f.write(data[half:])
    return Path(path)


def write_text(path, text: str, encoding: str = "utf-8") -> Path:
    """Replace ``path`` by ``text`` atomically (:func:`replacing`); returns ``path``."""
    return write_bytes(path, text.encode(encoding))
