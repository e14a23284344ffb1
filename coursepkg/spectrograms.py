"""Spectrograms in NumPy: frames, the STFT written out, and log-mel features of whole datasets.

Introduced in: book/16_sound.ipynb

The chapter builds the short-time Fourier transform (STFT) from its parts:
:func:`frame_signal` cuts a waveform into overlapping frames, :func:`stft`
multiplies each frame by a window and takes its FFT; both agree with librosa
(``librosa.util.frame``, ``librosa.stft``) to float32 precision. Then
:func:`log_mel_batch` and :func:`mfcc_batch` turn a whole dataset (FSDD's 3,000
recordings) into fixed-size arrays a CNN can read, in a few seconds: the
recordings are padded or cropped to one length (:func:`coursepkg.audio.pad_or_crop`),
framed and transformed in blocks of a few hundred at once instead of one by
one. With ``cache=True`` the result is also stored in the Keras cache, keyed by
a hash of the recordings and the settings, and read back (checked) next time.

Conventions, those of librosa's defaults: spectrograms are ``(..., frequencies,
frames)``; frames are centred (frame ``t`` is centred on sample
``t * hop_length``, the signal padded with ``n_fft // 2`` zeros at both ends);
the window is the periodic Hann window; the mel filters are Slaney's (librosa's
``htk=False, norm="slaney"``); power (magnitude squared) is what the mel
filters sum.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import pathlib
import time
from collections.abc import Sequence

import numpy as np

from coursepkg import audio, downloads
from coursepkg.validation import (
    check_array,
    check_bool,
    check_choice,
    check_float,
    check_int,
    optional,
)

MIN_FFT = 16  # the shortest FFT window accepted (2 ms at 8 kHz)
MAX_FFT = 65_536  # the longest FFT window, hop or frame accepted (8 s at 8 kHz)
MAX_MELS = 512  # mel bands
PAD_MODES = ("constant", "reflect")  # librosa's default is "constant" (zeros)
WINDOWS = ("hann", "hamming", "boxcar")
AMIN = 1e-10  # the smallest power taken into decibels (-100 dB), librosa's `amin`
_BLOCK_SAMPLES = 2**23  # samples framed at once by the batch features (32 MiB of float32)
MAX_VALUES = 2**28  # values an STFT frames or a batch of features holds (1 GiB of float32)
_CACHE_FORMAT = 1  # bump when the cached features' meaning changes
_CACHE_SUBDIR = "features"


# --------------------------------------------------------------------------- argument checks


_UNSET = object()  # a setting not given to check_settings


def check_settings(
    *,
    sample_rate=_UNSET,
    n_fft=_UNSET,
    hop_length=_UNSET,
    n_mels=_UNSET,
    fmin=_UNSET,
    fmax=_UNSET,
    top_db=_UNSET,
) -> dict:
    """Check spectrogram settings by name; return those given, cleaned (``int``, ``float``).

    Shared by :func:`log_mel_batch`, :func:`coursepkg.audio.log_mel_spectrogram` and
    :func:`coursepkg.audio_layers.keras_log_mel_layer`, so that a setting gets the same
    range and the same message everywhere.

    Args:
        sample_rate: samples per second, an integer in [1, 192,000].
        n_fft: FFT size, an integer in [16, 65,536].
        hop_length: samples between frames, an integer in [1, 65,536].
        n_mels: mel bands, an integer in [1, 512].
        fmin: lowest frequency in Hz, a number in [0, sample_rate / 2).
        fmax: ``None`` (the Nyquist frequency, returned as a float) or a number
            in (fmin, sample_rate / 2]. ``fmin`` and ``fmax`` need ``sample_rate``;
            either one given returns both (``fmin`` defaults to 0).
        top_db: ``None`` or a number in (0, 200].

    Returns:
        A dict of the settings given, by name.

    Raises:
        TypeError: a value of the wrong type, or ``fmin``/``fmax`` without ``sample_rate``.
        ValueError: a value out of range, named with what arrived.
    """
    checked = {}
    if sample_rate is not _UNSET:
        checked["sample_rate"] = check_int("sample_rate", sample_rate, 1, audio.MAX_SAMPLE_RATE)
    if n_fft is not _UNSET:
        checked["n_fft"] = check_int("n_fft", n_fft, MIN_FFT, MAX_FFT)
    if hop_length is not _UNSET:
        checked["hop_length"] = check_int("hop_length", hop_length, 1, MAX_FFT)
    if n_mels is not _UNSET:
        checked["n_mels"] = check_int("n_mels", n_mels, 1, MAX_MELS)
    if fmin is not _UNSET or fmax is not _UNSET:
        checked["fmin"], checked["fmax"] = _check_band(checked, fmin, fmax)
    if top_db is not _UNSET:
        checked["top_db"] = optional(check_float, "top_db", top_db, 0.0, 200.0, low_inclusive=False)
    return checked


def _check_band(checked: dict, fmin, fmax) -> tuple[float, float]:
    """``(fmin, fmax)`` in Hz within ``[0, sample_rate / 2]``; ``fmax=None`` is the Nyquist frequency."""
    if "sample_rate" not in checked:
        raise TypeError("check_settings() needs `sample_rate` to check `fmin` and `fmax`.")
    nyquist = checked["sample_rate"] / 2
    fmin = 0.0 if fmin is _UNSET else fmin
    fmin = check_float("fmin", fmin, 0.0, nyquist, high_inclusive=False)
    if fmax is _UNSET or fmax is None:
        return fmin, nyquist
    return fmin, check_float("fmax", fmax, fmin, nyquist, low_inclusive=False)


def _check_signal(name: str, value) -> np.ndarray:
    """A finite, real float32 array with (at least one) samples on its last axis."""
    array = check_array(name, value)
    if array.ndim < 1 or array.shape[-1] == 0:
        raise ValueError(
            f"Expected `{name}` to be an array with samples on its last axis. "
            f"Received: {name} with shape {array.shape}"
        )
    return array.astype(np.float32, copy=False)


def _window(window, n_fft: int) -> np.ndarray:
    """The window as float32 ``(n_fft,)``: a name (periodic, as librosa) or the values themselves."""
    import scipy.signal

    if isinstance(window, str):
        window = check_choice("window", window, WINDOWS)
        return scipy.signal.get_window(window, n_fft, fftbins=True).astype(np.float32)
    if window is None or isinstance(window, bytes):
        raise TypeError(f"Expected `window` to be one of {WINDOWS} or {n_fft} numbers. Received: window={window!r}")
    values = check_array("window", window)
    if values.shape != (n_fft,):
        raise ValueError(
            f"Expected `window` to be one of {WINDOWS} or {n_fft} finite numbers (n_fft). "
            f"Received: window with shape {values.shape}"
        )
    return values.astype(np.float32)


# --------------------------------------------------------------------------- frames and the STFT


def frame_signal(
    waveform: np.ndarray,
    frame_length: int,
    hop_length: int,
    center: bool = False,
    pad_mode: str = "constant",
) -> np.ndarray:
    """Cut a signal into overlapping frames: ``frame_length`` samples every ``hop_length``.

    Introduced in: book/16_sound.ipynb

    Frame ``t`` holds samples ``t * hop_length`` to ``t * hop_length +
    frame_length - 1``. With ``center=True`` the signal is first padded with
    ``frame_length // 2`` samples at both ends (zeros for ``"constant"``, the
    mirrored signal for ``"reflect"``), so that frame ``t`` is *centred* on
    sample ``t * hop_length``, as in ``librosa.stft``. Samples after the last
    whole frame are dropped.

    ``librosa.util.frame(x, frame_length=..., hop_length=...)`` returns the same
    numbers with the last two axes swapped: ``(..., frame_length, frames)``.

    Args:
        waveform: real array ``(..., samples)``: one signal or a batch; finite,
            at least one sample.
        frame_length: samples in a frame, in [1, 65,536].
        hop_length: samples from one frame's start to the next, in [1, 65,536].
        center: pad so that frames are centred on multiples of ``hop_length``.
        pad_mode: ``"constant"`` (zeros, librosa's default) or ``"reflect"``.

    Returns:
        float32 array ``(..., frames, frame_length)``: a read-only view of the
        (padded) signal, with ``frames = 1 + (samples_after_padding -
        frame_length) // hop_length``.

    Raises:
        TypeError: an argument of the wrong type (text, booleans or complex
            numbers for ``waveform``, ``"yes"`` for ``center``).
        ValueError: the signal (after padding) is shorter than a frame, holds
            NaN or infinity, or an argument is out of range.

    Example:
        >>> frame_signal(np.arange(6.0), frame_length=3, hop_length=2)
        array([[0., 1., 2.],
               [2., 3., 4.]], dtype=float32)
    """
    waveform = _check_signal("waveform", waveform)
    frame_length = check_int("frame_length", frame_length, 1, MAX_FFT)
    hop_length = check_int("hop_length", hop_length, 1, MAX_FFT)
    center = check_bool("center", center)
    pad_mode = check_choice("pad_mode", pad_mode, PAD_MODES)
    if center:
        padding = [(0, 0)] * (waveform.ndim - 1) + [(frame_length // 2, frame_length // 2)]
        waveform = np.pad(waveform, padding, mode=pad_mode)
    if waveform.shape[-1] < frame_length:
        raise ValueError(
            f"Expected `waveform` to hold at least `frame_length`={frame_length} samples"
            f"{' after padding' if center else ''}. Received: {waveform.shape[-1]} samples"
        )
    windows = np.lib.stride_tricks.sliding_window_view(waveform, frame_length, axis=-1)
    return windows[..., ::hop_length, :]  # (..., frames, frame_length)


def stft(
    waveform: np.ndarray,
    n_fft: int,
    hop_length: int | None = None,
    window: str | np.ndarray = "hann",
    center: bool = True,
    pad_mode: str = "constant",
) -> np.ndarray:
    """The short-time Fourier transform, written out: frame, window, FFT.

    Introduced in: book/16_sound.ipynb

    ``stft(x, n_fft, hop)[..., k, t]`` is the discrete Fourier transform of frame
    ``t`` (:func:`frame_signal` with ``center``) times the window, at frequency
    ``k * sample_rate / n_fft``. A long window separates close frequencies but
    blurs when they happen; a short one the reverse: the time/frequency
    trade-off. The result agrees with ``librosa.stft(x, n_fft=n_fft,
    hop_length=hop_length, window=window, center=center, pad_mode=pad_mode)``
    to float32 precision (``keras.layers.MelSpectrogram`` pads by reflection:
    ``pad_mode="reflect"``).

    Args:
        waveform: float array ``(..., samples)``.
        n_fft: FFT size and window length in samples, in [16, 65,536].
        hop_length: samples between frames, in [1, 65,536]; ``None`` means
            ``n_fft // 4`` (librosa's default).
        window: ``"hann"``, ``"hamming"`` or ``"boxcar"`` (periodic, as
            librosa's), or ``n_fft`` values.
        center: centre frame ``t`` on sample ``t * hop_length`` (see
            :func:`frame_signal`).
        pad_mode: ``"constant"`` (zeros) or ``"reflect"``, with ``center``.

    Returns:
        complex64 array ``(..., 1 + n_fft // 2, frames)``.

    Raises:
        TypeError: an argument of the wrong type (text, booleans or complex
            numbers for ``waveform``, a float for an integer).
        ValueError: an argument is out of range, the signal is too short, empty
            or not finite, or the frames would hold more than 2**28 values
            (1 GiB of float32).

    Example:
        >>> spectrum = stft(waveform, n_fft=256, hop_length=64)
        >>> power = np.abs(spectrum) ** 2  # (129, frames)
    """
    import scipy.fft

    n_fft = check_int("n_fft", n_fft, MIN_FFT, MAX_FFT)
    hop_length = n_fft // 4 if hop_length is None else hop_length
    window_values = _window(window, n_fft)  # (n_fft,)
    frames = frame_signal(waveform, n_fft, hop_length, center=center, pad_mode=pad_mode)
    if frames.size > MAX_VALUES:  # the frames are a view; windowed, they would be copied
        raise ValueError(
            f"Expected at most {MAX_VALUES:,} values in the frames (frames x n_fft); raise "
            f"`hop_length` or shorten the signal. Received: hop_length={hop_length} and n_fft={n_fft} "
            f"give frames of shape {frames.shape}"
        )
    spectrum = scipy.fft.rfft(frames * window_values, axis=-1)  # (..., frames, 1 + n_fft // 2)
    return np.swapaxes(spectrum, -1, -2).astype(np.complex64, copy=False)


# --------------------------------------------------------------------------- features of many recordings


def _check_feature_count(recordings: int, length: int, settings: dict) -> None:
    """Refuse features that would not fit in memory, naming the settings that make them large."""
    n_frames = 1 + (length + 2 * (settings["n_fft"] // 2) - settings["n_fft"]) // settings["hop_length"]
    values = recordings * settings["n_mels"] * n_frames
    if values > MAX_VALUES:
        raise ValueError(
            f"Expected at most {MAX_VALUES:,} feature values (recordings x n_mels x frames); raise "
            f"`hop_length` or lower `length`. Received: {recordings:,} recordings, "
            f"length={length:,}, hop_length={settings['hop_length']}, n_mels={settings['n_mels']}: "
            f"{values:,} values"
        )


def _mel_power(batch: np.ndarray, settings: dict) -> np.ndarray:
    """Mel power spectrograms ``(n, n_mels, frames)`` of equal-length float32 rows, block by block."""
    import librosa
    import scipy.fft

    n_fft, hop_length = settings["n_fft"], settings["hop_length"]
    mel_basis = librosa.filters.mel(
        sr=settings["sample_rate"], n_fft=n_fft, n_mels=settings["n_mels"],
        fmin=settings["fmin"], fmax=settings["fmax"], dtype=np.float32,
    )  # (n_mels, 1 + n_fft // 2), Slaney's filters  # fmt: skip
    window = _window("hann", n_fft)
    n_frames = 1 + (batch.shape[1] + 2 * (n_fft // 2) - n_fft) // hop_length
    block = max(1, _BLOCK_SAMPLES // (n_frames * n_fft))  # recordings framed at once
    output = np.empty((len(batch), settings["n_mels"], n_frames), dtype=np.float32)
    for start in range(0, len(batch), block):
        frames = frame_signal(batch[start : start + block], n_fft, hop_length, center=True)
        spectrum = scipy.fft.rfft(frames * window, axis=-1)  # (block, frames, bins)
        power = np.square(spectrum.real) + np.square(spectrum.imag)  # (block, frames, bins)
        mel = power.reshape(-1, power.shape[-1]) @ mel_basis.T  # one matrix product for the block
        output[start : start + block] = np.swapaxes(mel.reshape(len(power), n_frames, -1), -1, -2)
    return output  # (n, n_mels, frames)


def _power_to_db(power: np.ndarray, relative: bool, top_db: float | None) -> np.ndarray:
    """``librosa.power_to_db`` of each spectrogram ``power[i]`` separately (ref=max or 1)."""
    decibels = 10.0 * np.log10(np.maximum(power, AMIN))  # (n, bands, frames)
    if relative:
        peak = np.maximum(power.max(axis=(-2, -1), keepdims=True), AMIN)
        decibels -= 10.0 * np.log10(peak)
    if top_db is not None:
        decibels = np.maximum(decibels, decibels.max(axis=(-2, -1), keepdims=True) - top_db)
    return decibels.astype(np.float32, copy=False)


def _read_cache(path: pathlib.Path, key: str, shape: tuple) -> np.ndarray | None:
    """The cached features when present, of this key and shape, and intact; else ``None``."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            metadata = json.loads(str(stored["metadata"]))
            features = stored["features"]
        if metadata.get("key") != key:
            problem = "they were computed from other recordings or settings"
        elif features.dtype != np.float32 or features.shape != shape:
            problem = f"they are {features.dtype} {features.shape}, expected float32 {shape}"
        elif downloads.sha256_of_arrays(features) != metadata.get("features_sha256"):
            problem = "their sha256 differs from the one recorded when they were written"
        else:
            return features
    except Exception as error:  # whatever a truncated or damaged file makes zipfile, numpy or json raise
        problem = f"unreadable: {type(error).__name__}: {error}"
    print(f"[coursepkg] the cached features in {path} are not usable ({problem}); computing them again.")
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return None


def _features(kind: str, batch: np.ndarray, settings: dict, compute, cache: bool) -> np.ndarray:
    """``compute(batch)``, through the Keras cache when ``cache``."""
    if not cache:
        return compute(batch)
    import librosa

    description = json.dumps(
        {"kind": kind, "format": _CACHE_FORMAT, "librosa": librosa.__version__, **settings},
        sort_keys=True,
    )
    key = hashlib.sha256(description.encode() + downloads.sha256_of_arrays(batch).encode()).hexdigest()
    path = downloads.cache_dir() / _CACHE_SUBDIR / f"{kind}-{key[:24]}.npz"
    n_frames = 1 + (batch.shape[1] + 2 * (settings["n_fft"] // 2) - settings["n_fft"]) // settings["hop_length"]
    shape = (len(batch), settings.get("n_mfcc", settings["n_mels"]), n_frames)
    features = _read_cache(path, key, shape)
    if features is not None:
        print(f"[coursepkg] {kind} features of {len(batch):,} recordings read from the cache {path}")
        return features
    start = time.perf_counter()
    features = compute(batch)
    seconds = time.perf_counter() - start
    metadata = {"key": key, "settings": json.loads(description), "features_sha256": downloads.sha256_of_arrays(features)}
    try:
        downloads.save_npz_atomically(path, {"features": features, "metadata": np.array(json.dumps(metadata))})
        print(f"[coursepkg] {kind} features of {len(batch):,} recordings computed in {seconds:.1f} s; cached in {path}")
    except OSError as error:  # a read-only or full disk: the features are still good
        print(f"[coursepkg] {kind} features computed in {seconds:.1f} s, but not cached in {path} ({error})")
    return features


def log_mel_batch(
    waveforms: Sequence[np.ndarray] | np.ndarray,
    sample_rate: int = audio.FSDD_SAMPLE_RATE,
    n_fft: int = 256,
    hop_length: int = 64,
    n_mels: int = 40,
    length: int = audio.FSDD_SAMPLE_RATE,
    align: str = "centre",
    fmin: float = 0.0,
    fmax: float | None = None,
    top_db: float | None = 80.0,
    cache: bool = False,
) -> np.ndarray:
    """Log-mel spectrograms of many recordings at once, each in dB relative to its own maximum.

    Introduced in: book/16_sound.ipynb

    Every recording is first brought to ``length`` samples
    (:func:`coursepkg.audio.pad_or_crop` with ``mode=align``), so that all
    spectrograms have one shape. Recording ``i`` of the result equals::

        mel = librosa.feature.melspectrogram(y=padded[i], sr=sample_rate, n_fft=n_fft,
                                             hop_length=hop_length, n_mels=n_mels,
                                             fmin=fmin, fmax=fmax)
        librosa.power_to_db(mel, ref=np.max, top_db=top_db)

    to about 1e-3 dB, but the whole batch is computed in blocks of recordings
    (FSDD's 3,000 in about 2 s on two CPU cores, where a loop over librosa
    takes about 15 s). Each spectrogram is relative to its own loudest value
    (0 dB), so quiet and loud takes look alike; values below ``-top_db`` are
    raised to ``-top_db``.

    Args:
        waveforms: a list of 1-D arrays (lengths may differ) or a 2-D array
            ``(recordings, samples)``.
        sample_rate: samples per second, in [1, 192,000].
        n_fft: FFT size and Hann window length in samples, in [16, 65,536].
        hop_length: samples between frames, in [1, 65,536].
        n_mels: mel bands (the image's height), in [1, 512].
        length: samples kept of every recording, in [1, 100,000,000].
        align: ``"centre"`` or ``"start"``: which part of a long recording is
            kept and where a short one sits (see :func:`~coursepkg.audio.pad_or_crop`).
        fmin: lowest frequency of the mel filters in Hz, in [0, sample_rate / 2).
        fmax: highest frequency in Hz, in (fmin, sample_rate / 2]; ``None``
            means sample_rate / 2.
        top_db: dynamic range kept in dB, in (0, 200], or ``None`` for no floor.
        cache: store the result in the Keras cache (``$KERAS_HOME/features``
            or ``~/.keras/features``), keyed by a hash of the padded recordings
            and the settings, and read it from there next time (after checking
            its shape and sha256; a damaged file is computed again).

    Returns:
        float32 array ``(recordings, n_mels, frames)`` with ``frames = 1 +
        length // hop_length`` for an even ``n_fft``; values in ``[-top_db, 0]``.

    Raises:
        TypeError: an argument of the wrong type.
        ValueError: an argument out of range, a recording that is not 1-D,
            empty, or holds NaN or infinity, or features of more than 2**28
            values (1 GiB of float32).

    Example:
        >>> dataset = coursepkg.load_fsdd()
        >>> features = log_mel_batch(dataset.waveforms, cache=True)  # (3000, 40, 126)
    """
    settings = check_settings(
        sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels,
        fmin=fmin, fmax=fmax, top_db=top_db,
    )  # fmt: skip
    align = check_choice("align", align, audio.PAD_OR_CROP_MODES)
    cache = check_bool("cache", cache)
    batch = audio.pad_or_crop(waveforms, length, mode=align)  # (recordings, length)
    _check_feature_count(len(batch), length, settings)

    def compute(batch: np.ndarray) -> np.ndarray:
        return _power_to_db(_mel_power(batch, settings), relative=True, top_db=settings["top_db"])

    return _features("log_mel", batch, settings, compute, cache)


def mfcc_batch(
    waveforms: Sequence[np.ndarray] | np.ndarray,
    sample_rate: int = audio.FSDD_SAMPLE_RATE,
    n_fft: int = 256,
    hop_length: int = 64,
    n_mels: int = 40,
    n_mfcc: int = 20,
    length: int = audio.FSDD_SAMPLE_RATE,
    align: str = "centre",
    fmin: float = 0.0,
    fmax: float | None = None,
    top_db: float | None = 80.0,
    cache: bool = False,
) -> np.ndarray:
    """Mel-frequency cepstral coefficients (MFCCs) of many recordings at once.

    Introduced in: book/16_sound.ipynb

    The MFCCs of a frame are the discrete cosine transform (type II,
    orthonormal) of its log-mel spectrum, of which the first ``n_mfcc`` are
    kept: a smooth outline of the spectrum. Recording ``i`` of the result
    equals ``librosa.feature.mfcc(y=padded[i], sr=sample_rate, n_mfcc=n_mfcc,
    n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, fmin=fmin, fmax=fmax)``
    (librosa's dB are relative to a power of 1, not to each recording's
    maximum as in :func:`log_mel_batch`: coefficient 0 carries the loudness).

    Args:
        waveforms, sample_rate, n_fft, hop_length, n_mels, length, align, fmin,
            fmax, top_db, cache: as in :func:`log_mel_batch`.
        n_mfcc: coefficients kept, in [1, n_mels].

    Returns:
        float32 array ``(recordings, n_mfcc, frames)``.

    Raises:
        TypeError: an argument of the wrong type.
        ValueError: an argument out of range, a recording that is not 1-D,
            empty, or holds NaN or infinity, or features of more than 2**28
            values (1 GiB of float32).
    """
    import scipy.fft

    settings = check_settings(
        sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels,
        fmin=fmin, fmax=fmax, top_db=top_db,
    )  # fmt: skip
    settings["n_mfcc"] = check_int("n_mfcc", n_mfcc, 1, settings["n_mels"])
    align = check_choice("align", align, audio.PAD_OR_CROP_MODES)
    cache = check_bool("cache", cache)
    batch = audio.pad_or_crop(waveforms, length, mode=align)  # (recordings, length)
    _check_feature_count(len(batch), length, settings)

    def compute(batch: np.ndarray) -> np.ndarray:
        decibels = _power_to_db(_mel_power(batch, settings), relative=False, top_db=settings["top_db"])
        coefficients = scipy.fft.dct(decibels, type=2, norm="ortho", axis=-2)
        return np.ascontiguousarray(coefficients[:, : settings["n_mfcc"]], dtype=np.float32)

    return _features("mfcc", batch, settings, compute, cache)
