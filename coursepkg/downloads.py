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
import secrets
import socket
import tempfile
import time
from collections.abc import Callable

from coursepkg import validation

TIMEOUT_ENV_VAR = "COURSEPKG_DOWNLOAD_TIMEOUT"  # seconds a connection may stay silent
DEFAULT_TIMEOUT = 60.0
MAX_TIMEOUT = 3600.0
RETRIES = 2  # further attempts after a timeout or a dropped connection (not after "no network")
MAX_PATH_LENGTH = validation.MAX_PATH_LENGTH  # characters of a path argument (Linux's PATH_MAX)
MAX_NAME_LENGTH = 255  # characters of a file name (most file systems' limit)
URL_SCHEMES = ("https", "http", "ftp", "file")  # what Keras's get_file (urllib) can fetch
HASH_ALGORITHMS = ("sha256", "md5")
KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10", "cifar100")  # image datasets of keras.datasets


class DownloadError(RuntimeError):
    """A file could not be downloaded (no network, wrong checksum, bad content)."""


class DataFileError(ValueError):
    """A local data file or folder cannot be used: damaged, not in the expected format, or missing
    where an environment variable says it is. The message names the file and what to do."""


def _check_hash(name: str, value) -> str:
    """A hex digest: 64 digits (SHA-256) or 32 (MD5), the two Keras's ``get_file`` checks."""
    validation.check_str(name, value, max_length=64)
    if len(value) not in (32, 64) or any(char not in "0123456789abcdefABCDEF" for char in value):
        raise ValueError(
            f"Expected `{name}` to be a SHA-256 (64 hex digits) or MD5 (32 hex digits) hash. "
            f"{validation.received(name, value)}"
        )
    return value.lower()


def _environment_path(variable: str, kind: str) -> pathlib.Path | None:
    """The path ``$variable`` names (``None`` when unset), which must exist as a ``kind``.

    Args:
        variable: the environment variable, e.g. ``COURSEPKG_MNIST_DIR``.
        kind: ``"file"`` or ``"folder"``.

    Raises:
        DataFileError: the variable names a missing path, or a file where a folder is
            expected (or the reverse); the message names the variable and the path.
    """
    value = os.environ.get(variable, "").strip()
    if not value:
        return None
    path = pathlib.Path(value)
    exists = path.is_dir() if kind == "folder" else path.is_file()
    if not exists:
        problem = "does not exist" if not path.exists() else f"is not a {kind}"
        raise DataFileError(
            f"${variable}={value} {problem}. Point ${variable} at the {kind} it should name, "
            "or unset it."
        )
    return path


def cache_dir() -> pathlib.Path:
    """The Keras cache folder: ``$KERAS_HOME`` if set, else ``~/.keras``."""
    if os.environ.get("KERAS_HOME"):
        return pathlib.Path(os.environ["KERAS_HOME"])
    return pathlib.Path.home() / ".keras"


def _remove(path: pathlib.Path) -> None:
    for candidate in (path, path.with_name(path.name + ".tmp.download")):
        if candidate.is_file():
            candidate.unlink()


def download_timeout() -> float:
    """Seconds a download may wait for the server: ``$COURSEPKG_DOWNLOAD_TIMEOUT``, else 60.

    Raises:
        ValueError: the variable is not a number in (0, 3600].
    """
    text = os.environ.get(TIMEOUT_ENV_VAR, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value <= MAX_TIMEOUT:  # also refuses nan
        raise ValueError(
            f"Expected ${TIMEOUT_ENV_VAR} to be a number of seconds in (0, {MAX_TIMEOUT:g}]. "
            f"Received: {TIMEOUT_ENV_VAR}={text!r}"
        )
    return value


def _check_cache_subdir(cache_subdir) -> str:
    """A relative folder inside the cache: no absolute path, no ``..``, at most 4,096 characters."""
    if not isinstance(cache_subdir, str):
        raise TypeError(f"Expected `cache_subdir` to be a folder name. {validation.received('cache_subdir', cache_subdir)}")
    parts = pathlib.PurePath(cache_subdir).parts
    if (
        not cache_subdir.strip()
        or len(cache_subdir) > MAX_PATH_LENGTH
        or pathlib.PurePath(cache_subdir).is_absolute()
        or ".." in parts
        or "\\" in cache_subdir
        or "\0" in cache_subdir
    ):
        raise ValueError(
            "Expected `cache_subdir` to be a folder inside the Keras cache (relative, without '..'). "
            f"{validation.received('cache_subdir', cache_subdir)}"
        )
    return cache_subdir


def _check_file_name(name: str, value) -> str:
    """A plain file name: no folder, not ``.`` or ``..``, at most 255 characters, no NUL byte."""
    if not isinstance(value, str):
        raise TypeError(f"Expected `{name}` to be a plain file name (a string). {validation.received(name, value)}")
    if (
        not value.strip()
        or len(value) > MAX_NAME_LENGTH
        or any(char in value for char in "/\\\0")
        or value in (".", "..")
    ):
        raise ValueError(
            f"Expected `{name}` to be a plain file name of at most {MAX_NAME_LENGTH} characters, "
            f"without '/'. {validation.received(name, value)}"
        )
    return value


def _check_url(name: str, value) -> str:
    """A URL of a scheme urllib fetches (:data:`URL_SCHEMES`), at most 4,096 characters."""
    validation.check_str(name, value, max_length=MAX_PATH_LENGTH)
    scheme, separator, rest = value.partition("://")
    if not separator or scheme.lower() not in URL_SCHEMES or not rest.strip() or any(c.isspace() for c in value):
        raise ValueError(
            f"Expected `{name}` to be a URL starting with one of "
            f"{', '.join(s + '://' for s in URL_SCHEMES)}. {validation.received(name, value)}"
        )
    return value


@contextlib.contextmanager
def _socket_timeout(seconds: float):
    """``socket``'s default timeout for the block: ``urllib`` (under Keras's ``get_file``) has none of its own."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _transient(error: BaseException) -> bool:
    """A timeout or a dropped connection (worth another try), as opposed to no network or a bad file."""
    while error is not None:
        if isinstance(error, (TimeoutError, socket.timeout, ConnectionResetError, ConnectionAbortedError)):
            return True
        if "timed out" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def hash_algorithm(expected_hash: str) -> str:
    """Keras's "auto" rule: 64 hex digits are a SHA-256, 32 an MD5.

    Args:
        expected_hash: a hex digest of 64 (SHA-256) or 32 (MD5) digits.

    Raises:
        TypeError: not a string.
        ValueError: not 32 or 64 hex digits.
    """
    return "sha256" if len(_check_hash("expected_hash", expected_hash)) == 64 else "md5"


def _cached_file_is_good(path: pathlib.Path, expected_hash: str | None, verify) -> bool:
    if expected_hash is not None and file_hash(path, hash_algorithm(expected_hash)) != expected_hash:
        return False
    if verify is not None:
        try:
            verify(path)
        except ValueError:
            return False
    return True


def fetch(
    fname: str,
    origin: str,
    file_hash: str | None = None,
    cache_subdir: str = "datasets",
    verify: Callable[[pathlib.Path], None] | None = None,
) -> pathlib.Path:
    """Download ``origin`` into the Keras cache once, and return the cached path.

    The download goes to a temporary name in the cache folder
    (``.NAME.partial-...``) and is renamed to ``fname`` only once its hash and
    ``verify`` accept it, so an interrupted download never leaves a partial file
    under the final name; leftovers of interrupted downloads are removed. A
    cached file is checked (hash, ``verify``) at every call, and downloaded
    again when damaged. A server that stays silent for
    ``$COURSEPKG_DOWNLOAD_TIMEOUT`` seconds (default 60) ends the attempt;
    after a timeout or a dropped connection the download is tried again
    (``RETRIES`` times, after 1 then 2 s); without a network it fails at once.

    Args:
        fname: file name inside the cache folder (no ``/``, at most 255 characters).
        origin: URL (``https://``, ``http://``, ``ftp://`` or ``file://``; at
            most 4,096 characters).
        file_hash: expected SHA-256 (64 hex digits) or MD5 (32) of the file, or
            ``None`` when no fixed checksum exists (then pass ``verify`` to check the content).
        cache_subdir: sub-folder of the Keras cache (relative, without ``..``).
        verify: optional function that raises ``ValueError`` when the file's
            content is wrong; called after the download and on every cache hit.

    Returns:
        Path of the verified file in the cache.

    Raises:
        DownloadError: the download failed or the file did not verify. The
            cache is left without the bad file, so the next call starts clean.
        TypeError, ValueError: a bad argument (checked before anything is
            downloaded), or a bad ``$COURSEPKG_DOWNLOAD_TIMEOUT``.
    """
    fname = _check_file_name("fname", fname)
    origin = _check_url("origin", origin)
    file_hash = validation.optional(_check_hash, "file_hash", file_hash)
    cache_subdir = _check_cache_subdir(cache_subdir)
    verify = validation.optional(validation.check_callable, "verify", verify)
    timeout = download_timeout()
    import keras

    folder = cache_dir() / cache_subdir
    target = folder / fname
    # Keras silently uses /tmp/.keras instead of a cache folder that does not exist yet.
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob(f".{fname}.partial-*"):  # from interrupted downloads
        with contextlib.suppress(OSError):
            leftover.unlink()
    if target.is_file():
        if _cached_file_is_good(target, file_hash, verify):
            return target
        print(f"[coursepkg] the cached {target} is damaged (hash or content); downloading it again.")
        target.unlink()
    partial = f".{fname}.partial-{os.getpid()}-{secrets.token_hex(4)}"
    for attempt in range(RETRIES + 1):
        try:
            with _socket_timeout(timeout):
                keras.utils.get_file(
                    partial, origin, file_hash=file_hash, cache_subdir=cache_subdir, cache_dir=str(cache_dir())
                )
            break
        except Exception as error:  # urllib, socket, checksum and Keras errors alike
            _remove(folder / partial)
            if attempt < RETRIES and _transient(error):
                time.sleep(attempt + 1.0)
                continue
            raise DownloadError(
                f"Could not download {origin} into {target}: {error}. "
                "Check the network connection (Colab has one), or download the file by hand "
                f"and place it at {target}."
                + (f" (The server stayed silent for {timeout:g} s, {attempt + 1} times; "
                   f"${TIMEOUT_ENV_VAR} sets that limit.)" if _transient(error) else "")
            ) from error
    if verify is not None:
        try:
            verify(folder / partial)
        except ValueError as error:
            _remove(folder / partial)
            raise DownloadError(
                f"The file downloaded from {origin} is not what was expected ({error}); "
                f"it was removed from {folder}. Try again, or download it by hand."
            ) from error
    os.replace(folder / partial, target)
    return target


def keras_dataset(name: str):
    """Load one of Keras's image datasets (``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``).

    Keras downloads the arrays once, checks their checksum and caches them.

    Args:
        name: one of :data:`KERAS_DATASETS` (a module of ``keras.datasets``).

    Returns:
        ``((x_train, y_train), (x_test, y_test))`` as Keras returns it.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: ``name`` is not one of :data:`KERAS_DATASETS`.
        DownloadError: the download failed (typically: no network).
    """
    validation.check_str("name", name, max_length=100)
    validation.check_choice("name", name, KERAS_DATASETS)
    import keras

    module = getattr(keras.datasets, name)
    try:
        return module.load_data()
    except Exception as error:
        for leftover in (cache_dir() / "datasets").glob(f"{name}*"):
            if leftover.is_file() and leftover.stat().st_size == 0:
                leftover.unlink()
        raise DownloadError(f"keras.datasets.{name} could not be downloaded: {error}") from error


# --------------------------------------------------------------------------- caches of computed arrays


def file_hash(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """The hex digest of a file, read in 1 MiB blocks.

    Args:
        path: the file.
        algorithm: ``"sha256"`` or ``"md5"``.

    Raises:
        TypeError, ValueError: a bad ``path`` or ``algorithm``.
        OSError: the file cannot be read (``FileNotFoundError`` when it does not exist).
    """
    path = validation.check_path("path", path)
    validation.check_choice("algorithm", algorithm, HASH_ALGORITHMS)
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_stored_array(label: str, array) -> None:
    """A NumPy array of numbers, booleans or text: what a cache stores (no Python objects)."""
    import numpy as np

    if not isinstance(array, np.ndarray) or array.dtype.hasobject:
        what = "ndarray of dtype object" if isinstance(array, np.ndarray) else type(array).__name__
        raise TypeError(
            f"Expected `arrays` to be NumPy arrays without Python objects. Received: {label} of type {what}"
        )


def sha256_of_arrays(*arrays) -> str:
    """SHA-256 of NumPy arrays' dtypes, shapes and bytes: the fingerprint a cache stores.

    Args:
        *arrays: NumPy arrays (numbers, booleans or text; not ``dtype=object``, whose bytes are
            memory addresses).

    Raises:
        TypeError: an argument is not such an array.
    """
    import numpy as np

    for index, array in enumerate(arrays):
        _check_stored_array(f"arrays[{index}]", array)
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array))
    return digest.hexdigest()


def _check_arrays_to_store(arrays) -> None:
    if not isinstance(arrays, dict) or not arrays:
        raise TypeError(f"Expected `arrays` to be a non-empty dict of NumPy arrays. {validation.received('arrays', arrays)}")
    for name, array in arrays.items():
        if (
            not isinstance(name, str)
            or not name.isidentifier()
            or len(name) > MAX_NAME_LENGTH
            or name in ("file", "allow_pickle")  # np.savez's own arguments
        ):
            raise ValueError(
                f"Expected `arrays` to have identifiers as names (at most {MAX_NAME_LENGTH} characters). "
                f"Received: a name {name!r:.80} in arrays"
            )
        _check_stored_array(f"arrays[{name!r}]", array)


def save_npz_atomically(path: str | os.PathLike, arrays: dict) -> None:
    """Write an uncompressed ``.npz`` under a temporary name, then rename it into place.

    The rename is atomic within a folder, so a process that reads ``path`` while
    another writes it (two notebooks, pytest-xdist workers) sees the old file,
    no file, or the complete new one, never half of one. A failed write leaves
    no temporary file behind.

    Args:
        path: the ``.npz`` file to write.
        arrays: a non-empty dict from names (identifiers, at most 255 characters) to NumPy
            arrays (not ``dtype=object``: they are stored without pickling).

    Raises:
        TypeError, ValueError: a bad ``path`` or ``arrays``.
        OSError: the file cannot be written.
    """
    import numpy as np

    path = validation.check_path("path", path)
    _check_arrays_to_store(arrays)
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
