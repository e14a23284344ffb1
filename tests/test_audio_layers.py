"""The log-mel layer against librosa and the NumPy features, Keras's own STFT and mel layer,
and the augmentation functions and layers, on the backend the tests run under."""

from __future__ import annotations

import keras
import librosa
import numpy as np
import pytest

from coursepkg import audio, audio_layers, spectrograms


def _numpy(tensor) -> np.ndarray:
    return keras.ops.convert_to_numpy(tensor)


def _db_per_example(power: np.ndarray, top_db: float = 80.0) -> np.ndarray:
    """librosa.power_to_db(ref=np.max, top_db=top_db) of each example of a batch."""
    decibels = 10 * np.log10(np.maximum(power, 1e-10))
    decibels -= 10 * np.log10(np.maximum(power.max(axis=(-2, -1), keepdims=True), 1e-10))
    return np.maximum(decibels, decibels.max(axis=(-2, -1), keepdims=True) - top_db)


@pytest.fixture(scope="module")
def recordings(fsdd_dataset) -> np.ndarray:
    """48 real recordings of all speakers and digits, 1 s each (centred), (48, 8000)."""
    return audio.pad_or_crop(fsdd_dataset.waveforms[::63], 8000)


# --------------------------------------------------------------------------- Keras's STFT and mel layer


def test_keras_ops_stft_matches_our_stft_with_reflect_padding(fsdd_dataset):
    middles = audio.pad_or_crop(fsdd_dataset.waveforms[:400:100], 1000)  # speech up to both ends
    real, imag = keras.ops.stft(middles, 256, 64, 256, window="hann", center=True)
    keras_stft = np.swapaxes(_numpy(real) + 1j * _numpy(imag), -1, -2)  # (4, 129, frames)
    ours = spectrograms.stft(middles, 256, 64, pad_mode="reflect")
    assert keras_stft.shape == ours.shape == (4, 129, 1 + 1000 // 64)
    tolerance = 2e-6 * np.abs(ours).max()
    np.testing.assert_allclose(keras_stft, ours, rtol=0, atol=tolerance)
    # librosa's default zero padding changes the first and last two frames only
    zeros = spectrograms.stft(middles, 256, 64)
    np.testing.assert_allclose(zeros[..., 2:-2], ours[..., 2:-2], rtol=0, atol=tolerance)
    assert np.abs(zeros[..., 0] - ours[..., 0]).max() > 100 * tolerance


def test_keras_mel_spectrogram_layer_agrees_with_librosa_htk_settings(recordings):
    """The settings the docstring of keras_log_mel_layer gives, and how far apart the defaults are."""
    layer = keras.layers.MelSpectrogram(
        fft_length=256, sequence_stride=64, sampling_rate=8000, num_mel_bins=40, min_freq=0.0,
        max_freq=4000.0, power_to_db=False, mag_exp=2.0,
    )  # fmt: skip
    keras_db = _db_per_example(_numpy(layer(recordings)))  # (48, 40, 126)
    htk = np.stack([
        librosa.feature.melspectrogram(
            y=recording, sr=8000, n_fft=256, hop_length=64, n_mels=40, htk=True, norm=None,
            pad_mode="reflect",
        ) for recording in recordings
    ])  # one by one: librosa is slow on a batch  # fmt: skip
    difference = np.abs(keras_db - _db_per_example(htk))
    assert difference.max() < 0.25 and difference.mean() < 0.05, difference.max()
    # librosa's defaults (Slaney's filters, zero padding), those of log_mel_batch, are far off
    assert np.abs(keras_db - spectrograms.log_mel_batch(recordings)).max() > 10.0
    # (the padding at the ends, reflection vs zeros, is compared in the STFT test above)


def test_keras_log_mel_layer_matches_log_mel_batch(recordings):
    layer = audio_layers.keras_log_mel_layer()
    result = _numpy(layer(recordings))
    expected = spectrograms.log_mel_batch(recordings)
    assert result.shape == expected.shape == (48, 40, 126) and result.dtype == np.float32
    np.testing.assert_allclose(result, expected, rtol=0, atol=0.01)
    assert layer.compute_output_shape((None, 8000)) == (None, 40, 126)
    assert not layer.weights


def test_keras_log_mel_layer_with_other_settings():
    rng = np.random.default_rng(0)
    waveforms = rng.standard_normal((3, 5000)).astype(np.float32) * np.linspace(0, 1, 5000, dtype=np.float32)
    settings = {"sample_rate": 16000, "n_fft": 512, "hop_length": 160, "n_mels": 64,
                "fmin": 50.0, "fmax": 7000.0, "top_db": None}  # fmt: skip
    layer = audio_layers.keras_log_mel_layer(**settings, expand_dims=True, name="features")
    result = _numpy(layer(waveforms))
    expected = spectrograms.log_mel_batch(waveforms, length=5000, **settings)
    assert result.shape == (3, 64, 1 + 5000 // 160, 1) == layer.compute_output_shape((3, 5000))
    np.testing.assert_allclose(result[..., 0], expected, rtol=0, atol=0.01)
    assert layer.name == "features"


def test_raw_audio_model_trains_saves_and_loads(tmp_path):
    """The chapter's model: raw audio in, augmentation and spectrogram inside, on any backend."""
    rng = np.random.default_rng(0)
    waveforms = rng.standard_normal((8, 2000)).astype(np.float32) * 0.1
    labels = np.arange(8) % 2
    inputs = keras.Input((2000,))
    x = audio_layers.RandomTimeShift(200, seed=1)(inputs)
    x = audio_layers.RandomNoise((10.0, 30.0), seed=2)(x)
    x = audio_layers.keras_log_mel_layer(expand_dims=True)(x)  # (batch, 40, 32, 1)
    x = audio_layers.SpecAugment(max_time_width=4, max_freq_width=4, mask_value=-80.0, seed=3)(x)
    x = keras.layers.Conv2D(4, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    assert model.layers[3].output.shape == (None, 40, 1 + 2000 // 64, 1)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(waveforms, labels, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    path = tmp_path / "sound.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        _numpy(loaded.predict(waveforms, verbose=0)), _numpy(model.predict(waveforms, verbose=0)), atol=1e-6
    )
    assert loaded.layers[2].snr_db == (10.0, 30.0) and loaded.layers[4].mask_value == -80.0


# --------------------------------------------------------------------------- augmentation


def test_time_shift_moves_content_without_changing_it():
    batch = np.tile(np.arange(1, 101, dtype=np.float32), (64, 1))  # every sample tells its position
    shifted = _numpy(audio_layers.time_shift(batch, 7, seed=0))
    shifts = []
    for row in shifted:
        nonzero = np.flatnonzero(row)
        shift = int(nonzero[0] - row[nonzero[0]] + 1)  # where sample 1 (or its successor) went
        expected = np.zeros(100, dtype=np.float32)
        source = np.arange(100) - shift
        inside = (source >= 0) & (source < 100)
        expected[inside] = batch[0, source[inside]]
        np.testing.assert_array_equal(row, expected)
        shifts.append(shift)
    assert max(abs(shift) for shift in shifts) <= 7
    assert len(set(shifts)) > 5  # each example its own shift, both directions
    assert min(shifts) < 0 < max(shifts)


def test_time_shift_of_spectrograms_along_frames():
    rng = np.random.default_rng(1)
    spectrogram = rng.uniform(1, 2, (16, 5, 30, 1)).astype(np.float32)
    shifted = _numpy(audio_layers.time_shift(spectrogram, 4, seed=3, axis=2))
    for before, after in zip(spectrogram, shifted):
        candidates = [s for s in range(-4, 5) if np.array_equal(np.roll(before, s, axis=1)[:, max(s, 0):30 + min(s, 0)],
                                                                 after[:, max(s, 0):30 + min(s, 0)])]  # fmt: skip
        assert len(candidates) == 1
        shift = candidates[0]
        vacated = after[:, :shift] if shift > 0 else after[:, 30 + shift:]
        assert not vacated.any()
    assert np.array_equal(_numpy(audio_layers.time_shift(spectrogram, 0, axis=2)), spectrogram)


def test_seeds_repeat_or_renew_the_draws():
    batch = np.ones((8, 40, 50), dtype=np.float32)
    first = _numpy(audio_layers.time_mask(batch, 10, seed=5))
    np.testing.assert_array_equal(first, _numpy(audio_layers.time_mask(batch, 10, seed=5)))
    generator = keras.random.SeedGenerator(5)
    one = _numpy(audio_layers.time_mask(batch, 10, seed=generator))
    two = _numpy(audio_layers.time_mask(batch, 10, seed=generator))
    assert not np.array_equal(one, two)


@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 10.0, 20.0, 40.0])
def test_add_noise_has_the_requested_snr(recordings, snr_db):
    noisy = _numpy(audio_layers.add_noise(recordings[:16], snr_db, seed=0))
    noise = noisy - recordings[:16]
    measured = 10 * np.log10(np.mean(recordings[:16] ** 2, axis=1) / np.mean(noise**2, axis=1))
    np.testing.assert_allclose(measured, snr_db, atol=0.1)
    assert np.abs(noise).std(axis=1).min() > 0  # noise everywhere, not only where the speech is


def test_add_noise_with_a_range_and_silence():
    rng = np.random.default_rng(2)
    waveforms = rng.standard_normal((64, 400)).astype(np.float32)
    noise = _numpy(audio_layers.add_noise(waveforms, (5.0, 15.0), seed=1)) - waveforms
    measured = 10 * np.log10(np.mean(waveforms**2, axis=1) / np.mean(noise**2, axis=1))
    assert measured.min() >= 5.0 - 0.01 and measured.max() <= 15.0 + 0.01
    assert measured.max() - measured.min() > 5.0  # drawn per example
    silence = np.zeros((2, 400), dtype=np.float32)
    np.testing.assert_array_equal(_numpy(audio_layers.add_noise(silence, 10.0, seed=0)), silence)


@pytest.mark.parametrize(("function", "axis", "width"), [
    (audio_layers.time_mask, 2, 7), (audio_layers.frequency_mask, 1, 5), (audio_layers.time_mask, 2, 1),
])  # fmt: skip
def test_masks_set_exactly_the_requested_width(function, axis, width):
    rng = np.random.default_rng(3)
    spectrograms_in = rng.uniform(-80, -1, (32, 40, 60, 1)).astype(np.float32)  # never 0
    masked = _numpy(function(spectrograms_in, width, seed=4, min_width=width, axis=axis))
    changed = masked != spectrograms_in
    np.testing.assert_array_equal(masked[changed], 0.0)
    other = 3 - axis  # the other of the two spectrogram axes
    whole = changed.all(axis=other)[..., 0]  # (32, length): masked along all of the other axis
    np.testing.assert_array_equal(changed.any(axis=other)[..., 0], whole)
    starts = []
    for row in whole:
        positions = np.flatnonzero(row)
        assert len(positions) == width and positions[-1] - positions[0] == width - 1  # one run
        starts.append(positions[0])
    assert len(set(starts)) > 5  # at random places


def test_masks_draw_widths_in_range_and_use_the_mask_value():
    batch = np.zeros((200, 40, 60), dtype=np.float32)
    masked = _numpy(audio_layers.time_mask(batch, 10, seed=0, min_width=2, mask_value=-80.0))
    widths = (masked == -80.0).all(axis=1).sum(axis=1)
    assert widths.min() >= 2 and widths.max() <= 10 and set(range(2, 11)) <= set(widths.tolist())
    two = _numpy(audio_layers.frequency_mask(batch, 4, seed=1, num_masks=2, mask_value=1.0))
    bands = (two == 1.0).all(axis=2).sum(axis=1)
    assert bands.max() <= 8 and bands.min() >= 0 and bands.max() > 4  # two masks, may overlap


def test_augmentation_layers_act_in_training_only():
    batch = np.random.default_rng(4).uniform(1, 2, (4, 40, 60, 1)).astype(np.float32)
    layer = audio_layers.SpecAugment(max_time_width=10, max_freq_width=8, num_time_masks=2, seed=0)
    np.testing.assert_array_equal(_numpy(layer(batch)), batch)
    np.testing.assert_array_equal(_numpy(layer(batch, training=False)), batch)
    assert (_numpy(layer(batch, training=True)) == 0).any()
    waveforms = batch[:, :, 0, 0]
    for layer in (audio_layers.RandomTimeShift(5, seed=0), audio_layers.RandomNoise(10.0, seed=0)):
        np.testing.assert_array_equal(_numpy(layer(waveforms)), waveforms)
        assert not np.array_equal(_numpy(layer(waveforms, training=True)), waveforms)
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()


def test_augmentation_in_a_tf_data_pipeline():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.data maps run TensorFlow ops: the functions work there under the TensorFlow backend")
    import tensorflow as tf

    generator = keras.random.SeedGenerator(0)
    dataset = tf.data.Dataset.from_tensor_slices(np.ones((12, 40, 60), dtype=np.float32)).batch(4)
    dataset = dataset.map(lambda batch: audio_layers.time_mask(batch, 6, seed=generator, min_width=6))
    for batch in dataset:
        assert batch.shape[1:] == (40, 60)
        np.testing.assert_array_equal((batch.numpy() == 0).all(axis=1).sum(axis=1), 6)


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda x: audio_layers.time_shift(x, -1), ValueError, "max_shift"),
        (lambda x: audio_layers.time_shift(x, 2.5), TypeError, "max_shift"),
        (lambda x: audio_layers.time_shift(x, 3, axis=0), ValueError, "batch axis"),
        (lambda x: audio_layers.time_shift(x, 3, axis=5), ValueError, "axis"),
        (lambda x: audio_layers.time_shift(x, 3, seed=-1), ValueError, "seed"),
        (lambda x: audio_layers.time_shift(x, 3, seed="7"), TypeError, "seed"),
        (lambda x: audio_layers.time_shift(x[0, :, 0, 0], 3), ValueError, "rank >= 2"),
        (lambda x: audio_layers.add_noise(x, float("nan")), ValueError, "snr_db"),
        (lambda x: audio_layers.add_noise(x, 1000.0), ValueError, "snr_db"),
        (lambda x: audio_layers.add_noise(x, (20.0, 10.0)), ValueError, r"low <= high. Received: snr_db=\(20.0, 10.0\)"),
        (lambda x: audio_layers.add_noise(x, (float("nan"), 10.0)), ValueError, r"Received: snr_db=\(nan, 10.0\)"),
        (lambda x: audio_layers.add_noise(x, ("a", 10.0)), TypeError, "snr_db="),
        (lambda x: audio_layers.add_noise(x, (1.0, 2.0, 3.0)), ValueError, "pair"),
        (lambda x: audio_layers.add_noise(x, "loud"), TypeError, "snr_db"),
        (lambda x: audio_layers.time_mask(x, 61), ValueError, r"max_width.*\[0, 60\]"),
        (lambda x: audio_layers.time_mask(x, 5, min_width=6), ValueError, "min_width"),
        (lambda x: audio_layers.time_mask(x, 5, num_masks=-1), ValueError, "num_masks"),
        (lambda x: audio_layers.frequency_mask(x, 41), ValueError, "max_width"),
        (lambda x: audio_layers.frequency_mask(x, 4, mask_value=float("inf")), ValueError, "mask_value"),
        (lambda x: audio_layers.SpecAugment(max_time_width=-2, max_freq_width=3), ValueError, "max_time_width"),
        (lambda x: audio_layers.SpecAugment(10, 50)(x, training=True), ValueError, r"max_freq_width.*\[0, 40\]"),
        (lambda x: audio_layers.RandomNoise(snr_db=None), TypeError, "snr_db"),
        (lambda x: audio_layers.RandomTimeShift(10, seed=1.5), TypeError, "seed"),
        (lambda x: audio_layers.keras_log_mel_layer(sample_rate=0), ValueError, "Received: sample_rate=0"),
        (lambda x: audio_layers.keras_log_mel_layer(n_fft=0), ValueError, "Received: n_fft=0"),
        (lambda x: audio_layers.keras_log_mel_layer(hop_length=-1), ValueError, "hop_length"),
        (lambda x: audio_layers.keras_log_mel_layer(fmax=9000.0), ValueError, "fmax"),
        (lambda x: audio_layers.keras_log_mel_layer(expand_dims=1), TypeError, "expand_dims"),
        (lambda x: audio_layers.keras_log_mel_layer(name=""), ValueError, "name"),
        (lambda x: audio_layers.keras_log_mel_layer()(x), ValueError, r"\(batch, samples\)"),
    ],
)
def test_bad_arguments_are_named(call, error, match):
    batch = np.ones((2, 40, 60, 1), dtype=np.float32)
    with pytest.raises(error, match=match):
        call(batch)


@pytest.mark.parametrize(
    ("inputs", "error", "match"),
    [
        ("spectrograms", TypeError, "Received: inputs='spectrograms'"),
        (np.ones((2, 8, 10)) + 1j, TypeError, "real numbers"),
        (np.ones((2, 8, 10), dtype=bool), TypeError, "real numbers"),
        (np.full((2, 8, 10), np.nan), ValueError, "`inputs` to hold finite values"),
        (np.zeros((0, 8, 10)), ValueError, "`inputs` to be non-empty"),
        ([[1.0, 2.0], [3.0]], TypeError, "numeric array"),
    ],
)
@pytest.mark.parametrize(
    "function",
    [
        lambda x: audio_layers.time_shift(x, 2),
        lambda x: audio_layers.add_noise(x, 10.0),
        lambda x: audio_layers.time_mask(x, 2),
        lambda x: audio_layers.frequency_mask(x, 2),
    ],
    ids=["time_shift", "add_noise", "time_mask", "frequency_mask"],
)
def test_augmentation_refuses_inputs_that_are_not_real_finite_batches(function, inputs, error, match):
    with pytest.raises(error, match=match):
        function(inputs)


def test_augmentation_refuses_tensors_that_are_not_real_numbers():
    flags = keras.ops.convert_to_tensor(np.ones((2, 8, 10), dtype=bool))
    with pytest.raises(TypeError, match="`inputs` to hold real numbers.*dtype bool"):
        audio_layers.time_shift(flags, 2)
    integers = keras.ops.convert_to_tensor(np.ones((2, 8, 10), dtype="int32"))
    assert keras.backend.standardize_dtype(audio_layers.time_mask(integers, 2, seed=0).dtype) == "float32"


@pytest.mark.parametrize("training", ["no", "False", 0, 1.0])
def test_augmentation_layers_refuse_a_training_flag_that_is_not_a_boolean(training):
    batch = np.ones((2, 8, 10), dtype=np.float32)
    for layer in (audio_layers.RandomTimeShift(2, seed=0), audio_layers.RandomNoise(10.0, seed=0),
                  audio_layers.SpecAugment(2, 2, seed=0)):  # fmt: skip
        with pytest.raises(TypeError, match=r"Expected `training` to be a boolean"):
            layer(batch, training=training)


def test_module_lists_its_public_names():
    public = sorted(
        name for name, value in vars(audio_layers).items()
        if not name.startswith("_") and callable(value) and getattr(value, "__module__", "") == audio_layers.__name__
    )  # fmt: skip
    assert sorted(audio_layers.__all__) == public
