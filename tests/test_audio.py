"""FSDD loading against the real archive and synthetic ones, and log-mel spectrograms vs librosa."""

from __future__ import annotations

import io
import itertools
import os
import pathlib
import shutil
import tarfile
import time
import wave
from collections.abc import Iterator

import numpy as np
import pytest

from coursepkg import audio
from coursepkg.downloads import DownloadError

TOP = "free-spoken-digit-dataset-1.0.10"  # top folder of GitHub's tag archive
ALL_NAMES = [
    f"{digit}_{speaker}_{take}.wav"
    for digit, speaker, take in itertools.product(
        range(10), audio.FSDD_SPEAKERS, range(audio.FSDD_TAKES)
    )
]


def wav_bytes(samples: np.ndarray, rate: int = 8000, channels: int = 1) -> bytes:
    """16-bit PCM WAV written with the standard library."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return buffer.getvalue()


def synthetic_samples(name: str) -> np.ndarray:
    """Reproducible int16 samples of a recording; lengths differ between recordings."""
    rng = np.random.default_rng(ALL_NAMES.index(name) if name in ALL_NAMES else 0)
    return rng.integers(-32768, 32767, size=int(rng.integers(50, 200)), endpoint=True).astype(
        np.int16
    )


def write_archive(path: pathlib.Path, members: dict[str, bytes]) -> pathlib.Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


def _cache_folder(keras_home: pathlib.Path) -> pathlib.Path:
    return keras_home / "datasets" / f"fsdd-{audio.FSDD_VERSION}"


def _assert_nothing_left(keras_home: pathlib.Path) -> None:
    folder = _cache_folder(keras_home)
    assert not (folder / "recordings").exists()
    assert not any(folder.glob(".partial-*"))  # (nothing at all when the folder is absent)


@pytest.fixture(scope="module")
def synthetic_archive(tmp_path_factory) -> pathlib.Path:
    """A tag-archive look-alike: 3,000 short synthetic recordings plus files to ignore."""
    members = {f"{TOP}/recordings/{name}": wav_bytes(synthetic_samples(name)) for name in ALL_NAMES}
    members[f"{TOP}/README.md"] = b"# Free Spoken Digit Dataset\n"
    members[f"{TOP}/utils/spectogramer.py"] = b"print('not a recording')\n"
    members[f"{TOP}/recordings/notes.txt"] = b"not a recording either\n"
    return write_archive(tmp_path_factory.mktemp("synthetic") / "v1.0.10.tar.gz", members)


@pytest.fixture(scope="module")
def fsdd(fsdd_archive, tmp_path_factory):
    """(keras_home, dataset): the real archive unpacked once for the module into its own cache."""
    home = tmp_path_factory.mktemp("fsdd_keras_home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_HOME", str(home))
        dataset = audio.load_fsdd(archive=fsdd_archive)
    return home, dataset


# --------------------------------------------------------------------------- the real archive


def test_real_fsdd_counts_and_official_split(fsdd):
    _, dataset = fsdd
    assert len(dataset) == 3000 and dataset.sample_rate == audio.FSDD_SAMPLE_RATE == 8000
    assert (
        sorted(set(dataset.speakers.tolist())) == sorted(audio.FSDD_SPEAKERS)
        and len(audio.FSDD_SPEAKERS) == 6
    )
    assert np.bincount(dataset.labels).tolist() == [300] * 10
    assert dataset.takes.min() == 0 and dataset.takes.max() == 49
    is_test = dataset.is_test
    np.testing.assert_array_equal(is_test, dataset.takes <= 4)
    assert (int((~is_test).sum()), int(is_test.sum())) == (2700, 300)
    # the test set holds 5 takes of every digit by every speaker
    pairs = {}
    for digit, speaker in zip(dataset.labels[is_test], dataset.speakers[is_test]):
        pairs[digit, speaker] = pairs.get((digit, speaker), 0) + 1
    assert len(pairs) == 60 and set(pairs.values()) == {5}
    assert "2,700 train, 300 test" in str(dataset) and "CC BY-SA 4.0" in dataset.source


def test_real_fsdd_waveforms_match_the_wav_files(fsdd, fsdd_archive):
    _, dataset = fsdd
    assert all(w.dtype == np.float32 and w.ndim == 1 and len(w) > 0 for w in dataset.waveforms)
    assert min(w.min() for w in dataset.waveforms) >= -1.0
    assert max(w.max() for w in dataset.waveforms) <= 1.0
    index = {
        (int(label), str(speaker), int(take)): i
        for i, (label, speaker, take) in enumerate(
            zip(dataset.labels, dataset.speakers, dataset.takes)
        )
    }
    checked = 0
    with tarfile.open(fsdd_archive) as tar:
        for digit, speaker, take in [(0, "george", 0), (7, "yweweler", 49), (3, "theo", 12)]:
            member = tar.extractfile(f"{TOP}/recordings/{digit}_{speaker}_{take}.wav")
            with wave.open(member, "rb") as handle:
                assert handle.getframerate() == 8000 and handle.getnchannels() == 1
                width = handle.getsampwidth()
                raw = handle.readframes(handle.getnframes())
            if width == 2:
                expected = np.frombuffer(raw, dtype="<i2") / 32768.0
            elif width == 1:
                expected = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128) / 128.0
            else:
                continue
            np.testing.assert_allclose(
                dataset.waveforms[index[digit, speaker, take]], expected, atol=1e-7
            )
            checked += 1
    assert checked > 0


def test_real_fsdd_second_call_uses_the_cache(fsdd, monkeypatch, tmp_path, capsys):
    home, first = fsdd
    folder = _cache_folder(home) / "recordings"
    assert (folder / ".verified").is_file() and len(list(folder.glob("*.wav"))) == 3000
    assert list(_cache_folder(home).glob(".partial-*")) == []
    monkeypatch.setenv("KERAS_HOME", str(home))
    again = audio.load_fsdd(archive=tmp_path / "no-such-archive.tar.gz")
    assert len(again) == 3000
    np.testing.assert_array_equal(again.labels, first.labels)
    np.testing.assert_array_equal(again.waveforms[123], first.waveforms[123])
    assert "FSDD: 3,000 recordings" in capsys.readouterr().out


def test_truncated_real_archive_is_rejected(fsdd_archive, keras_home, tmp_path):
    broken = tmp_path / "v1.0.10.tar.gz"
    broken.write_bytes(fsdd_archive.read_bytes()[:2_000_000])
    with pytest.raises(DownloadError, match="FSDD archive"):
        audio.load_fsdd(archive=broken)
    _assert_nothing_left(keras_home)


# --------------------------------------------------------------------------- synthetic archives


def test_load_fsdd_from_a_synthetic_archive(synthetic_archive, keras_home, monkeypatch, capsys):
    # an interrupted earlier run left an unverified folder behind
    stale = _cache_folder(keras_home) / "recordings"
    stale.mkdir(parents=True)
    (stale / "0_george_0.wav").write_bytes(b"left over from an interrupted run")
    (stale / "junk.wav").write_bytes(b"")
    monkeypatch.setenv(audio.FSDD_ARCHIVE_ENV_VAR, synthetic_archive.as_uri())  # no `archive`
    dataset = audio.load_fsdd()
    assert len(dataset) == 3000
    # only the recordings are unpacked, and the stale folder is gone
    assert sorted(path.name for path in stale.iterdir()) == sorted([*ALL_NAMES, ".verified"])
    assert list(_cache_folder(keras_home).glob(".partial-*")) == []
    for i in (0, 1234, 2999):
        name = f"{dataset.labels[i]}_{dataset.speakers[i]}_{dataset.takes[i]}.wav"
        np.testing.assert_array_equal(dataset.waveforms[i], synthetic_samples(name) / 32768.0)
    assert synthetic_archive.is_file()  # a local archive is read, not moved or deleted
    assert synthetic_archive.as_uri() in dataset.source
    assert "FSDD: 3,000 recordings" in capsys.readouterr().out


def test_archive_with_too_few_recordings(keras_home, tmp_path):
    names = ["0_george_0.wav", "1_jackson_5.wav", "9_theo_49.wav"]
    archive = write_archive(
        tmp_path / "small.tar.gz",
        {f"{TOP}/recordings/{name}": wav_bytes(synthetic_samples(name)) for name in names},
    )
    with pytest.raises(DownloadError, match="2997 missing"):
        audio.load_fsdd(archive=archive)
    _assert_nothing_left(keras_home)
    assert archive.is_file()


def test_archive_that_is_not_a_tar(keras_home, tmp_path):
    archive = tmp_path / "v1.0.10.tar.gz"
    archive.write_bytes(b"<html>404: Not Found</html>")
    with pytest.raises(DownloadError, match="not a readable tar.gz"):
        audio.load_fsdd(archive=archive)
    _assert_nothing_left(keras_home)


@pytest.mark.parametrize("kind", ["path", "url"])
def test_missing_archive(keras_home, tmp_path, kind):
    missing = tmp_path / "absent.tar.gz"
    with pytest.raises(DownloadError, match="absent.tar.gz"):
        audio.load_fsdd(archive=missing if kind == "path" else missing.as_uri())
    _assert_nothing_left(keras_home)
    assert not (keras_home / "datasets" / f"fsdd-{audio.FSDD_VERSION}.tar.gz").exists()


# --------------------------------------------------------------------------- verify_recordings


@pytest.fixture(scope="module")
def synthetic_folder(tmp_path_factory) -> pathlib.Path:
    folder = tmp_path_factory.mktemp("recordings")
    for name in ALL_NAMES:
        (folder / name).write_bytes(wav_bytes(synthetic_samples(name)))
    return folder


VICTIM = "5_lucas_17.wav"  # the one recording the tests below damage


@pytest.fixture
def recordings(synthetic_folder) -> Iterator[pathlib.Path]:
    """The 3,000 synthetic recordings; damage to VICTIM and extra files are undone afterwards."""
    yield synthetic_folder
    (synthetic_folder / VICTIM).write_bytes(wav_bytes(synthetic_samples(VICTIM)))
    for path in synthetic_folder.iterdir():
        if path.name not in ALL_NAMES:
            path.unlink()


def test_verify_recordings_accepts_the_full_set(recordings):
    assert audio.verify_recordings(recordings) == 3000


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (wav_bytes(np.zeros(100), rate=16000), "16000 Hz"),
        (wav_bytes(np.zeros(200), channels=2), "2 channel"),
        (wav_bytes(np.zeros(0)), "0 frames"),
        (b"RIFF but not really a WAV file", "not a readable WAV"),
    ],
)
def test_verify_recordings_rejects_bad_wav_files(recordings, content, match):
    (recordings / VICTIM).write_bytes(content)
    with pytest.raises(ValueError, match=match) as error:
        audio.verify_recordings(recordings)
    assert VICTIM in str(error.value)


def test_verify_recordings_rejects_a_truncated_recording(recordings):
    content = (recordings / VICTIM).read_bytes()
    (recordings / VICTIM).write_bytes(content[: len(content) - 20])  # the header still says more
    with pytest.raises(ValueError, match=rf"`folder`.*{VICTIM} is truncated"):
        audio.verify_recordings(recordings)


@pytest.mark.parametrize(
    ("folder", "error", "match"),
    [
        (3, TypeError, r"`folder` to be a path.*Received: folder=3"),
        (None, TypeError, "folder"),
        (b"recordings", TypeError, "folder"),
        ("", ValueError, "folder"),
        (pathlib.Path(__file__), ValueError, r"`folder` to be an existing folder"),
        (pathlib.Path(__file__).parent / "no-such-folder", ValueError, "existing folder"),
        (pathlib.Path(__file__).parent, ValueError, r"`folder` to hold FSDD v1.0.10's recordings: expected 3000"),
    ],
)
def test_verify_recordings_rejects_what_is_not_a_recordings_folder(folder, error, match):
    with pytest.raises(error, match=match):
        audio.verify_recordings(folder)


def test_verify_recordings_rejects_missing_and_unexpected_files(recordings):
    (recordings / VICTIM).unlink()
    with pytest.raises(ValueError, match="1 missing"):
        audio.verify_recordings(recordings)
    (recordings / VICTIM).write_bytes(wav_bytes(np.zeros(100)))
    (recordings / "5_lucas_50.wav").write_bytes(wav_bytes(np.zeros(100)))
    with pytest.raises(ValueError, match="1 unexpected"):
        audio.verify_recordings(recordings)


def test_bad_archive_arguments_are_refused_before_any_work(keras_home):
    for archive, error in [(3, TypeError), (b"v1.0.10.tar.gz", TypeError), (["a.tar.gz"], TypeError),
                           ("", ValueError), ("x" * 5000, ValueError)]:  # fmt: skip
        with pytest.raises(error, match=r"`archive`"):
            audio.load_fsdd(archive=archive)
        with pytest.raises(error, match=r"`archive`"):
            audio.fsdd_recordings_folder(archive=archive)
    assert not (keras_home / "datasets").exists()


# --------------------------------------------------------------------------- the cache, checked on open


def _recordings_folder(keras_home: pathlib.Path) -> pathlib.Path:
    return _cache_folder(keras_home) / "recordings"


@pytest.fixture(scope="module")
def pristine_home(synthetic_archive, tmp_path_factory) -> pathlib.Path:
    """A Keras cache with the synthetic recordings, unpacked once for the tests below."""
    home = tmp_path_factory.mktemp("pristine_keras_home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_HOME", str(home))
        audio.fsdd_recordings_folder(synthetic_archive)
    return home


@pytest.fixture
def cached_home(pristine_home, monkeypatch) -> Iterator[pathlib.Path]:
    """The shared cache as ``$KERAS_HOME``; a test that damages it undoes the damage."""
    monkeypatch.setenv("KERAS_HOME", str(pristine_home))
    yield pristine_home
    assert audio._cache_problem(_recordings_folder(pristine_home)) is None, "a test left damage behind"


@pytest.fixture
def copied_home(pristine_home, tmp_path, monkeypatch) -> pathlib.Path:
    """A private copy of the shared cache, as ``$KERAS_HOME``, for tests that repair it."""
    home = shutil.copytree(pristine_home, tmp_path / "keras_home")
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


# Each damage returns the function that undoes it.


def _delete_a_hundred(folder):
    aside = folder.parent.parent / "aside"  # outside the cache's folder
    aside.mkdir()
    for name in ALL_NAMES[:100]:
        (folder / name).rename(aside / name)

    def undo():
        for path in aside.iterdir():
            path.rename(folder / path.name)
        aside.rmdir()

    return undo


def _replace(path: pathlib.Path, content: bytes):
    original = path.read_bytes()
    path.write_bytes(content)
    return lambda: path.write_bytes(original)


def _truncate(folder):
    return _replace(folder / VICTIM, (folder / VICTIM).read_bytes()[:100])


def _add_an_unexpected_recording(folder):
    (folder / "5_lucas_50.wav").write_bytes(wav_bytes(np.zeros(100)))
    return (folder / "5_lucas_50.wav").unlink


def _swap_for_a_file(path: pathlib.Path):
    aside = path.with_name(path.name + "-aside")
    path.rename(aside)
    path.write_bytes(b"a file where a folder belongs")

    def undo():
        path.unlink()
        aside.rename(path)

    return undo


def _swap_for_a_folder(path: pathlib.Path):
    aside = path.with_name(path.name + "-aside")
    path.rename(aside)
    path.mkdir()

    def undo():
        path.rmdir()
        aside.rename(path)

    return undo


def _folder_where_a_recording_belongs(folder):
    return _swap_for_a_folder(folder / VICTIM)


def _recordings_folder_is_a_file(folder):
    return _swap_for_a_file(folder)


def _dataset_folder_is_a_file(folder):
    return _swap_for_a_file(folder.parent)


def _marker_deleted(folder):
    original = (folder / ".verified").read_bytes()
    (folder / ".verified").unlink()
    return lambda: (folder / ".verified").write_bytes(original)


def _marker_of_an_older_version(folder):
    return _replace(folder / ".verified", b"3000 recordings from somewhere\n")


def _marker_is_a_folder(folder):
    return _swap_for_a_folder(folder / ".verified")


def _same_size_other_content(folder):
    content = bytearray((folder / VICTIM).read_bytes())
    content[-10:] = bytes(10)  # the last samples silenced: the sha256 notices, the size does not
    return _replace(folder / VICTIM, bytes(content))


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (_delete_a_hundred, "2,900 recordings instead of 3,000: 100 missing, e.g. ['0_george_0.wav'"),
        (_truncate, f"3,000 recordings: 1 of the wrong size or not a file, e.g. ['{VICTIM}']"),
        (_add_an_unexpected_recording, "3,001 recordings instead of 3,000: 1 unexpected, e.g. ['5_lucas_50.wav']"),
        (_folder_where_a_recording_belongs, f"1 of the wrong size or not a file, e.g. ['{VICTIM}']"),
        (_recordings_folder_is_a_file, "recordings is a file where a folder belongs"),
        (_dataset_folder_is_a_file, f"fsdd-{audio.FSDD_VERSION} is a file where a folder belongs"),
        (_marker_deleted, "manifest .verified is missing"),
        (_marker_of_an_older_version, "manifest .verified is unreadable"),
        (_marker_is_a_folder, "manifest .verified is missing"),
        (_same_size_other_content, f"{VICTIM} differs from the recording unpacked (sha256)"),
    ],
    ids=lambda value: value.__name__.strip("_") if callable(value) else "",
)
def test_damaged_cache_is_noticed_on_open(cached_home, tmp_path, capsys, damage, problem):
    """Each damage is reported and a repair started (which fails here: the archive is absent)."""
    undo = damage(_recordings_folder(cached_home))
    try:
        with pytest.raises(DownloadError, match="no-such-archive.tar.gz"):
            audio.load_fsdd(archive=tmp_path / "no-such-archive.tar.gz")
    finally:
        undo()
    output = capsys.readouterr().out
    assert "is damaged (" in output and problem in output and "repairing it" in output


def test_damaged_cache_is_repaired(copied_home, synthetic_archive, capsys):
    folder = _recordings_folder(copied_home)
    for damage in (_delete_a_hundred, _truncate, _add_an_unexpected_recording, _folder_where_a_recording_belongs):
        damage(folder)
    dataset = audio.load_fsdd(archive=synthetic_archive)
    output = capsys.readouterr().out
    assert "is damaged (2,901 recordings instead of 3,000: 100 missing" in output and "repairing it" in output
    assert len(dataset) == 3000
    assert sorted(path.name for path in folder.iterdir()) == sorted([*ALL_NAMES, ".verified"])
    assert sorted(path.name for path in _cache_folder(copied_home).iterdir()) == ["recordings"]
    position = sorted(ALL_NAMES).index(VICTIM)  # the dataset is sorted by file name
    assert (dataset.labels[position], dataset.speakers[position], dataset.takes[position]) == (5, "lucas", 17)
    np.testing.assert_array_equal(dataset.waveforms[position], synthetic_samples(VICTIM) / 32768.0)
    # repaired for good: the next open finds nothing to say
    assert len(audio.load_fsdd(archive=synthetic_archive)) == 3000
    assert "damaged" not in capsys.readouterr().out


def test_a_file_where_the_cache_folder_belongs_is_replaced(keras_home, synthetic_archive, capsys):
    root = _cache_folder(keras_home)
    root.parent.mkdir(parents=True)
    root.write_bytes(b"a file where a folder belongs")
    assert len(audio.load_fsdd(archive=synthetic_archive)) == 3000
    assert f"fsdd-{audio.FSDD_VERSION} is a file where a folder belongs" in capsys.readouterr().out
    assert root.is_dir() and len(list((root / "recordings").glob("*.wav"))) == 3000


def test_intact_cache_is_checked_in_milliseconds(cached_home, tmp_path, capsys):
    start = time.perf_counter()
    folder = audio.fsdd_recordings_folder(archive=tmp_path / "no-such-archive.tar.gz")
    seconds = time.perf_counter() - start
    assert folder == _recordings_folder(cached_home) and capsys.readouterr().out == ""
    assert seconds < 0.5, seconds  # names and sizes of 3,000 files: about 10 ms


def test_leftovers_of_an_interrupted_unpack_are_removed(cached_home, tmp_path, capsys):
    root = _cache_folder(cached_home)
    old, recent = root / ".partial-interrupted", root / ".partial-in-progress"
    for leftover in (old, recent):
        (leftover / "recordings").mkdir(parents=True)
        (leftover / "recordings" / VICTIM).write_bytes(b"half")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    try:
        audio.fsdd_recordings_folder(archive=tmp_path / "no-such-archive.tar.gz")  # not needed
        assert not old.exists()
        assert recent.exists()  # perhaps another process unpacking right now: left alone
    finally:
        shutil.rmtree(recent)
    output = capsys.readouterr().out
    assert ".partial-interrupted, left behind by an interrupted unpack" in output and "damaged" not in output


def test_damaged_real_cache_is_repaired_from_the_real_archive(fsdd, fsdd_archive, tmp_path, monkeypatch, capsys):
    pristine, first = fsdd
    home = shutil.copytree(pristine, tmp_path / "keras_home")
    monkeypatch.setenv("KERAS_HOME", str(home))
    folder = _recordings_folder(home)
    for path in sorted(folder.glob("*.wav"))[:100]:
        path.unlink()
    victim = folder / "3_theo_12.wav"
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])  # half its samples
    dataset = audio.load_fsdd(archive=fsdd_archive)
    assert "2,900 recordings instead of 3,000: 100 missing" in capsys.readouterr().out
    assert len(dataset) == 3000 and len(list(folder.glob("*.wav"))) == 3000
    np.testing.assert_array_equal(dataset.labels, first.labels)
    for index in (0, 99, 1234, 2999):
        np.testing.assert_array_equal(dataset.waveforms[index], first.waveforms[index])
    (position,) = np.flatnonzero((dataset.labels == 3) & (dataset.speakers == "theo") & (dataset.takes == 12))
    np.testing.assert_array_equal(dataset.waveforms[position], first.waveforms[position])


# --------------------------------------------------------------------------- spectrograms


def _librosa_reference(waveform: np.ndarray, **kwargs) -> np.ndarray:
    import librosa

    params = {"sr": 8000, "n_fft": 256, "hop_length": 64, "n_mels": 40} | kwargs
    mel = librosa.feature.melspectrogram(y=waveform.astype(np.float32), **params)
    return librosa.power_to_db(mel, ref=np.max, top_db=80.0)


def _chirp(seconds: float, rate: int = 8000) -> np.ndarray:
    time = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * (200 + 900 * time) * time)).astype(np.float32)


@pytest.mark.parametrize("seconds", [0.3, 1.0, 2.5])
def test_log_mel_spectrogram_has_a_fixed_shape(seconds):
    spectrogram = audio.log_mel_spectrogram(_chirp(seconds))
    expected_shape = _librosa_reference(np.zeros(8000, dtype=np.float32)).shape
    assert spectrogram.shape == expected_shape == (40, 8000 // 64 + 1)
    assert spectrogram.dtype == np.float32
    assert spectrogram.max() == 0.0 and spectrogram.min() >= -80.0


def test_log_mel_spectrogram_matches_librosa_after_cutting_or_padding():
    long = _chirp(2.5)
    np.testing.assert_allclose(
        audio.log_mel_spectrogram(long), _librosa_reference(long[:8000]), atol=1e-3
    )
    short = _chirp(0.3)
    padded = np.concatenate([short, np.zeros(8000 - len(short), dtype=np.float32)])
    np.testing.assert_allclose(
        audio.log_mel_spectrogram(short), _librosa_reference(padded), atol=1e-3
    )


def test_log_mel_spectrogram_parameters():
    waveform = _chirp(1.0, rate=16000)
    result = audio.log_mel_spectrogram(
        waveform, sample_rate=16000, n_mels=64, n_fft=512, hop_length=128, duration=0.5
    )
    reference = _librosa_reference(waveform[:8000], sr=16000, n_mels=64, n_fft=512, hop_length=128)
    assert result.shape == reference.shape == (64, 8000 // 128 + 1)
    np.testing.assert_allclose(result, reference, atol=1e-3)


def test_log_mel_spectrogram_of_a_real_recording(fsdd):
    _, dataset = fsdd
    waveform = dataset.waveforms[0]
    padded = np.pad(waveform[:8000], (0, max(0, 8000 - len(waveform))))
    np.testing.assert_allclose(
        audio.log_mel_spectrogram(waveform), _librosa_reference(padded), atol=1e-3
    )


@pytest.mark.parametrize("shape", [(2, 4000), (1, 8000), ()])
def test_log_mel_spectrogram_rejects_non_1d_input(shape):
    with pytest.raises(ValueError, match="waveform"):
        audio.log_mel_spectrogram(np.zeros(shape, dtype=np.float32))


@pytest.mark.parametrize(
    ("waveform", "error", "match"),
    [
        (np.zeros(100) + 1j, TypeError, "real numbers"),  # the imaginary part is not dropped silently
        (np.zeros(0), ValueError, "non-empty"),
        ("a recording", TypeError, "Received: waveform='a recording'"),
        (np.array(["0.5", "0.1"]), TypeError, "real numbers"),
        (np.ones(100, dtype=bool), TypeError, "real numbers"),
        ([0.5, [0.1]], TypeError, "numeric array"),
    ],
)
def test_log_mel_spectrogram_rejects_bad_waveforms(waveform, error, match):
    with pytest.raises(error, match=match):
        audio.log_mel_spectrogram(waveform)


def test_log_mel_spectrogram_checks_its_settings_itself():
    waveform = _chirp(0.5)
    with pytest.raises(ValueError, match=r"Received: sample_rate=0"):
        audio.log_mel_spectrogram(waveform, sample_rate=0)
    with pytest.raises(ValueError, match=r"Received: hop_length=-64"):
        audio.log_mel_spectrogram(waveform, hop_length=-64)
    with pytest.raises(ValueError, match=r"Received: n_fft=0"):
        audio.log_mel_spectrogram(waveform, n_fft=0)
    with pytest.raises(ValueError, match=r"Received: duration=nan"):
        audio.log_mel_spectrogram(waveform, duration=float("nan"))
    with pytest.raises(TypeError, match=r"Received: sample_rate='8000'"):
        audio.log_mel_spectrogram(waveform, sample_rate="8000")
    with pytest.raises(ValueError, match=r"Received: duration=inf"):
        audio.log_mel_spectrogram(waveform, duration=float("inf"))
    with pytest.raises(ValueError, match=r"n_mels"):
        audio.log_mel_spectrogram(waveform, n_mels=10**6)
    with pytest.raises(ValueError, match=r"at most 268,435,456 values.*hop_length=1"):
        audio.log_mel_spectrogram(waveform, sample_rate=192_000, n_fft=65_536, hop_length=1, duration=3600.0)
    with pytest.raises(ValueError, match="finite"):
        audio.log_mel_spectrogram(np.full(100, np.inf, dtype=np.float32))


# --------------------------------------------------------------------------- pad_or_crop


@pytest.mark.parametrize(
    ("waveform", "length", "mode", "expected"),
    [
        ([1, 2, 3], 6, "centre", [0, 1, 2, 3, 0, 0]),
        ([1, 2, 3], 7, "centre", [0, 0, 1, 2, 3, 0, 0]),
        ([1, 2, 3], 6, "start", [1, 2, 3, 0, 0, 0]),
        ([1, 2, 3, 4, 5], 2, "centre", [2, 3]),
        ([1, 2, 3, 4, 5, 6], 3, "centre", [2, 3, 4]),
        ([1, 2, 3, 4, 5], 2, "start", [1, 2]),
        ([1, 2, 3], 3, "centre", [1, 2, 3]),
        ([1, 2, 3], 3, "start", [1, 2, 3]),
    ],
)
def test_pad_or_crop_exact_values(waveform, length, mode, expected):
    result = audio.pad_or_crop([np.array(waveform, dtype=np.float32)], length, mode=mode)
    assert result.dtype == np.float32 and result.shape == (1, length)
    np.testing.assert_array_equal(result[0], expected)


def test_pad_or_crop_many_recordings_and_a_2d_array():
    rng = np.random.default_rng(0)
    recordings = [rng.standard_normal(size).astype(np.float32) for size in (10, 8000, 12000, 1)]
    result = audio.pad_or_crop(recordings, 8000)
    assert result.shape == (4, 8000)
    np.testing.assert_array_equal(result[0, 3995:4005], recordings[0])
    assert not result[0, :3995].any() and not result[0, 4005:].any()
    np.testing.assert_array_equal(result[1], recordings[1])
    np.testing.assert_array_equal(result[2], recordings[2][2000:10000])
    assert result[3, 3999] == recordings[3][0] and np.count_nonzero(result[3]) == 1
    as_array = audio.pad_or_crop(np.stack([recordings[1], recordings[1]]), 100, mode="start")
    np.testing.assert_array_equal(as_array, np.stack([recordings[1][:100]] * 2))
    int16 = audio.pad_or_crop([np.array([1, -2], dtype=np.int16)], 2)  # integers become float32
    assert int16.dtype == np.float32 and int16.tolist() == [[1.0, -2.0]]


@pytest.mark.parametrize(
    ("waveforms", "kwargs", "error", "match"),
    [
        ([np.zeros(5)], {"length": 0}, ValueError, r"`length` to be an integer in \[1, "),
        ([np.zeros(5)], {"length": 10.0}, TypeError, "length"),
        ([np.zeros(5)], {"length": 10, "mode": "end"}, ValueError, "mode"),
        (np.zeros(5), {"length": 10}, ValueError, r"wrap a single recording in a list"),
        (np.zeros((2, 3, 4)), {"length": 10}, ValueError, "2-D"),
        ([np.zeros((2, 3))], {"length": 10}, ValueError, r"waveforms\[0\]"),
        ([np.zeros(3), np.array([1.0, np.inf])], {"length": 10}, ValueError, r"finite.*waveforms\[1\]"),
        ([np.array(["a"])], {"length": 10}, TypeError, "real numbers"),
        ([np.array([1j])], {"length": 10}, TypeError, "real numbers"),
        ([np.array([True, False])], {"length": 10}, TypeError, "real numbers"),
        (["abc"], {"length": 10}, TypeError, r"waveforms\[0\]='abc'"),
        ([np.zeros(3), np.zeros(0)], {"length": 10}, ValueError, r"1 to .* samples.*waveforms\[1\]"),
        ([], {"length": 10}, ValueError, "at least one recording"),
        (None, {"length": 10}, TypeError, "waveforms"),
        ([np.zeros(3)] * 100, {"length": 10**8}, ValueError, "at most"),
    ],
)
def test_pad_or_crop_rejects_bad_arguments(waveforms, kwargs, error, match):
    with pytest.raises(error, match=match):
        audio.pad_or_crop(waveforms, **kwargs)


# --------------------------------------------------------------------------- splits


def test_real_fsdd_official_and_speaker_splits(fsdd):
    _, dataset = fsdd
    official = dataset.split()
    assert (len(official.train), len(official.test)) == (2700, 300)
    assert official.train.dtype == official.test.dtype == np.int64
    np.testing.assert_array_equal(np.sort(np.concatenate(official)), np.arange(3000))
    assert set(dataset.takes[official.test].tolist()) == set(range(5))
    assert dataset.takes[official.train].min() == 5
    np.testing.assert_array_equal(official.test, np.flatnonzero(dataset.is_test))
    for speaker in audio.FSDD_SPEAKERS:
        held_out = dataset.split("speaker", test_speaker=speaker)
        assert (len(held_out.train), len(held_out.test)) == (2500, 500)
        assert set(dataset.speakers[held_out.test].tolist()) == {speaker}
        assert speaker not in set(dataset.speakers[held_out.train].tolist())
        assert len(set(dataset.speakers[held_out.train].tolist())) == 5
        np.testing.assert_array_equal(np.sort(np.concatenate(held_out)), np.arange(3000))
        assert np.bincount(dataset.labels[held_out.test]).tolist() == [50] * 10


def _small_dataset() -> audio.AudioDataset:
    speakers = np.array(["ann", "bob", "ann", "bob", "cy"])
    return audio.AudioDataset(
        [np.zeros(10, dtype=np.float32)] * 5, np.arange(5, dtype=np.int64), speakers,
        np.array([0, 7, 12, 3, 40], dtype=np.int64), 8000, "made up",
    )  # fmt: skip


def test_split_of_a_small_dataset():
    dataset = _small_dataset()
    assert [part.tolist() for part in dataset.split("official")] == [[1, 2, 4], [0, 3]]
    assert [part.tolist() for part in dataset.split("speaker", "bob")] == [[0, 2, 4], [1, 3]]
    train, test = dataset.split(kind="speaker", test_speaker="cy")
    assert train.tolist() == [0, 1, 2, 3] and test.tolist() == [4]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"kind": "random"}, ValueError, r"`kind` to be one of \('official', 'speaker'\)"),
        ({"kind": "speaker"}, ValueError, "test_speaker"),
        ({"kind": "speaker", "test_speaker": "theo"}, ValueError, r"Received: test_speaker='theo'"),
        ({"kind": "speaker", "test_speaker": 3}, TypeError, "test_speaker"),
        ({"kind": "official", "test_speaker": "ann"}, ValueError, "only used with kind='speaker'"),
    ],
)
def test_split_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        _small_dataset().split(**kwargs)
