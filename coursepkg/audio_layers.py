"""Sound in Keras: a log-mel layer that matches librosa, and augmentation in ``keras.ops``.

Introduced in: book/16_sound.ipynb

Everything here runs on every Keras backend, eagerly or inside a compiled
model, so a model can take raw audio and compute its own spectrogram:

    inputs = keras.Input((8000,))                    # (batch, samples)
    x = RandomTimeShift(800)(inputs)                 # training only
    x = RandomNoise((10.0, 30.0))(x)                 # training only
    x = keras_log_mel_layer(expand_dims=True)(x)     # (batch, 40, 126, 1)
    x = SpecAugment(max_time_width=12, max_freq_width=6, mask_value=-80.0)(x)

The augmentation functions (:func:`time_shift`, :func:`add_noise`,
:func:`time_mask`, :func:`frequency_mask`) work on batches, ``(batch, ...)``,
and take a ``seed``: an int gives the same draw at every call (for figures and
tests), a ``keras.random.SeedGenerator`` a new draw at every call (what the
layers use). Under the TensorFlow backend they also work inside a ``tf.data``
pipeline (``dataset.batch(32).map(...)``).
"""

from __future__ import annotations

import keras
import numpy as np

from coursepkg import audio, spectrograms
from coursepkg.validation import (
    check_array,
    check_bool,
    check_float,
    check_int,
    check_str,
    optional,
)

__all__ = [
    "LogMelSpectrogram",
    "RandomNoise",
    "RandomTimeShift",
    "SpecAugment",
    "add_noise",
    "frequency_mask",
    "keras_log_mel_layer",
    "time_mask",
    "time_shift",
]

MAX_SHIFT = 10_000_000  # samples or frames
MAX_SNR_DB = 100.0  # |snr_db| accepted
MAX_MASK_WIDTH = 100_000
MAX_MASKS = 100
MAX_SEED = 2**31 - 1
_MASK_VALUE_LIMIT = 1e6


# --------------------------------------------------------------------------- argument checks


def _check_seed(seed):
    if seed is None or isinstance(seed, keras.random.SeedGenerator):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(
            "Expected `seed` to be None, an integer in [0, 2147483647] or a "
            f"keras.random.SeedGenerator. Received: seed={seed!r}"
        )
    return check_int("seed", seed, 0, MAX_SEED)


def _seeds(seed, count: int) -> list:
    """``count`` seeds for separate draws: a generator advances itself; an int gives int, int+1, ..."""
    if isinstance(seed, int):
        return [(seed + index) % (MAX_SEED + 1) for index in range(count)]
    return [seed] * count


def _is_tensor(value) -> bool:
    """A backend tensor or a symbolic Keras tensor (whose values cannot be looked at)."""
    return isinstance(value, keras.KerasTensor) or keras.ops.is_tensor(value)


def _batched(name: str, inputs, min_rank: int = 2):
    """``inputs`` as a floating tensor of rank >= ``min_rank`` (batch first).

    NumPy arrays and lists are checked whole (real, finite, non-empty); tensors,
    which may be symbolic (inside a compiled model or ``tf.data``), by dtype and rank.
    """
    if _is_tensor(inputs):
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        if "float" not in dtype and "int" not in dtype:
            raise TypeError(
                f"Expected `{name}` to hold real numbers (floats or integers). "
                f"Received: {name} of dtype {dtype}"
            )
        tensor = inputs
    else:
        tensor = keras.ops.convert_to_tensor(check_array(name, inputs, dtype="number"))
    if "float" not in keras.backend.standardize_dtype(tensor.dtype):
        tensor = keras.ops.cast(tensor, "float32")
    if len(tensor.shape) < min_rank:
        raise ValueError(
            f"Expected `{name}` to be a batch of rank >= {min_rank}, (batch, ...). "
            f"Received: {name} with shape {tuple(tensor.shape)}"
        )
    return tensor


def _check_axis(name: str, axis, rank: int) -> int:
    axis = check_int(name, axis, -rank + 1 if rank > 1 else -1, rank - 1)
    axis = axis % rank
    if axis == 0:
        raise ValueError(f"Expected `{name}` not to be the batch axis 0. Received: {name}=0")
    return axis


def _check_snr(snr_db):
    """A number in [-100, 100], or a (low, high) pair of them for a uniform draw per example."""
    if not isinstance(snr_db, (list, tuple)):
        return check_float("snr_db", snr_db, -MAX_SNR_DB, MAX_SNR_DB)
    expected = (
        f"Expected `snr_db` to be a number in [{-MAX_SNR_DB:g}, {MAX_SNR_DB:g}] or a (low, high) "
        f"pair of them with low <= high. Received: snr_db={snr_db!r:.80}"
    )
    if len(snr_db) != 2:
        raise ValueError(expected)
    try:
        low, high = (check_float("snr_db", value, -MAX_SNR_DB, MAX_SNR_DB) for value in snr_db)
    except TypeError as error:
        raise TypeError(expected) from error
    except ValueError as error:
        raise ValueError(expected) from error
    if low > high:
        raise ValueError(expected)
    return (low, high)


# --------------------------------------------------------------------------- augmentation functions


def time_shift(inputs, max_shift: int, seed=None, axis: int = -1):
    """Shift every example in time by its own random whole number of steps, filling with zeros.

    Introduced in: book/16_sound.ipynb

    Example ``i`` is delayed by ``shift_i`` steps, drawn uniformly from
    ``[-max_shift, max_shift]``: ``output[i, t] = inputs[i, t - shift_i]`` where
    ``0 <= t - shift_i < length``, and 0 elsewhere. Nothing wraps around, so a
    word is moved, not cut and glued back at the other end. Works on waveforms
    (``axis=-1``: samples) and on spectrograms (``axis=2`` of ``(batch,
    n_mels, frames[, channels])``: frames).

    Args:
        inputs: a batch, ``(batch, ...)``, of real numbers: a tensor, or a
            non-empty NumPy array (or list) of finite values.
        max_shift: the largest shift in steps, in [0, 10,000,000].
        seed: None, an int in [0, 2**31 - 1] (the same draw every call) or a
            ``keras.random.SeedGenerator`` (a new draw every call).
        axis: the time axis (not 0, the batch).

    Returns:
        A tensor of the shape and dtype of ``inputs``.

    Raises:
        TypeError: ``inputs`` holds text, booleans or complex numbers, or an
            argument has the wrong type.
        ValueError: ``inputs`` is not a batch, empty or not finite, or an
            argument is out of range.
    """
    inputs = _batched("inputs", inputs)
    max_shift = check_int("max_shift", max_shift, 0, MAX_SHIFT)
    seed = _check_seed(seed)
    rank = len(inputs.shape)
    axis = _check_axis("axis", axis, rank)
    if max_shift == 0:
        return inputs
    moved = keras.ops.moveaxis(inputs, axis, -1)  # (batch, ..., length)
    batch, length = keras.ops.shape(moved)[0], keras.ops.shape(moved)[-1]
    draws = keras.random.uniform((batch,), seed=seed)
    shifts = keras.ops.cast(keras.ops.floor(draws * (2 * max_shift + 1)), "int32") - max_shift
    shifts = keras.ops.minimum(shifts, max_shift)  # (batch,), guards a draw of exactly 1.0
    sources = keras.ops.arange(length, dtype="int32")[None, :] - shifts[:, None]  # (batch, length)
    inside = keras.ops.logical_and(sources >= 0, sources < length)
    sources = keras.ops.clip(sources, 0, length - 1)
    broadcast = (-1,) + (1,) * (rank - 2) + (length,)
    sources = keras.ops.broadcast_to(keras.ops.reshape(sources, broadcast), keras.ops.shape(moved))
    inside = keras.ops.reshape(inside, broadcast)
    shifted = keras.ops.take_along_axis(moved, sources, axis=-1)
    shifted = keras.ops.where(inside, shifted, keras.ops.zeros_like(shifted))
    return keras.ops.moveaxis(shifted, -1, axis)


def add_noise(inputs, snr_db, seed=None):
    """Add white Gaussian noise at a given signal-to-noise ratio (SNR) in decibels.

    Introduced in: book/16_sound.ipynb

    For every example the noise is scaled so that ``10 * log10(mean(x**2) /
    mean(noise**2))`` is *exactly* ``snr_db`` (the powers are measured over the
    whole example, padding included): 20 dB is a faint hiss, 0 dB as loud as the
    speech. A silent example stays silent.

    Args:
        inputs: a batch of waveforms, ``(batch, samples)`` (any rank >= 2), as
            in :func:`time_shift`.
        snr_db: the SNR in dB, in [-100, 100], or a ``(low, high)`` pair: each
            example then gets its own SNR drawn uniformly from it.
        seed: None, an int (the same noise every call) or a
            ``keras.random.SeedGenerator``.

    Returns:
        A tensor of the shape and dtype of ``inputs``.

    Raises:
        TypeError: ``inputs`` holds text, booleans or complex numbers, or an
            argument has the wrong type.
        ValueError: ``inputs`` is not a batch, empty or not finite, or
            ``snr_db`` is out of range.
    """
    inputs = _batched("inputs", inputs)
    snr_db = _check_snr(snr_db)
    noise_seed, snr_seed = _seeds(_check_seed(seed), 2)
    rank = len(inputs.shape)
    batch = keras.ops.shape(inputs)[0]
    reduce = tuple(range(1, rank))
    noise = keras.random.normal(keras.ops.shape(inputs), dtype=inputs.dtype, seed=noise_seed)
    if isinstance(snr_db, tuple):
        snr = keras.random.uniform((batch,), snr_db[0], snr_db[1], dtype=inputs.dtype, seed=snr_seed)
    else:
        snr = keras.ops.full((batch,), snr_db, dtype=inputs.dtype)
    signal_power = keras.ops.mean(keras.ops.square(inputs), axis=reduce)  # (batch,)
    noise_power = keras.ops.maximum(keras.ops.mean(keras.ops.square(noise), axis=reduce), 1e-30)
    scale = keras.ops.sqrt(signal_power / (noise_power * keras.ops.power(10.0, snr / 10.0)))
    return inputs + keras.ops.reshape(scale, (-1,) + (1,) * (rank - 1)) * noise


def _mask_along(inputs, axis, max_width, num_masks, min_width, mask_value, seed, names):
    """SpecAugment's mask: ``num_masks`` random bands of ``axis`` set to ``mask_value``."""
    width_name, axis_name = names
    inputs = _batched("inputs", inputs)
    rank = len(inputs.shape)
    axis = _check_axis(axis_name, axis, rank)
    length = inputs.shape[axis]
    high = MAX_MASK_WIDTH if length is None else min(MAX_MASK_WIDTH, length)
    max_width = check_int(width_name, max_width, 0, high)
    min_width = check_int("min_width", min_width, 0, max_width)
    num_masks = check_int("num_masks", num_masks, 0, MAX_MASKS)
    mask_value = check_float("mask_value", mask_value, -_MASK_VALUE_LIMIT, _MASK_VALUE_LIMIT)
    seed = _check_seed(seed)
    if num_masks == 0 or max_width == 0:
        return inputs
    length = keras.ops.shape(inputs)[axis]
    batch = keras.ops.shape(inputs)[0]
    draws = keras.random.uniform((batch, num_masks, 2), seed=seed)  # one draw: width and start
    widths = min_width + keras.ops.cast(keras.ops.floor(draws[..., 0] * (max_width - min_width + 1)), "int32")
    widths = keras.ops.minimum(widths, max_width)  # (batch, num_masks)
    room = keras.ops.cast(length, "int32") - widths + 1  # possible starts: 0 .. length - width
    starts = keras.ops.cast(keras.ops.floor(draws[..., 1] * keras.ops.cast(room, draws.dtype)), "int32")
    starts = keras.ops.minimum(starts, room - 1)
    positions = keras.ops.arange(length, dtype="int32")  # (length,)
    inside = keras.ops.logical_and(
        positions[None, None, :] >= starts[..., None], positions[None, None, :] < (starts + widths)[..., None]
    )  # (batch, num_masks, length)
    masked = keras.ops.any(inside, axis=1)  # (batch, length)
    shape = [-1] + [1] * (rank - 1)
    shape[axis] = length
    masked = keras.ops.reshape(masked, shape)
    return keras.ops.where(masked, keras.ops.cast(mask_value, inputs.dtype), inputs)


def time_mask(inputs, max_width: int, seed=None, num_masks: int = 1, min_width: int = 0,
              mask_value: float = 0.0, axis: int = 2):  # fmt: skip
    """SpecAugment's time masks: set random runs of frames of each spectrogram to ``mask_value``.

    Introduced in: book/16_sound.ipynb

    Reference:
        Park et al., "SpecAugment: A Simple Data Augmentation Method for
        Automatic Speech Recognition", Interspeech 2019 (arXiv:1904.08779).

    For every example, ``num_masks`` times: a width ``w`` is drawn uniformly from
    ``[min_width, max_width]`` and a first frame ``t0`` from ``[0, frames -
    w]``; frames ``t0 .. t0 + w - 1`` are set to ``mask_value`` along the whole
    frequency axis. Masks may overlap. The paper masks normalised features with
    0 (their mean); for dB spectrograms from
    :func:`coursepkg.spectrograms.log_mel_batch` (0 at the peak, ``-top_db`` at
    the floor) pass ``mask_value=-80.0`` (silence) or normalise first.

    Args:
        inputs: spectrograms ``(batch, n_mels, frames[, channels])``, as in
            :func:`time_shift`.
        max_width: the widest mask, in [0, frames].
        seed: None, an int (the same masks every call) or a
            ``keras.random.SeedGenerator``.
        num_masks: masks per example, in [0, 100].
        min_width: the narrowest mask, in [0, max_width]; ``min_width ==
            max_width`` masks exactly that many frames.
        mask_value: the value written, a finite number in [-1e6, 1e6].
        axis: the time axis (2 in the layout above).

    Returns:
        A tensor of the shape and dtype of ``inputs``.
    """
    return _mask_along(inputs, axis, max_width, num_masks, min_width, mask_value, seed,
                       ("max_width", "axis"))  # fmt: skip


def frequency_mask(inputs, max_width: int, seed=None, num_masks: int = 1, min_width: int = 0,
                   mask_value: float = 0.0, axis: int = 1):  # fmt: skip
    """SpecAugment's frequency masks: set random bands of mel channels to ``mask_value``.

    Introduced in: book/16_sound.ipynb

    As :func:`time_mask`, along the frequency axis (1 of ``(batch, n_mels,
    frames[, channels])``): ``num_masks`` bands of ``[min_width, max_width]``
    adjacent mel channels each, over all frames (Park et al. 2019).

    Args:
        inputs: spectrograms ``(batch, n_mels, frames[, channels])``, as in
            :func:`time_shift`.
        max_width: the widest band, in [0, n_mels].
        seed, num_masks, min_width, mask_value: as in :func:`time_mask`.
        axis: the frequency axis (1 in the layout above).

    Returns:
        A tensor of the shape and dtype of ``inputs``.
    """
    return _mask_along(inputs, axis, max_width, num_masks, min_width, mask_value, seed,
                       ("max_width", "axis"))  # fmt: skip


# --------------------------------------------------------------------------- augmentation layers


def _training_only(inputs, training, augment):
    """``augment(inputs)`` in training (``training=True``), else ``inputs`` unchanged."""
    if training is not None:
        training = check_bool("training", training)
    if training:
        return augment(inputs)
    return inputs


@keras.saving.register_keras_serializable(package="coursepkg")
class RandomTimeShift(keras.layers.Layer):
    """Layer form of :func:`time_shift`: active in training, the identity in inference.

    Introduced in: book/16_sound.ipynb

    Args:
        max_shift: the largest shift in steps, in [0, 10,000,000].
        axis: the time axis (-1 for waveforms ``(batch, samples)``), in [-8, 8].
        seed: None or an int in [0, 2**31 - 1], for the layer's SeedGenerator.

    Called with ``training=True`` (a real boolean) it shifts; with ``False`` or
    ``None`` it passes its inputs through.
        **kwargs: passed to ``keras.layers.Layer`` (``name``, ...).
    """

    def __init__(self, max_shift: int, axis: int = -1, seed: int | None = None, **kwargs):
        max_shift = check_int("max_shift", max_shift, 0, MAX_SHIFT)
        axis = check_int("axis", axis, -8, 8)
        seed = optional(check_int, "seed", seed, 0, MAX_SEED)
        super().__init__(**kwargs)
        self.max_shift, self.axis, self.seed = max_shift, axis, seed
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def call(self, inputs, training=None):
        return _training_only(inputs, training, lambda x: time_shift(
            x, self.max_shift, seed=self.seed_generator, axis=self.axis))  # fmt: skip

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_shift": self.max_shift, "axis": self.axis, "seed": self.seed}


@keras.saving.register_keras_serializable(package="coursepkg")
class RandomNoise(keras.layers.Layer):
    """Layer form of :func:`add_noise`: active in training, the identity in inference.

    Introduced in: book/16_sound.ipynb

    Args:
        snr_db: the SNR in dB, in [-100, 100], or a ``(low, high)`` pair of them
            (low <= high) drawn per example.
        seed: None or an int in [0, 2**31 - 1].
        **kwargs: passed to ``keras.layers.Layer``.
    """

    def __init__(self, snr_db, seed: int | None = None, **kwargs):
        snr_db = _check_snr(snr_db)
        seed = optional(check_int, "seed", seed, 0, MAX_SEED)
        super().__init__(**kwargs)
        self.snr_db, self.seed = snr_db, seed
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def call(self, inputs, training=None):
        return _training_only(inputs, training, lambda x: add_noise(
            x, self.snr_db, seed=self.seed_generator))  # fmt: skip

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        snr_db = list(self.snr_db) if isinstance(self.snr_db, tuple) else self.snr_db
        return {**super().get_config(), "snr_db": snr_db, "seed": self.seed}


@keras.saving.register_keras_serializable(package="coursepkg")
class SpecAugment(keras.layers.Layer):
    """SpecAugment's time and frequency masks as a layer: active in training only.

    Introduced in: book/16_sound.ipynb

    Reference:
        Park et al., "SpecAugment: A Simple Data Augmentation Method for
        Automatic Speech Recognition", Interspeech 2019 (arXiv:1904.08779).
        (Time warping, the paper's third part, is left out, as in most
        reimplementations.)

    Args:
        max_time_width: widest time mask in frames (the paper's T), in
            [0, 100,000] (and at most the number of frames, checked when called).
        max_freq_width: widest frequency mask in mel channels (the paper's F),
            in [0, 100,000] (and at most n_mels, checked when called).
        num_time_masks: time masks per example, in [0, 100].
        num_freq_masks: frequency masks per example, in [0, 100].
        mask_value: the value written (-80.0 for dB spectrograms from
            :func:`~coursepkg.spectrograms.log_mel_batch`), in [-1e6, 1e6].
        freq_axis, time_axis: the axes of ``(batch, n_mels, frames[, channels])``,
            in [-8, 8].
        seed: None or an int in [0, 2**31 - 1].
        **kwargs: passed to ``keras.layers.Layer``.
    """

    def __init__(self, max_time_width: int, max_freq_width: int, num_time_masks: int = 1,
                 num_freq_masks: int = 1, mask_value: float = 0.0, freq_axis: int = 1,
                 time_axis: int = 2, seed: int | None = None, **kwargs):  # fmt: skip
        checked = {
            "max_time_width": check_int("max_time_width", max_time_width, 0, MAX_MASK_WIDTH),
            "max_freq_width": check_int("max_freq_width", max_freq_width, 0, MAX_MASK_WIDTH),
            "num_time_masks": check_int("num_time_masks", num_time_masks, 0, MAX_MASKS),
            "num_freq_masks": check_int("num_freq_masks", num_freq_masks, 0, MAX_MASKS),
            "mask_value": check_float("mask_value", mask_value, -_MASK_VALUE_LIMIT, _MASK_VALUE_LIMIT),
            "freq_axis": check_int("freq_axis", freq_axis, -8, 8),
            "time_axis": check_int("time_axis", time_axis, -8, 8),
            "seed": optional(check_int, "seed", seed, 0, MAX_SEED),
        }
        super().__init__(**kwargs)
        self.max_time_width, self.max_freq_width = checked["max_time_width"], checked["max_freq_width"]
        self.num_time_masks, self.num_freq_masks = checked["num_time_masks"], checked["num_freq_masks"]
        self.mask_value, self.seed = checked["mask_value"], checked["seed"]
        self.freq_axis, self.time_axis = checked["freq_axis"], checked["time_axis"]
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def _augment(self, inputs):
        outputs = _mask_along(
            inputs, self.freq_axis, self.max_freq_width, self.num_freq_masks, 0, self.mask_value,
            self.seed_generator, ("max_freq_width", "freq_axis"),
        )  # fmt: skip
        return _mask_along(
            outputs, self.time_axis, self.max_time_width, self.num_time_masks, 0, self.mask_value,
            self.seed_generator, ("max_time_width", "time_axis"),
        )  # fmt: skip

    def call(self, inputs, training=None):
        return _training_only(inputs, training, self._augment)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(), "max_time_width": self.max_time_width,
            "max_freq_width": self.max_freq_width, "num_time_masks": self.num_time_masks,
            "num_freq_masks": self.num_freq_masks, "mask_value": self.mask_value,
            "freq_axis": self.freq_axis, "time_axis": self.time_axis, "seed": self.seed,
        }  # fmt: skip


# --------------------------------------------------------------------------- the log-mel layer


@keras.saving.register_keras_serializable(package="coursepkg")
class LogMelSpectrogram(keras.layers.Layer):
    """Log-mel spectrograms inside a model, equal to :func:`~coursepkg.spectrograms.log_mel_batch`.

    Introduced in: book/16_sound.ipynb

    Build it with :func:`keras_log_mel_layer`, whose docstring says how it
    differs from ``keras.layers.MelSpectrogram``. Input ``(batch, samples)``
    float waveforms; output ``(batch, n_mels, frames[, 1])`` in dB relative to
    each example's own maximum, floored at ``-top_db``. It computes in float32
    (its default ``dtype``), also under a mixed-precision policy.
    """

    def __init__(self, sample_rate: int = audio.FSDD_SAMPLE_RATE, n_fft: int = 256,
                 hop_length: int = 64, n_mels: int = 40, fmin: float = 0.0,
                 fmax: float | None = None, top_db: float | None = 80.0,
                 expand_dims: bool = False, **kwargs):  # fmt: skip
        import librosa

        settings = spectrograms.check_settings(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels,
            fmin=fmin, fmax=fmax, top_db=top_db,
        )  # fmt: skip
        expand_dims = check_bool("expand_dims", expand_dims)
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.sample_rate, self.n_fft = settings["sample_rate"], settings["n_fft"]
        self.hop_length, self.n_mels = settings["hop_length"], settings["n_mels"]
        self.fmin, self.fmax, self.top_db = settings["fmin"], settings["fmax"], settings["top_db"]
        self.expand_dims = expand_dims
        self._mel_basis = librosa.filters.mel(
            sr=self.sample_rate, n_fft=self.n_fft, n_mels=self.n_mels, fmin=self.fmin,
            fmax=self.fmax, dtype=np.float32,
        ).T  # (1 + n_fft // 2, n_mels): Slaney's filters, as librosa's default  # fmt: skip

    def _frames(self, samples):
        if samples is None:
            return None
        return 1 + (samples + 2 * (self.n_fft // 2) - self.n_fft) // self.hop_length

    def call(self, inputs):
        waveforms = keras.ops.cast(_batched("inputs", inputs), "float32")  # (batch, samples)
        if len(waveforms.shape) != 2:
            raise ValueError(
                f"Expected `inputs` of shape (batch, samples). Received: shape={tuple(waveforms.shape)}"
            )
        half = self.n_fft // 2
        waveforms = keras.ops.pad(waveforms, [[0, 0], [half, half]])  # zeros, as librosa's default
        real, imag = keras.ops.stft(
            waveforms, sequence_length=self.n_fft, sequence_stride=self.hop_length,
            fft_length=self.n_fft, window="hann", center=False,
        )  # (batch, frames, 1 + n_fft // 2) each  # fmt: skip
        power = keras.ops.square(real) + keras.ops.square(imag)
        mel = keras.ops.matmul(power, keras.ops.convert_to_tensor(self._mel_basis))  # (batch, frames, n_mels)
        decibels = 10.0 * keras.ops.log10(keras.ops.maximum(mel, spectrograms.AMIN))
        peak = keras.ops.max(mel, axis=(1, 2), keepdims=True)  # each example's own reference
        decibels = decibels - 10.0 * keras.ops.log10(keras.ops.maximum(peak, spectrograms.AMIN))
        if self.top_db is not None:
            floor = keras.ops.max(decibels, axis=(1, 2), keepdims=True) - self.top_db
            decibels = keras.ops.maximum(decibels, floor)
        outputs = keras.ops.transpose(decibels, (0, 2, 1))  # (batch, n_mels, frames)
        if self.expand_dims:
            outputs = keras.ops.expand_dims(outputs, -1)  # (batch, n_mels, frames, 1)
        return outputs

    def compute_output_shape(self, input_shape):
        shape = (input_shape[0], self.n_mels, self._frames(input_shape[1]))
        return shape + (1,) if self.expand_dims else shape

    def get_config(self):
        return {
            **super().get_config(), "sample_rate": self.sample_rate, "n_fft": self.n_fft,
            "hop_length": self.hop_length, "n_mels": self.n_mels, "fmin": self.fmin,
            "fmax": self.fmax, "top_db": self.top_db, "expand_dims": self.expand_dims,
        }  # fmt: skip


def keras_log_mel_layer(
    sample_rate: int = audio.FSDD_SAMPLE_RATE,
    n_fft: int = 256,
    hop_length: int = 64,
    n_mels: int = 40,
    fmin: float = 0.0,
    fmax: float | None = None,
    top_db: float | None = 80.0,
    expand_dims: bool = False,
    name: str = "log_mel",
) -> LogMelSpectrogram:
    """A Keras layer computing the log-mel spectrograms of :func:`~coursepkg.spectrograms.log_mel_batch`.

    Introduced in: book/16_sound.ipynb

    With the same settings, ``layer(padded)`` equals ``log_mel_batch(padded,
    ...)`` within 0.01 dB, under TensorFlow and JAX (measured on 300 FSDD
    recordings: at most 0.0006 dB under TensorFlow, 0.00002 dB under JAX; the
    tests check 0.01 dB).
    The layer has no weights; it uses ``keras.ops.stft`` and librosa's mel
    filters, so a model that starts with it takes raw audio on every backend
    and the features it sees in deployment are those it was trained on.

    Why not ``keras.layers.MelSpectrogram`` as it is? It differs from librosa's
    defaults (which this course's NumPy features follow) in five ways:

    1. **Mel filters.** Keras uses HTK's mel scale (``2595 log10(1 + f/700)``),
       triangles of peak 1 drawn in the mel domain and no DC bin; librosa's
       default is Slaney's scale with area-normalised triangles (``htk=False,
       norm="slaney"``), which weights narrow low bands up. On 300 FSDD
       recordings the two differ by 2.6 dB on average and up to 63 dB in
       single bins after dB scaling. Set ``htk=True, norm=None`` in librosa to
       compare.
    2. **Lowest frequency.** Keras's ``min_freq`` defaults to 20 Hz, librosa's
       ``fmin`` to 0.
    3. **Centre padding.** Both centre the frames, but Keras pads by reflecting
       the signal and librosa (since 0.10) with zeros; this changes the first
       and last two frames (up to 9 dB on FSDD recordings). Use
       ``pad_mode="reflect"`` in librosa to compare.
    4. **Power vs magnitude.** Keras's ``mag_exp=2.0`` (power) matches
       librosa's ``power=2.0``; ``mag_exp=1.0`` is the magnitude spectrogram.
    5. **Decibels.** Keras's ``power_to_db=True`` is relative to a fixed
       ``ref_power`` (1.0), and its ``top_db`` floor is taken from the largest
       value *of the whole batch*; librosa's ``power_to_db(S, ref=np.max)``, and
       this layer, are relative to each recording's own maximum.

    With all of that aligned, ``keras.layers.MelSpectrogram(fft_length=n_fft,
    sequence_stride=hop_length, sampling_rate=sample_rate, num_mel_bins=n_mels,
    min_freq=0.0, max_freq=sample_rate / 2, power_to_db=False, mag_exp=2.0)``
    agrees with ``librosa.feature.melspectrogram(..., htk=True, norm=None,
    pad_mode="reflect")`` within 0.13 dB on 300 FSDD recordings (0.01 dB on
    average; the triangles are straight in mel in Keras, in Hz in librosa),
    each in dB relative to its own maximum; the tests check 0.25 dB.

    Args:
        sample_rate, n_fft, hop_length, n_mels, fmin, fmax, top_db: as in
            :func:`~coursepkg.spectrograms.log_mel_batch` (same ranges).
        expand_dims: add a channel axis, ``(batch, n_mels, frames, 1)``, for
            ``Conv2D``.
        name: the layer's name.

    Returns:
        A :class:`LogMelSpectrogram` layer (no weights; serialisable with the model).

    Example:
        >>> inputs = keras.Input((8000,))
        >>> features = keras_log_mel_layer(expand_dims=True)(inputs)  # (None, 40, 126, 1)
    """
    name = check_str("name", name, max_length=200)
    return LogMelSpectrogram(
        sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, fmin=fmin,
        fmax=fmax, top_db=top_db, expand_dims=expand_dims, name=name,
    )  # fmt: skip
