"""Shipped models are found wherever the package runs: the checkout's models/, else a download
checked against the committed SHA-256 manifest and cached; a bad download is never kept."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from cyclegan_lesson import pretrained

from conftest import ROOT


@pytest.fixture()
def no_checkout(monkeypatch, tmp_path):
    """Behave as an installed package: no checkout, an empty cache, no download URL set."""
    monkeypatch.setattr(pretrained, "_checkout_models", lambda: None)
    monkeypatch.setenv(pretrained.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(pretrained.MODELS_URL_ENV, raising=False)
    return tmp_path / "cache"


def test_manifest_matches_the_checkout_and_config():
    """The shipped manifest is the one --write-manifest writes now (models/ and _config.yml)."""
    shipped = json.loads((ROOT / "src" / "cyclegan_lesson" / "models_manifest.json").read_text())
    assert shipped == pretrained.build_manifest(ROOT), (
        "models/ or _config.yml changed: run python -m cyclegan_lesson.pretrained --write-manifest")
    assert pretrained.base_url() == ("https://raw.githubusercontent.com/cyclegan-lesson/"
                                     "cyclegan-lesson/main/models")


def test_checkout_file_is_used_as_it_is():
    local = Path(pretrained.path("classifiers/mnist.keras"))
    assert local.samefile(ROOT / "models" / "classifiers" / "mnist.keras")
    assert Path(pretrained.path("models/classifiers/mnist.keras")).samefile(local)


def test_unknown_name_lists_what_ships():
    with pytest.raises(ValueError, match=r"'mnist2svhn/G_XY.keras' is not a shipped model file.*"
                                         r"cgan_mnist/, classifiers/, gray2color/, mnist2svhn/, "
                                         r"monet2photo/, pix2pix_gray2color/, stargan_digits/"):
        pretrained.path("mnist2svhn/G_XY.keras")
    with pytest.raises(ValueError, match="not a shipped model folder"):
        pretrained.folder("cifar")


def test_download_is_verified_and_cached(no_checkout, serve_folder, monkeypatch):
    server = serve_folder(ROOT / "models")
    monkeypatch.setenv(pretrained.MODELS_URL_ENV, server.url + "/")
    got = Path(pretrained.path("classifiers/svhn.keras", progress=False))
    assert got == no_checkout / "models" / "classifiers" / "svhn.keras"
    assert got.read_bytes() == (ROOT / "models" / "classifiers" / "svhn.keras").read_bytes()
    assert server.requests == ["/classifiers/svhn.keras"]
    server.close()  # the cached copy is used without asking the network again
    assert Path(pretrained.path("classifiers/svhn.keras", progress=False)) == got
    import keras

    import cyclegan_lesson  # noqa: F401

    assert keras.models.load_model(got, compile=False).output_shape == (None, 10)


def test_folder_fetches_generators_with_their_metadata(no_checkout, serve_folder, monkeypatch):
    server = serve_folder(ROOT / "models")
    monkeypatch.setenv(pretrained.MODELS_URL_ENV, server.url)
    folder = Path(pretrained.folder("mnist2svhn/comparison/plain", progress=False))
    assert folder == no_checkout / "models" / "mnist2svhn" / "comparison" / "plain"
    assert sorted(p.name for p in folder.iterdir()) == ["G_AB.keras", "G_BA.keras",
                                                        "generators.json"]
    top = Path(pretrained.folder("mnist2svhn", progress=False))
    assert (top / "G_AB.keras").is_file() and (top / "generators.json").is_file()


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupted_or_truncated_download_is_rejected(no_checkout, serve_folder, monkeypatch,
                                                     tmp_path, damage):
    served = tmp_path / "served" / "classifiers"
    served.mkdir(parents=True)
    data = (ROOT / "models" / "classifiers" / "mnist.keras").read_bytes()
    data = data[: len(data) // 2] if damage == "truncate" else data[:-1] + bytes([data[-1] ^ 1])
    (served / "mnist.keras").write_bytes(data)
    server = serve_folder(served.parent)
    monkeypatch.setenv(pretrained.MODELS_URL_ENV, server.url)
    expected = "truncated or wrong" if damage == "truncate" else "corrupted: SHA-256"
    with pytest.raises(pretrained.PretrainedUnavailableError, match=expected):
        pretrained.path("classifiers/mnist.keras", progress=False)
    leftovers = list((no_checkout / "models").rglob("*")) if (no_checkout / "models").exists() else []
    assert [p for p in leftovers if p.is_file()] == []


def test_a_bad_cached_file_is_replaced(no_checkout, serve_folder, monkeypatch):
    server = serve_folder(ROOT / "models")
    monkeypatch.setenv(pretrained.MODELS_URL_ENV, server.url)
    cached = no_checkout / "models" / "classifiers" / "mnist.keras"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not a model")
    got = Path(pretrained.path("classifiers/mnist.keras", progress=False))
    assert hashlib.sha256(got.read_bytes()).hexdigest() == (
        pretrained._manifest()["files"]["classifiers/mnist.keras"]["sha256"])


def test_unreachable_server_gives_one_line_with_url_and_fix(no_checkout, monkeypatch):
    monkeypatch.setenv(pretrained.MODELS_URL_ENV, "http://127.0.0.1:9")
    with pytest.raises(pretrained.PretrainedUnavailableError) as info:
        pretrained.path("mnist2svhn/G_AB.keras", progress=False)
    message = str(info.value)
    assert "\n" not in message
    assert "mnist2svhn/G_AB.keras" in message
    assert "http://127.0.0.1:9/mnist2svhn/G_AB.keras" in message
    assert pretrained.MODELS_URL_ENV in message
