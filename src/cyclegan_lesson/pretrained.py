"""Where the course's shipped models are found, wherever the package runs.

The trained generators and classifiers live in the repository's ``models/`` folder. A reader who
opens one chapter on Colab, or ``pip install``-s the package and runs a notebook elsewhere, has no
checkout, so every chapter, the command line and the tests ask this module for a file by its path
under ``models/``::

    from cyclegan_lesson import pretrained
    g_ab = keras.models.load_model(pretrained.path("mnist2svhn/G_AB.keras"))

:func:`path` answers, in this order:

1. the checkout's ``models/<name>`` when the package is used from a repository checkout;
2. a cached copy (``$CYCLEGAN_LESSON_CACHE``, default ``~/.cache/cyclegan_lesson``) whose SHA-256
   matches the committed manifest;
3. a download from ``$CYCLEGAN_LESSON_MODELS_URL/<name>`` (default: the raw ``models/`` folder of
   the repository named in ``_config.yml``, recorded in the manifest), accepted only when its size
   and SHA-256 match the manifest, then cached;

and otherwise raises :class:`PretrainedUnavailableError` with one line naming the file, the URL
tried and the fix. A truncated or corrupted download is deleted, never loaded.

The manifest (``models_manifest.json``, shipped inside the package) is written from the checkout
by ``python -m cyclegan_lesson.pretrained --write-manifest``; a test keeps it equal to
``models/`` and ``_config.yml``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
import urllib.error
import urllib.request
from functools import lru_cache
from pathlib import Path

from .files import keras_compat

__all__ = ["path", "folder", "load_keras_file", "shipped_model_and_record", "names", "base_url", "cache_dir", "download_verified", "sha256_of",
           "PretrainedUnavailableError", "MODELS_URL_ENV", "CACHE_ENV"]

#: Environment variable that replaces the default base URL of the shipped models.
MODELS_URL_ENV = "CYCLEGAN_LESSON_MODELS_URL"
#: Environment variable naming the cache folder (default ``~/.cache/cyclegan_lesson``).
CACHE_ENV = "CYCLEGAN_LESSON_CACHE"

_MANIFEST = Path(__file__).with_name("models_manifest.json")


class PretrainedUnavailableError(FileNotFoundError):
    """A shipped model (or another verified download) could not be found or fetched."""


# ---------------------------------------------------------------------------------------------
# verified downloads (also used by data.py for the official SVHN files)
# ---------------------------------------------------------------------------------------------

def sha256_of(file: str | os.PathLike, chunk: int = 2**20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(file, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def cache_dir() -> Path:
    """The folder where downloads are kept: ``$CYCLEGAN_LESSON_CACHE`` or
    ``~/.cache/cyclegan_lesson``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "cyclegan_lesson"


def download_verified(url: str, dest: str | os.PathLike, sha256: str, size: int | None = None,
                      *, what: str | None = None, fix: str = "", progress: bool = False) -> Path:
    """``dest`` holding the bytes at ``url`` whose SHA-256 is ``sha256``.

    An existing ``dest`` with the right hash is returned as it is (the cache). Otherwise the
    file is downloaded to a temporary name beside ``dest``, checked (size when given, then
    SHA-256) and only then renamed to ``dest``; a file that fails the check is deleted.

    Raises:
        PretrainedUnavailableError: the download failed or its bytes do not match, with one
            line naming ``what`` (default: the file name), the URL and ``fix``.
    """
    dest = Path(dest)
    what = what or dest.name
    if dest.is_file() and sha256_of(dest) == sha256:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    total = int(response.headers.get("Content-Length") or 0) or size
                    bar = _progress_bar(total, what) if progress else None
                    got = 0
                    while block := response.read(2**20):
                        got += len(block)
                        if size is not None and got > size:  # stop at the expected size
                            raise PretrainedUnavailableError(
                                f"download of {what} from {url} is longer than the expected "
                                f"{size} bytes; stopped and discarded. {fix}".strip())
                        out.write(block)
                        if bar is not None:
                            bar.update(len(block))
                    if bar is not None:
                        bar.close()
            except (urllib.error.URLError, OSError, ValueError) as err:
                reason = getattr(err, "reason", None) or err
                raise PretrainedUnavailableError(
                    f"could not download {what} from {url} ({reason}). {fix}".strip()) from err
        got = tmp.stat().st_size
        if size is not None and got != size:
            raise PretrainedUnavailableError(
                f"download of {what} from {url} is truncated or wrong: {got} bytes, expected "
                f"{size}; the file was discarded. {fix}".strip())
        digest = sha256_of(tmp)
        if digest != sha256:
            raise PretrainedUnavailableError(
                f"download of {what} from {url} is corrupted: SHA-256 {digest[:12]}..., expected "
                f"{sha256[:12]}...; the file was discarded. {fix}".strip())
        os.replace(tmp, dest)
        return dest
    finally:
        if tmp.exists():
            tmp.unlink()


def _progress_bar(total: int | None, what: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {what}")


# ---------------------------------------------------------------------------------------------
# the shipped models
# ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _manifest() -> dict:
    with open(_MANIFEST) as f:
        return json.load(f)


def names() -> list[str]:
    """Every file the manifest lists, as paths under ``models/`` (e.g. ``"mnist2svhn/G_AB.keras"``)."""
    return sorted(_manifest()["files"])


def _raw_url(repository: str, branch: str) -> str:
    """``https://github.com/OWNER/REPO`` -> the raw URL of its ``models/`` folder on ``branch``."""
    prefix = "https://github.com/"
    if not repository.startswith(prefix):
        raise ValueError(f"repository URL must start with {prefix}, got {repository!r}")
    owner_repo = repository[len(prefix):].strip("/")
    return f"https://raw.githubusercontent.com/{owner_repo}/{branch}/models"


def base_url() -> str:
    """Where shipped models are downloaded from: ``$CYCLEGAN_LESSON_MODELS_URL`` when set, else
    the raw ``models/`` folder of the repository named in ``_config.yml`` (via the manifest)."""
    env = os.environ.get(MODELS_URL_ENV)
    if env:
        return env.rstrip("/")
    manifest = _manifest()
    return _raw_url(manifest["repository"], manifest["branch"])


def _checkout_models() -> Path | None:
    from .runinfo import repository_root

    root = repository_root()
    folder = Path(root) / "models" if root else None
    return folder if folder is not None and folder.is_dir() else None


def _relative(name: str) -> str:
    """``name`` as a manifest key: forward slashes, no leading/trailing slash or ``models/``."""
    key = str(name).replace("\\", "/").strip("/")
    return key[len("models/"):] if key.startswith("models/") else key


def path(name: str, *, progress: bool = True) -> str:
    """The local path of the shipped model file ``models/<name>`` (see the module docstring).

    Args:
        name: a path under ``models/``, with forward slashes, e.g. ``"classifiers/mnist.keras"``
            or ``"mnist2svhn/comparison/plain/G_AB.keras"``; :func:`names` lists them.
        progress: show a download progress bar.

    Raises:
        ValueError: ``name`` is not a shipped file (the message lists the folders that are).
        PretrainedUnavailableError: not in a checkout, not cached, and the download failed or
            did not match the manifest.
    """
    files = _manifest()["files"]
    key = _relative(name)
    if key not in files:
        folders = sorted({n.split("/")[0] for n in files})
        raise ValueError(f"{name!r} is not a shipped model file; shipped files are under "
                         f"{', '.join(f + '/' for f in folders)} (pretrained.names() lists them)")
    local = _checkout_models()
    if local is not None and (local / key).is_file():
        return str(local / key)
    entry = files[key]
    url = f"{base_url()}/{key}"
    fix = (f"Check the network, or set {MODELS_URL_ENV} to a folder URL that serves models/, "
           f"or run from a checkout of {_manifest()['repository']}.")
    dest = download_verified(url, cache_dir() / "models" / key, entry["sha256"], entry["bytes"],
                             what=f"shipped model {key}", fix=fix, progress=progress)
    return str(dest)


def folder(name: str, *, recursive: bool = False, progress: bool = True) -> str:
    """The local path of the shipped folder ``models/<name>`` with every file the manifest lists
    directly in it (and in its sub-folders when ``recursive``), fetched through :func:`path`.

    Use it where files are read together: a generator and the ``generators.json`` beside it,
    e.g. ``cyclegan.load_generator(Path(pretrained.folder("mnist2svhn")) / "G_AB.keras")``.
    """
    key = _relative(name)
    inside = [n for n in names() if n.startswith(key + "/")
              and (recursive or "/" not in n[len(key) + 1:])]
    if not inside:
        folders = sorted({n.rsplit("/", 1)[0] for n in names()})
        raise ValueError(f"{name!r} is not a shipped model folder; shipped folders: "
                         f"{', '.join(folders)}")
    local = [path(n, progress=progress) for n in inside]
    return str(Path(local[0]).parents[inside[0][len(key) + 1:].count("/")])


# ---------------------------------------------------------------------------------------------
# the manifest, written from a checkout
# ---------------------------------------------------------------------------------------------

def load_keras_file(file, what: str, hint: str = ""):
    """``keras.models.load_model(file, compile=False)`` with a clear ``FileNotFoundError`` naming
    ``what`` the file should hold (and ``hint``, e.g. how to make one) when it is missing."""
    import keras

    file = os.fspath(file)
    if not os.path.exists(file):
        raise FileNotFoundError(f"{what} file not found: {file}" + (f"; {hint}" if hint else ""))
    check_keras_archive(file)
    try:
        return keras_compat.load_model(file, compile=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file: one line with the reason
        text = " ".join((str(exc).strip() or type(exc).__name__).split())[:300]
        raise ValueError(f"cannot load {what} from {file}: {text}") from exc


def check_keras_archive(file) -> None:
    """``ValueError`` naming ``file`` when it ends in ``.keras`` but is not a whole ``.keras``
    archive (a zip with ``config.json``): truncated, or another kind of file. Keras itself
    reports such a file as "File not found"."""
    import zipfile

    file = os.fspath(file)
    if not file.endswith(".keras") or not os.path.isfile(file):
        return
    reason = None
    if not zipfile.is_zipfile(file):
        reason = "not a zip archive: truncated, or another kind of file"
    else:
        try:
            with zipfile.ZipFile(file) as archive:
                if "config.json" not in archive.namelist():
                    reason = "a zip archive without config.json"
        except (zipfile.BadZipFile, OSError) as exc:
            reason = f"a damaged zip archive ({exc})"
    if reason:
        raise ValueError(f"{file} is not a valid .keras model file ({reason}); export it again "
                         "(model.save('name.keras'))")


def shipped_model_and_record(name: str, model_file: str, record_file: str, what: str):
    """A shipped ``.keras`` model and its JSON record from the shipped folder ``name`` (found
    through :func:`folder`: the checkout's ``models/<name>`` or a verified download)."""
    import json

    where = Path(folder(name))
    return (load_keras_file(where / model_file, what),
            json.loads((where / record_file).read_text()))


def build_manifest(root: str | os.PathLike) -> dict:
    """The manifest of a checkout at ``root``: repository URL and branch from ``_config.yml``,
    and the size and SHA-256 of every file under ``models/``."""
    import yaml

    root = Path(root)
    config = yaml.safe_load((root / "_config.yml").read_text())
    repository = config["repository"]
    files = {}
    for file in sorted((root / "models").rglob("*")):
        if file.is_file():
            key = file.relative_to(root / "models").as_posix()
            files[key] = {"bytes": file.stat().st_size, "sha256": sha256_of(file)}
    return {"repository": repository["url"].rstrip("/"),
            "branch": repository.get("branch", "main"), "files": files}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cyclegan_lesson.pretrained",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--write-manifest", action="store_true",
                        help="rewrite the package's models_manifest.json from the checkout")
    args = parser.parse_args(argv)
    if not args.write_manifest:
        for name in names():
            print(name)
        return 0
    from .runinfo import repository_root

    root = repository_root()
    if root is None:
        parser.error("--write-manifest needs a repository checkout (models/ and _config.yml)")
    manifest = build_manifest(root)
    _MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    print(f"wrote {_MANIFEST} ({len(manifest['files'])} files)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
