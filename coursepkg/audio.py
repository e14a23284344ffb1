"""The Free Spoken Digit Dataset, its splits, and recordings cut to one length.

Introduced in: book/01_convolution.ipynb (loader); the splits and
:func:`pad_or_crop` in book/16_sound.ipynb. Spectrograms of whole batches are in
:mod:`coursepkg.spectrograms`; the Keras layers in :mod:`coursepkg.audio_layers`.

FSDD (github.com/Jakobovski/free-spoken-digit-dataset, CC BY-SA 4.0, by Zohar
Jackson and contributors) holds 3,000 recordings at 8 kHz: 6 speakers say each
digit 50 times. By the dataset's own convention takes 0-4 are the test set and
takes 5-49 the training set. The loader downloads the v1.0.10 tag archive once
(through :mod:`coursepkg.downloads`), checks its content (file count, names,
WAV headers), and unpacks only the recordings into the Keras cache; a partly
unpacked or unverified folder never stays there. The cache is checked against a
manifest of names, sizes and sha256 whenever it is opened, and repaired when damaged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import pathlib
import re
import shutil
import tarfile
import tempfile
import time
import wave
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from coursepkg import downloads, validation
from coursepkg.validation import check_array, check_choice, check_float, check_int, check_str

FSDD_VERSION = "v1.0.10"
FSDD_URL = (
    "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/"
    f"{FSDD_VERSION}.tar.gz"
)
FSDD_ARCHIVE_ENV_VAR = "COURSEPKG_FSDD_ARCHIVE"
FSDD_SAMPLE_RATE = 8000
FSDD_SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
FSDD_TAKES = 50
FSDD_TEST_TAKES = 5  # takes 0..4 are the official test set
_NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")
MAX_SAMPLE_RATE = 192_000  # the highest rate audio interfaces record at
MAX_LENGTH = 100_000_000  # samples in one recording (over 8 minutes at 192 kHz)
MAX_RECORDINGS = 10_000_000  # recordings in one batch
SPLIT_KINDS = ("official", "speaker")


class AudioSplit(NamedTuple):
    """Indices of the training and test recordings (sorted int64 arrays)."""

    train: np.ndarray  # (n_train,) int64 indices into the dataset
    test: np.ndarray  # (n_test,) int64 indices into the dataset


@dataclasses.dataclass
class AudioDataset:
    """Recordings with their digit, speaker and take."""

    waveforms: list[np.ndarray]  # one float32 array in [-1, 1] per recording (lengths differ)
    labels: np.ndarray  # (n,), int64 spoken digit
    speakers: np.ndarray  # (n,), str speaker name
    takes: np.ndarray  # (n,), int64 take index 0..49
    sample_rate: int  # samples per second
    source: str  # where the recordings came from, in words

    @property
    def is_test(self) -> np.ndarray:
        """Boolean mask of the official test set (takes 0-4)."""
        return self.takes < FSDD_TEST_TAKES

    def __len__(self) -> int:
        return len(self.waveforms)

    def split(self, kind: str = "official", test_speaker: str | None = None) -> AudioSplit:
        """Indices of a training and a test set.

        Introduced in: book/16_sound.ipynb

        Two ways of testing a spoken-digit classifier:

        * ``"official"``: FSDD's own split. Takes 0-4 of every speaker and digit
          are the test set (300 recordings), takes 5-49 the training set
          (2,700). The test voices are voices the network trained on.
        * ``"speaker"``: every recording of ``test_speaker`` is the test set
          (500), the other speakers' recordings the training set (2,500). This
          measures how well the network copes with a voice it never heard.

        Args:
            kind: ``"official"`` or ``"speaker"``.
            test_speaker: the held-out speaker (one of :data:`FSDD_SPEAKERS`);
                only with ``kind="speaker"``, where it is required.

        Returns:
            An :class:`AudioSplit` ``(train, test)`` of sorted int64 index arrays; index
            ``labels``, ``speakers`` or the features with them, and
            ``[dataset.waveforms[i] for i in split.train]`` the list.

        Raises:
            ValueError: unknown ``kind``, a speaker not in the dataset, or a
                ``test_speaker`` given with ``kind="official"``.

        Example:
            >>> train, test = dataset.split("speaker", test_speaker="theo")
            >>> x_train, y_train = features[train], dataset.labels[train]
        """
        kind = check_choice("kind", kind, SPLIT_KINDS)
        if kind == "official":
            if test_speaker is not None:
                raise ValueError(
                    "`test_speaker` is only used with kind='speaker'. "
                    f"Received: kind='official', test_speaker={test_speaker!r}"
                )
            is_test = self.is_test
        else:
            if test_speaker is None:
                raise ValueError(
                    f"Expected `test_speaker` with kind='speaker', one of "
                    f"{tuple(sorted(set(self.speakers.tolist())))}. Received: test_speaker=None"
                )
            test_speaker = check_choice(
                "test_speaker", check_str("test_speaker", test_speaker, max_length=100),
                sorted(set(self.speakers.tolist())),
            )  # fmt: skip
            is_test = self.speakers == test_speaker
        return AudioSplit(np.flatnonzero(~is_test).astype(np.int64), np.flatnonzero(is_test).astype(np.int64))

    def __str__(self) -> str:
        n_test = int(self.is_test.sum())
        return (
            f"FSDD: {len(self):,} recordings ({len(self) - n_test:,} train, {n_test:,} test) "
            f"at {self.sample_rate} Hz from {len(set(self.speakers))} speakers; source: {self.source}"
        )


# --------------------------------------------------------------------------- the verified cache
#
# The recordings are unpacked into ``$KERAS_HOME/datasets/fsdd-v1.0.10/recordings`` through a
# ``.partial-*`` folder beside it, which is renamed into place only once its content has been
# checked. The last file written, ``.verified``, is a manifest (JSON) of the 3,000 recordings with
# their sizes and sha256; every open checks the folder against it (names and sizes, a few
# milliseconds) and :func:`load_fsdd` the sha256 of what it reads, so a deleted, truncated or
# altered recording, or a file where a folder belongs, is noticed and unpacked again.

_MARKER = ".verified"
_MANIFEST_FORMAT = 1
_PARTIAL_PREFIX = ".partial-"
_PARTIAL_MAX_AGE = 600.0  # seconds; a younger .partial-* folder may be another process's unpack
_NOT_UNPACKED = "the recordings are not unpacked yet"


def _expected_names() -> list[str]:
    """The 3,000 file names of FSDD v1.0.10, sorted."""
    return sorted(
        f"{digit}_{speaker}_{take}.wav"
        for digit in range(10)
        for speaker in FSDD_SPEAKERS
        for take in range(FSDD_TAKES)
    )


def _origin(archive) -> str:
    """Where the archive comes from: ``archive`` (checked), ``$COURSEPKG_FSDD_ARCHIVE`` or GitHub."""
    if archive is None:
        return os.environ.get(FSDD_ARCHIVE_ENV_VAR, FSDD_URL)
    if isinstance(archive, str) and "://" in archive:
        return check_str("archive", archive, max_length=validation.MAX_PATH_LENGTH)
    return str(validation.check_path("archive", archive))


def _check_wav(path: pathlib.Path) -> None:
    """Raise ``ValueError`` unless ``path`` is a whole mono 8 kHz WAV file with samples."""
    try:
        with wave.open(str(path), "rb") as handle:
            channels, rate, frames = handle.getnchannels(), handle.getframerate(), handle.getnframes()
            expected_bytes = frames * channels * handle.getsampwidth()
            found_bytes = len(handle.readframes(frames))
    except (wave.Error, EOFError, OSError) as error:
        raise ValueError(f"{path.name} is not a readable WAV file ({error})") from error
    if channels != 1 or rate != FSDD_SAMPLE_RATE or frames == 0:
        raise ValueError(
            f"{path.name}: expected mono {FSDD_SAMPLE_RATE} Hz audio, got {channels} channel(s) "
            f"at {rate} Hz with {frames} frames"
        )
    if found_bytes != expected_bytes:
        raise ValueError(
            f"{path.name} is truncated: its header announces {expected_bytes} bytes of samples, "
            f"it holds {found_bytes}"
        )


def _verify(folder: pathlib.Path) -> int:
    """The checks of :func:`verify_recordings`, with messages about the content only."""
    names = sorted(path.name for path in folder.glob("*.wav"))
    expected = set(_expected_names())
    missing, unexpected = expected - set(names), set(names) - expected
    if missing or unexpected:
        raise ValueError(
            f"expected {len(expected)} recordings named digit_speaker_take.wav; found {len(names)} "
            f"({len(missing)} missing, e.g. {sorted(missing)[:3]}; "
            f"{len(unexpected)} unexpected, e.g. {sorted(unexpected)[:3]})"
        )
    for name in names:
        _check_wav(folder / name)
    return len(names)


def verify_recordings(folder: str | os.PathLike) -> int:
    """Check that a folder holds exactly FSDD v1.0.10's 3,000 recordings, whole.

    Every file is opened: it must be a mono 8 kHz WAV file holding as many
    samples as its header announces (a truncated copy is refused).

    Args:
        folder: the ``recordings`` folder: a string or ``pathlib.Path`` of at
            most 4,096 characters, naming an existing folder.

    Returns:
        The number of recordings (3,000).

    Raises:
        TypeError: ``folder`` is not a path.
        ValueError: ``folder`` is not an existing folder, or a recording is
            missing, unexpected, truncated, or not mono 8 kHz WAV.
    """
    path = validation.check_path("folder", folder)
    if not path.is_dir():
        raise ValueError(f"Expected `folder` to be an existing folder. Received: folder={str(path)!r}")
    try:
        return _verify(path)
    except ValueError as error:
        raise ValueError(
            f"Expected `folder` to hold FSDD {FSDD_VERSION}'s recordings: {error}. "
            f"Received: folder={str(path)!r}"
        ) from error


def _remove(path: pathlib.Path) -> None:
    """Delete a file, a link or a whole folder, whichever ``path`` is (nothing if absent)."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path)


def _remove_stale_partials(root: pathlib.Path) -> None:
    """Delete the ``.partial-*`` folders that interrupted unpacks left behind."""
    if not root.is_dir():
        return
    now = time.time()
    for path in root.glob(f"{_PARTIAL_PREFIX}*"):
        with contextlib.suppress(OSError):
            if now - path.lstat().st_mtime > _PARTIAL_MAX_AGE:
                print(f"[coursepkg] removing {path}, left behind by an interrupted unpack of FSDD.")
                _remove(path)


def _manifest(folder: pathlib.Path, origin: str) -> dict:
    """Names, sizes and sha256 of the recordings in ``folder``, to be written as ``.verified``."""
    files = {}
    for name in _expected_names():
        content = (folder / name).read_bytes()
        files[name] = {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
    return {
        "format": _MANIFEST_FORMAT, "version": FSDD_VERSION,
        "source": f"{len(files)} recordings from {origin}", "files": files,
    }  # fmt: skip


def _is_manifest_entry(entry) -> bool:
    return (
        isinstance(entry, dict) and isinstance(entry.get("size"), int)
        and isinstance(entry.get("sha256"), str)
    )  # fmt: skip


def _read_manifest(folder: pathlib.Path) -> dict:
    """The manifest of ``folder``, or ``ValueError`` saying why there is no usable one."""
    path = folder / _MARKER
    if not path.is_file():
        raise ValueError(f"its manifest {_MARKER} is missing")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"its manifest {_MARKER} is unreadable ({error})") from error
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if (
        not isinstance(files, dict) or manifest.get("format") != _MANIFEST_FORMAT
        or manifest.get("version") != FSDD_VERSION or sorted(files) != _expected_names()
        or not all(_is_manifest_entry(entry) for entry in files.values())
    ):  # fmt: skip
        raise ValueError(f"its manifest {_MARKER} does not list FSDD {FSDD_VERSION}'s 3,000 recordings")
    return manifest


def _cache_problem(final: pathlib.Path) -> str | None:
    """What is wrong with the cached recordings (checked by name and size), or ``None``."""
    for path in (final.parent, final):
        if path.exists() and not path.is_dir():
            return f"{path} is a file where a folder belongs"
    if not final.is_dir():
        return _NOT_UNPACKED
    try:
        files = _read_manifest(final)["files"]
    except ValueError as error:
        return str(error)
    sizes = {}
    with os.scandir(final) as entries:
        for entry in entries:
            if entry.name.endswith(".wav"):
                sizes[entry.name] = entry.stat().st_size if entry.is_file() else None
    missing = sorted(set(files) - set(sizes))
    unexpected = sorted(set(sizes) - set(files))
    wrong = sorted(name for name in set(files) & set(sizes) if sizes[name] != files[name]["size"])
    parts = [
        f"{len(names):,} {what}, e.g. {names[:3]}"
        for names, what in [(missing, "missing"), (unexpected, "unexpected"),
                            (wrong, "of the wrong size or not a file")]
        if names
    ]  # fmt: skip
    if not parts:
        return None
    count = f"{len(sizes):,} recordings" + (f" instead of {len(files):,}" if len(sizes) != len(files) else "")
    return f"{count}: {'; '.join(parts)}"


def _local_archive(origin: str) -> tuple[pathlib.Path, bool]:
    """The archive as a local file, downloaded into the Keras cache if needed; whether it was."""
    local = pathlib.Path(origin.removeprefix("file://"))
    if local.is_file():
        return local, False
    if "://" not in origin:
        raise downloads.DownloadError(
            f"Expected `archive` to be an existing .tar.gz file or a URL. Received: archive={origin!r}"
        )
    return downloads.fetch(f"fsdd-{FSDD_VERSION}.tar.gz", origin), True


def _extract_recordings(archive: pathlib.Path, destination: pathlib.Path) -> None:
    """Unpack only ``*/recordings/*.wav`` into ``destination`` (which must not exist)."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = [
                member for member in tar.getmembers()
                if member.isfile() and member.name.count("/") == 2
                and member.name.split("/")[1] == "recordings" and _NAME.match(member.name.split("/")[2])
            ]  # fmt: skip
            destination.mkdir(parents=True)
            for member in members:
                with tar.extractfile(member) as source, open(destination / member.name.split("/")[2], "wb") as target:
                    shutil.copyfileobj(source, target)
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ValueError(f"{archive.name} is not a readable tar.gz archive ({error})") from error


def _unpack(origin: str, final: pathlib.Path) -> None:
    """Unpack and verify the recordings of ``origin`` into ``final``, replacing whatever is there."""
    local, downloaded = _local_archive(origin)
    for path in (final.parent, final):  # a file where a folder belongs
        if path.exists() and not path.is_dir():
            path.unlink()
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=_PARTIAL_PREFIX, dir=final.parent)) / "recordings"
    try:
        _extract_recordings(local, staging)
        _verify(staging)
        (staging / _MARKER).write_text(json.dumps(_manifest(staging, origin)))
        _remove(final)
        os.replace(staging, final)
    except ValueError as error:
        if downloaded:
            local.unlink(missing_ok=True)
        raise downloads.DownloadError(
            f"The FSDD archive from {origin} does not hold the expected recordings: {error}. "
            f"Point `archive` (or ${FSDD_ARCHIVE_ENV_VAR}) at the {FSDD_VERSION} tag archive."
        ) from error
    finally:
        shutil.rmtree(staging.parent, ignore_errors=True)


def _repair(origin: str, final: pathlib.Path, problem: str) -> None:
    print(f"[coursepkg] The FSDD cache {final} is damaged ({problem}); repairing it: unpacking the "
          f"recordings again from {origin}.")  # fmt: skip
    _unpack(origin, final)


def fsdd_recordings_folder(archive: str | os.PathLike | None = None) -> pathlib.Path:
    """Make sure the verified recordings are in the Keras cache; return their folder.

    The recordings are unpacked once. At every later call the folder is
    checked against the manifest written when it was unpacked (``.verified``:
    every recording's name, size and sha256): a missing, extra or truncated
    recording, a file where a folder belongs (or the reverse) or a missing
    manifest is reported in one printed line and repaired by unpacking the
    archive again; folders left by an interrupted unpack (``.partial-*``, older
    than 10 minutes) are removed. The check reads sizes only (milliseconds);
    :func:`load_fsdd` also checks the sha256 of every recording it reads.

    Args:
        archive: where the v1.0.10 tag archive comes from: a local ``.tar.gz``
            path or a URL (a string or ``pathlib.Path`` of at most 4,096
            characters). Defaults to ``$COURSEPKG_FSDD_ARCHIVE`` if set, else
            GitHub's tag archive.

    Returns:
        ``~/.keras/datasets/fsdd-v1.0.10/recordings`` (or under ``$KERAS_HOME``).

    Raises:
        TypeError, ValueError: ``archive`` is not a path or URL.
        downloads.DownloadError: the archive could not be had or its content is wrong.
    """
    origin = _origin(archive)
    final = downloads.cache_dir() / "datasets" / f"fsdd-{FSDD_VERSION}" / "recordings"
    _remove_stale_partials(final.parent)
    problem = _cache_problem(final)
    if problem == _NOT_UNPACKED:
        _unpack(origin, final)
    elif problem is not None:
        _repair(origin, final, problem)
    return final


def _read_recordings(folder: pathlib.Path) -> tuple[list[np.ndarray], list[str], str]:
    """The recordings of ``folder`` in name order, their names, and the manifest's source line.

    Raises:
        ValueError: a recording is unreadable or differs from its sha256 in the manifest.
    """
    import soundfile

    manifest = _read_manifest(folder)
    names = sorted(manifest["files"])
    waveforms = []
    for name in names:
        try:
            content = (folder / name).read_bytes()
        except OSError as error:
            raise ValueError(f"{name} is unreadable ({error})") from error
        if hashlib.sha256(content).hexdigest() != manifest["files"][name]["sha256"]:
            raise ValueError(f"{name} differs from the recording unpacked (sha256)")
        samples, _ = soundfile.read(io.BytesIO(content), dtype="float32")
        waveforms.append(samples)
    return waveforms, names, str(manifest.get("source", ""))


def load_fsdd(archive: str | os.PathLike | None = None) -> AudioDataset:
    """Load the Free Spoken Digit Dataset v1.0.10 (3,000 recordings, 8 kHz).

    The cache is checked as :func:`fsdd_recordings_folder` says, and the
    sha256 of every recording read is compared with the one recorded when it
    was unpacked; a damaged cache is unpacked again (one printed line says so).

    Args:
        archive: see :func:`fsdd_recordings_folder`.

    Returns:
        An :class:`AudioDataset`, recordings sorted by file name; one line
        saying what was loaded is printed.

    Raises:
        TypeError, ValueError: ``archive`` is not a path or URL.
        downloads.DownloadError: the archive could not be had or its content is wrong.
    """
    origin = _origin(archive)
    folder = fsdd_recordings_folder(origin)
    try:
        waveforms, names, source = _read_recordings(folder)
    except ValueError as problem:
        _repair(origin, folder, str(problem))
        try:
            waveforms, names, source = _read_recordings(folder)
        except ValueError as error:
            raise downloads.DownloadError(
                f"The FSDD recordings in {folder} are still damaged after unpacking them again "
                f"from {origin}: {error}"
            ) from error
    labels, speakers, takes = zip(*(_NAME.match(name).groups() for name in names))
    dataset = AudioDataset(
        waveforms, np.array(labels, dtype=np.int64), np.array(speakers), np.array(takes, dtype=np.int64),
        FSDD_SAMPLE_RATE, f"Free Spoken Digit Dataset {FSDD_VERSION} (CC BY-SA 4.0): {source}",
    )  # fmt: skip
    print(f"[coursepkg] {dataset}")
    return dataset


PAD_OR_CROP_MODES = ("centre", "start")
_MAX_SAMPLES_IN_A_BATCH = 2**31  # 8 GiB of float32


def _waveform_rows(name: str, waveforms) -> list[np.ndarray]:
    """Recordings as a list of finite, non-empty float32 1-D arrays, or an error naming ``name``."""
    if isinstance(waveforms, np.ndarray):
        if waveforms.ndim != 2:
            hint = " (wrap a single recording in a list: [waveform])" if waveforms.ndim == 1 else ""
            raise ValueError(
                f"Expected `{name}` to be a 2-D array (recordings, samples) or a list of 1-D "
                f"arrays{hint}. Received: {name} with shape {waveforms.shape}"
            )
        rows = list(waveforms)
    elif isinstance(waveforms, Sequence) and not isinstance(waveforms, (str, bytes)):
        rows = list(waveforms)
    else:
        raise TypeError(
            f"Expected `{name}` to be a list of 1-D arrays or a 2-D array. "
            f"Received: {name} of type {type(waveforms).__name__}"
        )
    if not rows:
        raise ValueError(f"Expected `{name}` to hold at least one recording. Received: {name}=[]")
    if len(rows) > MAX_RECORDINGS:
        raise ValueError(
            f"Expected `{name}` to hold at most {MAX_RECORDINGS:,} recordings. "
            f"Received: {name} with {len(rows):,} recordings"
        )
    return [_waveform_row(name, index, row) for index, row in enumerate(rows)]


def _waveform_row(name: str, index: int, row) -> np.ndarray:
    """Recording ``name[index]`` as a finite, non-empty float32 1-D array."""
    where = f"Received: {name}[{index}]"
    if isinstance(row, (str, bytes)):
        raise TypeError(f"Expected every recording in `{name}` to be an array of real numbers. {where}={row!r:.40}")
    try:
        array = np.asarray(row)
    except (TypeError, ValueError) as error:  # ragged nested lists
        raise TypeError(f"Expected every recording in `{name}` to be a 1-D array of real numbers. {where} "
                        f"of type {type(row).__name__}") from error  # fmt: skip
    if array.dtype.kind not in "iuf":
        raise TypeError(
            f"Expected every recording in `{name}` to be an array of real numbers (not booleans, "
            f"complex numbers or text). {where} with dtype {array.dtype}"
        )
    if array.ndim != 1 or array.size == 0 or array.size > MAX_LENGTH:
        raise ValueError(
            f"Expected every recording in `{name}` to be a 1-D array of 1 to {MAX_LENGTH:,} samples. "
            f"{where} with shape {array.shape}"
        )
    array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        raise ValueError(f"Expected the samples of `{name}` to be finite. {where} holds NaN or infinity")
    return array


def pad_or_crop(
    waveforms: Sequence[np.ndarray] | np.ndarray, length: int, mode: str = "centre"
) -> np.ndarray:
    """Bring recordings of different lengths to one length, as rows of one array.

    Introduced in: book/16_sound.ipynb

    A recording longer than ``length`` is cut, a shorter one padded with zeros
    (silence). With ``mode="centre"`` the middle of the recording is kept, or
    the recording is put in the middle of the silence; when the difference is
    odd, the extra sample goes to the end. With ``mode="start"`` the first
    ``length`` samples are kept, or the silence is added at the end.

    Args:
        waveforms: a list of 1 to 10,000,000 recordings, each a non-empty
            1-D array of real, finite numbers (their lengths may differ), or a
            2-D array ``(recordings, samples)``.
        length: samples in every output row, an integer in [1, 100,000,000].
        mode: ``"centre"`` or ``"start"``.

    Returns:
        float32 array ``(recordings, length)``.

    Raises:
        TypeError: ``waveforms`` is not a list or array, a recording holds text,
            booleans or complex numbers, ``length`` is not an integer.
        ValueError: a recording is not 1-D, empty, or holds NaN or infinity,
            ``length`` or ``mode`` is out of range, or the result would exceed
            2**31 samples.

    Example:
        >>> pad_or_crop([np.array([1.0, 2.0, 3.0])], 6)
        array([[0., 1., 2., 3., 0., 0.]], dtype=float32)
        >>> pad_or_crop([np.array([1.0, 2.0, 3.0, 4.0, 5.0])], 2)
        array([[2., 3.]], dtype=float32)
    """
    length = check_int("length", length, 1, MAX_LENGTH)
    mode = check_choice("mode", mode, PAD_OR_CROP_MODES)
    rows = _waveform_rows("waveforms", waveforms)
    if len(rows) * length > _MAX_SAMPLES_IN_A_BATCH:
        raise ValueError(
            f"Expected at most {_MAX_SAMPLES_IN_A_BATCH:,} samples in all (8 GiB of float32). "
            f"Received: {len(rows):,} recordings and length={length:,}"
        )
    output = np.zeros((len(rows), length), dtype=np.float32)  # (recordings, length)
    for index, row in enumerate(rows):
        excess = len(row) - length
        if excess >= 0:
            start = excess // 2 if mode == "centre" else 0
            output[index] = row[start : start + length]
        else:
            offset = -excess // 2 if mode == "centre" else 0
            output[index, offset : offset + len(row)] = row
    return output


def log_mel_spectrogram(
    waveform: np.ndarray,
    sample_rate: int = FSDD_SAMPLE_RATE,
    n_mels: int = 40,
    n_fft: int = 256,
    hop_length: int = 64,
    duration: float = 1.0,
) -> np.ndarray:
    """A fixed-size log-mel spectrogram, the "image" a CNN classifies.

    The waveform is cut or zero-padded at the end to ``duration`` seconds first,
    so that every recording gives the same (n_mels, frames) shape. For many
    recordings at once use :func:`coursepkg.spectrograms.log_mel_batch`
    (``align="start"`` gives the same numbers).

    Args:
        waveform: 1-D array of finite real samples (not empty).
        sample_rate: samples per second, in [1, 192,000].
        n_mels: number of mel bands (image height), in [1, 512].
        n_fft: FFT window length in samples, in [16, 65,536].
        hop_length: samples between frames, in [1, 65,536].
        duration: seconds kept, in (0, 3600].

    Returns:
        float32 array (n_mels, frames) in decibels relative to the maximum.

    Raises:
        TypeError: an argument of the wrong type (text, booleans or complex
            numbers for ``waveform``, a float for an integer).
        ValueError: an argument is out of range, ``waveform`` is not 1-D,
            empty, or holds NaN or infinity, or the STFT would hold more than
            2**28 values (1 GiB of float32).
    """
    import librosa

    from coursepkg import spectrograms

    waveform = check_array("waveform", waveform, ndim=1).astype(np.float32, copy=False)
    settings = spectrograms.check_settings(
        sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels
    )
    duration = check_float("duration", duration, 0.0, 3600.0, low_inclusive=False)
    length = max(1, int(round(duration * settings["sample_rate"])))
    values = (1 + length // settings["hop_length"]) * (1 + settings["n_fft"] // 2)  # the STFT's size
    if values > spectrograms.MAX_VALUES:
        raise ValueError(
            f"Expected an STFT of at most {spectrograms.MAX_VALUES:,} values (frames x frequencies); "
            f"raise `hop_length` or lower `duration`. Received: duration={duration:g}, "
            f"sample_rate={settings['sample_rate']}, n_fft={settings['n_fft']}, "
            f"hop_length={settings['hop_length']}: {values:,} values"
        )
    waveform = np.pad(waveform[:length], (0, max(0, length - len(waveform))))
    mel = librosa.feature.melspectrogram(
        y=waveform, sr=settings["sample_rate"], n_fft=settings["n_fft"],
        hop_length=settings["hop_length"], n_mels=settings["n_mels"],
    )  # fmt: skip
    return librosa.power_to_db(mel, ref=np.max, top_db=80.0).astype(np.float32)
