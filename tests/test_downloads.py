"""The one module that downloads: checksums, the cache, and nothing left behind on failure.

Origins are file:// URLs of temporary files or http://127.0.0.1 on a closed port;
no test reaches an outside host.
"""

from __future__ import annotations

import hashlib
import pathlib
import socket

import numpy as np
import pytest

from coursepkg import downloads
from coursepkg.downloads import DownloadError

CONTENT = b"IDX or WAV, it does not matter here\n" * 100


def _leftovers(folder: pathlib.Path) -> list[pathlib.Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


@pytest.fixture
def origin_file(tmp_path) -> pathlib.Path:
    path = tmp_path / "origin" / "payload.bin"
    path.parent.mkdir()
    path.write_bytes(CONTENT)
    return path


def _closed_port_url() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/payload.bin"  # nothing listens there any more


def test_cache_dir_follows_keras_home(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "elsewhere"))
    assert downloads.cache_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert downloads.cache_dir() == tmp_path / ".keras"


def test_fetch_copies_into_the_cache(keras_home, origin_file):
    path = downloads.fetch("payload.bin", origin_file.as_uri())
    assert path == keras_home / "datasets" / "payload.bin"
    assert path.read_bytes() == CONTENT


def test_fetch_into_a_cache_folder_that_does_not_exist_yet(monkeypatch, tmp_path, origin_file):
    home = tmp_path / "fresh" / "keras"  # a first run on a new machine: no ~/.keras yet
    monkeypatch.setenv("KERAS_HOME", str(home))
    path = downloads.fetch("payload.bin", origin_file.as_uri(), cache_subdir="models")
    assert path == home / "models" / "payload.bin"
    assert path.read_bytes() == CONTENT


@pytest.mark.parametrize("algorithm", ["sha256", "md5"])
def test_fetch_with_the_right_hash_then_hits_the_cache(keras_home, origin_file, algorithm):
    file_hash = hashlib.new(algorithm, CONTENT).hexdigest()
    first = downloads.fetch("payload.bin", origin_file.as_uri(), file_hash=file_hash)
    origin_file.unlink()  # a second download would now fail: only the cache can answer
    second = downloads.fetch("payload.bin", origin_file.as_uri(), file_hash=file_hash)
    assert first == second == keras_home / "datasets" / "payload.bin"
    assert second.read_bytes() == CONTENT


def test_fetch_with_a_wrong_hash_raises_and_leaves_no_file(keras_home, origin_file):
    wrong = hashlib.sha256(CONTENT + b"tampered").hexdigest()
    with pytest.raises(DownloadError, match="payload.bin") as error:
        downloads.fetch("payload.bin", origin_file.as_uri(), file_hash=wrong)
    assert "by hand" in str(error.value)
    assert _leftovers(keras_home) == []
    assert origin_file.read_bytes() == CONTENT  # the origin is not touched


def test_fetch_replaces_a_corrupted_cached_file(keras_home, origin_file):
    cached = keras_home / "datasets" / "payload.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"half a download")
    path = downloads.fetch(
        "payload.bin", origin_file.as_uri(), file_hash=hashlib.sha256(CONTENT).hexdigest()
    )
    assert path == cached and cached.read_bytes() == CONTENT


def test_fetch_removes_a_file_that_fails_verification(keras_home, origin_file):
    def verify(path: pathlib.Path) -> None:
        if b"WAV" in path.read_bytes():
            raise ValueError("this is not an IDX file")

    with pytest.raises(DownloadError, match="not an IDX file"):
        downloads.fetch("payload.bin", origin_file.as_uri(), verify=verify)
    assert _leftovers(keras_home) == []


def test_verify_runs_on_cache_hits_too(keras_home, origin_file):
    seen = []
    path = downloads.fetch("payload.bin", origin_file.as_uri(), verify=seen.append)
    # the download is verified under its temporary name, before it takes the final one
    assert len(seen) == 1 and seen[0].parent == path.parent and seen[0].name.startswith(".payload.bin.partial-")
    downloads.fetch("payload.bin", origin_file.as_uri(), verify=seen.append)
    assert seen[1:] == [path]  # the cache hit is verified too

    def reject(path: pathlib.Path) -> None:
        raise ValueError("stale cache entry")

    with pytest.raises(DownloadError, match="stale cache entry"):
        downloads.fetch("payload.bin", origin_file.as_uri(), verify=reject)
    assert not path.exists()


@pytest.mark.parametrize("origin", ["missing_file", "closed_port"])
def test_fetch_from_an_unreachable_origin(keras_home, tmp_path, origin):
    url = (tmp_path / "nowhere.bin").as_uri() if origin == "missing_file" else _closed_port_url()
    with pytest.raises(DownloadError) as error:
        downloads.fetch("payload.bin", url)
    message = str(error.value)
    assert url in message
    assert "network" in message and "by hand" in message  # says what to do
    assert str(keras_home / "datasets" / "payload.bin") in message  # and where to put the file
    assert _leftovers(keras_home) == []


@pytest.mark.parametrize(
    ("fname", "error"),
    [("", ValueError), (None, TypeError), ("datasets/payload.bin", ValueError), ("..\\payload.bin", ValueError),
     ("..", ValueError), ("x" * 256, ValueError), ("a\0b", ValueError), (b"payload.bin", TypeError)],
)  # fmt: skip
def test_fetch_rejects_a_path_as_file_name(keras_home, origin_file, fname, error):
    with pytest.raises(error, match="`fname`"):
        downloads.fetch(fname, origin_file.as_uri())
    assert _leftovers(keras_home) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"origin": None}, TypeError, "origin"),
        ({"origin": "payload.bin"}, ValueError, "origin"),
        ({"origin": "gopher://example.org/x"}, ValueError, "origin"),
        ({"origin": ""}, ValueError, "origin"),
        ({"file_hash": "abc"}, ValueError, "file_hash"),
        ({"file_hash": "g" * 64}, ValueError, "file_hash"),
        ({"file_hash": 123}, TypeError, "file_hash"),
        ({"verify": "yes"}, TypeError, "verify"),
        ({"cache_subdir": 3}, TypeError, "cache_subdir"),
        ({"cache_subdir": "a\0b"}, ValueError, "cache_subdir"),
    ],
)
def test_fetch_checks_every_argument_before_touching_the_cache(keras_home, origin_file, kwargs, error, name):
    arguments = {"fname": "payload.bin", "origin": origin_file.as_uri(), **kwargs}
    with pytest.raises(error, match=f"`{name}`"):
        downloads.fetch(**arguments)
    assert _leftovers(keras_home) == [] and not (keras_home / "datasets").exists()


def test_fetch_accepts_an_upper_case_hash(keras_home, origin_file):
    path = downloads.fetch("payload.bin", origin_file.as_uri(), file_hash=hashlib.sha256(CONTENT).hexdigest().upper())
    assert path.read_bytes() == CONTENT


@pytest.mark.parametrize(("value", "error"), [("abc", ValueError), (None, TypeError), ("z" * 32, ValueError)])
def test_hash_algorithm_needs_a_hex_digest(value, error):
    assert downloads.hash_algorithm("a" * 64) == "sha256" and downloads.hash_algorithm("A" * 32) == "md5"
    with pytest.raises(error, match="`expected_hash`"):
        downloads.hash_algorithm(value)


def test_file_hash_checks_its_arguments(origin_file):
    assert downloads.file_hash(origin_file, "md5") == hashlib.md5(CONTENT).hexdigest()
    with pytest.raises(ValueError, match="`algorithm`"):
        downloads.file_hash(origin_file, "sha1")
    with pytest.raises(TypeError, match="`path`"):
        downloads.file_hash(None)
    with pytest.raises(FileNotFoundError):
        downloads.file_hash(origin_file.with_name("absent.bin"))


def test_sha256_of_arrays_refuses_what_has_no_stable_bytes():
    assert downloads.sha256_of_arrays(np.arange(3)) == downloads.sha256_of_arrays(np.arange(3))
    with pytest.raises(TypeError, match="`arrays`"):
        downloads.sha256_of_arrays([1, 2, 3])
    with pytest.raises(TypeError, match="`arrays`"):  # object arrays hash memory addresses
        downloads.sha256_of_arrays(np.array([1, None], dtype=object))


OBJECTS = np.array([1, None], dtype=object)  # stored only by pickling: refused


@pytest.mark.parametrize(
    ("arrays", "error"),
    [({}, TypeError), ([1, 2], TypeError), ({"x": [1, 2]}, TypeError), ({"": np.zeros(2)}, ValueError),
     ({"file": np.zeros(2)}, ValueError), ({"x": OBJECTS}, TypeError)],
)  # fmt: skip
def test_save_npz_atomically_checks_its_arrays_before_writing(tmp_path, arrays, error):
    with pytest.raises(error, match="`arrays`"):
        downloads.save_npz_atomically(tmp_path / "cache.npz", arrays)
    assert list(tmp_path.iterdir()) == []


def test_keras_dataset_offline_raises_download_error(offline):
    with pytest.raises(DownloadError, match="keras.datasets.mnist"):
        downloads.keras_dataset("mnist")
    assert [path for path in _leftovers(offline) if path.stat().st_size == 0] == []


@pytest.mark.parametrize(("name", "error"), [("imagenet", ValueError), ("get_file", ValueError), ("", ValueError),
                                             (None, TypeError), (3, TypeError)])  # fmt: skip
def test_keras_dataset_rejects_unknown_names(name, error):
    with pytest.raises(error, match="`name`"):
        downloads.keras_dataset(name)


@pytest.mark.parametrize("cache_subdir", ["../..", "/tmp", "datasets/../../escape", ""])
def test_fetch_refuses_a_cache_subdir_outside_the_cache(keras_home, origin_file, cache_subdir):
    with pytest.raises((ValueError, TypeError), match="`cache_subdir`"):
        downloads.fetch("payload.bin", origin_file.as_uri(), cache_subdir=cache_subdir)
    assert not (keras_home.parent / "payload.bin").exists()


def test_an_interrupted_download_leaves_nothing_under_the_final_name(keras_home, origin_file):
    folder = downloads.cache_dir() / "datasets"
    folder.mkdir(parents=True)
    leftover = folder / ".payload.bin.partial-123-abcd"
    leftover.write_bytes(b"half a file")  # what a killed download leaves
    path = downloads.fetch("payload.bin", origin_file.as_uri())
    assert path.read_bytes() == origin_file.read_bytes()
    assert not leftover.exists() and sorted(item.name for item in folder.iterdir()) == ["payload.bin"]


def test_a_silent_server_times_out_and_is_retried(keras_home, monkeypatch):
    import socket
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections in the kernel's backlog, never answers
    monkeypatch.setenv(downloads.TIMEOUT_ENV_VAR, "0.3")
    monkeypatch.setattr(downloads.time, "sleep", lambda seconds: None)  # no back-off wait in the test
    began = time.perf_counter()
    try:
        with pytest.raises(DownloadError, match="silent for 0.3 s, 3 times"):
            downloads.fetch("silent.bin", f"http://127.0.0.1:{listener.getsockname()[1]}/file")
    finally:
        listener.close()
    assert time.perf_counter() - began < 10
    assert not list((downloads.cache_dir() / "datasets").iterdir())


@pytest.mark.parametrize("value", ["0", "-1", "nan", "soon", "1e9"])
def test_a_bad_timeout_setting_is_named(monkeypatch, value):
    monkeypatch.setenv(downloads.TIMEOUT_ENV_VAR, value)
    with pytest.raises(ValueError, match=downloads.TIMEOUT_ENV_VAR):
        downloads.download_timeout()
