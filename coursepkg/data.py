"""Image datasets and sample photographs, with visible offline fallbacks.

Introduced in: book/01_convolution.ipynb (sample images) and
book/02_layers_and_shapes.ipynb (MNIST).

Each loader first asks Keras for the real dataset (downloaded once, checksummed
and cached by :mod:`coursepkg.downloads`). Where that is impossible (no network,
as in CI) it uses a local copy of the real data when an environment variable
points at one (MNIST's IDX files, CIFAR-10 as JPEG files, decoded once and
cached), else data that ships with an installed package or is generated, and
prints one line saying so, with the size of what was loaded.
The returned :class:`ImageDataset` also carries that description in
``dataset.source``, so a chapter can quote it next to its results.
"""

from __future__ import annotations

import collections.abc
import contextlib
import dataclasses
import gzip
import io
import json
import math
import numbers
import os
import pathlib
import re
import struct
import tarfile
import time
import zlib

import numpy as np

from coursepkg import downloads, validation

MNIST_DIR_ENV_VAR = "COURSEPKG_MNIST_DIR"
CIFAR10_ARCHIVE_ENV_VAR = "COURSEPKG_CIFAR10_ARCHIVE"

MAX_SUBSET = 10_000_000  # largest `n_train`/`n_test` of ImageDataset.subset (more than any dataset here)
MAX_SHAPES = 100_000  # largest `n_images` of make_shapes
MAX_SHAPES_SIZE = 512  # largest `image_size` of make_shapes
MAX_SHAPES_VALUES = 200_000_000  # n_images * image_size**2 * channels (800 MB of float32 while drawing)
FASHION_MNIST_SIZES = (60_000, 10_000)  # (train, test) of the real Fashion-MNIST: the bounds of `n_fallback`
CIFAR10_SIZES = (50_000, 10_000)  # (train, test) of the real CIFAR-10: the bounds of `n_fallback`

MNIST_CLASSES = tuple(str(digit) for digit in range(10))
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
SHAPE_CLASSES = (
    "disk", "square", "triangle", "cross", "ring",
    "horizontal bar", "vertical bar", "diamond", "ellipse", "frame",
)  # fmt: skip


@dataclasses.dataclass
class ImageDataset:
    """A train/test split of images with integer labels."""

    name: str  # what the chapter asked for, e.g. "MNIST"
    x_train: np.ndarray  # (n_train, height, width) or (n_train, height, width, channels), uint8
    y_train: np.ndarray  # (n_train,), int64 class indices
    x_test: np.ndarray  # (n_test, ...), uint8
    y_test: np.ndarray  # (n_test,), int64
    class_names: tuple[str, ...]  # name of each class index
    source: str  # where the data came from, in words
    is_fallback: bool  # True when this is not the dataset that was asked for

    def __post_init__(self) -> None:
        if len(self.x_train) != len(self.y_train) or len(self.x_test) != len(self.y_test):
            raise ValueError(
                "Expected as many labels as images. Received: "
                f"{len(self.x_train)} train images, {len(self.y_train)} train labels, "
                f"{len(self.x_test)} test images, {len(self.y_test)} test labels"
            )

    def __str__(self) -> str:
        shape = "x".join(str(size) for size in self.x_train.shape[1:])
        return (
            f"{self.name}: {len(self.x_train):,} train + {len(self.x_test):,} test images "
            f"of {shape}, {len(self.class_names)} classes; source: {self.source}"
        )

    def subset(self, n_train: int | None = None, n_test: int | None = None, seed: int = 0):
        """A random, class-balanced-in-expectation subset (for fast mode).

        Args:
            n_train: number of training images to keep, an integer in [1, 10,000,000]
                (``None``, or more than there are, keeps all).
            n_test: number of test images to keep, likewise.
            seed: seed of the random choice, an integer in [0, 2**32 - 1].

        Returns:
            A new :class:`ImageDataset`; the source says it is a subset.

        Raises:
            TypeError: a size or the seed is not an integer.
            ValueError: a size or the seed is out of range.
        """
        n_train = validation.optional(validation.check_int, "n_train", n_train, 1, MAX_SUBSET)
        n_test = validation.optional(validation.check_int, "n_test", n_test, 1, MAX_SUBSET)
        seed = validation.check_seed("seed", seed)
        rng = np.random.default_rng(seed)

        def pick(x, y, n):
            if n is None or n >= len(x):
                return x, y
            index = np.sort(rng.choice(len(x), size=n, replace=False))
            return x[index], y[index]

        x_train, y_train = pick(self.x_train, self.y_train, n_train)
        x_test, y_test = pick(self.x_test, self.y_test, n_test)
        return dataclasses.replace(
            self, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
            source=f"{self.source} (random subset: {len(x_train):,} train, {len(x_test):,} test)",
        )  # fmt: skip


def _announce(dataset: ImageDataset) -> ImageDataset:
    marker = "FALLBACK, not the real dataset" if dataset.is_fallback else "real data"
    print(f"[coursepkg] {dataset} [{marker}]")
    return dataset


def _as_labels(y) -> np.ndarray:
    return np.asarray(y).reshape(-1).astype(np.int64)


# --------------------------------------------------------------------------- IDX files


_IDX_ADVICE = "It is damaged or not an IDX file: replace it with an intact copy, or delete it."


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzip-compressed or not.

    Args:
        path: path of an ``*-idx?-ubyte`` file, optionally ending in ``.gz``.

    Returns:
        The array, with the shape and dtype stored in the file's header.

    Raises:
        TypeError, ValueError: ``path`` is not a file path.
        OSError: the file cannot be opened (``FileNotFoundError`` when it does not exist).
        DataFileError: the file is not a well-formed IDX file (a broken or truncated
            gzip stream, a wrong magic number, a header that announces more or fewer
            values than the file holds); the message names the file.
    """
    path = validation.check_path("path", path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:  # not gzip, truncated, corrupted stream
        raise downloads.DataFileError(
            f"Expected a readable gzip file. Received: path={str(path)!r} ({type(error).__name__}: "
            f"{error}). {_IDX_ADVICE}"
        ) from error
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise downloads.DataFileError(
            f"Expected an IDX file (magic 0x0000). Received: path={str(path)!r}. {_IDX_ADVICE}"
        )
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    type_code, n_dims = data[2], data[3]
    if type_code not in dtypes:
        raise downloads.DataFileError(f"Unknown IDX type code 0x{type_code:02x} in {path}. {_IDX_ADVICE}")
    if len(data) < 4 + 4 * n_dims:
        raise downloads.DataFileError(
            f"IDX file {path} is truncated: its header announces {n_dims} dimensions. {_IDX_ADVICE}"
        )
    shape = struct.unpack(f">{n_dims}I", data[4 : 4 + 4 * n_dims])
    dtype = np.dtype(dtypes[type_code])
    body = data[4 + 4 * n_dims :]
    expected = math.prod(shape) * dtype.itemsize  # Python integers: no overflow for absurd headers
    if len(body) != expected:
        raise downloads.DataFileError(
            f"IDX file {path} is truncated or padded: header says {shape} "
            f"({expected:,} bytes), body has {len(body):,} bytes. {_IDX_ADVICE}"
        )
    return np.frombuffer(body, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _mnist_from_idx_dir(directory: pathlib.Path, seed: int = 0) -> ImageDataset:
    """MNIST from local IDX files: the full set, or only the 10k test set split 80/20."""

    def find(stem):
        for name in (stem, stem + ".gz"):
            if (directory / name).is_file():
                return directory / name
        return None

    test_images, test_labels = find("t10k-images-idx3-ubyte"), find("t10k-labels-idx1-ubyte")
    train_images, train_labels = find("train-images-idx3-ubyte"), find("train-labels-idx1-ubyte")
    if test_images is None or test_labels is None:
        raise downloads.DataFileError(
            f"No t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz) files in "
            f"${MNIST_DIR_ENV_VAR}={directory}. Put MNIST's test files there, or unset the variable."
        )
    x_test, y_test = _read_mnist_pair(test_images, test_labels)
    if train_images is not None and train_labels is not None:
        x_train, y_train = _read_mnist_pair(train_images, train_labels)
        source = f"MNIST IDX files in {directory}"
    else:
        order = np.random.default_rng(seed).permutation(len(x_test))
        cut = int(0.8 * len(order))
        x_train, y_train = x_test[order[:cut]], y_test[order[:cut]]
        x_test, y_test = x_test[order[cut:]], y_test[order[cut:]]
        source = (
            f"real MNIST digits from the 10k test set in {directory}, split 80/20 "
            "(the 60k training files are absent)"
        )
    return ImageDataset("MNIST", x_train, y_train, x_test, y_test, MNIST_CLASSES, source, True)


def _read_mnist_pair(images_path: pathlib.Path, labels_path: pathlib.Path) -> tuple[np.ndarray, np.ndarray]:
    """MNIST images ``(n, 28, 28)`` uint8 and labels ``(n,)`` in 0..9 from two IDX files, checked together."""
    advice = f"Replace the file in ${MNIST_DIR_ENV_VAR} with an intact copy, or unset the variable."
    try:
        images, labels = read_idx(images_path), read_idx(labels_path)
    except downloads.DataFileError as error:
        raise downloads.DataFileError(
            f"{error} (It was found through ${MNIST_DIR_ENV_VAR}; unset the variable to use the fallback.)"
        ) from error
    if len(images) == 0 or len(labels) == 0:
        raise downloads.DataFileError(f"{images_path} or {labels_path} holds no values. {advice}")
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise downloads.DataFileError(
            f"Expected 28x28 uint8 MNIST images in {images_path}. "
            f"Received: {images.dtype} values of shape {images.shape}. {advice}"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise downloads.DataFileError(
            f"Expected one label per image: {len(images):,} images in {images_path}, "
            f"but labels of shape {labels.shape} in {labels_path}. {advice}"
        )
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() > 9:
        raise downloads.DataFileError(
            f"Expected digit labels 0..9 in {labels_path}. Received: {labels.dtype} values in "
            f"[{labels.min()}, {labels.max()}]. {advice}"
        )
    return images, _as_labels(labels)


# --------------------------------------------------------------------------- fallbacks


def digits_as_mnist(seed: int = 0) -> ImageDataset:
    """scikit-learn's 1,797 handwritten digits (8x8), resized to MNIST's 28x28 layout.

    Like MNIST, each digit is scaled into a 20x20 box centred in a 28x28 frame,
    with white ink on black, as uint8 in 0..255. 80% train, 20% test.

    Args:
        seed: seed of the random split, an integer in [0, 2**32 - 1].
    """
    seed = validation.check_seed("seed", seed)
    from skimage.transform import resize
    from sklearn.datasets import load_digits

    digits = load_digits()
    small = digits.images / 16.0  # (1797, 8, 8) in [0, 1]
    boxes = resize(small, (len(small), 20, 20), order=1, anti_aliasing=False)
    images = np.zeros((len(small), 28, 28), dtype=np.uint8)
    images[:, 4:24, 4:24] = np.clip(boxes * 255.0, 0, 255).round().astype(np.uint8)
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(images))
    cut = int(0.8 * len(order))
    return ImageDataset(
        "MNIST", images[order[:cut]], labels[order[:cut]], images[order[cut:]], labels[order[cut:]],
        MNIST_CLASSES, "scikit-learn's handwritten digits (8x8, 1,797 images) resized to 28x28",
        True,
    )  # fmt: skip


def make_shapes(
    n_images: int,
    image_size: int = 32,
    channels: int = 3,
    noise: float = 0.08,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate a 10-class dataset of drawn shapes (a stand-in for CIFAR-10/Fashion-MNIST).

    Each image shows one shape of :data:`SHAPE_CLASSES` at a random position,
    size and (for colour images) random foreground and background colours,
    plus Gaussian pixel noise, so that colour alone never gives the class away.

    Args:
        n_images: number of images (balanced over the 10 classes), an integer in
            [1, 100,000], with ``n_images * image_size**2 * channels`` at most 200,000,000.
        image_size: height and width in pixels, an integer in [16, 512].
        channels: 1 (grey) or 3 (RGB).
        noise: standard deviation of the pixel noise, in [0, 1] units, a number in [0, 1].
        seed: seed of the generator, an integer in [0, 2**32 - 1].

    Returns:
        ``(images, labels)``: uint8 array (n, size, size, channels) or
        (n, size, size) when ``channels == 1``, and int64 labels.

    Raises:
        TypeError: an argument of the wrong type (a float size, a string, a boolean).
        ValueError: an argument out of range.
    """
    n_images = validation.check_int("n_images", n_images, 1, MAX_SHAPES)
    image_size = validation.check_int("image_size", image_size, 16, MAX_SHAPES_SIZE)
    channels = validation.check_choice("channels", validation.check_int("channels", channels, 1, 3), (1, 3))
    noise = validation.check_float("noise", noise, 0.0, 1.0)
    seed = validation.check_seed("seed", seed)
    if n_images * image_size**2 * channels > MAX_SHAPES_VALUES:
        raise ValueError(
            f"Expected `n_images` * image_size**2 * channels to be at most {MAX_SHAPES_VALUES:,}. "
            f"Received: n_images={n_images}, image_size={image_size}, channels={channels}"
        )
    from skimage import draw

    rng = np.random.default_rng(seed)
    labels = np.arange(n_images) % len(SHAPE_CLASSES)
    rng.shuffle(labels)
    images = np.empty((n_images, image_size, image_size, channels), dtype=np.float32)
    shape = (image_size, image_size)
    for index, label in enumerate(labels):
        radius = rng.uniform(0.22, 0.38) * image_size
        row, col = rng.uniform(radius + 1, image_size - radius - 1, size=2)
        mask = np.zeros(shape, dtype=bool)
        if label == 0:  # disk
            mask[draw.disk((row, col), radius, shape=shape)] = True
        elif label == 1:  # square
            half = radius * 0.8
            mask[draw.rectangle((row - half, col - half), (row + half, col + half), shape=shape)] = True
        elif label == 2:  # triangle
            mask[draw.polygon([row - radius, row + radius * 0.7, row + radius * 0.7],
                              [col, col - radius, col + radius], shape=shape)] = True  # fmt: skip
        elif label == 3:  # cross
            width = max(radius * 0.3, 1.5)
            mask[draw.rectangle((row - radius, col - width), (row + radius, col + width), shape=shape)] = True
            mask[draw.rectangle((row - width, col - radius), (row + width, col + radius), shape=shape)] = True
        elif label == 4:  # ring
            mask[draw.disk((row, col), radius, shape=shape)] = True
            mask[draw.disk((row, col), radius * 0.55, shape=shape)] = False
        elif label == 5:  # horizontal bar
            width = max(radius * 0.3, 1.5)
            mask[draw.rectangle((row - width, col - radius), (row + width, col + radius), shape=shape)] = True
        elif label == 6:  # vertical bar
            width = max(radius * 0.3, 1.5)
            mask[draw.rectangle((row - radius, col - width), (row + radius, col + width), shape=shape)] = True
        elif label == 7:  # diamond
            mask[draw.polygon([row - radius, row, row + radius, row],
                              [col, col + radius, col, col - radius], shape=shape)] = True  # fmt: skip
        elif label == 8:  # ellipse, wide or tall
            radii = (radius, radius * 0.5) if rng.random() < 0.5 else (radius * 0.5, radius)
            mask[draw.ellipse(row, col, radii[0], radii[1], shape=shape)] = True
        else:  # frame: hollow square
            half, inner = radius * 0.85, radius * 0.5
            mask[draw.rectangle((row - half, col - half), (row + half, col + half), shape=shape)] = True
            mask[draw.rectangle((row - inner, col - inner), (row + inner, col + inner), shape=shape)] = False
        background = rng.uniform(0.0, 1.0, size=channels)
        foreground = rng.uniform(0.0, 1.0, size=channels)
        while np.abs(foreground - background).max() < 0.35:  # keep the shape visible
            foreground = rng.uniform(0.0, 1.0, size=channels)
        image = np.where(mask[..., None], foreground, background)
        images[index] = image + rng.normal(0.0, noise, size=image.shape)
    images = np.clip(images * 255.0, 0, 255).round().astype(np.uint8)
    if channels == 1:
        images = images[..., 0]
    return images, labels.astype(np.int64)


def _shapes_dataset(name, n_train, n_test, image_size, channels, seed) -> ImageDataset:
    x_train, y_train = make_shapes(n_train, image_size, channels, seed=seed)
    x_test, y_test = make_shapes(n_test, image_size, channels, seed=seed + 1)
    colour = "colour" if channels == 3 else "grey"
    source = (
        f"generated {colour} shapes ({image_size}x{image_size}, 10 classes: "
        f"{', '.join(SHAPE_CLASSES)}) standing in for {name}"
    )
    return ImageDataset(name, x_train, y_train, x_test, y_test, SHAPE_CLASSES, source, True)


# --------------------------------------------------------------------------- CIFAR-10 as JPEG files

# sha256 of the course's copy (../shared/data/cifar10-jpeg/cifar10-jpeg.tar.gz), for information
# only: another copy with the same layout is accepted, because its content is what gets checked.
CIFAR10_JPEG_SHA256 = "1eeb753345949d7d9fecc3c6a53562608d45ba5b6f282cd58053eabc3928ea0b"
CIFAR10_PER_CLASS = (5000, 1000)  # (train, test) images of each class in the official split
CIFAR10_JPEG_CACHE = "coursepkg-cifar10-jpeg.npz"  # the decoded arrays, in the Keras cache's datasets/
_CIFAR10_JPEG_CACHE_FORMAT = 1  # bump when the cached arrays change meaning (order, dtype, layout)
_CIFAR10_JPEG_ORDER_SEED = 0  # seed of the fixed shuffle of each split
_CIFAR10_JPEG_MEMBER = re.compile(r"(?:\./)?(train|test)/([^/]+)/([^/]+\.jpg)")
_CIFAR10_ARRAY_NAMES = ("x_train", "y_train", "x_test", "y_test")


def _check_pair(name: str, value, highs: tuple[int, int]) -> tuple[int, int]:
    """A (train, test) pair of integers, train in ``[1, highs[0]]`` and test in ``[1, highs[1]]``."""
    expected = (
        f"Expected `{name}` to be a pair of integers (train, test), train in [1, {highs[0]:,}] "
        f"and test in [1, {highs[1]:,}]."
    )
    received = f"Received: {name}={value!r:.80}"
    if (
        isinstance(value, (str, bytes))
        or not isinstance(value, collections.abc.Sequence)
        or len(value) != 2
        or any(isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Integral) for item in value)
    ):
        raise TypeError(f"{expected} {received}")
    if not all(1 <= item <= high for item, high in zip(value, highs)):
        raise ValueError(f"{expected} {received}")
    return tuple(int(item) for item in value)


def _decode_cifar10_jpeg(content: bytes, member: str) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.mode != "RGB" or image.size != (32, 32):
                raise ValueError(
                    f"Expected a 32x32 RGB image. Received: {member} ({image.size[0]}x{image.size[1]} {image.mode})"
                )
            return np.asarray(image)  # (32, 32, 3) uint8
    except OSError as error:  # PIL's "cannot identify image file", "image file is truncated"
        raise ValueError(f"Expected a readable JPEG image. Received: {member} ({error})") from error


def read_cifar10_jpeg(
    archive: str | os.PathLike, per_class: tuple[int, int] = CIFAR10_PER_CLASS
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Decode CIFAR-10 from a ``.tar.gz`` of JPEG files, checking its content.

    Introduced in: book/06_alexnet.ipynb (through :func:`load_cifar10`).

    The archive holds ``train/{class}/{name}.jpg`` and ``test/{class}/{name}.jpg``,
    one folder per name of :data:`CIFAR10_CLASSES` (other files, such as a README,
    are ignored). Every image must be a 32x32 RGB picture, and each class must
    have exactly ``per_class`` images in each split. The images are sorted by
    class and file name, then each split is shuffled with a fixed seed: every call
    gives the same order, and any prefix is close to class-balanced, as in
    ``keras.datasets.cifar10``. Decoding all 60,000 images takes seconds;
    :func:`load_cifar10_jpeg` does it once and caches the arrays.

    Args:
        archive: path of the ``.tar.gz`` file.
        per_class: (train, test) number of images expected in each class, integers
            in [1, 5,000] and [1, 1,000] (CIFAR-10's own counts are the largest).

    Returns:
        ``(x_train, y_train, x_test, y_test)``: uint8 images
        ``(n, 32, 32, 3)`` and int64 labels ``(n,)``, in Keras's class order.

    Raises:
        OSError: the file cannot be opened.
        ValueError: it is not a readable ``.tar.gz``, or its content is not
            CIFAR-10 (an unreadable image, an unknown class, wrong counts).

    Example:
        >>> x_train, y_train, x_test, y_test = read_cifar10_jpeg("cifar10-jpeg.tar.gz")
        >>> x_train.shape, x_test.shape
        ((50000, 32, 32, 3), (10000, 32, 32, 3))
    """
    archive = validation.check_path("archive", archive)
    per_class = _check_pair("per_class", per_class, CIFAR10_PER_CLASS)
    found = {"train": {}, "test": {}}  # split -> {(label, file name): (32, 32, 3) image}
    with open(archive, "rb") as handle:
        try:
            with tarfile.open(fileobj=handle, mode="r|gz") as tar:  # a stream: one pass, in order
                for member in tar:
                    match = _CIFAR10_JPEG_MEMBER.fullmatch(member.name)
                    if match is None or not member.isfile():
                        continue
                    split, class_name, file_name = match.groups()
                    if class_name not in CIFAR10_CLASSES:
                        raise ValueError(
                            f"Expected class folders named {CIFAR10_CLASSES}. "
                            f"Received: {member.name} in {archive}"
                        )
                    key = (CIFAR10_CLASSES.index(class_name), file_name)
                    if key in found[split]:
                        raise ValueError(f"{member.name} appears twice in {archive}")
                    found[split][key] = _decode_cifar10_jpeg(tar.extractfile(member).read(), member.name)
        except (tarfile.TarError, EOFError, zlib.error) as error:
            raise ValueError(
                f"Expected a readable .tar.gz archive. Received: archive={str(archive)!r} ({error})"
            ) from error
    rng = np.random.default_rng(_CIFAR10_JPEG_ORDER_SEED)
    arrays = []
    for split, expected in zip(("train", "test"), per_class):
        keys = sorted(found[split])  # by class, then file name
        counts = np.bincount([label for label, _ in keys], minlength=len(CIFAR10_CLASSES))
        if counts.tolist() != [expected] * len(CIFAR10_CLASSES):
            raise ValueError(
                f"Expected {expected:,} {split} images of each class in {archive}. "
                f"Received: {dict(zip(CIFAR10_CLASSES, counts.tolist()))}"
            )
        order = rng.permutation(len(keys))
        images = np.stack([found[split][keys[index]] for index in order])  # (n, 32, 32, 3) uint8
        labels = np.array([keys[index][0] for index in order], dtype=np.int64)  # (n,)
        found[split] = None  # free the decoded images one split earlier
        arrays += [images, labels]
    return tuple(arrays)


def _cifar10_arrays_problem(arrays, per_class: tuple[int, int], sha256: str) -> str | None:
    """What is wrong with cached arrays (shapes, dtypes, counts, hash), or ``None``."""
    n_classes = len(CIFAR10_CLASSES)
    for split, (images, labels), expected in zip(("train", "test"), (arrays[:2], arrays[2:]), per_class):
        n_images = expected * n_classes
        if images.dtype != np.uint8 or images.shape != (n_images, 32, 32, 3):
            return f"{split} images are {images.dtype} {images.shape}, expected uint8 {(n_images, 32, 32, 3)}"
        if labels.dtype != np.int64 or labels.shape != (n_images,):
            return f"{split} labels are {labels.dtype} {labels.shape}, expected int64 ({n_images},)"
        if labels.min() < 0 or labels.max() >= n_classes:
            return f"{split} labels outside 0..{n_classes - 1}"
        if np.bincount(labels, minlength=n_classes).tolist() != [expected] * n_classes:
            return f"{split} labels are not {expected:,} of each class"
    if downloads.sha256_of_arrays(*arrays) != sha256:
        return "the arrays' sha256 differs from the one recorded when they were written"
    return None


def _read_cifar10_cache(cache: pathlib.Path, archive_sha256: str, per_class: tuple[int, int]):
    """The cached arrays when they are intact and come from this archive, else ``None`` (and why)."""
    if not cache.exists():
        return None
    try:
        with np.load(cache, allow_pickle=False) as stored:
            metadata = json.loads(str(stored["metadata"]))
            if (
                metadata.get("format") != _CIFAR10_JPEG_CACHE_FORMAT
                or metadata.get("archive_sha256") != archive_sha256
                or metadata.get("per_class") != list(per_class)
            ):
                print(
                    f"[coursepkg] the cached CIFAR-10 arrays in {cache} were decoded from another "
                    "archive (or by another version of coursepkg); decoding this archive again."
                )
                return None
            arrays = tuple(stored[name] for name in _CIFAR10_ARRAY_NAMES)
        problem = _cifar10_arrays_problem(arrays, per_class, metadata["arrays_sha256"])
    except Exception as error:  # whatever a truncated or damaged file makes zipfile, numpy or json raise
        problem = f"unreadable: {type(error).__name__}: {error}"
    if problem is None:
        return arrays
    print(
        f"[coursepkg] the cached CIFAR-10 arrays in {cache} are damaged ({problem}); "
        "removed, decoding the archive again."
    )
    with contextlib.suppress(FileNotFoundError):
        cache.unlink()
    return None


def load_cifar10_jpeg(
    archive: str | os.PathLike, per_class: tuple[int, int] = CIFAR10_PER_CLASS
) -> ImageDataset:
    """CIFAR-10 from its JPEG copy: real images, official split, decoded once and cached.

    Introduced in: book/06_alexnet.ipynb (through :func:`load_cifar10`).

    The first call decodes the archive with :func:`read_cifar10_jpeg` (seconds)
    and stores the arrays, uncompressed, as :data:`CIFAR10_JPEG_CACHE` in the
    Keras cache (``$KERAS_HOME/datasets`` or ``~/.keras/datasets``), together
    with the archive's sha256 and the arrays' own. Later calls load the cache
    (a fraction of a second) after checking it: shapes, counts per class and
    the arrays' sha256. A damaged cache is removed and rebuilt; a cache of
    another archive is rebuilt; both say so in a printed line.

    The JPEG files were re-encoded at quality about 75, so pixel values differ
    slightly from ``keras.datasets.cifar10``'s arrays and accuracies are close
    to, not equal to, those on Keras's arrays; the dataset's ``source`` says so.

    Args:
        archive: path of the ``.tar.gz`` (layout: see :func:`read_cifar10_jpeg`).
        per_class: (train, test) number of images expected in each class, integers
            in [1, 5,000] and [1, 1,000] (CIFAR-10's own counts are the largest).

    Returns:
        An :class:`ImageDataset` with uint8 ``(n, 32, 32, 3)`` images and int64
        labels; one line saying what was loaded is printed.

    Raises:
        OSError: the archive cannot be read.
        ValueError: its content is not CIFAR-10.
    """
    archive = validation.check_path("archive", archive)
    per_class = _check_pair("per_class", per_class, CIFAR10_PER_CLASS)
    archive_sha256 = downloads.file_hash(archive)  # about 0.1 s for the 20 MB archive
    cache = downloads.cache_dir() / "datasets" / CIFAR10_JPEG_CACHE
    arrays = _read_cifar10_cache(cache, archive_sha256, per_class)
    if arrays is None:
        start = time.perf_counter()
        arrays = read_cifar10_jpeg(archive, per_class)
        seconds = time.perf_counter() - start
        n_images = len(arrays[0]) + len(arrays[2])
        metadata = {
            "format": _CIFAR10_JPEG_CACHE_FORMAT,
            "archive": str(archive),
            "archive_sha256": archive_sha256,
            "per_class": list(per_class),
            "arrays_sha256": downloads.sha256_of_arrays(*arrays),
            "decode_seconds": round(seconds, 2),
        }
        try:
            downloads.save_npz_atomically(
                cache, {**dict(zip(_CIFAR10_ARRAY_NAMES, arrays)), "metadata": np.array(json.dumps(metadata))}
            )
            print(f"[coursepkg] decoded {n_images:,} JPEG images in {seconds:.1f} s; arrays cached in {cache}")
        except OSError as error:  # a read-only or full disk: the data are still good
            print(
                f"[coursepkg] decoded {n_images:,} JPEG images in {seconds:.1f} s, but could not cache "
                f"them in {cache} ({error}); they will be decoded again next time."
            )
    source = (
        f"CIFAR-10 JPEG copy (quality ~75) from {archive}, official split; "
        "pixel values differ slightly from keras.datasets.cifar10 (Krizhevsky 2009)"
    )
    x_train, y_train, x_test, y_test = arrays
    return _announce(
        ImageDataset("CIFAR-10", x_train, y_train, x_test, y_test, CIFAR10_CLASSES, source, False)
    )


# --------------------------------------------------------------------------- loaders


def load_mnist(fallback: bool = True) -> ImageDataset:
    """MNIST: 60,000 + 10,000 handwritten digits, 28x28 grey, uint8.

    Order of attempts: Keras's download (checksummed, cached); local IDX files
    in ``$COURSEPKG_MNIST_DIR``; scikit-learn's digits resized to 28x28.

    Args:
        fallback: when ``False``, raise instead of falling back.

    Returns:
        An :class:`ImageDataset`; one line saying what was loaded is printed.

    Raises:
        TypeError: ``fallback`` is not a boolean.
        DownloadError: ``fallback=False`` and Keras could not download MNIST.
        DataFileError: offline, ``$COURSEPKG_MNIST_DIR`` names a missing folder, or
            one without MNIST's test files, or a damaged IDX file there (the
            message names the file and what to do).
    """
    fallback = validation.check_bool("fallback", fallback)
    try:
        (x_train, y_train), (x_test, y_test) = downloads.keras_dataset("mnist")
        return _announce(ImageDataset(
            "MNIST", x_train, _as_labels(y_train), x_test, _as_labels(y_test), MNIST_CLASSES,
            "keras.datasets.mnist (LeCun et al. 1998)", False,
        ))  # fmt: skip
    except downloads.DownloadError as error:
        if not fallback:
            raise
        reason = str(error).split(":")[0]
    local = downloads._environment_path(MNIST_DIR_ENV_VAR, "folder")
    dataset = _mnist_from_idx_dir(local) if local is not None else digits_as_mnist()
    print(f"[coursepkg] {reason}; using a fallback.")
    return _announce(dataset)


def load_fashion_mnist(fallback: bool = True, n_fallback: tuple[int, int] = (6000, 1000)) -> ImageDataset:
    """Fashion-MNIST (Xiao et al. 2017): 60,000 + 10,000 clothing images, 28x28 grey.

    Offline, falls back to generated grey shapes of the same size.

    Args:
        fallback: when ``False``, raise instead of falling back.
        n_fallback: (train, test) sizes of the generated stand-in, integers in
            [1, 60,000] and [1, 10,000] (the real dataset's sizes).

    Returns:
        An :class:`ImageDataset`; one line saying what was loaded is printed.

    Raises:
        TypeError: ``fallback`` is not a bool, or ``n_fallback`` not a pair of integers.
        ValueError: a size in ``n_fallback`` is out of range.
        DownloadError: ``fallback=False`` and Keras could not download Fashion-MNIST.
    """
    fallback = validation.check_bool("fallback", fallback)
    n_train, n_test = _check_pair("n_fallback", n_fallback, FASHION_MNIST_SIZES)
    try:
        (x_train, y_train), (x_test, y_test) = downloads.keras_dataset("fashion_mnist")
        return _announce(ImageDataset(
            "Fashion-MNIST", x_train, _as_labels(y_train), x_test, _as_labels(y_test),
            FASHION_MNIST_CLASSES, "keras.datasets.fashion_mnist (Xiao et al. 2017)", False,
        ))  # fmt: skip
    except downloads.DownloadError as error:
        if not fallback:
            raise
        print(f"[coursepkg] {str(error).split(':')[0]}; using a fallback.")
    return _announce(_shapes_dataset("Fashion-MNIST", n_train, n_test, image_size=28, channels=1, seed=10))


def load_cifar10(fallback: bool = True, n_fallback: tuple[int, int] = (10000, 2000)) -> ImageDataset:
    """CIFAR-10 (Krizhevsky 2009): 50,000 + 10,000 colour images, 32x32x3.

    Order of attempts: Keras's download (checksummed, cached); the JPEG copy of
    CIFAR-10 that ``$COURSEPKG_CIFAR10_ARCHIVE`` points at (real images, official
    split, decoded once and cached: see :func:`load_cifar10_jpeg`); generated
    colour shapes of the same size. A variable that points at a missing file is
    an error; an archive that is there but unreadable or not CIFAR-10 is
    reported in a printed line, then the shapes are used.

    Args:
        fallback: when ``False``, raise instead of returning generated shapes
            (the JPEG copy is real CIFAR-10 and is still used).
        n_fallback: (train, test) sizes of the generated stand-in, integers in
            [1, 50,000] and [1, 10,000] (the real dataset's sizes).

    Returns:
        An :class:`ImageDataset`; one line saying what was loaded is printed.

    Raises:
        TypeError: ``fallback`` is not a bool, or ``n_fallback`` not a pair of integers.
        ValueError: a size in ``n_fallback`` is out of range.
        DownloadError: ``fallback=False`` and neither Keras nor the JPEG copy gave CIFAR-10.
        DataFileError: offline, ``$COURSEPKG_CIFAR10_ARCHIVE`` names a missing file.
    """
    fallback = validation.check_bool("fallback", fallback)
    n_train, n_test = _check_pair("n_fallback", n_fallback, CIFAR10_SIZES)
    try:
        (x_train, y_train), (x_test, y_test) = downloads.keras_dataset("cifar10")
        return _announce(ImageDataset(
            "CIFAR-10", x_train, _as_labels(y_train), x_test, _as_labels(y_test),
            CIFAR10_CLASSES, "keras.datasets.cifar10 (Krizhevsky 2009)", False,
        ))  # fmt: skip
    except downloads.DownloadError as error:
        download_error = error
    reason = str(download_error).split(":")[0]
    archive = downloads._environment_path(CIFAR10_ARCHIVE_ENV_VAR, "file")
    if archive is None:
        if not fallback:
            raise download_error
        print(f"[coursepkg] {reason}; using a fallback.")
    else:
        print(f"[coursepkg] {reason}; trying the CIFAR-10 JPEG copy ${CIFAR10_ARCHIVE_ENV_VAR}={archive}")
        try:
            return load_cifar10_jpeg(archive)
        except (OSError, ValueError) as error:
            problem = f"${CIFAR10_ARCHIVE_ENV_VAR}={archive} could not be used ({error})"
            if not fallback:
                raise downloads.DownloadError(f"{reason}, and {problem}") from error
            print(f"[coursepkg] {problem}; using a fallback.")
    return _announce(_shapes_dataset("CIFAR-10", n_train, n_test, image_size=32, channels=3, seed=20))


# --------------------------------------------------------------------------- photographs

SAMPLE_IMAGES = {
    "astronaut": "scikit-image: Eileen Collins, NASA (public domain)",
    "coffee": "scikit-image: a cup of coffee, Rachel Michetti (CC0)",
    "chelsea": "scikit-image: Chelsea the cat, Stefan van der Walt (CC0)",
    "rocket": "scikit-image: Falcon 9 launch, SpaceX (CC0)",
    "camera": "scikit-image: the cameraman (grey)",
    "coins": "scikit-image: Greek coins (grey)",
    "grace_hopper": "matplotlib: Grace Hopper, US Navy (public domain)",
}


def sample_image(name: str) -> np.ndarray:
    """A photograph that ships with scikit-image or matplotlib (works offline).

    Args:
        name: one of :data:`SAMPLE_IMAGES`.

    Returns:
        uint8 array, (height, width, 3) for colour or (height, width) for grey.
        The photograph's source and licence are printed.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: ``name`` is not one of :data:`SAMPLE_IMAGES`.
    """
    validation.check_str("name", name, max_length=100)
    validation.check_choice("name", name, tuple(SAMPLE_IMAGES))
    print(f"[coursepkg] photograph {name!r}: {SAMPLE_IMAGES[name]}")
    if name == "grace_hopper":
        import matplotlib.cbook
        import matplotlib.image

        with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
            return np.asarray(matplotlib.image.imread(handle, format="jpg"))
    import skimage.data

    return np.asarray(getattr(skimage.data, name)())
