"""The exercises of book/16_sound.ipynb: references checked against librosa, the package and
independent computations, right answers pass, wrong answers fail without giving the answer away."""

from __future__ import annotations

import numpy as np
import pytest

from coursepkg.checking import evaluate, exercises
from coursepkg.exercises import sound

CHAPTER = "book/16_sound.ipynb"
IDS = (
    "sound.stft_frames",
    "sound.fft_frequencies",
    "sound.hz_to_mel",
    "sound.frequency_mask",
    "sound.speaker_split",
)


def feedback_text(result) -> str:
    return " ".join(result.problems) + " " + result.feedback()


def test_the_chapter_registers_its_exercises():
    registered = {item.id: item for item in exercises("sound")}
    assert set(registered) == set(IDS)
    assert all(item.chapter == CHAPTER for item in registered.values())


# --------------------------------------------------------------------------- references


@pytest.mark.parametrize(
    "length, n_fft, hop_length", [(5000, 256, 64), (8000, 256, 64), (8000, 512, 128), (4096, 1024, 256)]
)
def test_frame_counts_reference_matches_the_arithmetic_and_the_package(length, n_fft, hop_length):
    from coursepkg.spectrograms import stft

    centred, not_centred = sound.stft_frame_counts(length, n_fft, hop_length)
    assert centred == 1 + (length + 2 * (n_fft // 2) - n_fft) // hop_length
    assert not_centred == 1 + (length - n_fft) // hop_length
    signal = np.zeros(length, dtype=np.float32)
    assert stft(signal, n_fft, hop_length, center=True).shape[-1] == centred
    assert stft(signal, n_fft, hop_length, center=False).shape[-1] == not_centred


def test_frame_counts_of_the_exercise():
    assert sound.stft_frame_counts() == (1 + 5000 // 64, 1 + (5000 - 256) // 64)


@pytest.mark.parametrize("sample_rate, n_fft", [(8000, 256), (8000, 255), (22050, 2048), (44100, 16)])
def test_fft_frequencies_reference_matches_numpy(sample_rate, n_fft):
    expected = np.fft.rfftfreq(n_fft, d=1.0 / sample_rate)
    np.testing.assert_allclose(sound.fft_frequencies(sample_rate, n_fft), expected, rtol=1e-12)
    assert len(expected) == 1 + n_fft // 2


def test_hz_to_mel_reference_is_slaneys_scale():
    frequencies = np.array([0.0, 200.0, 999.0, 1000.0, 1001.0, 2000.0, 6400.0, 22050.0])
    slaney = np.where(
        frequencies < 1000.0,
        frequencies / (200.0 / 3.0),
        15.0 + np.log(np.maximum(frequencies, 1e-12) / 1000.0) / (np.log(6.4) / 27.0),
    )
    np.testing.assert_allclose(sound.hz_to_mel(frequencies), slaney, rtol=1e-12)
    assert sound.hz_to_mel(np.array(1000.0)) == pytest.approx(15.0)
    assert sound.hz_to_mel(np.array(6400.0)) == pytest.approx(42.0)  # 15 + 27: one log step of 6.4


def test_mask_reference_matches_the_package_mask():
    """Draw masks with coursepkg.frequency_mask, read their starts back, redo them by hand."""
    import keras

    from coursepkg.audio_layers import frequency_mask

    rng = np.random.default_rng(3)
    spectrograms = rng.uniform(-79.0, 0.0, size=(16, 40, 30)).astype(np.float32)  # never the mask value
    for width, seed in ((6, 1), (1, 2), (40, 3)):
        masked = keras.ops.convert_to_numpy(
            frequency_mask(spectrograms, width, seed=seed, min_width=width, mask_value=-80.0)
        )
        rows = np.all(masked == -80.0, axis=2)  # (16, 40): masked bands
        assert np.all(rows.sum(axis=1) == width)
        starts = rows.argmax(axis=1)
        np.testing.assert_array_equal(
            sound.mask_frequencies(spectrograms, starts, width, -80.0), masked
        )


def test_mask_reference_leaves_its_input_alone():
    spectrograms = np.zeros((2, 5, 3))
    masked = sound.mask_frequencies(spectrograms, np.array([1, 4]), 2, -1.0)
    assert np.all(spectrograms == 0)
    assert masked[0, 1:3].min() == masked[0, 1:3].max() == -1.0 and masked[1, 4:].max() == -1.0
    assert masked[1, :4].min() == 0  # a mask that runs off the last band stops there


def test_speaker_order_and_split_match_the_real_dataset(fsdd_dataset):
    np.testing.assert_array_equal(sound.fsdd_speakers(), fsdd_dataset.speakers)
    for speaker in ("george", "yweweler"):
        ours = sound.speaker_split(sound.fsdd_speakers(), speaker)
        theirs = fsdd_dataset.split("speaker", test_speaker=speaker)
        np.testing.assert_array_equal(ours.train, theirs.train)
        np.testing.assert_array_equal(ours.test, theirs.test)
        assert len(ours.test) == 500 and len(ours.train) == 2500


# --------------------------------------------------------------------------- right answers pass


def fft_frequencies_answer(sample_rate, n_fft):
    return np.arange(1 + n_fft // 2) * sample_rate / n_fft


def hz_to_mel_answer(frequencies):
    frequencies = np.asarray(frequencies, dtype=np.float64)
    linear = 3.0 * frequencies / 200.0
    logarithmic = 15.0 + 27.0 * np.log(np.maximum(frequencies, 1000.0) / 1000.0) / np.log(6.4)
    return np.where(frequencies < 1000.0, linear, logarithmic)


def frequency_mask_answer(spectrograms, starts, width, mask_value):
    masked = np.array(spectrograms, copy=True)
    for example, start in enumerate(starts):
        masked[example, start : start + width, :] = mask_value
    return masked


def speaker_split_answer(speakers, test_speaker):
    held_out = np.asarray(speakers) == test_speaker
    return np.flatnonzero(~held_out), np.flatnonzero(held_out)


RIGHT = {
    "sound.stft_frames": (79, 75),
    "sound.fft_frequencies": fft_frequencies_answer,
    "sound.hz_to_mel": hz_to_mel_answer,
    "sound.frequency_mask": frequency_mask_answer,
    "sound.speaker_split": speaker_split_answer,
}


@pytest.mark.parametrize("exercise_id", IDS)
def test_right_answer_passes(exercise_id):
    result = evaluate(exercise_id, RIGHT[exercise_id])
    assert result.passed, result.feedback()


def test_right_answers_in_other_forms_pass():
    assert evaluate("sound.stft_frames", [79, 75]).passed
    assert evaluate("sound.stft_frames", np.array([79, 75])).passed
    assert evaluate("sound.fft_frequencies", lambda rate, n: np.fft.rfftfreq(n, d=1.0 / rate)).passed
    assert evaluate("sound.hz_to_mel", lambda f: __import__("librosa").hz_to_mel(f)).passed
    split = lambda speakers, name: [list(np.where(speakers != name)[0]), list(np.where(speakers == name)[0])]  # noqa: E731
    assert evaluate("sound.speaker_split", split).passed
    shuffled = lambda speakers, name: tuple(indices[::-1] for indices in speaker_split_answer(speakers, name))  # noqa: E731
    assert evaluate("sound.speaker_split", shuffled).passed  # any order of the indices


def test_unanswered_and_function_stubs_are_not_attempted():
    for exercise_id in IDS:
        result = evaluate(exercise_id, ...)
        assert not result.passed and not result.attempted

    def stub(*arguments):
        return ...

    for exercise_id in IDS[1:]:
        result = evaluate(exercise_id, stub)
        assert not result.passed and not result.attempted, exercise_id


# --------------------------------------------------------------------------- wrong answers fail


def htk_mel(frequencies):
    return 2595.0 * np.log10(1.0 + np.asarray(frequencies) / 700.0)


def mel_with_log10(frequencies):
    """A common slip: log10 of the ratio over the natural log of 6.4."""
    frequencies = np.asarray(frequencies, dtype=np.float64)
    logarithmic = 15.0 + 27.0 * np.log10(np.maximum(frequencies, 1000.0) / 1000.0) / np.log(6.4)
    return np.where(frequencies < 1000.0, 3.0 * frequencies / 200.0, logarithmic)


def mask_in_place(spectrograms, starts, width, mask_value):
    for example, start in enumerate(starts):
        spectrograms[example, start : start + width, :] = mask_value
    return spectrograms


def mask_one_band_too_many(spectrograms, starts, width, mask_value):
    return frequency_mask_answer(spectrograms, starts, width + 1, mask_value)


def mask_frames(spectrograms, starts, width, mask_value):
    masked = np.array(spectrograms, copy=True)
    for example, start in enumerate(starts):
        masked[example, :, start : start + width] = mask_value
    return masked


def mask_first_start_everywhere(spectrograms, starts, width, mask_value):
    masked = np.array(spectrograms, copy=True)
    masked[:, starts[0] : starts[0] + width, :] = mask_value
    return masked


WRONG = [
    ("sound.stft_frames", (80, 75), "center=True: 80 is too large"),
    ("sound.stft_frames", (79, 79), "center=False: 79 is too large"),
    ("sound.stft_frames", (75, 79), "too small"),
    ("sound.stft_frames", 79, "pair"),
    ("sound.stft_frames", (79.5, 75), "whole number"),
    ("sound.fft_frequencies", lambda rate, n: np.arange(n // 2) * rate / n, "shape"),
    ("sound.fft_frequencies", lambda rate, n: np.arange(1 + n // 2) * rate / (n - 1), "values are off"),
    ("sound.fft_frequencies", lambda rate, n: np.linspace(0, rate / 2, 1 + n // 2), "odd n_fft"),
    ("sound.fft_frequencies", lambda rate, n: np.full(1 + n // 2, np.nan), "NaN"),
    ("sound.fft_frequencies", 31.25, "function"),
    ("sound.hz_to_mel", htk_mel, "values are off"),
    ("sound.hz_to_mel", lambda f: 3.0 * np.asarray(f) / 200.0, "values are off"),
    ("sound.hz_to_mel", mel_with_log10, "values are off"),
    ("sound.hz_to_mel", lambda f: float(np.mean(f)), "shape"),
    ("sound.frequency_mask", mask_in_place, "changed the spectrograms"),
    ("sound.frequency_mask", mask_one_band_too_many, "values are off"),
    ("sound.frequency_mask", mask_frames, "values are off"),
    ("sound.frequency_mask", mask_first_start_everywhere, "values are off"),
    ("sound.frequency_mask", lambda *arguments: 1 / 0, "ZeroDivisionError"),
    ("sound.speaker_split", lambda speakers, name: (speakers != name, speakers == name), "boolean mask"),
    ("sound.speaker_split", lambda speakers, name: speaker_split_answer(speakers, name)[::-1], "shape"),
    ("sound.speaker_split", lambda speakers, name: speaker_split_answer(speakers, name)[1], "pair"),
    ("sound.speaker_split", lambda speakers, name: (np.arange(len(speakers)), np.flatnonzero(speakers == name)), "training indices"),
    ("sound.speaker_split", lambda speakers, name: (np.flatnonzero(speakers != name), np.array(["x"])), "whole-number"),
    ("sound.speaker_split", "theo", "function"),
]  # fmt: skip


@pytest.mark.parametrize(
    "exercise_id, answer, expected_words", WRONG, ids=[f"{item[0]}-{index}" for index, item in enumerate(WRONG)]
)
def test_wrong_answer_fails_with_specific_feedback(exercise_id, answer, expected_words):
    result = evaluate(exercise_id, answer)
    assert result.attempted and not result.passed
    text = feedback_text(result)
    assert expected_words in text, text
    assert "Hint:" in result.feedback()


def test_frame_count_feedback_does_not_reveal_the_answer():
    for exercise_id, answer, _ in WRONG:
        if exercise_id == "sound.stft_frames":
            text = feedback_text(evaluate(exercise_id, answer))
            for secret in ("79", "75"):
                if secret not in str(answer):
                    assert secret not in text, f"feedback {text!r} reveals {secret}"


def test_array_feedback_does_not_reveal_expected_values():
    expected = sound.hz_to_mel(np.linspace(0.0, 4000.0, 41))  # the first case of the checker
    text = feedback_text(evaluate("sound.hz_to_mel", htk_mel))
    for secret in {f"{value:.3g}" for value in expected}:
        if len(secret) > 2:  # a lone digit or two occur anywhere
            assert secret not in text, f"feedback {text!r} reveals {secret}"
