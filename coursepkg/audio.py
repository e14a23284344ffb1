"""The Free Spoken Digit Dataset and spectrograms for sound classification.

Introduced in: book/01_convolution.ipynb (loader, used by the applications chapter).

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

import numpy as np

from coursepkg import downloads

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


def log_mel_spectrogram(
    waveform: np.ndarray,
    sample_rate: int = FSDD_SAMPLE_RATE,
    n_mels: int = 40,
    n_fft: int = 256,
    hop_length: int = 64,
    duration: float = 1.0,
) -> np.ndarray:
    """A fixed-size log-mel spectrogram, the "image" a CNN classifies.

    The waveform is cut or zero-padded to ``duration`` seconds first, so that
    every recording gives the same (n_mels, frames) shape.

    Args:
        waveform: 1-D float array.
        sample_rate: samples per second.
        n_mels: number of mel bands (image height).
        n_fft: FFT window length in samples.
        hop_length: samples between frames.
        duration: seconds kept.

    Returns:
        float32 array (n_mels, frames) in decibels relative to the maximum.
    """
    import librosa

    waveform = np.asarray(waveform, dtype=np.float32)
    if waveform.ndim != 1:
        raise ValueError(f"Expected `waveform` to be 1-D. Received: shape={waveform.shape}")
    length = int(round(duration * sample_rate))
    waveform = np.pad(waveform[:length], (0, max(0, length - len(waveform))))
    mel = librosa.feature.melspectrogram(
        y=waveform, sr=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels
    )
    return librosa.power_to_db(mel, ref=np.max, top_db=80.0).astype(np.float32)
