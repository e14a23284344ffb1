"""Shared fixtures: the real data in ../shared/data, a private Keras cache, no network.

The real data (the MNIST test set and the FSDD archive, see ../shared/data/README.md)
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
