"""Image datasets: IDX parsing against the real MNIST files, CIFAR-10 from its JPEG copy and
its cache, offline fallbacks, generated shapes."""

from __future__ import annotations

import gzip
import io
import pathlib
import struct
import tarfile
import zipfile

import numpy as np
import pytest

from coursepkg import data
from coursepkg.downloads import DataFileError, DownloadError

# Per-class counts of the MNIST test set, from ../shared/data/README.md.
MNIST_T10K_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

IDX_TYPE_CODES = {
    np.dtype("uint8"): 0x08,
    np.dtype("int8"): 0x09,
    np.dtype("int16"): 0x0B,
    np.dtype("int32"): 0x0C,
    np.dtype("float32"): 0x0D,
    np.dtype("float64"): 0x0E,
}


def write_idx(path: pathlib.Path, array: np.ndarray) -> pathlib.Path:
    """Write ``array`` as an IDX file (big-endian), gzip-compressed when the name ends in .gz."""
    array = np.asarray(array)
    header = bytes([0, 0, IDX_TYPE_CODES[array.dtype], array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    content = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if path.suffix == ".gz":
        content = gzip.compress(content)
    path.write_bytes(content)
    return path


def _sorted_rows(images: np.ndarray) -> list[bytes]:
    return sorted(image.tobytes() for image in images)


# --------------------------------------------------------------------------- read_idx


def test_read_idx_on_the_real_mnist_test_set(mnist_t10k_dir):
    images = data.read_idx(mnist_t10k_dir / "t10k-images-idx3-ubyte.gz")
    labels = data.read_idx(mnist_t10k_dir / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10_000,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == MNIST_T10K_COUNTS
    assert images.min() == 0 and images.max() == 255
    assert (images[:, 0, :] == 0).mean() > 0.99  # MNIST's digits sit inside a blank margin


def test_read_idx_round_trip_of_the_real_file(mnist_t10k_dir, tmp_path):
    labels = data.read_idx(mnist_t10k_dir / "t10k-labels-idx1-ubyte.gz")
    again = data.read_idx(write_idx(tmp_path / "labels-idx1-ubyte", labels))
    np.testing.assert_array_equal(again, labels)


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize(
    ("dtype", "shape"),
    [("uint8", (5, 4, 3)), ("int8", (7,)), ("int16", (2, 3)), ("int32", (3, 2, 2, 2)),
     ("float32", (4, 5)), ("float64", (6,))],
)  # fmt: skip
def test_read_idx_round_trip(tmp_path, suffix, dtype, shape):
    rng = np.random.default_rng(0)
    if np.dtype(dtype).kind == "f":
        array = rng.normal(scale=1e3, size=shape).astype(dtype)
    else:
        info = np.iinfo(dtype)
        array = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    result = data.read_idx(write_idx(tmp_path / f"array-idx{len(shape)}-ubyte{suffix}", array))
    assert result.shape == shape and result.dtype == np.dtype(dtype)  # native byte order
    assert result.dtype.isnative
    np.testing.assert_array_equal(result, array)


def _valid_idx_bytes() -> bytes:
    return bytes([0, 0, 0x08, 2]) + struct.pack(">2I", 3, 4) + bytes(range(12))


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("empty", b"", "IDX"),
        ("wrong_magic", b"\x01\x02" + _valid_idx_bytes()[2:], "IDX"),
        ("unknown_type", b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "type code"),
        ("truncated_body", _valid_idx_bytes()[:-1], "truncated"),
        ("padded_body", _valid_idx_bytes() + b"\x00", "padded"),
        ("truncated_header", _valid_idx_bytes()[:7], "truncated"),
        ("text", b"this is not an IDX file at all", "IDX"),
    ],
)
def test_read_idx_rejects_malformed_files(tmp_path, name, content, match):
    path = tmp_path / f"{name}-idx2-ubyte"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match):
        data.read_idx(path)


@pytest.mark.parametrize("content", ["garbage", "truncated_gzip"])
def test_read_idx_rejects_broken_gzip(tmp_path, content):
    path = tmp_path / "images-idx2-ubyte.gz"
    if content == "garbage":
        path.write_bytes(b"not gzip, whatever the name says")
    else:
        path.write_bytes(gzip.compress(_valid_idx_bytes() * 50)[:-12])
    with pytest.raises(ValueError, match="gzip"):
        data.read_idx(path)


@pytest.mark.parametrize("damage", ["corrupted_stream", "crc_mismatch", "truncated", "header_only"])
def test_read_idx_names_a_damaged_gzip_file_and_what_to_do(tmp_path, damage):
    """A corrupted deflate stream used to escape as a raw zlib.error."""
    content = bytearray(gzip.compress(_valid_idx_bytes() * 50))
    if damage == "corrupted_stream":
        content[10] ^= 0xFF  # the first byte of the deflate stream: zlib.error
    elif damage == "crc_mismatch":
        content[20] ^= 0xFF  # inside a literal: the data decode, their CRC does not match
    elif damage == "truncated":
        content = content[:-12]  # EOFError
    else:
        content = content[:10]  # the gzip header and nothing more
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(bytes(content))
    with pytest.raises(DataFileError, match="gzip") as caught:
        data.read_idx(path)
    assert isinstance(caught.value, ValueError)  # callers catching ValueError still catch it
    assert str(path) in str(caught.value) and "replace it" in str(caught.value)


def test_read_idx_header_announcing_more_items_than_the_file_holds(tmp_path):
    absurd = tmp_path / "absurd-idx3-ubyte"  # 4 billion^3 values: no overflow, no allocation
    absurd.write_bytes(bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 2**32 - 1, 2**32 - 1, 2**32 - 1) + b"\0" * 16)
    more = tmp_path / "more-idx1-ubyte"
    more.write_bytes(bytes([0, 0, 0x08, 1]) + struct.pack(">I", 10_001) + bytes(10_000))
    for path in (absurd, more):
        with pytest.raises(DataFileError, match="truncated") as caught:
            data.read_idx(path)
        assert str(path) in str(caught.value)


@pytest.mark.parametrize(("path", "error"), [(None, TypeError), (3.5, TypeError), ("", ValueError), ("a\0b", ValueError)])
def test_read_idx_rejects_bad_paths(path, error):
    with pytest.raises(error, match="`path`"):
        data.read_idx(path)


def test_read_idx_on_the_truncated_real_file(mnist_t10k_dir, tmp_path):
    raw = gzip.decompress((mnist_t10k_dir / "t10k-images-idx3-ubyte.gz").read_bytes())
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="truncated"):
        data.read_idx(path)


# --------------------------------------------------------------------------- ImageDataset


def _toy_dataset(n_train=50, n_test=20) -> data.ImageDataset:
    rng = np.random.default_rng(0)
    return data.ImageDataset(
        "toy", rng.integers(0, 256, (n_train, 4, 4), dtype=np.uint8), np.arange(n_train) % 10,
        rng.integers(0, 256, (n_test, 4, 4), dtype=np.uint8), np.arange(n_test) % 10,
        data.MNIST_CLASSES, "random pixels", True,
    )  # fmt: skip


def test_image_dataset_rejects_mismatched_lengths():
    toy = _toy_dataset()
    with pytest.raises(ValueError, match="labels"):
        data.ImageDataset(
            "bad", toy.x_train, toy.y_train[:-1], toy.x_test, toy.y_test, (), "", True
        )
    with pytest.raises(ValueError, match="labels"):
        data.ImageDataset("bad", toy.x_train, toy.y_train, toy.x_test[:3], toy.y_test, (), "", True)


def test_subset_keeps_matching_images_and_labels():
    toy = _toy_dataset()
    small = toy.subset(n_train=12, n_test=5, seed=3)
    assert (len(small.x_train), len(small.y_train)) == (12, 12)
    assert (len(small.x_test), len(small.y_test)) == (5, 5)
    # every kept (image, label) pair is a pair of the original, without repeats
    originals = {image.tobytes(): label for image, label in zip(toy.x_train, toy.y_train)}
    assert len({image.tobytes() for image in small.x_train}) == 12
    assert all(
        originals[image.tobytes()] == label for image, label in zip(small.x_train, small.y_train)
    )
    assert "subset" in small.source and "12 train" in small.source
    assert len(toy.x_train) == 50  # the original is unchanged


def test_subset_is_deterministic_by_seed():
    toy = _toy_dataset()
    np.testing.assert_array_equal(toy.subset(10, seed=1).x_train, toy.subset(10, seed=1).x_train)
    assert not np.array_equal(toy.subset(10, seed=1).x_train, toy.subset(10, seed=2).x_train)


def test_subset_none_or_too_large_keeps_everything():
    toy = _toy_dataset()
    same = toy.subset(n_train=None, n_test=1000)
    np.testing.assert_array_equal(same.x_train, toy.x_train)
    np.testing.assert_array_equal(same.x_test, toy.x_test)


@pytest.mark.parametrize(
    ("value", "error"),
    [(0, ValueError), (-3, ValueError), (10**12, ValueError), (2.5, TypeError), ("10", TypeError),
     (True, TypeError), (float("nan"), TypeError)],
)  # fmt: skip
@pytest.mark.parametrize("argument", ["n_train", "n_test", "seed"])
def test_subset_rejects_bad_sizes(argument, value, error):
    if argument == "seed" and value == 0:
        return  # a valid seed
    with pytest.raises(error, match=f"`{argument}`"):
        _toy_dataset().subset(**{argument: value})


def test_subset_accepts_numpy_integers():
    small = _toy_dataset().subset(n_train=np.int64(7), n_test=np.int32(3), seed=np.uint8(1))
    assert (len(small.x_train), len(small.x_test)) == (7, 3)


def test_image_dataset_str_gives_sizes_and_source():
    text = str(_toy_dataset())
    assert "50 train + 20 test images of 4x4" in text and "random pixels" in text


# --------------------------------------------------------------------------- MNIST


def test_load_mnist_offline_falls_back_visibly(offline, monkeypatch, capsys):
    monkeypatch.delenv(data.MNIST_DIR_ENV_VAR, raising=False)
    dataset = data.load_mnist()
    out = capsys.readouterr().out
    assert "FALLBACK" in out and "scikit-learn" in out
    assert dataset.is_fallback and "scikit-learn" in dataset.source
    for images, labels in ((dataset.x_train, dataset.y_train), (dataset.x_test, dataset.y_test)):
        assert images.shape[1:] == (28, 28) and images.dtype == np.uint8
        assert labels.dtype == np.int64 and set(labels.tolist()) == set(range(10))
    assert len(dataset.x_train) + len(dataset.x_test) == 1797
    assert dataset.class_names == data.MNIST_CLASSES


def test_load_mnist_without_fallback_raises_offline(offline, capsys):
    with pytest.raises(DownloadError, match="mnist"):
        data.load_mnist(fallback=False)


def test_load_mnist_from_the_real_test_set(offline, monkeypatch, mnist_t10k_dir, capsys):
    monkeypatch.setenv(data.MNIST_DIR_ENV_VAR, str(mnist_t10k_dir))
    dataset = data.load_mnist()
    assert "FALLBACK" in capsys.readouterr().out  # not the 60k training set that was asked for
    assert (len(dataset.x_train), len(dataset.x_test)) == (8000, 2000)
    assert dataset.x_train.shape[1:] == (28, 28) and dataset.x_train.dtype == np.uint8
    assert str(mnist_t10k_dir) in dataset.source
    # the two parts are exactly the 10k real test digits, each with its own label
    images = data.read_idx(mnist_t10k_dir / "t10k-images-idx3-ubyte.gz")
    labels = data.read_idx(mnist_t10k_dir / "t10k-labels-idx1-ubyte.gz")
    all_images = np.concatenate([dataset.x_train, dataset.x_test])
    all_labels = np.concatenate([dataset.y_train, dataset.y_test])
    assert _sorted_rows(all_images) == _sorted_rows(images)
    label_of = {image.tobytes(): label for image, label in zip(images, labels)}
    assert all(label_of[image.tobytes()] == label for image, label in zip(all_images, all_labels))
    assert np.bincount(all_labels, minlength=10).tolist() == MNIST_T10K_COUNTS


def test_load_mnist_from_local_train_and_test_files(offline, monkeypatch, tmp_path, capsys):
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (30, 28, 28), dtype=np.uint8)
    y_train = (np.arange(30) % 10).astype(np.uint8)
    x_test = rng.integers(0, 256, (10, 28, 28), dtype=np.uint8)
    y_test = np.arange(10, dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte", x_train)  # plain and gzip both found
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", y_train)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", x_test)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", y_test)
    monkeypatch.setenv(data.MNIST_DIR_ENV_VAR, str(tmp_path))
    dataset = data.load_mnist()
    np.testing.assert_array_equal(dataset.x_train, x_train)
    np.testing.assert_array_equal(dataset.y_train, y_train)
    np.testing.assert_array_equal(dataset.x_test, x_test)
    np.testing.assert_array_equal(dataset.y_test, y_test)
    assert dataset.y_train.dtype == np.int64
    assert str(tmp_path) in capsys.readouterr().out


def _write_mnist_test_files(folder: pathlib.Path, n_images: int = 10, n_labels: int = 10) -> None:
    rng = np.random.default_rng(0)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (n_images, 28, 28), dtype=np.uint8))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", (np.arange(n_labels) % 10).astype(np.uint8))


@pytest.mark.parametrize("where", ["missing_folder", "a_file"])
def test_load_mnist_refuses_a_variable_naming_a_missing_folder(offline, monkeypatch, tmp_path, where):
    """A variable pointing nowhere used to be ignored without a word (scikit-learn's digits instead)."""
    target = tmp_path / "no-such-folder"
    if where == "a_file":
        target.write_bytes(b"not a folder")
    monkeypatch.setenv(data.MNIST_DIR_ENV_VAR, str(target))
    with pytest.raises(DataFileError) as caught:
        data.load_mnist()
    message = str(caught.value)
    assert f"${data.MNIST_DIR_ENV_VAR}={target}" in message and "unset" in message
    assert ("does not exist" if where == "missing_folder" else "is not a folder") in message


def test_load_mnist_refuses_a_folder_without_the_test_files(offline, monkeypatch, tmp_path):
    monkeypatch.setenv(data.MNIST_DIR_ENV_VAR, str(tmp_path))
    with pytest.raises(DataFileError, match=rf"t10k-images.*\${data.MNIST_DIR_ENV_VAR}={tmp_path}"):
        data.load_mnist()


def test_load_mnist_labels_one_short_of_the_images(offline, monkeypatch, tmp_path):
    """A labels file one label short used to give an IndexError."""
    _write_mnist_test_files(tmp_path, n_images=10, n_labels=9)
    monkeypatch.setenv(data.MNIST_DIR_ENV_VAR, str(tmp_path))
    with pytest.raises(DataFileError, match="one label per image") as caught:
        data.load_mnist()
    message = str(caught.value)
    assert "t10k-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert data.MNIST_DIR_ENV_VAR in message


@pytest.mark.parametrize("damage", ["corrupted_gzip", "bad_magic", "labels_out_of_range", "not_28x28", "no_images"])
def test_load_mnist_names_a_damaged_idx_file_in_the_folder(offline, monkeypatch, tmp_path, damage):
    _write_mnist_test_files(tmp_path)
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    if damage == "corrupted_gzip":
        content = bytearray(labels.read_bytes())
        content[10] ^= 0xFF
        labels.write_bytes(bytes(content))
    elif damage == "bad_magic":
        labels.write_bytes(gzip.compress(b"\x01\x02\x08\x01" + struct.pack(">I", 10) + bytes(10)))
    elif damage == "labels_out_of_range":
        write_idx(labels, np.full(10, 12, dtype=np.uint8))
    elif damage == "not_28x28":
        write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((10, 20, 20), dtype=np.uint8))
    else:
        _write_mnist_test_files(tmp_path, n_images=0, n_labels=0)
    monkeypatch.setenv(data.MNIST_DIR_ENV_VAR, str(tmp_path))
    with pytest.raises(DataFileError) as caught:
        data.load_mnist()
    message = str(caught.value)
    assert str(tmp_path) in message and data.MNIST_DIR_ENV_VAR in message


def test_digits_as_mnist_centres_a_20x20_box():
    from skimage.transform import resize
    from sklearn.datasets import load_digits

    dataset = data.digits_as_mnist()
    images = np.concatenate([dataset.x_train, dataset.x_test])
    labels = np.concatenate([dataset.y_train, dataset.y_test])
    assert images.shape == (1797, 28, 28) and images.dtype == np.uint8
    border = np.ones((28, 28), dtype=bool)
    border[4:24, 4:24] = False
    assert images[:, border].max() == 0  # MNIST's 4-pixel margin
    assert images[:, 4:24, 4:24].max() == 255
    for box_edge in (
        images[:, 4, 4:24],
        images[:, 23, 4:24],
        images[:, 4:24, 4],
        images[:, 4:24, 23],
    ):
        assert box_edge.max() > 0  # the box is used up to its edges, not smaller
    # images still go with their labels: shrunk back to 8x8, each is nearest to a
    # scikit-learn digit of the same class
    digits = load_digits()
    small = resize(images[:, 4:24, 4:24] / 255.0, (len(images), 8, 8), anti_aliasing=True)
    ours, theirs = small.reshape(-1, 64), digits.images.reshape(-1, 64) / 16.0
    distances = (ours**2).sum(1)[:, None] + (theirs**2).sum(1)[None, :] - 2 * ours @ theirs.T
    assert (digits.target[distances.argmin(axis=1)] == labels).mean() > 0.99
    assert np.bincount(labels).tolist() == np.bincount(digits.target).tolist()


def test_digits_as_mnist_split_depends_on_the_seed():
    first, again, other = data.digits_as_mnist(0), data.digits_as_mnist(0), data.digits_as_mnist(1)
    np.testing.assert_array_equal(first.x_test, again.x_test)
    assert (len(first.x_train), len(first.x_test)) == (1437, 360)
    assert not np.array_equal(first.x_test, other.x_test)


# --------------------------------------------------------------------------- shapes


@pytest.mark.parametrize(("channels", "image_size"), [(3, 32), (1, 28), (3, 16)])
def test_make_shapes_shapes_and_dtypes(channels, image_size):
    images, labels = data.make_shapes(40, image_size=image_size, channels=channels, seed=1)
    expected = (40, image_size, image_size) + ((3,) if channels == 3 else ())
    assert images.shape == expected and images.dtype == np.uint8
    assert labels.shape == (40,) and labels.dtype == np.int64
    assert np.bincount(labels, minlength=10).tolist() == [4] * 10


def test_make_shapes_is_deterministic_by_seed():
    first, first_labels = data.make_shapes(20, seed=5)
    again, again_labels = data.make_shapes(20, seed=5)
    other, other_labels = data.make_shapes(20, seed=6)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first_labels, again_labels)
    assert not np.array_equal(first, other)
    assert not np.array_equal(first_labels, other_labels)


@pytest.mark.parametrize("channels", [1, 3])
def test_make_shapes_draws_one_visible_shape_on_a_background(channels):
    images, _ = data.make_shapes(30, channels=channels, noise=0.0, seed=2)
    pixels = images.reshape(len(images), -1, channels)
    for image in pixels:
        colours, counts = np.unique(image, axis=0, return_counts=True)
        assert len(colours) == 2  # foreground and background, nothing else without noise
        assert counts.min() >= 20  # the shape covers more than a few pixels
        assert np.abs(colours[0].astype(int) - colours[1].astype(int)).max() >= 0.35 * 255 - 1
    noisy, _ = data.make_shapes(5, channels=channels, noise=0.08, seed=2)
    assert all(len(np.unique(image)) > 10 for image in noisy)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_images": 0}, ValueError, "n_images"),
        ({"n_images": -5}, ValueError, "n_images"),
        ({"n_images": 2.5}, TypeError, "n_images"),
        ({"n_images": float("nan")}, TypeError, "n_images"),
        ({"n_images": 10**6}, ValueError, "n_images"),  # absurd sizes fail at once
        ({"n_images": 10, "image_size": 8}, ValueError, "image_size"),
        ({"n_images": 10, "image_size": 32.0}, TypeError, "image_size"),
        ({"n_images": 10, "image_size": 10**6}, ValueError, "image_size"),
        ({"n_images": 100_000, "image_size": 512}, ValueError, "n_images"),  # 78 GB of pixels
        ({"n_images": 10, "channels": 2}, ValueError, "channels"),
        ({"n_images": 10, "channels": "3"}, TypeError, "channels"),
        ({"n_images": 10, "noise": float("nan")}, ValueError, "noise"),
        ({"n_images": 10, "noise": float("inf")}, ValueError, "noise"),
        ({"n_images": 10, "noise": -0.1}, ValueError, "noise"),
        ({"n_images": 10, "seed": -1}, ValueError, "seed"),
        ({"n_images": 10, "seed": "0"}, TypeError, "seed"),
    ],
)
def test_make_shapes_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=f"`{match}`"):
        data.make_shapes(**kwargs)


def test_make_shapes_accepts_numpy_integers():
    images, labels = data.make_shapes(np.int64(10), image_size=np.int32(16), channels=np.int64(1))
    assert images.shape == (10, 16, 16) and labels.shape == (10,)


@pytest.mark.parametrize(
    ("loader", "name", "shape"),
    [
        (data.load_cifar10, "CIFAR-10", (32, 32, 3)),
        (data.load_fashion_mnist, "Fashion-MNIST", (28, 28)),
    ],
)
def test_cifar10_and_fashion_mnist_fall_back_to_shapes(offline, monkeypatch, capsys, loader, name, shape):
    monkeypatch.delenv(data.CIFAR10_ARCHIVE_ENV_VAR, raising=False)  # `make test` sets it
    dataset = loader(n_fallback=(30, 20))
    out = capsys.readouterr().out
    assert "FALLBACK" in out and name in out
    assert dataset.is_fallback and f"standing in for {name}" in dataset.source
    assert dataset.x_train.shape == (30, *shape) and dataset.x_test.shape == (20, *shape)
    assert dataset.x_train.dtype == np.uint8
    assert np.bincount(dataset.y_train).tolist() == [3] * 10
    assert dataset.class_names == data.SHAPE_CLASSES
    with pytest.raises(DownloadError):
        loader(fallback=False)


# --------------------------------------------------------------------------- CIFAR-10 as JPEG files

# Mean pixel of each colour channel over keras.datasets.cifar10's 50,000 training images
# (0.4914, 0.4822, 0.4465 in [0, 1] units, the normalisation constants widely quoted for CIFAR-10).
CIFAR10_TRAIN_CHANNEL_MEANS = [125.3, 123.0, 113.9]

# One colour per class, far apart, so that a decoded image's class can be read from its pixels.
CLASS_COLOURS = np.array(
    [[230, 25, 25], [25, 230, 25], [25, 25, 230], [230, 230, 25], [230, 25, 230],
     [25, 230, 230], [240, 240, 240], [20, 20, 20], [128, 64, 0], [0, 128, 64]],
)  # fmt: skip


def _jpeg_bytes(image: np.ndarray, quality: int = 95) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def cifar10_jpeg_members(per_class=(3, 2), seed=0) -> dict[str, bytes]:
    """The files of a small CIFAR-10-like archive: each class's images are its colour plus noise."""
    rng = np.random.default_rng(seed)
    members = {"README.md": b"a synthetic CIFAR-10 archive for the tests\n"}
    for split, count in zip(("train", "test"), per_class):
        for label, class_name in enumerate(data.CIFAR10_CLASSES):
            for index in range(count):
                noise = rng.integers(-12, 13, size=(32, 32, 3))
                image = np.clip(CLASS_COLOURS[label] + noise, 0, 255).astype(np.uint8)
                members[f"{split}/{class_name}/{index:04d}.jpg"] = _jpeg_bytes(image)
    return members


def write_tar_gz(path: pathlib.Path, members: dict[str, bytes] | list, order_seed=None) -> pathlib.Path:
    """Write ``(name, content)`` pairs into a .tar.gz, with folder entries, optionally shuffled."""
    items = list(members.items()) if isinstance(members, dict) else list(members)
    if order_seed is not None:
        items = [items[index] for index in np.random.default_rng(order_seed).permutation(len(items))]
    with tarfile.open(path, "w:gz") as tar:
        for folder in sorted({name.rsplit("/", 1)[0] for name, _ in items if "/" in name}):
            info = tarfile.TarInfo(folder)
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        for name, content in items:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


@pytest.fixture
def small_cifar10_archive(tmp_path) -> pathlib.Path:
    """A CIFAR-10-like .tar.gz with 3 train and 2 test images per class."""
    return write_tar_gz(tmp_path / "small-cifar10.tar.gz", cifar10_jpeg_members(), order_seed=1)


def _label_from_colour(images: np.ndarray) -> np.ndarray:
    means = images.reshape(len(images), -1, 3).mean(axis=1)  # (n, 3)
    return np.argmin(((means[:, None, :] - CLASS_COLOURS[None]) ** 2).sum(-1), axis=1)


def test_read_cifar10_jpeg_decodes_labels_and_pixels(small_cifar10_archive):
    from PIL import Image

    x_train, y_train, x_test, y_test = data.read_cifar10_jpeg(small_cifar10_archive, per_class=(3, 2))
    assert x_train.shape == (30, 32, 32, 3) and x_test.shape == (20, 32, 32, 3)
    assert x_train.dtype == np.uint8 and x_test.dtype == np.uint8
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert np.bincount(y_train).tolist() == [3] * 10 and np.bincount(y_test).tolist() == [2] * 10
    # every image goes with its label, and the pixels are PIL's decoding of the file
    np.testing.assert_array_equal(_label_from_colour(x_train), y_train)
    np.testing.assert_array_equal(_label_from_colour(x_test), y_test)
    members = cifar10_jpeg_members()
    references = [
        np.asarray(Image.open(io.BytesIO(members[f"train/{name}/{index:04d}.jpg"])))
        for name in data.CIFAR10_CLASSES for index in range(3)
    ]  # fmt: skip
    assert _sorted_rows(x_train) == _sorted_rows(np.stack(references))
    # shuffled, not sorted by class (a prefix is close to class-balanced)
    assert not np.all(np.diff(y_train) >= 0)


def test_read_cifar10_jpeg_order_does_not_depend_on_the_archive(small_cifar10_archive, tmp_path):
    other_order = write_tar_gz(tmp_path / "other-order.tar.gz", cifar10_jpeg_members(), order_seed=2)
    first = data.read_cifar10_jpeg(small_cifar10_archive, per_class=(3, 2))
    again = data.read_cifar10_jpeg(other_order, per_class=(3, 2))
    for array, same in zip(first, again):
        np.testing.assert_array_equal(array, same)


def _truncated(content: bytes) -> bytes:
    return content[: len(content) // 2]


@pytest.mark.parametrize(
    ("case", "match"),
    [
        ("missing_image", "Expected 3 train images of each class"),
        ("extra_test_image", "Expected 2 test images of each class"),
        ("unknown_class", "class folders"),
        ("wrong_size", "32x32 RGB"),
        ("grey_image", "32x32 RGB"),
        ("not_a_jpeg", "readable JPEG"),
        ("truncated_jpeg", "readable JPEG"),
        ("duplicate", "twice"),
        ("not_gzip", "tar.gz"),
        ("truncated_gzip", "tar.gz"),
    ],
)
def test_read_cifar10_jpeg_rejects_archives_that_are_not_cifar10(tmp_path, case, match):
    members = cifar10_jpeg_members()
    path = tmp_path / "bad.tar.gz"
    grey = np.full((32, 32), 128, dtype=np.uint8)
    if case == "missing_image":
        del members["train/cat/0001.jpg"]
    elif case == "extra_test_image":
        members["test/ship/0099.jpg"] = members["test/ship/0000.jpg"]
    elif case == "unknown_class":
        members["train/unicorn/0000.jpg"] = members["train/cat/0000.jpg"]
    elif case == "wrong_size":
        members["train/dog/0002.jpg"] = _jpeg_bytes(np.zeros((31, 32, 3), dtype=np.uint8))
    elif case == "grey_image":
        members["test/frog/0001.jpg"] = _jpeg_bytes(grey)
    elif case == "not_a_jpeg":
        members["train/bird/0000.jpg"] = b"this is not a JPEG file"
    elif case == "truncated_jpeg":
        members["train/bird/0000.jpg"] = _truncated(members["train/bird/0000.jpg"])
    if case == "duplicate":
        write_tar_gz(path, [*members.items(), ("train/deer/0001.jpg", members["train/deer/0001.jpg"])])
    elif case == "not_gzip":
        path.write_bytes(b"plain text, whatever the name says")
    elif case == "truncated_gzip":
        path.write_bytes(_truncated(write_tar_gz(tmp_path / "good.tar.gz", members).read_bytes()))
    else:
        write_tar_gz(path, members)
    with pytest.raises(ValueError, match=match):
        data.read_cifar10_jpeg(path, per_class=(3, 2))


def test_read_cifar10_jpeg_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        data.read_cifar10_jpeg(tmp_path / "absent.tar.gz")


@pytest.mark.parametrize(
    ("archive", "error"), [(None, TypeError), (3, TypeError), (b"a.tar.gz", TypeError), ("", ValueError),
                           ("a\0b.tar.gz", ValueError), ("x" * 5000, ValueError)],
)  # fmt: skip
@pytest.mark.parametrize("function", [data.read_cifar10_jpeg, data.load_cifar10_jpeg])
def test_cifar10_jpeg_functions_reject_bad_archive_paths(function, archive, error):
    with pytest.raises(error, match="`archive`"):
        function(archive)


@pytest.mark.parametrize(
    ("per_class", "error", "match"),
    [
        ((3,), TypeError, "`per_class`"),
        ("32", TypeError, "`per_class`"),
        ((3, 2.0), TypeError, r"`per_class`.*Received: per_class=\(3, 2.0\)"),
        ((3, float("nan")), TypeError, "`per_class`"),
        ((True, 2), TypeError, "`per_class`"),
        ((0, 2), ValueError, r"`per_class`.*train in \[1, 5,000\]"),
        ((5001, 2), ValueError, r"`per_class`.*Received: per_class=\(5001, 2\)"),
    ],
)
def test_read_cifar10_jpeg_rejects_bad_per_class(small_cifar10_archive, per_class, error, match):
    with pytest.raises(error, match=match):
        data.read_cifar10_jpeg(small_cifar10_archive, per_class=per_class)


def _cache_path(keras_home: pathlib.Path) -> pathlib.Path:
    return keras_home / "datasets" / data.CIFAR10_JPEG_CACHE


def _count_decodes(monkeypatch) -> list:
    """Replace read_cifar10_jpeg by a wrapper that records each call."""
    calls = []
    decode = data.read_cifar10_jpeg

    def counting(*args, **kwargs):
        calls.append(args)
        return decode(*args, **kwargs)

    monkeypatch.setattr(data, "read_cifar10_jpeg", counting)
    return calls


def _assert_same_dataset(first: data.ImageDataset, second: data.ImageDataset) -> None:
    for name in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))


def test_load_cifar10_jpeg_decodes_once_then_uses_the_cache(keras_home, small_cifar10_archive, monkeypatch, capsys):
    calls = _count_decodes(monkeypatch)
    first = data.load_cifar10_jpeg(small_cifar10_archive, per_class=(3, 2))
    out = capsys.readouterr().out
    assert len(calls) == 1 and "decoded 50 JPEG images" in out and str(_cache_path(keras_home)) in out
    assert _cache_path(keras_home).is_file()
    assert [path.name for path in _cache_path(keras_home).parent.iterdir()] == [data.CIFAR10_JPEG_CACHE]
    second = data.load_cifar10_jpeg(small_cifar10_archive, per_class=(3, 2))
    out = capsys.readouterr().out
    assert len(calls) == 1, "the second call decoded the archive again instead of using the cache"
    assert "decoded" not in out and "[real data]" in out
    _assert_same_dataset(first, second)
    assert not first.is_fallback and first.class_names == data.CIFAR10_CLASSES
    assert "JPEG copy" in first.source and "differ slightly" in first.source
    assert str(small_cifar10_archive) in first.source


def _flip_a_pixel_byte(cache: pathlib.Path) -> None:
    """Flip one byte inside the stored training images (not in a header the zip reader checks)."""
    with zipfile.ZipFile(cache) as archive:
        info = archive.getinfo("x_train.npy")
    content = bytearray(cache.read_bytes())
    name_length, extra_length = struct.unpack("<HH", content[info.header_offset + 26 : info.header_offset + 30])
    data_start = info.header_offset + 30 + name_length + extra_length  # the .npy file, header first
    content[data_start + 1000] ^= 0xFF  # .npy headers are at most a few hundred bytes
    cache.write_bytes(bytes(content))


@pytest.mark.parametrize(
    "damage", ["truncated", "flipped_byte", "empty", "metadata_missing", "rewritten_with_a_changed_pixel"]
)
def test_load_cifar10_jpeg_rebuilds_a_damaged_cache(keras_home, small_cifar10_archive, monkeypatch, capsys, damage):
    original = data.load_cifar10_jpeg(small_cifar10_archive, per_class=(3, 2))
    cache = _cache_path(keras_home)
    if damage == "truncated":
        cache.write_bytes(_truncated(cache.read_bytes()))
    elif damage == "flipped_byte":
        _flip_a_pixel_byte(cache)
    elif damage == "empty":
        cache.write_bytes(b"")
    elif damage == "metadata_missing":  # a valid .npz, but not one this module wrote
        np.savez(cache, x_train=original.x_train)
    else:  # a valid zip (its CRCs match) whose pixels differ from the sha256 recorded with them
        with np.load(cache) as stored:
            arrays = {name: stored[name] for name in stored.files}
        arrays["x_train"][3, 5, 7, 1] ^= 0x01
        np.savez(cache, **arrays)
    capsys.readouterr()
    calls = _count_decodes(monkeypatch)
    rebuilt = data.load_cifar10_jpeg(small_cifar10_archive, per_class=(3, 2))
    out = capsys.readouterr().out
    assert "are damaged" in out and "removed, decoding the archive again" in out
    assert len(calls) == 1
    _assert_same_dataset(original, rebuilt)
    data.load_cifar10_jpeg(small_cifar10_archive, per_class=(3, 2))  # the rebuilt cache is good
    assert len(calls) == 1 and "damaged" not in capsys.readouterr().out


def test_load_cifar10_jpeg_rebuilds_the_cache_of_another_archive(keras_home, small_cifar10_archive, tmp_path, capsys):
    data.load_cifar10_jpeg(small_cifar10_archive, per_class=(3, 2))
    other = write_tar_gz(tmp_path / "other.tar.gz", cifar10_jpeg_members(seed=5))
    capsys.readouterr()
    dataset = data.load_cifar10_jpeg(other, per_class=(3, 2))
    out = capsys.readouterr().out
    assert "another archive" in out and "decoded 50 JPEG images" in out
    _assert_same_dataset(dataset, data.ImageDataset(
        "expected", *data.read_cifar10_jpeg(other, per_class=(3, 2)), (), "", False
    ))  # fmt: skip


def test_load_cifar10_jpeg_never_shows_a_half_written_cache(keras_home, small_cifar10_archive, monkeypatch, capsys):
    cache = _cache_path(keras_home)
    real_savez = np.savez

    def savez_that_fails_halfway(file, **arrays):
        assert not cache.exists()  # the file being written is not the cache itself,
        written = [path.name for path in cache.parent.iterdir()]  # but a temporary file beside it
        assert len(written) == 1 and written[0].endswith(".tmp")  # (os.replace is atomic in a folder)
        real_savez(file, **arrays)
        file.truncate(file.tell() // 2)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", savez_that_fails_halfway)
    dataset = data.load_cifar10_jpeg(small_cifar10_archive, per_class=(3, 2))
    out = capsys.readouterr().out
    assert "could not cache" in out and "No space left" in out
    assert len(dataset.x_train) == 30  # the decoded data are still returned
    assert list(cache.parent.iterdir()) == []  # neither a cache nor a temporary file is left
    monkeypatch.setattr(np, "savez", real_savez)
    data.load_cifar10_jpeg(small_cifar10_archive, per_class=(3, 2))
    assert cache.is_file() and "decoded" in capsys.readouterr().out


@pytest.mark.parametrize("fallback", [True, False])
def test_load_cifar10_refuses_a_variable_naming_a_missing_archive(offline, monkeypatch, tmp_path, fallback):
    missing = tmp_path / "no-such-cifar10.tar.gz"
    monkeypatch.setenv(data.CIFAR10_ARCHIVE_ENV_VAR, str(missing))
    with pytest.raises(DataFileError) as caught:  # said, not silently replaced by shapes
        data.load_cifar10(fallback=fallback, n_fallback=(20, 10))
    message = str(caught.value)
    assert f"${data.CIFAR10_ARCHIVE_ENV_VAR}={missing} does not exist" in message
    assert "unset" in message


def test_load_cifar10_refuses_a_variable_naming_a_folder(offline, monkeypatch, tmp_path):
    monkeypatch.setenv(data.CIFAR10_ARCHIVE_ENV_VAR, str(tmp_path))
    with pytest.raises(DataFileError, match="is not a file"):
        data.load_cifar10(n_fallback=(20, 10))


def test_load_cifar10_reports_an_archive_that_is_not_cifar10(offline, monkeypatch, small_cifar10_archive, capsys):
    monkeypatch.setenv(data.CIFAR10_ARCHIVE_ENV_VAR, str(small_cifar10_archive))
    dataset = data.load_cifar10(n_fallback=(20, 10))  # 3 images per class, not CIFAR-10's 5,000
    out = capsys.readouterr().out
    assert "could not be used" in out and "Expected 5,000 train images of each class" in out
    assert "FALLBACK" in out and dataset.is_fallback
    assert not _cache_path(offline).exists()


@pytest.mark.slow
def test_load_cifar10_from_the_real_jpeg_archive(offline, monkeypatch, cifar10_archive, capsys):
    monkeypatch.setenv(data.CIFAR10_ARCHIVE_ENV_VAR, str(cifar10_archive))
    dataset = data.load_cifar10()
    out = capsys.readouterr().out
    assert "could not be downloaded" in out and "decoded 60,000 JPEG images" in out
    assert "[real data]" in out and "FALLBACK" not in out
    assert not dataset.is_fallback and dataset.class_names == data.CIFAR10_CLASSES
    assert dataset.x_train.shape == (50_000, 32, 32, 3) and dataset.x_test.shape == (10_000, 32, 32, 3)
    assert dataset.x_train.dtype == np.uint8 and dataset.y_train.dtype == np.int64
    assert np.bincount(dataset.y_train).tolist() == [5_000] * 10
    assert np.bincount(dataset.y_test).tolist() == [1_000] * 10
    assert np.bincount(dataset.y_train[:1000], minlength=10).min() >= 70  # prefixes are mixed
    np.testing.assert_allclose(
        dataset.x_train.reshape(-1, 3).mean(axis=0), CIFAR10_TRAIN_CHANNEL_MEANS, atol=1.0
    )  # the JPEG copy is close to Keras's arrays
    assert "quality ~75" in dataset.source and str(cifar10_archive) in dataset.source
    calls = _count_decodes(monkeypatch)
    again = data.load_cifar10(fallback=False)  # the JPEG copy is real data: no error
    assert calls == [] and "decoded" not in capsys.readouterr().out
    _assert_same_dataset(dataset, again)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"fallback": "no"}, TypeError, "`fallback`"),
        ({"fallback": 0}, TypeError, "`fallback`"),
        ({"n_fallback": 100}, TypeError, "`n_fallback`"),
        ({"n_fallback": (100,)}, TypeError, "`n_fallback`"),
        ({"n_fallback": (100, 2.5)}, TypeError, r"`n_fallback`.*n_fallback=\(100, 2.5\)"),
        ({"n_fallback": (float("nan"), 10)}, TypeError, r"`n_fallback`.*n_fallback=\(nan, 10\)"),
        ({"n_fallback": (0, 10)}, ValueError, r"`n_fallback`.*n_fallback=\(0, 10\)"),
        ({"n_fallback": (10**7, 10)}, ValueError, r"`n_fallback`.*train in \[1, [56]0,000\]"),
    ],
)
@pytest.mark.parametrize("loader", [data.load_cifar10, data.load_fashion_mnist])
def test_loaders_reject_bad_arguments_before_loading(offline, monkeypatch, loader, kwargs, error, match):
    monkeypatch.setattr(data.downloads, "keras_dataset", lambda name: pytest.fail("checked too late"))
    with pytest.raises(error, match=match):
        loader(**kwargs)


@pytest.mark.parametrize("value", ["no", "False", 0, 1, None, np.array([True])])
def test_load_mnist_refuses_a_fallback_that_is_not_a_boolean(offline, monkeypatch, value):
    """`fallback='no'` used to read as true, and fell back when told not to."""
    monkeypatch.setattr(data.downloads, "keras_dataset", lambda name: pytest.fail("checked too late"))
    with pytest.raises(TypeError, match="`fallback`"):
        data.load_mnist(fallback=value)


def test_fashion_mnist_fallback_sizes_are_bounded_by_the_real_dataset(offline):
    with pytest.raises(ValueError, match="`n_fallback`.*60,000"):
        data.load_fashion_mnist(n_fallback=(60_001, 10))


# --------------------------------------------------------------------------- photographs


@pytest.mark.parametrize("name", sorted(data.SAMPLE_IMAGES))
def test_sample_image(name, capsys):
    image = data.sample_image(name)
    assert data.SAMPLE_IMAGES[name] in capsys.readouterr().out  # credit where it is shown
    assert image.dtype == np.uint8
    grey = "(grey)" in data.SAMPLE_IMAGES[name]
    assert image.ndim == (2 if grey else 3)
    if not grey:
        assert image.shape[2] == 3
    assert min(image.shape[:2]) >= 256 and image.std() > 10  # a real photograph
    if data.SAMPLE_IMAGES[name].startswith("scikit-image"):
        import skimage.data

        np.testing.assert_array_equal(image, getattr(skimage.data, name)())


def test_sample_image_rejects_unknown_names():
    with pytest.raises(ValueError, match="astronaut"):  # the message lists the choices
        data.sample_image("lena")
    with pytest.raises(TypeError, match="`name`"):
        data.sample_image(3)


@pytest.mark.parametrize(("seed", "error"), [(-1, ValueError), (2**32, ValueError), (1.0, TypeError), ("0", TypeError)])
def test_digits_as_mnist_rejects_bad_seeds(seed, error):
    with pytest.raises(error, match="`seed`"):
        data.digits_as_mnist(seed)
