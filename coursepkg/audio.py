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
unpacked or unverified folder never stays there.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import shutil
import tarfile
import tempfile
import wave
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from coursepkg import downloads
from coursepkg.validation import check_choice, check_float, check_int, check_str

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


def _check_wav(path: pathlib.Path) -> None:
    try:
        with wave.open(str(path), "rb") as handle:
            channels, rate, frames = handle.getnchannels(), handle.getframerate(), handle.getnframes()
    except (wave.Error, EOFError) as error:
        raise ValueError(f"{path.name} is not a readable WAV file ({error})") from error
    if channels != 1 or rate != FSDD_SAMPLE_RATE or frames == 0:
        raise ValueError(
            f"{path.name}: expected mono {FSDD_SAMPLE_RATE} Hz audio, got {channels} channel(s) "
            f"at {rate} Hz with {frames} frames"
        )


def verify_recordings(folder: str | os.PathLike) -> int:
    """Check that a folder holds exactly FSDD v1.0.10's 3,000 recordings.

    Args:
        folder: the ``recordings`` folder.

    Returns:
        The number of recordings (3,000).

    Raises:
        ValueError: a file is missing, unexpected, or not mono 8 kHz WAV.
    """
    folder = pathlib.Path(folder)
    names = sorted(path.name for path in folder.glob("*.wav"))
    expected = {
        f"{digit}_{speaker}_{take}.wav"
        for digit in range(10)
        for speaker in FSDD_SPEAKERS
        for take in range(FSDD_TAKES)
    }
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


def fsdd_recordings_folder(archive: str | os.PathLike | None = None) -> pathlib.Path:
    """Make sure the verified recordings are in the Keras cache; return their folder.

    Args:
        archive: where the v1.0.10 tag archive comes from: a local ``.tar.gz``
            path or a URL. Defaults to ``$COURSEPKG_FSDD_ARCHIVE`` if set, else
            GitHub's tag archive.

    Returns:
        ``~/.keras/datasets/fsdd-v1.0.10/recordings`` (or under ``$KERAS_HOME``).

    Raises:
        downloads.DownloadError: the archive could not be had or its content is wrong.
    """
    origin = str(archive) if archive is not None else os.environ.get(FSDD_ARCHIVE_ENV_VAR, FSDD_URL)
    final = downloads.cache_dir() / "datasets" / f"fsdd-{FSDD_VERSION}" / "recordings"
    if (final / ".verified").is_file():
        return final
    local = pathlib.Path(origin.removeprefix("file://"))
    downloaded = not local.is_file()
    if downloaded:
        if "://" not in origin:
            raise downloads.DownloadError(
                f"Expected `archive` to be an existing .tar.gz file or a URL. Received: archive={origin!r}"
            )
        local = downloads.fetch(f"fsdd-{FSDD_VERSION}.tar.gz", origin)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=".partial-", dir=final.parent)) / "recordings"
    try:
        _extract_recordings(local, staging)
        count = verify_recordings(staging)
        (staging / ".verified").write_text(f"{count} recordings from {origin}\n")
        if final.exists():
            shutil.rmtree(final)
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
    return final


def load_fsdd(archive: str | os.PathLike | None = None) -> AudioDataset:
    """Load the Free Spoken Digit Dataset v1.0.10 (3,000 recordings, 8 kHz).

    Args:
        archive: see :func:`fsdd_recordings_folder`.

    Returns:
        An :class:`AudioDataset`, recordings sorted by file name; one line
        saying what was loaded is printed.
    """
    import soundfile

    folder = fsdd_recordings_folder(archive)
    waveforms, labels, speakers, takes = [], [], [], []
    for path in sorted(folder.glob("*.wav")):
        digit, speaker, take = _NAME.match(path.name).groups()
        samples, rate = soundfile.read(path, dtype="float32")
        waveforms.append(samples)
        labels.append(int(digit))
        speakers.append(speaker)
        takes.append(int(take))
    source = (folder / ".verified").read_text().strip()
    dataset = AudioDataset(
        waveforms, np.array(labels, dtype=np.int64), np.array(speakers), np.array(takes, dtype=np.int64),
        FSDD_SAMPLE_RATE, f"Free Spoken Digit Dataset {FSDD_VERSION} (CC BY-SA 4.0): {source}",
    )  # fmt: skip
    print(f"[coursepkg] {dataset}")
    return dataset


PAD_OR_CROP_MODES = ("centre", "start")
_MAX_SAMPLES_IN_A_BATCH = 2**31  # 8 GiB of float32


def _waveform_rows(name: str, waveforms) -> list[np.ndarray]:
    """Recordings as a list of finite float32 1-D arrays, or an error naming ``name``."""
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
    checked = []
    for index, row in enumerate(rows):
        array = np.asarray(row)
        if array.dtype.kind not in "iuf" or array.ndim != 1:
            raise ValueError(
                f"Expected every recording in `{name}` to be a 1-D array of real numbers. "
                f"Received: {name}[{index}] with dtype {array.dtype} and shape {array.shape}"
            )
        array = array.astype(np.float32, copy=False)
        if not np.isfinite(array).all():
            raise ValueError(
                f"Expected the samples of `{name}` to be finite. "
                f"Received: NaN or infinity in {name}[{index}]"
            )
        checked.append(array)
    return checked


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
        waveforms: a list of 1-D arrays (their lengths may differ) or a 2-D
            array ``(recordings, samples)``; real, finite numbers.
        length: samples in every output row, in [1, 100,000,000].
        mode: ``"centre"`` or ``"start"``.

    Returns:
        float32 array ``(recordings, length)``.

    Raises:
        TypeError: ``waveforms`` is not a list or array, ``length`` not an integer.
        ValueError: a recording is not 1-D, holds NaN or infinity, ``length``
            or ``mode`` is out of range, or the result would exceed 2**31 samples.

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
        waveform: 1-D float array of finite samples.
        sample_rate: samples per second, in [1, 192,000].
        n_mels: number of mel bands (image height), in [1, 512].
        n_fft: FFT window length in samples, in [16, 65,536].
        hop_length: samples between frames, in [1, 65,536].
        duration: seconds kept, in (0, 3600].

    Returns:
        float32 array (n_mels, frames) in decibels relative to the maximum.

    Raises:
        ValueError: an argument is out of range, or ``waveform`` is not 1-D
            or holds NaN or infinity.
    """
    import librosa

    from coursepkg import spectrograms

    waveform = np.asarray(waveform)
    if waveform.ndim != 1:
        raise ValueError(f"Expected `waveform` to be 1-D. Received: shape={waveform.shape}")
    (waveform,) = _waveform_rows("waveform", [waveform])
    settings = spectrograms.check_settings(
        sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels
    )
    duration = check_float("duration", duration, 0.0, 3600.0, low_inclusive=False)
    length = max(1, int(round(duration * settings["sample_rate"])))
    waveform = np.pad(waveform[:length], (0, max(0, length - len(waveform))))
    mel = librosa.feature.melspectrogram(
        y=waveform, sr=settings["sample_rate"], n_fft=settings["n_fft"],
        hop_length=settings["hop_length"], n_mels=settings["n_mels"],
    )  # fmt: skip
    return librosa.power_to_db(mel, ref=np.max, top_db=80.0).astype(np.float32)
