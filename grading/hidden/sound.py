"""Hidden checks of book/16_sound.ipynb: inputs the public checks do not try.

Instructors only: keep this folder private (a private fork, or a folder given to
``--hidden``). The inputs are drawn when a submission is graded, from a seed
written in the gradebook, so they differ from submission to submission.

``sound.stft_frames`` has no hidden check: a pair of numbers is right or wrong,
and the public check already says which. The public check of
``sound.frequency_mask`` also catches a function that masks its input in place;
the grader calls a student's function through a proxy that passes copies, so
that check only works in the notebook, and none is repeated here.
"""

from __future__ import annotations

import numpy as np

from coursepkg.exercises import sound
from grading.checks import function_cases, hidden, random_generator

_rng = random_generator()  # seeded anew for every submission; the seed is in the gradebook

# sound.fft_frequencies: other rates and window lengths, odd and even.
function_cases(
    "sound.fft_frequencies",
    sound.fft_frequencies,
    "your fft_frequencies",
    [
        ((16000, 400), "sample_rate=16000 and n_fft=400 (25 ms windows)"),
        ((48000, 1023), "sample_rate=48000 and an odd n_fft=1023"),
        ((11025, 64), "sample_rate=11025 and n_fft=64"),
    ],
    rtol=1e-6,
)

# sound.hz_to_mel: a single frequency, a 3-D array, float32, values on both sides of 1 kHz.
function_cases(
    "sound.hz_to_mel",
    sound.hz_to_mel,
    "your hz_to_mel",
    [
        ((np.array(440.0),), "a single frequency (a 0-d array, 440 Hz)"),
        ((np.array(1000.0),), "exactly 1,000 Hz as a 0-d array"),
        ((_rng.uniform(0.0, 3000.0, size=(2, 3, 4)),), "a 2x3x4 array of frequencies up to 3,000 Hz"),
        (
            (np.array([20.0, 999.0, 1000.0, 1001.0, 7999.0], dtype=np.float32),),
            "float32 frequencies from 20 to 7,999 Hz",
        ),
    ],
    rtol=1e-5,
)

# sound.frequency_mask: a batch of one, a mask over every band, integer-valued spectrograms.
function_cases(
    "sound.frequency_mask",
    sound.mask_frequencies,
    "your frequency_mask",
    [
        (
            (_rng.uniform(-80.0, 0.0, size=(1, 64, 12)), np.array([50]), 14, -80.0),
            "a batch of one 64x12 spectrogram, 14 bands from band 50 (up to the last)",
        ),
        (
            (_rng.normal(size=(3, 6, 4)), np.array([0, 0, 0]), 6, 0.0),
            "masks that cover all 6 bands",
        ),
        (
            (_rng.uniform(-80.0, 0.0, size=(4, 20, 9)), np.array([19, 0, 7, 12]), 1, -50.0),
            "masks of one band, at the first and the last band too, set to -50",
        ),
    ],
)


def _split_problems(answer, speakers, test_speaker, description):
    result = answer(speakers, test_speaker)
    if isinstance(result, (str, bytes, dict)) or not hasattr(result, "__len__") or len(result) != 2:
        return [f"your speaker_split should return a pair (train_indices, test_indices) on {description}"]
    expected = sound.speaker_split(speakers, test_speaker)
    problems = []
    for name, received, correct in zip(("training", "test"), result, expected):
        problems += sound._index_problems(received, correct, f"the {name} indices on {description}")
    return problems


@hidden("sound.speaker_split", "names that start like the held-out one ('theo', 'theodore', 'the')")
def _prefixes(answer):
    speakers = np.array(["theodore", "theo", "the", "theo", "ann", "theodore", "theo"])
    return _split_problems(answer, speakers, "theo", "names that start like the held-out one")


@hidden("sound.speaker_split", "a held-out speaker with a single recording, the last one")
def _single(answer):
    speakers = np.array(["ann"] * 9 + ["bob"])
    return _split_problems(answer, speakers, "bob", "a held-out speaker with a single recording")
