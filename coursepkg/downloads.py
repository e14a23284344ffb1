"""The one module that downloads: checksummed, cached, and never leaving partial files.

Introduced in: book/01_convolution.ipynb

Every download of the course goes through :func:`fetch` (a thin layer over
``keras.utils.get_file``, so files land in the Keras cache, ``~/.keras`` or
``$KERAS_HOME``) or :func:`keras_dataset` (Keras's own dataset loaders, which
use the same cache). Both turn a failure into a :class:`DownloadError` that says
what to do, and both remove whatever a failed attempt left in the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pathlib
import tempfile
from collections.abc import Callable


class DownloadError(RuntimeError):
    """A file could not be downloaded (no network, wrong checksum, bad content)."""


def cache_dir() -> pathlib.Path:
    """The Keras cache folder: ``$KERAS_HOME`` if set, else ``~/.keras``."""
    if os.environ.get("KERAS_HOME"):
        return pathlib.Path(os.environ["KERAS_HOME"])
    return pathlib.Path.home() / ".keras"


def _remove(path: pathlib.Path) -> None:
    for candidate in (path, path.with_name(path.name + ".tmp.download")):
        if candidate.is_file():
            candidate.unlink()


def fetch(
    fname: str,
    origin: str,
    file_hash: str | None = None,
    cache_subdir: str = "datasets",
    verify: Callable[[pathlib.Path], None] | None = None,
) -> pathlib.Path:
    """Download ``origin`` into the Keras cache once, and return the cached path.

    Args:
        fname: file name inside the cache folder.
        origin: URL (``https://...`` or ``file://...``).
        file_hash: expected SHA-256 (or MD5) of the file, or ``None`` when no
            fixed checksum exists (then pass ``verify`` to check the content).
        cache_subdir: sub-folder of the Keras cache.
        verify: optional function that raises ``ValueError`` when the file's
            content is wrong; called after the download and on every cache hit.

    Returns:
        Path of the verified file in the cache.

    Raises:
        DownloadError: the download failed or the file did not verify. The
            cache is left without the bad file, so the next call starts clean.
    """
    if not fname or "/" in fname or "\\" in fname:
        raise ValueError(f"Expected `fname` to be a plain file name. Received: fname={fname!r}")
    import keras

    target = cache_dir() / cache_subdir / fname
    # Keras silently uses /tmp/.keras instead of a cache folder that does not exist yet.
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        path = pathlib.Path(
            keras.utils.get_file(
                fname,
                origin,
                file_hash=file_hash,
                cache_subdir=cache_subdir,
                cache_dir=str(cache_dir()),
            )
        )
    except Exception as error:  # urllib, socket, checksum and Keras errors alike
        _remove(target)
        raise DownloadError(
            f"Could not download {origin} into {target}: {error}. "
            "Check the network connection (Colab has one), or download the file by hand "
            f"and place it at {target}."
        ) from error
    if verify is not None:
        try:
            verify(path)
        except ValueError as error:
            _remove(path)
            raise DownloadError(
                f"The file downloaded from {origin} is not what was expected ({error}); "
                f"it was removed from {path.parent}. Try again, or download it by hand."
            ) from error
    return path


def keras_dataset(name: str):
    """Load one of Keras's datasets (``mnist``, ``fashion_mnist``, ``cifar10``).

    Keras downloads the arrays once, checks their checksum and caches them.

    Args:
        name: module name inside ``keras.datasets``.

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` as Keras returns it.

    Raises:
        DownloadError: the download failed (typically: no network).
    """
    import keras

    module = getattr(keras.datasets, name, None)
    if module is None or not hasattr(module, "load_data"):
        raise ValueError(f"Expected `name` to be a keras.datasets module. Received: name={name!r}")
    try:
        return module.load_data()
    except Exception as error:
        for leftover in (cache_dir() / "datasets").glob(f"{name}*"):
            if leftover.is_file() and leftover.stat().st_size == 0:
                leftover.unlink()
        raise DownloadError(f"keras.datasets.{name} could not be downloaded: {error}") from error


# --------------------------------------------------------------------------- caches of computed arrays


def file_hash(path: pathlib.Path, algorithm: str = "sha256") -> str:
    """The hex digest of a file, read in 1 MiB blocks; ``algorithm`` is ``"sha256"`` or ``"md5"``."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_of_arrays(*arrays) -> str:
    """SHA-256 of NumPy arrays' dtypes, shapes and bytes: the fingerprint a cache stores."""
    import numpy as np

    digest = hashlib.sha256()
    for array in arrays:
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array))
    return digest.hexdigest()


def save_npz_atomically(path: pathlib.Path, arrays: dict) -> None:
    """Write an uncompressed ``.npz`` under a temporary name, then rename it into place.

    The rename is atomic within a folder, so a process that reads ``path`` while
    another writes it (two notebooks, pytest-xdist workers) sees the old file,
    no file, or the complete new one, never half of one. A failed write leaves
    no temporary file behind.
    """
    import numpy as np

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)  # mkstemp's 0o600 would hide the cache from other accounts
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
