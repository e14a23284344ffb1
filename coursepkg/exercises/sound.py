"""Exercises of book/16_sound.ipynb.

Every expected answer is computed here by reference code: the frame counts by
``librosa.stft`` itself (run on a silent signal of the stated length), the bin
frequencies by ``librosa.fft_frequencies``, the mel scale by
``librosa.hz_to_mel`` (Slaney's, librosa's default), the frequency mask by NumPy
slicing (``tests/test_exercises_sound.py`` checks it against
:func:`coursepkg.audio_layers.frequency_mask`), and the speaker split by
:meth:`coursepkg.audio.AudioDataset.split`.
"""

from __future__ import annotations

import numpy as np

from coursepkg.audio import FSDD_SPEAKERS, FSDD_TAKES, AudioDataset, AudioSplit
from coursepkg.checking import (
    compare_array,
    compare_calls,
    compare_integer,
    describe,
    exercise,
    raise_if_not_answered,
)

CHAPTER = "book/16_sound.ipynb"


# --------------------------------------------------------------------------- sound.stft_frames

FRAMES_LENGTH = 5000  # samples of the recording (0.625 s at 8 kHz)
FRAMES_N_FFT = 256  # window and FFT length
FRAMES_HOP = 64  # hop length


def stft_frame_counts(
    length: int = FRAMES_LENGTH, n_fft: int = FRAMES_N_FFT, hop_length: int = FRAMES_HOP
) -> tuple[int, int]:
    """(centred, not centred): the frames of ``librosa.stft`` of a signal of ``length`` samples."""
    import librosa

    silence = np.zeros(length, dtype=np.float32)
    return tuple(
        int(librosa.stft(silence, n_fft=n_fft, hop_length=hop_length, center=center).shape[-1])
        for center in (True, False)
    )


@exercise(
    "sound.stft_frames",
    CHAPTER,
    hint=(
        "Count the starts 0, hop, 2 hop, ... at which a whole window of n_fft samples still fits "
        "in the signal: 1 + (samples - n_fft) // hop. With center=True the signal is first "
        "padded with n_fft // 2 samples at both ends."
    ),
)
def _stft_frames(answer):
    expected = stft_frame_counts()
    if isinstance(answer, np.ndarray):
        answer = answer.tolist()
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return [
            "the answer should be a pair (centred, not_centred) of frame counts; "
            f"received {describe(answer)}"
        ]
    problems = []
    names = ("the number of frames with center=True", "the number of frames with center=False")
    for name, received, correct in zip(names, answer, expected):
        problems += compare_integer(received, correct, name)
    return problems


# --------------------------------------------------------------------------- sound.fft_frequencies


def fft_frequencies(sample_rate, n_fft) -> np.ndarray:
    """The centre frequency in Hz of every bin of ``np.fft.rfft``, by librosa."""
    import librosa

    return librosa.fft_frequencies(sr=float(sample_rate), n_fft=int(n_fft))


FREQUENCY_CASES = [
    ((8000, 256), "sample_rate=8000 and n_fft=256"),
    ((16000, 512), "sample_rate=16000 and n_fft=512"),
    ((22050, 2048), "sample_rate=22050 and n_fft=2048"),
    ((8000, 255), "an odd n_fft (sample_rate=8000, n_fft=255)"),
    ((44100, 16), "sample_rate=44100 and n_fft=16"),
]


@exercise(
    "sound.fft_frequencies",
    CHAPTER,
    hint=(
        "np.fft.rfft of n_fft samples gives 1 + n_fft // 2 bins, k = 0, 1, ..., n_fft // 2; "
        "bin k completes k periods in the n_fft samples of the window, that is n_fft / "
        "sample_rate seconds."
    ),
)
def _fft_frequencies(answer):
    return compare_calls(
        answer, fft_frequencies, FREQUENCY_CASES, "your fft_frequencies",
        lambda result, expected, what: compare_array(result, expected, what, rtol=1e-6, atol=1e-6),
    )  # fmt: skip


# --------------------------------------------------------------------------- sound.hz_to_mel


def hz_to_mel(frequencies) -> np.ndarray:
    """Slaney's mel scale (librosa's default, ``htk=False``), in float64."""
    import librosa

    return np.asarray(librosa.hz_to_mel(np.asarray(frequencies, dtype=np.float64)))


def _mel_cases(seed: int = 0):
    rng = np.random.default_rng(seed)
    return [
        ((np.linspace(0.0, 4000.0, 41),), "41 frequencies from 0 to 4,000 Hz"),
        (
            (np.array([0.0, 500.0, 999.9, 1000.0, 1000.1, 1500.0]),),
            "frequencies around 1,000 Hz, where the scale changes",
        ),
        ((np.array([[8000.0, 11025.0], [16000.0, 22050.0]]),), "a 2x2 array of high frequencies"),
        (
            (rng.uniform(0.0, 8000.0, size=50).astype(np.float32),),
            "50 random float32 frequencies up to 8,000 Hz",
        ),
    ]


@exercise(
    "sound.hz_to_mel",
    CHAPTER,
    hint=(
        "Two pieces, joined at 1,000 Hz: below it, mel = 3 f / 200 (linear); above it, "
        "mel = 15 + 27 ln(f / 1000) / ln(6.4) (logarithmic). np.where picks the piece "
        "for every entry of an array; ln is np.log."
    ),
)
def _hz_to_mel(answer):
    return compare_calls(
        answer, hz_to_mel, _mel_cases(), "your hz_to_mel",
        lambda result, expected, what: compare_array(result, expected, what, rtol=1e-5, atol=1e-6),
    )  # fmt: skip


# --------------------------------------------------------------------------- sound.frequency_mask


def mask_frequencies(spectrograms, starts, width, mask_value) -> np.ndarray:
    """A copy of ``spectrograms`` (batch, n_mels, frames) with bands ``starts[i]`` ..
    ``starts[i] + width - 1`` of example ``i`` set to ``mask_value`` over all frames."""
    masked = np.array(spectrograms, dtype=np.float64, copy=True)
    for index, start in enumerate(np.asarray(starts, dtype=np.int64)):
        masked[index, start : start + int(width), :] = mask_value
    return masked


def _mask_cases(seed: int = 0):
    rng = np.random.default_rng(seed)
    return [
        (
            (rng.uniform(-80.0, 0.0, size=(3, 40, 63)), np.array([0, 10, 30]), 6, -80.0),
            "three 40x63 spectrograms in dB, 6 bands masked from bands 0, 10 and 30",
        ),
        (
            (rng.uniform(-80.0, 0.0, size=(2, 40, 20)), np.array([34, 5]), 6, -80.0),
            "a mask that ends at the highest band (6 bands from band 34)",
        ),
        (
            (rng.normal(size=(2, 8, 5)), np.array([3, 0]), 1, 0.0),
            "standardised 8x5 spectrograms, 1 band set to 0",
        ),
        (
            (rng.uniform(-80.0, 0.0, size=(2, 16, 10)), np.array([4, 9]), 0, -80.0),
            "masks of width 0 (nothing changes)",
        ),
    ]


@exercise(
    "sound.frequency_mask",
    CHAPTER,
    hint=(
        "Copy the spectrograms first (np.array(x, copy=True)), then for each example i set "
        "the rows starts[i] to starts[i] + width - 1 of axis 1 (the mel bands) to mask_value, "
        "over every frame (all of axis 2)."
    ),
)
def _frequency_mask(answer):
    what = "your frequency_mask"
    if not callable(answer):
        return [f"{what} should be a function; received {describe(answer)}"]
    for (spectrograms, starts, width, mask_value), description in _mask_cases():
        given = spectrograms.copy()
        try:
            result = answer(given, starts.copy(), width, mask_value)
        except Exception as error:
            return [f"{what} raised {type(error).__name__} on {description}: {error}"]
        raise_if_not_answered(result, what)
        expected = mask_frequencies(spectrograms, starts, width, mask_value)
        problems = compare_array(result, expected, f"{what} on {description}")
        if problems:
            return problems
        if not np.array_equal(given, spectrograms):
            return [
                f"{what} changed the spectrograms it was given ({description}): mask a copy, "
                "or the masks pile up on the training data, epoch after epoch"
            ]
    return []


# --------------------------------------------------------------------------- sound.speaker_split


def fsdd_speakers() -> np.ndarray:
    """The speaker of every FSDD recording, in :func:`coursepkg.load_fsdd`'s order (sorted file names)."""
    names = sorted(
        f"{digit}_{speaker}_{take}.wav"
        for digit in range(10)
        for speaker in FSDD_SPEAKERS
        for take in range(FSDD_TAKES)
    )
    return np.array([name.split("_")[1] for name in names])


def speaker_split(speakers, test_speaker) -> AudioSplit:
    """The speaker-held-out split, by :meth:`coursepkg.audio.AudioDataset.split`."""
    speakers = np.asarray(speakers)
    count = len(speakers)
    dataset = AudioDataset(
        waveforms=[np.zeros(1, dtype=np.float32)] * count,
        labels=np.zeros(count, dtype=np.int64),
        speakers=speakers,
        takes=np.zeros(count, dtype=np.int64),
        sample_rate=8000,
        source="the speakers of an exercise",
    )
    return dataset.split("speaker", test_speaker=str(test_speaker))


def _split_cases(seed: int = 0):
    rng = np.random.default_rng(seed)
    shuffled = fsdd_speakers()[rng.permutation(3000)]
    return [
        ((fsdd_speakers(), "theo"), "FSDD's 3,000 speakers in load_fsdd's order, holding out 'theo'"),
        ((shuffled, "george"), "the 3,000 speakers shuffled, holding out 'george'"),
        (
            (np.array(["ann", "bob", "ann", "cy", "bob", "ann", "cy"]), "cy"),
            "7 recordings of three speakers, holding out 'cy'",
        ),
    ]


def _index_problems(received, expected: np.ndarray, what: str) -> list[str]:
    """Problems with an array of indices; any order is accepted, but every index once."""
    if hasattr(received, "numpy") and not isinstance(received, np.ndarray):
        received = received.numpy()
    try:
        array = np.asarray(received)
    except (TypeError, ValueError):
        return [f"{what} should be an array of indices; received {describe(received)}"]
    if array.dtype == bool:
        return [
            f"{what} is a boolean mask; return the indices of the True entries instead "
            "(np.flatnonzero)"
        ]
    if array.dtype.kind not in "iu":
        if array.dtype.kind != "f" or not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            return [f"{what} should hold whole-number indices; received {describe(array)}"]
    return compare_array(np.sort(array.ravel()), np.sort(expected), what, rtol=0, atol=0)


@exercise(
    "sound.speaker_split",
    CHAPTER,
    hint=(
        "Compare the whole array of speakers with the held-out name at once "
        "(speakers == test_speaker gives a boolean mask), then turn the mask and its negation "
        "into indices with np.flatnonzero; return (train, test), in that order."
    ),
)
def _speaker_split(answer):
    what = "your speaker_split"
    if not callable(answer):
        return [f"{what} should be a function; received {describe(answer)}"]
    for (speakers, test_speaker), description in _split_cases():
        try:
            result = answer(speakers.copy(), test_speaker)
        except Exception as error:
            return [f"{what} raised {type(error).__name__} on {description}: {error}"]
        raise_if_not_answered(result, what)
        if isinstance(result, (str, bytes, dict)) or not hasattr(result, "__len__") or len(result) != 2:
            return [
                f"{what} should return a pair (train_indices, test_indices); on {description} it "
                f"returned {describe(result)}"
            ]
        expected = speaker_split(speakers, test_speaker)
        problems = []
        for name, received, correct in zip(("training", "test"), result, expected):
            problems += _index_problems(received, correct, f"the {name} indices on {description}")
        if problems:
            return problems
    return []
