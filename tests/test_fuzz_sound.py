"""Fuzzing (see tests/fuzzing.py): FSDD loading, spectrograms, and the sound layers and augmentation."""

from __future__ import annotations

import math
import pathlib

import fuzzing
import numpy as np
import pytest
from fuzzing import Case
from hypothesis import strategies as st

from coursepkg import audio, audio_layers, spectrograms

HERE = pathlib.Path(__file__).resolve().parent

# A path to an archive or a folder: the wrong type, empty, or absurdly long. (A well-formed path
# that leads nowhere is a DownloadError for an archive, tested in tests/test_audio.py.)
_bad_paths = st.one_of(
    st.integers(), st.floats(), st.booleans(), st.binary(max_size=4), st.just(["v1.0.10.tar.gz"]),
    st.just({"path": "x"}), st.sampled_from(["", "x" * 5000]),
)  # fmt: skip
fuzzing.KINDS["sound_archive"] = _bad_paths
# A recordings folder: also one that does not exist, a file, or a folder without the recordings.
fuzzing.KINDS["sound_folder"] = st.one_of(
    _bad_paths, st.none(),
    st.sampled_from([str(HERE / "no-such-folder"), HERE / "fuzzing.py", str(HERE)]),
)  # fmt: skip
# Recordings of different lengths: a list of 1-D arrays, or a 2-D array.
fuzzing.KINDS["sound_waveforms"] = st.one_of(
    st.text(max_size=4), st.integers(), st.none(), st.just({"a": np.zeros(3)}), st.just([]),
    st.just(np.zeros(5)), st.just(np.zeros((2, 3, 4))),
    st.sampled_from([
        [np.array(["a", "b"])], [np.ones(3) + 1j], [np.ones(3, dtype=bool)], [np.zeros(0)],
        [np.zeros((2, 3))], [np.zeros(3), np.array([1.0, math.nan])], [np.full(4, math.inf)],
        ["abc"], [None], [[1.0, [2.0]]],
    ]),
)  # fmt: skip
# A signal-to-noise ratio: a number in [-100, 100] or a (low, high) pair of them.
fuzzing.KINDS["sound_snr"] = st.one_of(
    fuzzing.KINDS["float"],
    st.sampled_from([(), (1.0,), (1.0, 2.0, 3.0), (math.nan, 10.0), (0.0, math.inf), (20.0, 10.0),
                     ("a", 10.0), (1j, 2.0), (True, 10.0), (-1e9, 0.0), [None, None]]),
)  # fmt: skip
# An STFT window: a name or n_fft numbers.
fuzzing.KINDS["sound_window"] = st.one_of(
    fuzzing.KINDS["choice"],
    st.sampled_from([np.ones(100), np.full(256, math.inf), np.ones(256) + 1j, np.ones((16, 16)),
                     np.array(["a"] * 256), np.zeros(0)]),
)  # fmt: skip

# A number that may also be None (check_settings' fmax and top_db, whose default is "not given").
fuzzing.KINDS["sound_float_or_none"] = fuzzing.KINDS["float"].filter(lambda value: value is not None)

WAVEFORM = np.sin(np.linspace(0.0, 60.0, 600)).astype(np.float32)  # (600,)
SPECTROGRAMS = np.zeros((2, 8, 10), dtype=np.float32)  # (batch, n_mels, frames)
SPEAKERS = np.array(["ann", "bob", "ann", "bob"])


def _small_dataset() -> audio.AudioDataset:
    return audio.AudioDataset(
        [WAVEFORM] * 4, np.arange(4, dtype=np.int64), SPEAKERS, np.array([0, 7, 12, 3]), 8000, "made up"
    )


SETTINGS = {"kinds": {"sample_rate": "int", "n_fft": "int", "hop_length": "int", "n_mels": "int",
                      "fmin": "float", "fmax": "sound_float_or_none", "top_db": "sound_float_or_none"}}  # fmt: skip
BATCH = {"waveforms": [WAVEFORM, WAVEFORM[:100]]}
TOP_DB = {"top_db": "sound_float_or_none"}  # None (no floor) is a valid top_db

CASES = [
    # coursepkg.audio
    Case(audio.fsdd_recordings_folder, kinds={"archive": "sound_archive"}),
    Case(audio.load_fsdd, kinds={"archive": "sound_archive"}),
    Case(audio.verify_recordings, kinds={"folder": "sound_folder"}),
    Case(audio.pad_or_crop, {"waveforms": [WAVEFORM], "length": 100},
         kinds={"waveforms": "sound_waveforms", "length": "int"}),
    Case(audio.log_mel_spectrogram, {"waveform": WAVEFORM}, kinds={"waveform": "data"}),
    Case(_small_dataset().split, {"kind": "speaker", "test_speaker": "ann"}),
    # coursepkg.spectrograms
    Case(spectrograms.check_settings, {"sample_rate": 8000}, **SETTINGS),
    Case(spectrograms.frame_signal, {"waveform": WAVEFORM, "frame_length": 64, "hop_length": 16},
         kinds={"waveform": "data", "frame_length": "int", "hop_length": "int"}),
    Case(spectrograms.stft, {"waveform": WAVEFORM, "n_fft": 64},
         kinds={"waveform": "data", "n_fft": "int", "window": "sound_window"}),
    Case(spectrograms.log_mel_batch, BATCH, kinds={"waveforms": "sound_waveforms", **TOP_DB}),
    Case(spectrograms.mfcc_batch, BATCH, kinds={"waveforms": "sound_waveforms", **TOP_DB}),
    # coursepkg.audio_layers
    Case(audio_layers.time_shift, {"inputs": SPECTROGRAMS, "max_shift": 3},
         kinds={"inputs": "data", "max_shift": "int", "seed": "seed"}),
    Case(audio_layers.add_noise, {"inputs": SPECTROGRAMS, "snr_db": 10.0},
         kinds={"inputs": "data", "snr_db": "sound_snr", "seed": "seed"}),
    Case(audio_layers.time_mask, {"inputs": SPECTROGRAMS, "max_width": 3},
         kinds={"inputs": "data", "max_width": "int", "seed": "seed"}),
    Case(audio_layers.frequency_mask, {"inputs": SPECTROGRAMS, "max_width": 3},
         kinds={"inputs": "data", "max_width": "int", "seed": "seed"}),
    Case(audio_layers.RandomTimeShift, {"max_shift": 3}, kinds={"max_shift": "int"}),
    Case(audio_layers.RandomNoise, {"snr_db": 10.0}, kinds={"snr_db": "sound_snr"}),
    Case(audio_layers.SpecAugment, {"max_time_width": 3, "max_freq_width": 2},
         kinds={"max_time_width": "int", "max_freq_width": "int"}),
    Case(audio_layers.LogMelSpectrogram, kinds=TOP_DB),
    Case(audio_layers.keras_log_mel_layer, kinds={"name": "text", **TOP_DB}),
]  # fmt: skip

EXEMPT = {
    "coursepkg.audio.AudioDataset": "a result record that load_fsdd fills in (its split method has a case)",
    "coursepkg.audio.AudioSplit": "a result record (train and test indices) that AudioDataset.split fills in",
}


@pytest.fixture(autouse=True)
def _private_cache(keras_home):
    """A bad call must not reach the Keras cache; should one slip through, it finds an empty one."""


@pytest.mark.parametrize("case", CASES, ids=fuzzing.case_ids(CASES))
def test_bad_arguments_are_refused_naming_them(case):
    fuzzing.fuzz(case)
