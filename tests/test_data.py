"""The data layer: the offline files of ../shared/data, the tfds path (mocked), the unpaired
stream and every error message a user can meet."""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest

import cyclegan_lesson  # noqa: F401  (imports TensorFlow quietly first)
import tensorflow as tf  # noqa: E402
import tensorflow_datasets as tfds  # noqa: E402

from cyclegan_lesson import data, pretrained  # noqa: E402

# Counts per split from ../shared/data/README.md.
COUNTS = {
    "mnist": (60000, 10000),
    "svhn": (8003, 1997),
    "cifar10_color": (25000, 5000),
    "cifar10_gray": (25000, 5000),
    "monet": (270, 30),
    "photo": (1350, 150),
}
NATIVE = {"mnist": (28, 28, 1), "svhn": (32, 32, 3), "cifar10_color": (32, 32, 3),
          "cifar10_gray": (32, 32, 1), "monet": (256, 256, 3), "photo": (256, 256, 3)}


def _images(ds, n):
    """The first ``n`` images (labels dropped) of a dataset as one array."""
    out = []
    for element in ds.take(n):
        out.append((element[0] if isinstance(element, tuple) else element).numpy())
    return np.stack(out)


# ------------------------------------------------------------------------- the domain table

def test_domains_and_tasks_state_size_and_channels():
    assert set(data.DOMAINS) == set(NATIVE)
    for name, shape in NATIVE.items():
        assert data.get_domain(name).shape == shape
    assert data.TASKS == {"mnist2svhn": ("mnist", "svhn"),
                          "gray2color": ("cifar10_gray", "cifar10_color"),
                          "monet2photo": ("monet", "photo")}
    x, y = data.get_task("gray2color")
    assert (x.channels, y.channels) == (1, 3)
    assert data.LUMA_WEIGHTS == (0.299, 0.587, 0.114)
    assert data.default_load_size(256) == 286 and data.default_load_size(32) == 36


# ------------------------------------------------------------------------- offline path

@pytest.mark.parametrize("name", list(COUNTS))
@pytest.mark.parametrize("split", ["train", "test"])
def test_offline_contract(data_dir, name, split):
    domain = data.get_domain(name)
    ds = data.load_domain(name, split, data_dir, with_labels=domain.has_labels)
    assert int(ds.cardinality()) == COUNTS[name][split == "test"]
    n = 4 if domain.image_size > 100 else 64
    elements = list(ds.take(n))
    images = np.stack([(e[0] if domain.has_labels else e).numpy() for e in elements])
    assert images.dtype == np.float32
    assert images.shape == (n, *NATIVE[name])
    assert images.min() >= -1.0 and images.max() <= 1.0
    if domain.has_labels:
        labels = np.array([e[1].numpy() for e in elements])
        assert labels.dtype == np.int64
        assert labels.min() >= 0 and labels.max() < domain.num_classes


def test_offline_mnist_uses_full_range_and_labels(data_dir):
    images, labels = data.load_arrays("mnist", "test", data_dir, limit=100)
    assert images.shape == (100, 28, 28, 1) and images.dtype == np.float32
    assert images.min() == -1.0 and images.max() == 1.0  # 0 -> -1 and 255 -> +1 exactly
    raw = np.load(data_dir / "mnist.npz")
    np.testing.assert_array_equal(labels, raw["y_test"][:100].astype(np.int64))
    np.testing.assert_allclose(images[..., 0], raw["x_test"][:100] / 127.5 - 1.0, atol=1e-6)


def test_offline_svhn_label_balance_matches_readme(data_dir):
    _, labels = data.load_arrays("svhn", "train", data_dir)
    assert labels.shape == (8003,)
    assert np.bincount(labels, minlength=10).tolist() == [544, 1536, 1278, 890, 795, 732, 617,
                                                          605, 503, 503]
    _, labels = data.load_arrays("cifar10_color", "test", data_dir)
    assert np.bincount(labels).tolist() == [500] * 10


def test_load_labels_without_images(data_dir):
    labels = data.load_labels("mnist", "train", data_dir)
    assert labels.dtype == np.int64 and labels.shape == (60000,)
    np.testing.assert_array_equal(labels[:50],
                                  data.load_arrays("mnist", "train", data_dir, limit=50)[1])
    assert data.load_labels("svhn", "test", data_dir, limit=7).shape == (7,)
    with pytest.raises(ValueError, match="domain 'photo' has no labels"):
        data.load_labels("photo", "train", data_dir)
    with tfds.testing.mock_data(num_examples=5, policy=tfds.testing.MockPolicy.USE_CODE):
        mocked = data.load_labels("cifar10_gray", "test")
    assert mocked.shape == (5,) and mocked.min() >= 0 and mocked.max() < 10


def test_gray_is_itu_601_luma_of_the_same_cifar_images(data_dir):
    gray, gray_labels = data.load_arrays("cifar10_gray", "test", data_dir, limit=8)
    color, color_labels = data.load_arrays("cifar10_color", "test", data_dir, limit=8)
    assert gray.shape == (8, 32, 32, 1) and color.shape == (8, 32, 32, 3)
    np.testing.assert_array_equal(gray_labels, color_labels)
    raw = np.load(data_dir / "cifar10.npz")["x_test"][:8].astype(np.float64)
    for i, r, c in [(0, 0, 0), (1, 5, 7), (3, 31, 31), (7, 16, 2)]:
        R, G, B = raw[i, r, c]
        expected = (0.299 * R + 0.587 * G + 0.114 * B) / 127.5 - 1.0
        assert gray[i, r, c, 0] == pytest.approx(expected, abs=1e-5)
    # the same formula on the [-1, 1] colour images (the weights sum to 1)
    np.testing.assert_allclose(gray[..., 0], color @ np.array(data.LUMA_WEIGHTS, np.float32),
                               atol=1e-5)


def test_offline_jpegs_decode_to_the_files_pixels(data_dir):
    from PIL import Image

    first = sorted((data_dir / "monet2photo" / "testB").glob("*.jpg"))[0]
    expected = np.asarray(Image.open(first).convert("RGB"), np.float32) / 127.5 - 1.0
    images, labels = data.load_arrays("photo", "test", data_dir, limit=2)
    assert labels is None and images.shape == (2, 256, 256, 3)
    # JPEG decoders (TF's and Pillow's) differ slightly in chroma upsampling: a few levels
    diff = np.abs(images[0] - expected) * 127.5
    assert diff.max() <= 6 and diff.mean() < 1


def test_image_size_pads_mnist_and_resizes_others(data_dir):
    native, _ = data.load_arrays("mnist", "train", data_dir, limit=3)
    padded, _ = data.load_arrays("mnist", "train", data_dir, limit=3, image_size=32)
    assert padded.shape == (3, 32, 32, 1)
    np.testing.assert_array_equal(padded[:, 2:30, 2:30], native)
    assert (padded[:, :2] == -1).all() and (padded[:, :, 30:] == -1).all()
    small = _images(data.load_domain("photo", "test", data_dir, image_size=64), 2)
    assert small.shape == (2, 64, 64, 3) and small.min() >= -1 and small.max() <= 1


def test_load_arrays_agrees_with_load_domain(data_dir):
    arrays, labels = data.load_arrays("svhn", "test", data_dir, limit=5)
    pairs = list(data.load_domain("svhn", "test", data_dir, with_labels=True).take(5))
    np.testing.assert_array_equal(arrays, np.stack([p[0].numpy() for p in pairs]))
    np.testing.assert_array_equal(labels, [int(p[1]) for p in pairs])


def test_shuffle_is_a_seeded_permutation(data_dir):
    def labels(seed):
        ds = data.load_domain("monet", "test", data_dir, shuffle=True, seed=seed,
                              image_size=8)
        return [float(x.numpy().mean()) for x in ds]

    first = labels(1)
    assert len(first) == 30
    assert first == labels(1)  # deterministic given the seed
    plain = [float(x.numpy().mean()) for x in data.load_domain("monet", "test", data_dir,
                                                              image_size=8)]
    assert sorted(first) == pytest.approx(sorted(plain)) and first != plain


# ------------------------------------------------------------------------- tfds path (mocked)

@pytest.mark.parametrize("name", [n for n in COUNTS if n != "svhn"])
def test_tfds_path_has_the_same_contract(name):
    domain = data.get_domain(name)
    split = "test" if name in ("svhn", "photo") else "train"
    with tfds.testing.mock_data(num_examples=6, policy=tfds.testing.MockPolicy.USE_CODE):
        ds = data.load_domain(name, split, with_labels=domain.has_labels)
        assert int(ds.cardinality()) == 6
        elements = list(ds)
        images, labels = data.load_arrays(name, split, limit=3)
    first = elements[0][0] if domain.has_labels else elements[0]
    assert first.dtype == tf.float32
    # tfds mock cycle_gan images come in random sizes: they are resized to the domain's size
    assert tuple(first.shape) == NATIVE[name]
    assert images.shape == (3, *NATIVE[name]) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    if domain.has_labels:
        assert labels.dtype == np.int64 and labels.shape == (3,)
        assert labels.min() >= 0 and labels.max() < domain.num_classes
        assert all(e[1].dtype == tf.int64 for e in elements)
    else:
        assert labels is None


# ------------------------------------------------------------------------- SVHN online (.mat)

@pytest.fixture()
def official_svhn(tmp_path, monkeypatch, serve_folder):
    """Stand-ins for the official SVHN .mat files, served over HTTP on 127.0.0.1: 10,004
    "test" crops and 6 "train" crops in the official layout (X: 32x32x3xN uint8, y: 1-10, 10 for
    the digit 0); crop i is filled with i % 251 so its index can be read back."""
    from scipy.io import savemat

    served = tmp_path / "served"
    served.mkdir()
    files = {}
    for split, n in (("test", 10_004), ("train", 6)):
        index = np.arange(n)
        x = np.broadcast_to((index % 251).astype(np.uint8), (32, 32, 3, n)).copy()
        y = (index % 10 + 1).reshape(n, 1).astype(np.uint8)
        name = data.SVHN_FILES[split][0]
        savemat(served / name, {"X": x, "y": y})
        blob = (served / name).read_bytes()
        files[split] = (name, len(blob), hashlib.sha256(blob).hexdigest())
    server = serve_folder(served)
    monkeypatch.setattr(data, "SVHN_FILES", files)
    monkeypatch.setenv(data.SVHN_URL_ENV, server.url)
    monkeypatch.setenv(pretrained.CACHE_ENV, str(tmp_path / "cache"))
    data._svhn_official_arrays.cache_clear()
    yield server
    data._svhn_official_arrays.cache_clear()


def test_svhn_online_skips_the_crops_the_shipped_models_saw(official_svhn):
    images, labels = data.load_arrays("svhn", "test")
    assert images.shape == (4, 32, 32, 3) and images.dtype == np.float32
    # the test split starts at official test crop 10,000 (crops 0-9,999 are the offline file)
    np.testing.assert_allclose(images[:, 0, 0, 0],
                               (np.arange(10_000, 10_004) % 251) / 127.5 - 1.0, atol=1e-6)
    np.testing.assert_array_equal(labels, (np.arange(10_000, 10_004) % 10 + 1) % 10)
    assert official_svhn.requests == ["/test_32x32.mat"]  # only the split asked for
    ds = data.load_domain("svhn", "train", with_labels=True)
    assert int(ds.cardinality()) == 6
    image, label = next(iter(ds))
    assert image.shape == (32, 32, 3) and image.dtype == tf.float32 and label.dtype == tf.int64
    assert data.load_labels("svhn", "train").tolist() == [1, 2, 3, 4, 5, 6]
    assert official_svhn.requests == ["/test_32x32.mat", "/train_32x32.mat"]


def test_svhn_online_rejects_a_corrupted_file(official_svhn, monkeypatch):
    name, size, _ = data.SVHN_FILES["test"]
    monkeypatch.setitem(data.SVHN_FILES, "test", (name, size, "0" * 64))
    with pytest.raises(data.DatasetUnavailableError, match="corrupted.*data_dir='../shared/data'"):
        data.load_arrays("svhn", "test")
    with pytest.raises(data.DatasetUnavailableError, match="download=False"):
        data.load_domain("svhn", "test", download=False)


def test_online_download_sizes_are_stated_for_every_domain():
    assert set(data.ONLINE_DOWNLOAD_BYTES) == set(data.DOMAINS)
    assert data.ONLINE_DOWNLOAD_BYTES["svhn"]["test"] < 70e6  # not tfds' 1.6 GB


def test_tfds_path_gray_is_luma_of_color():
    with tfds.testing.mock_data(num_examples=3, policy=tfds.testing.MockPolicy.USE_CODE):
        gray, _ = data.load_arrays("cifar10_gray", "test")
        color, _ = data.load_arrays("cifar10_color", "test")
    assert gray.shape == (3, 32, 32, 1)
    np.testing.assert_allclose(gray[..., 0], color @ np.array(data.LUMA_WEIGHTS, np.float32),
                               atol=1e-5)


# ------------------------------------------------------------------------- unpaired + jitter

def _index_images(n, size=8):
    """n images, image i filled with the value i / n (so its index can be read back)."""
    return np.repeat((np.arange(n, dtype=np.float32) / n)[:, None, None, None],
                     size * size * 3, axis=1).reshape(n, size, size, 3)


def _indices(batch, n):
    return np.rint(batch.numpy()[:, 0, 0, 0] * n).astype(int).tolist()


def test_unpaired_batches_and_independent_shuffles():
    n = 12
    images = _index_images(n)
    stream = data.unpaired(images, images, batch_size=4, seed=3)
    assert stream.cardinality() == tf.data.INFINITE_CARDINALITY
    seq_a, seq_b = [], []
    for a, b in stream.take(6):  # two epochs of 12 = 6 batches of 4
        assert a.shape == (4, 8, 8, 3) and b.shape == (4, 8, 8, 3)
        assert a.dtype == tf.float32
        seq_a += _indices(a, n)
        seq_b += _indices(b, n)
    # each side visits every image once per epoch, in an order of its own
    for seq in (seq_a, seq_b):
        assert sorted(seq[:n]) == list(range(n)) and sorted(seq[n:]) == list(range(n))
        assert seq[:n] != seq[n:]  # reshuffled every epoch
    assert seq_a[:n] != seq_b[:n]  # the two shuffles are independent
    # deterministic given the seed; another seed, another order
    again = [_indices(a, n) for a, _ in data.unpaired(images, images, 4, seed=3).take(3)]
    assert sum(again, []) == seq_a[:n]
    other = [_indices(a, n) for a, _ in data.unpaired(images, images, 4, seed=4).take(3)]
    assert sum(other, []) != seq_a[:n]


def test_unpaired_batch_augmentation_is_seeded_per_batch_and_one_sided(data_dir):
    from cyclegan_lesson.evaluation import classifiers

    a = data.load_domain("mnist", "test", data_dir).take(12)
    b = data.load_domain("svhn", "test", data_dir).take(12)

    def svhn_aug(batch, seed):
        return classifiers.augment_batch(batch, strength="svhn", seed=seed)

    plain = list(data.unpaired(a, b, 4, seed=5, shuffle_buffer=0).take(4))
    aug = list(data.unpaired(a, b, 4, seed=5, shuffle_buffer=0, augment_b=svhn_aug).take(4))
    again = list(data.unpaired(a, b, 4, seed=5, shuffle_buffer=0, augment_b=svhn_aug).take(4))
    skipped = list(data.unpaired(a, b, 4, seed=5, shuffle_buffer=0,
                                 augment_b=svhn_aug).skip(2).take(2))
    for i, ((pa, pb), (xa, xb), (ya, yb)) in enumerate(zip(plain, aug, again)):
        np.testing.assert_array_equal(xa, pa)  # side A untouched
        assert xb.shape == pb.shape and float(tf.reduce_min(xb)) >= -1.0 \
            and float(tf.reduce_max(xb)) <= 1.0
        assert float(tf.reduce_max(tf.abs(xb - pb))) > 0.1  # side B augmented
        np.testing.assert_array_equal(xb, yb)  # a function of the seed: replays exactly
    # each batch draws its own augmentation: the same crops a pass later look different
    assert float(tf.reduce_max(tf.abs(aug[3][1] - aug[0][1]))) > 0.1
    # skipping batches (resume) gives the batches a straight run gives
    for (sa, sb), (xa, xb) in zip(skipped, aug[2:]):
        np.testing.assert_array_equal(sb, xb)
    with pytest.raises(ValueError, match="augment_b must be a function"):
        data.unpaired(a, b, 4, seed=5, augment_b="svhn")
    # the classifiers' stateful path: a generator's draws, the same shape and range
    gen = tf.random.Generator.from_seed(0)
    digits = plain[0][0]
    out = classifiers.augment_batch(digits, strength="mnist", rng=gen)
    assert out.shape == digits.shape and float(tf.reduce_max(tf.abs(out - digits))) > 0.1
    with pytest.raises(ValueError, match="strength"):
        classifiers.augment_batch(digits, strength="cifar", rng=gen)


def test_unpaired_drops_labels_and_remainder(data_dir):
    a = data.load_domain("mnist", "test", data_dir, with_labels=True).take(10)
    b = data.load_domain("svhn", "test", data_dir).take(7)
    stream = data.unpaired(a, b, batch_size=3, seed=0)
    for x, y in stream.take(4):  # more batches than 7 // 3: the stream repeats
        assert x.shape == (3, 28, 28, 1) and y.shape == (3, 32, 32, 3)


def test_jitter_changes_between_epochs_and_keeps_shape():
    rng = np.random.default_rng(0)
    image = rng.uniform(-1, 1, (1, 32, 32, 3)).astype(np.float32)
    stream = data.unpaired(image, image, batch_size=1, jitter=True, seed=0)
    epochs = [a.numpy()[0] for a, _ in stream.take(4)]  # one image: one batch per epoch
    assert all(e.shape == (32, 32, 3) for e in epochs)
    assert all(e.min() >= -1 and e.max() <= 1 for e in epochs)
    assert any(not np.allclose(epochs[0], e) for e in epochs[1:])
    assert not np.allclose(epochs[0], epochs[1]) or not np.allclose(epochs[1], epochs[2])
    replay = [a.numpy()[0] for a, _ in
              data.unpaired(image, image, batch_size=1, jitter=True, seed=0).take(4)]
    np.testing.assert_array_equal(np.stack(epochs), np.stack(replay))
    # explicit crop: the output takes the crop size
    small = data.unpaired(image, image, 1, jitter=True, load_size=40, crop_size=24, seed=0)
    a, b = next(iter(small))
    assert a.shape == (1, 24, 24, 3) and b.shape == (1, 24, 24, 3)


def test_jitter_without_resize_is_a_crop_or_its_mirror():
    image = tf.random.stateless_uniform((16, 16, 1), seed=(1, 2), minval=-1, maxval=1)
    seen_flip = seen_plain = False
    for s in range(12):
        out = data.jitter(image, tf.constant([s, 7]), load_size=16, crop_size=16).numpy()
        if np.allclose(out, image.numpy(), atol=1e-6):
            seen_plain = True
        elif np.allclose(out, image.numpy()[:, ::-1], atol=1e-6):
            seen_flip = True
        else:
            pytest.fail("jitter with load_size == crop_size must only flip")
    assert seen_flip and seen_plain


# ------------------------------------------------------------------------- error messages

def test_unknown_domain_lists_valid_names(data_dir):
    with pytest.raises(ValueError, match="unknown domain 'horse'.*mnist, svhn, cifar10_color, "
                                         "cifar10_gray, monet, photo"):
        data.load_domain("horse", "train", data_dir)
    with pytest.raises(ValueError, match="valid domains are"):
        data.load_arrays("MNIST", data_dir=data_dir)
    with pytest.raises(ValueError, match="unknown task 'x2y'.*mnist2svhn"):
        data.get_task("x2y")


def test_unknown_split_lists_valid_splits(data_dir):
    with pytest.raises(ValueError, match="unknown split 'validation'.*train, test"):
        data.load_domain("mnist", "validation", data_dir)
    with pytest.raises(ValueError, match="unknown split 'trainA'"):
        data.load_arrays("monet", "trainA", data_dir)


def test_labels_of_unlabelled_domain_and_bad_sizes(data_dir):
    with pytest.raises(ValueError, match="domain 'monet' has no labels"):
        data.load_domain("monet", "train", data_dir, with_labels=True)
    with pytest.raises(ValueError, match="image_size must be a positive int"):
        data.load_domain("mnist", "train", data_dir, image_size=0)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        data.unpaired(_index_images(4), _index_images(4), 0)


def test_missing_data_dir_explains_layout(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as info:
        data.load_domain("mnist", "train", missing)
    message = str(info.value)
    assert "does not exist" in message and str(missing) in message
    assert "Expected layout" in message and "monet2photo/" in message and "trainA" in message
    assert "../shared/data" in message and "--data-dir" in message


def test_incomplete_data_dir_names_the_missing_file(tmp_path, data_dir):
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((2, 28, 28), np.uint8),
             y_train=np.zeros(2, np.uint8))
    with pytest.raises(FileNotFoundError, match="svhn_cropped.npz is missing") as info:
        data.load_domain("svhn", "train", tmp_path)
    assert "Expected layout" in str(info.value)
    with pytest.raises(FileNotFoundError, match="has no x_test / y_test"):
        data.load_arrays("mnist", "test", tmp_path)
    assert data.load_arrays("mnist", "train", tmp_path)[0].shape == (2, 28, 28, 1)
    with pytest.raises(FileNotFoundError, match=r"folder monet2photo/trainA/ is missing"):
        data.load_domain("monet", "train", tmp_path)
    # a folder that lacks images listed in the manifest
    folder = tmp_path / "monet2photo" / "testA"
    folder.mkdir(parents=True)
    real = sorted((data_dir / "monet2photo" / "testA").glob("*.jpg"))[:2]
    shutil.copy(real[0], folder / real[0].name)
    (tmp_path / "monet2photo" / "manifest.csv").write_text(
        "split,filename,sha256\n" + "".join(f"testA,{p.name},x\n" for p in real))
    with pytest.raises(FileNotFoundError, match=rf"1 of 2 images .*missing.*{real[1].name}"):
        data.load_domain("monet", "test", tmp_path)
    (tmp_path / "monet2photo" / "manifest.csv").unlink()
    assert int(data.load_domain("monet", "test", tmp_path).cardinality()) == 1
    (tmp_path / "monet2photo" / "testB").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no .jpg images"):
        data.load_domain("photo", "test", tmp_path)


def test_tfds_without_data_points_to_data_dir(tmp_path):
    with pytest.raises(data.DatasetUnavailableError) as info:
        data.load_domain("mnist", "train", None, tfds_data_dir=tmp_path, download=False)
    message = str(info.value)
    assert "tensorflow_datasets" in message and "'mnist'" in message
    assert "data_dir='../shared/data'" in message and "Expected layout" in message
    assert isinstance(info.value, RuntimeError)


def test_tfds_download_failure_says_so(tmp_path, monkeypatch):
    def no_network(self, *args, **kwargs):
        raise ConnectionError("Failed to resolve 'storage.googleapis.com'")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", no_network)
    with pytest.raises(data.DatasetUnavailableError,
                       match=r"(?s)could not download 'cycle_gan/monet2photo' \(no internet\?\).*"
                             r"ConnectionError.*data_dir='../shared/data'") as info:
        data.load_domain("photo", "train", tfds_data_dir=tmp_path)
    assert isinstance(info.value.__cause__, ConnectionError)


@pytest.mark.parametrize("bad, match", [
    (np.zeros((2, 8, 8, 3), np.uint8), "float32 in \\[-1, 1\\], got dtype uint8.*127.5"),
    (np.full((2, 8, 8, 3), 255.0, np.float32), "must lie in \\[-1, 1\\], found \\[255, 255\\]"),
    (np.zeros((8, 8, 3), np.float32), "NHWC with 1 or 3 channels"),
    (np.full((2, 8, 8, 1), np.nan, np.float32), "NaN"),
])
def test_unpaired_validates_user_arrays(bad, match):
    with pytest.raises(ValueError, match=match):
        data.unpaired(bad, _index_images(4), 2)


def test_unpaired_rejects_batched_or_integer_datasets():
    batched = tf.data.Dataset.from_tensor_slices(_index_images(4)).batch(2)
    with pytest.raises(ValueError, match="single HWC float32 images.*unbatched"):
        data.unpaired(batched, _index_images(4), 2)
    ints = tf.data.Dataset.from_tensor_slices(np.zeros((4, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="domain_b must be a dataset of single HWC float32"):
        data.unpaired(_index_images(4), ints, 2)
    with pytest.raises(ValueError, match="jitter expects one HWC float32 image"):
        data.jitter(np.zeros((8, 8, 3), np.uint8), [0, 0])


def test_jitter_resizes_bicubically_like_the_official_transform():
    # the official get_transform resizes with PIL's BICUBIC before the random crop; with
    # load_size == crop_size the crop is the whole resized image, so compare it with PIL
    from PIL import Image

    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    pil = np.asarray(Image.fromarray(small).resize((20, 20), Image.BICUBIC), np.float32)
    image = tf.constant(small.astype(np.float32) / 127.5 - 1.0)
    resized = data.jitter(tf.image.resize(image, (16, 16)), tf.constant([0, 0]), load_size=20,
                          crop_size=20, flip=False).numpy()
    ours = (resized + 1.0) * 127.5
    assert np.mean(np.abs(ours - pil)) < 2.0      # 0.45 grey levels; bilinear differs by 11
