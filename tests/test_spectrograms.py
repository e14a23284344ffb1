"""Frames, the STFT and batch log-mel/MFCC features against librosa; the feature cache."""

from __future__ import annotations

import time

import librosa
import numpy as np
import pytest

from coursepkg import audio, spectrograms


def _chirp(seconds: float, rate: int = 8000, start_hz: float = 200.0) -> np.ndarray:
    """A rising tone with a little noise: every frequency band gets some energy."""
    time_axis = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(int(seconds * 1000))
    tone = 0.5 * np.sin(2 * np.pi * (start_hz + 900 * time_axis) * time_axis)
    return (tone + 0.01 * rng.standard_normal(len(time_axis))).astype(np.float32)


def _recordings() -> list[np.ndarray]:
    """Recordings of different lengths: shorter and longer than one second."""
    return [_chirp(seconds, start_hz=start) for seconds, start in
            [(0.3, 200), (1.0, 300), (2.5, 150), (0.05, 500), (0.77, 250)]]  # fmt: skip


def _librosa_log_mel(waveform, sample_rate=8000, n_fft=256, hop_length=64, n_mels=40, top_db=80.0, **kwargs):
    mel = librosa.feature.melspectrogram(
        y=waveform, sr=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, **kwargs
    )
    return librosa.power_to_db(mel, ref=np.max, top_db=top_db)


# --------------------------------------------------------------------------- frames


@pytest.mark.parametrize(("frame_length", "hop_length"), [(256, 64), (7, 3), (16, 16), (5, 9)])
def test_frame_signal_matches_librosa_frame(frame_length, hop_length):
    waveform = _chirp(0.1)
    frames = spectrograms.frame_signal(waveform, frame_length, hop_length)
    expected = librosa.util.frame(waveform, frame_length=frame_length, hop_length=hop_length)
    np.testing.assert_array_equal(frames, np.swapaxes(expected, -1, -2))
    assert frames.shape == (1 + (len(waveform) - frame_length) // hop_length, frame_length)


@pytest.mark.parametrize("pad_mode", ["constant", "reflect"])
def test_frame_signal_centred_matches_librosa_padding(pad_mode):
    batch = np.stack([_chirp(0.1), _chirp(0.1, start_hz=900)])  # (2, 800)
    frames = spectrograms.frame_signal(batch, 64, 16, center=True, pad_mode=pad_mode)
    padded = np.pad(batch, [(0, 0), (32, 32)], mode=pad_mode)
    expected = librosa.util.frame(padded, frame_length=64, hop_length=16)  # (2, 64, frames)
    np.testing.assert_array_equal(frames, np.swapaxes(expected, -1, -2))
    assert frames.shape == (2, 1 + 800 // 16, 64)
    # frame t is centred on sample t * hop
    np.testing.assert_array_equal(frames[:, 10, 32], batch[:, 160])


def test_frame_signal_example_in_the_docstring():
    frames = spectrograms.frame_signal(np.arange(6.0), frame_length=3, hop_length=2)
    np.testing.assert_array_equal(frames, [[0, 1, 2], [2, 3, 4]])
    assert frames.dtype == np.float32


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"frame_length": 0}, ValueError, "frame_length"),
        ({"frame_length": 2.5}, TypeError, "frame_length"),
        ({"hop_length": 0}, ValueError, "hop_length"),
        ({"hop_length": -4}, ValueError, "Received: hop_length=-4"),
        ({"frame_length": 1000}, ValueError, "at least `frame_length`=1000"),
        ({"center": "yes"}, TypeError, "center"),
        ({"center": True, "pad_mode": "edge"}, ValueError, "pad_mode"),
        ({"waveform": np.array([0.0, np.nan, 1.0] * 100)}, ValueError, "finite"),
        ({"waveform": np.zeros(0)}, ValueError, "waveform"),
        ({"waveform": np.array(["a", "b"])}, TypeError, "waveform"),
        ({"waveform": np.ones(300) + 1j}, TypeError, "waveform"),
        ({"waveform": "a recording"}, TypeError, "waveform"),
        ({"waveform": np.zeros((3, 0))}, ValueError, "waveform"),
        ({"waveform": 3.0}, ValueError, "samples on its last axis"),
    ],
)
def test_frame_signal_rejects_bad_arguments(kwargs, error, match):
    arguments = {"waveform": np.zeros(300), "frame_length": 64, "hop_length": 16} | kwargs
    with pytest.raises(error, match=match):
        spectrograms.frame_signal(**arguments)


# --------------------------------------------------------------------------- the STFT


@pytest.mark.parametrize(
    ("n_fft", "hop_length", "window", "center", "pad_mode"),
    [
        (256, 64, "hann", True, "constant"),
        (64, 16, "hann", True, "reflect"),
        (1024, 128, "hamming", True, "constant"),
        (255, 50, "hann", False, "constant"),
        (128, 32, "boxcar", True, "constant"),
    ],
)
def test_stft_matches_librosa(n_fft, hop_length, window, center, pad_mode):
    waveform = _chirp(0.6)
    ours = spectrograms.stft(waveform, n_fft, hop_length, window=window, center=center, pad_mode=pad_mode)
    reference = librosa.stft(
        waveform, n_fft=n_fft, hop_length=hop_length, window=window, center=center, pad_mode=pad_mode
    )
    assert ours.shape == reference.shape and ours.dtype == np.complex64
    np.testing.assert_allclose(ours, reference, rtol=0, atol=2e-6 * np.abs(reference).max())


def test_stft_of_a_batch_and_of_a_real_recording(fsdd_dataset):
    batch = audio.pad_or_crop(fsdd_dataset.waveforms[:4], 4000)
    ours = spectrograms.stft(batch, 256)  # hop n_fft // 4, as librosa
    reference = librosa.stft(batch, n_fft=256)
    assert ours.shape == reference.shape == (4, 129, 1 + 4000 // 64)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=2e-6 * np.abs(reference).max())


def test_stft_with_a_window_given_as_values():
    waveform = _chirp(0.3)
    window = np.kaiser(128, 8.0)
    reference = librosa.stft(waveform, n_fft=128, hop_length=32, window=window)
    np.testing.assert_allclose(
        spectrograms.stft(waveform, 128, 32, window=window), reference, atol=2e-6 * np.abs(reference).max()
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_fft": 0}, ValueError, r"`n_fft` to be an integer in \[16, 65536\]. Received: n_fft=0"),
        ({"n_fft": -256}, ValueError, "n_fft"),
        ({"n_fft": 8}, ValueError, "n_fft"),
        ({"n_fft": 2**20}, ValueError, "n_fft"),
        ({"n_fft": 256.0}, TypeError, "n_fft"),
        ({"hop_length": 0}, ValueError, "hop_length"),
        ({"window": "kaiser"}, ValueError, "window"),
        ({"window": np.ones(100)}, ValueError, "window"),
        ({"window": np.full(256, np.inf)}, ValueError, "window"),
        ({"center": 1}, TypeError, "center"),
        ({"center": False, "waveform": np.zeros(100)}, ValueError, "frame_length"),
        ({"waveform": np.full(500, np.inf)}, ValueError, "finite"),
    ],
)
def test_stft_rejects_bad_arguments(kwargs, error, match):
    arguments = {"waveform": np.zeros(1000), "n_fft": 256, "hop_length": 64} | kwargs
    with pytest.raises(error, match=match):
        spectrograms.stft(**arguments)


# --------------------------------------------------------------------------- batch features


@pytest.mark.parametrize("align", ["centre", "start"])
def test_log_mel_batch_matches_librosa_recording_by_recording(align):
    recordings = _recordings()
    features = spectrograms.log_mel_batch(recordings, align=align)
    padded = audio.pad_or_crop(recordings, 8000, mode=align)
    assert features.shape == (5, 40, 8000 // 64 + 1) and features.dtype == np.float32
    for row, expected in zip(features, padded):
        np.testing.assert_allclose(row, _librosa_log_mel(expected), atol=2e-3)
        assert row.max() == 0.0 and row.min() >= -80.0


def test_log_mel_batch_settings_match_librosa():
    recordings = [_chirp(0.5, rate=16000), _chirp(0.2, rate=16000)]
    settings = {"sample_rate": 16000, "n_fft": 512, "hop_length": 160, "n_mels": 64,
                "fmin": 50.0, "fmax": 7000.0, "top_db": None}  # fmt: skip
    features = spectrograms.log_mel_batch(recordings, length=6000, **settings)
    padded = audio.pad_or_crop(recordings, 6000)
    assert features.shape == (2, 64, 1 + 6000 // 160)
    assert features.min() < -80.0  # no floor
    for row, expected in zip(features, padded):
        reference = _librosa_log_mel(
            expected, sample_rate=16000, n_fft=512, hop_length=160, n_mels=64, fmin=50.0,
            fmax=7000.0, top_db=None,
        )  # fmt: skip
        np.testing.assert_allclose(row, reference, atol=2e-3)


def test_log_mel_batch_agrees_with_log_mel_spectrogram():
    recordings = _recordings()
    features = spectrograms.log_mel_batch(recordings, align="start")
    for row, waveform in zip(features, recordings):
        np.testing.assert_allclose(row, audio.log_mel_spectrogram(waveform), atol=2e-3)


def test_mfcc_batch_matches_librosa():
    recordings = _recordings()
    coefficients = spectrograms.mfcc_batch(recordings, n_mfcc=13)
    padded = audio.pad_or_crop(recordings, 8000)
    assert coefficients.shape == (5, 13, 126) and coefficients.dtype == np.float32
    for row, waveform in zip(coefficients, padded):
        reference = librosa.feature.mfcc(
            y=waveform, sr=8000, n_mfcc=13, n_fft=256, hop_length=64, n_mels=40
        )
        np.testing.assert_allclose(row, reference, atol=2e-3 * np.abs(reference).max())


@pytest.mark.slow
def test_features_of_all_fsdd_recordings(fsdd_dataset, keras_home, capsys):
    """The chapter's extraction: 3,000 recordings in seconds, then read from the cache."""
    start = time.perf_counter()
    features = spectrograms.log_mel_batch(fsdd_dataset.waveforms, cache=True)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    again = spectrograms.log_mel_batch(fsdd_dataset.waveforms, cache=True)
    cached = time.perf_counter() - start
    assert "computed in" in capsys.readouterr().out
    np.testing.assert_array_equal(features, again)
    assert features.shape == (3000, 40, 126)
    assert np.all(features.max(axis=(1, 2)) == 0.0) and features.min() >= -80.0
    padded = audio.pad_or_crop(fsdd_dataset.waveforms, 8000)
    for index in (0, 1234, 2999):
        np.testing.assert_allclose(features[index], _librosa_log_mel(padded[index]), atol=2e-3)
    assert cold < 60 and cached < 30, (cold, cached)  # seconds, even on a busy 2-core machine
    print(f"log-mel features of 3,000 recordings: {cold:.1f} s computed, {cached:.1f} s cached")


# --------------------------------------------------------------------------- the feature cache


def _cache_files(keras_home):
    return sorted((keras_home / "features").glob("*"))


def test_feature_cache_reads_back_what_it_wrote(keras_home, capsys):
    recordings = _recordings()
    first = spectrograms.log_mel_batch(recordings, cache=True)
    assert "computed in" in capsys.readouterr().out
    files = _cache_files(keras_home)
    assert len(files) == 1 and files[0].name.startswith("log_mel-") and files[0].suffix == ".npz"
    second = spectrograms.log_mel_batch(recordings, cache=True)
    assert "read from the cache" in capsys.readouterr().out
    np.testing.assert_array_equal(first, second)
    # other settings, other recordings and other features are other files
    spectrograms.log_mel_batch(recordings, n_mels=32, cache=True)
    spectrograms.log_mel_batch(recordings[:4], cache=True)
    spectrograms.mfcc_batch(recordings, cache=True)
    assert len(_cache_files(keras_home)) == 4
    assert "computed in" in capsys.readouterr().out
    np.testing.assert_array_equal(spectrograms.log_mel_batch(recordings, cache=False), first)


def test_feature_cache_is_off_by_default(keras_home):
    spectrograms.log_mel_batch(_recordings())
    assert not (keras_home / "features").exists()


@pytest.mark.parametrize("damage", ["truncate", "flip_a_byte", "other_features"])
def test_damaged_feature_cache_is_computed_again(keras_home, capsys, damage):
    recordings = _recordings()
    expected = spectrograms.log_mel_batch(recordings, cache=True)
    (path,) = _cache_files(keras_home)
    content = bytearray(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(content[: len(content) // 2])
    elif damage == "flip_a_byte":
        content[len(content) // 2] ^= 0xFF  # inside the features: zip's CRC or the sha256 notices
        path.write_bytes(bytes(content))
    else:  # a file of the right name holding other features
        other = spectrograms.log_mel_batch(recordings[:4], cache=True)
        (other_path,) = set(_cache_files(keras_home)) - {path}
        other_path.replace(path)
        assert other.shape != expected.shape
    capsys.readouterr()
    again = spectrograms.log_mel_batch(recordings, cache=True)
    assert "not usable" in capsys.readouterr().out
    np.testing.assert_array_equal(again, expected)
    # rewritten whole, and read back next time; no temporary file is left behind
    spectrograms.log_mel_batch(recordings, cache=True)
    assert "read from the cache" in capsys.readouterr().out
    assert [file.name for file in _cache_files(keras_home)] == [path.name]


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"sample_rate": 0}, ValueError, r"`sample_rate` to be an integer in \[1, 192000\]. Received: sample_rate=0"),
        ({"sample_rate": -8000}, ValueError, "sample_rate"),
        ({"sample_rate": 8000.0}, TypeError, "sample_rate"),
        ({"sample_rate": 10**6}, ValueError, "sample_rate"),
        ({"n_fft": 0}, ValueError, "n_fft"),
        ({"hop_length": 0}, ValueError, "hop_length"),
        ({"hop_length": -64}, ValueError, "hop_length"),
        ({"n_mels": 0}, ValueError, "n_mels"),
        ({"n_mels": True}, TypeError, "n_mels"),
        ({"fmin": -1.0}, ValueError, "fmin"),
        ({"fmin": float("nan")}, ValueError, "fmin"),
        ({"fmax": 5000.0}, ValueError, "fmax"),
        ({"fmin": 1000.0, "fmax": 500.0}, ValueError, "fmax"),
        ({"top_db": 0.0}, ValueError, "top_db"),
        ({"top_db": float("inf")}, ValueError, "top_db"),
        ({"length": 0}, ValueError, "length"),
        ({"align": "middle"}, ValueError, "align"),
        ({"cache": "yes"}, TypeError, "cache"),
        ({"waveforms": np.zeros(8000)}, ValueError, r"wrap a single recording in a list"),
        ({"waveforms": [np.zeros(100), np.array([np.nan])]}, ValueError, r"waveforms\[1\]"),
        ({"waveforms": []}, ValueError, "at least one recording"),
        ({"waveforms": "recordings"}, TypeError, "waveforms"),
    ],
)
@pytest.mark.parametrize("function", [spectrograms.log_mel_batch, spectrograms.mfcc_batch])
def test_batch_features_reject_bad_arguments(function, kwargs, error, match):
    arguments = {"waveforms": [np.zeros(100, dtype=np.float32)]} | kwargs
    with pytest.raises(error, match=match):
        function(**arguments)


@pytest.mark.parametrize(("n_mfcc", "error"), [(0, ValueError), (41, ValueError), (13.0, TypeError)])
def test_mfcc_batch_rejects_bad_n_mfcc(n_mfcc, error):
    with pytest.raises(error, match="n_mfcc"):
        spectrograms.mfcc_batch([np.zeros(100)], n_mfcc=n_mfcc)


def test_check_settings_returns_what_it_was_given_cleaned():
    settings = spectrograms.check_settings(sample_rate=np.int64(16000), n_fft=512, fmax=None, top_db=None)
    assert settings == {"sample_rate": 16000, "n_fft": 512, "fmin": 0.0, "fmax": 8000.0, "top_db": None}
    assert type(settings["sample_rate"]) is int
    assert spectrograms.check_settings() == {}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"sample_rate": "8000"}, TypeError, "Received: sample_rate='8000'"),
        ({"sample_rate": float("nan")}, TypeError, "sample_rate"),
        ({"hop_length": 10**7}, ValueError, r"hop_length.*\[1, 65536\]"),
        ({"n_mels": 2.5}, TypeError, "n_mels"),
        ({"sample_rate": 8000, "fmax": float("inf")}, ValueError, "Received: fmax=inf"),
        ({"sample_rate": 8000, "fmin": 1j}, TypeError, "fmin"),
        ({"top_db": "80"}, TypeError, "top_db"),
        ({"fmin": 10.0}, TypeError, "needs `sample_rate`"),
        ({"n_bins": 10}, TypeError, "n_bins"),  # not a setting
    ],
)
def test_check_settings_rejects_bad_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        spectrograms.check_settings(**kwargs)


def test_absurdly_large_transforms_are_refused_at_once():
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"at most 268,435,456 values.*hop_length=1"):
        spectrograms.stft(np.zeros(10**6, dtype=np.float32), 65536, hop_length=1)
    with pytest.raises(ValueError, match=r"feature values.*hop_length=1"):
        spectrograms.log_mel_batch([np.zeros(10, dtype=np.float32)] * 100, hop_length=1, n_mels=512, length=10**5)
    assert time.perf_counter() - start < 5.0  # refused, not attempted
