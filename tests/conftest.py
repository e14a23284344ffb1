"""Shared fixtures: the real data in ../shared/data, a private Keras cache, no network.

The real data (the MNIST test set, the FSDD archive and CIFAR-10 as JPEG files,
see ../shared/data/README.md)
is read where it lies and never copied into the project; tests that need it skip
with a reason when the folder is absent, so the suite passes on a fresh clone.
"""

from __future__ import annotations

import pathlib
import socket

import pytest

SHARED_DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"
FSDD_ARCHIVE = SHARED_DATA / "fsdd-v1.0.10" / "v1.0.10.tar.gz"
MNIST_T10K = SHARED_DATA / "mnist-t10k"
CIFAR10_ARCHIVE = SHARED_DATA / "cifar10-jpeg" / "cifar10-jpeg.tar.gz"
IMAGENET_CLASS_INDEX = SHARED_DATA / "imagenet" / "imagenet_class_index.json"
PAINTINGS_DIR = SHARED_DATA / "paintings"


def _require(path: pathlib.Path) -> pathlib.Path:
    if not path.exists():
        pytest.skip(f"real test data absent: {path} (see ../shared/data/README.md)")
    return path


@pytest.fixture(scope="session")
def shared_data() -> pathlib.Path:
    """The folder ../shared/data (skips the test when it is absent)."""
    return _require(SHARED_DATA)


@pytest.fixture(scope="session")
def mnist_t10k_dir(shared_data) -> pathlib.Path:
    """The folder holding the MNIST test set in IDX format."""
    return _require(MNIST_T10K)


@pytest.fixture(scope="session")
def fsdd_archive(shared_data) -> pathlib.Path:
    """The FSDD v1.0.10 tag archive."""
    return _require(FSDD_ARCHIVE)


@pytest.fixture(scope="session")
def fsdd_dataset(fsdd_archive, tmp_path_factory):
    """FSDD's 3,000 recordings (an AudioDataset), unpacked once per session into a private cache."""
    from coursepkg import audio

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("fsdd_dataset_keras_home")))
        return audio.load_fsdd(archive=fsdd_archive)


@pytest.fixture(scope="session")
def cifar10_archive(shared_data) -> pathlib.Path:
    """CIFAR-10's 60,000 images as JPEG files in a .tar.gz (official split)."""
    return _require(CIFAR10_ARCHIVE)


@pytest.fixture(scope="session")
def imagenet_class_index(shared_data) -> pathlib.Path:
    """Keras's imagenet_class_index.json, byte for byte (the 1,000 ImageNet class names)."""
    return _require(IMAGENET_CLASS_INDEX)


@pytest.fixture(scope="session")
def paintings_dir(shared_data) -> pathlib.Path:
    """The style-transfer images (starry_night.jpg, skrik.jpg, tuebingen.jpg) as published."""
    return _require(PAINTINGS_DIR)


@pytest.fixture
def keras_home(tmp_path, monkeypatch) -> pathlib.Path:
    """An empty Keras cache for this test only (``$KERAS_HOME``)."""
    home = tmp_path / "keras_home"
    home.mkdir()
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


@pytest.fixture
def offline(monkeypatch, keras_home) -> pathlib.Path:
    """No network and an empty cache, whatever the machine running the tests has.

    Keras's dataset loaders read the cache folder fixed when Keras was imported,
    so that is pointed at the empty cache too; every connection attempt fails
    the way it does without a network.
    """
    from keras.src.backend import config as keras_config

    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(keras_home))

    def refuse(*args, **kwargs):
        raise OSError("network disabled by the `offline` test fixture")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return keras_home
