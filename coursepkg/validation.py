"""Argument checks shared by every public function, so one mistake gets one message.

Introduced in: book/04_training.ipynb (first used by ``configure_precision``).

Each helper takes the argument's *name* and its *value*, returns the value in a
clean form (a Python ``int``, ``float`` or ``bool``) when it is acceptable, and
otherwise raises in Keras's style, naming the argument and showing what arrived::

    ValueError: Expected `sigma` to be a finite number in (0, 100]. Received: sigma=nan

A wrong *type* (a string where a number is expected, ``"no"`` where a boolean is
expected) is a ``TypeError``; a value of the right type outside its range is a
``ValueError``. Numbers always have an upper bound, so that a typo such as a
depth of a million fails at once instead of exhausting the machine.

Example:
    >>> from coursepkg import validation
    >>> validation.check_int("epochs", 3, low=1, high=1000)
    3
    >>> validation.check_bool("fallback", "no")
    Traceback (most recent call last):
    TypeError: Expected `fallback` to be a boolean (True or False). Received: fallback='no'
"""

from __future__ import annotations

import math
import numbers
import os
import pathlib
from collections.abc import Iterable

import numpy as np


def received(name: str, value) -> str:
    """The end of every message: ``Received: name=<repr of value, at most 80 characters>``."""
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"Received: {name}={text}"


# Low-precision floats that NumPy does not count as floating (ml_dtypes' bfloat16 and float8
# types, the output of a model under mixed_bfloat16): read as float32.
_WIDENED_DTYPE_PREFIXES = ("bfloat", "float8")


def _widen(array: np.ndarray) -> np.ndarray:
    return array.astype(np.float32) if array.dtype.name.startswith(_WIDENED_DTYPE_PREFIXES) else array


def check_bool(name: str, value) -> bool:
    """A real boolean: ``True``/``False`` (or a NumPy bool), never a string or a number.

    Raises:
        TypeError: for anything else, e.g. ``"no"`` or ``0``.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"Expected `{name}` to be a boolean (True or False). {received(name, value)}")


def _interval(low, high, low_inclusive: bool, high_inclusive: bool) -> str:
    left = "[" if low_inclusive else "("
    right = "]" if high_inclusive else ")"
    return f"{left}{low}, {high}{right}"


def check_int(name: str, value, low: int, high: int) -> int:
    """An integer (not a bool, not a float) in ``[low, high]``.

    Raises:
        TypeError: not an integer.
        ValueError: outside ``[low, high]``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"Expected `{name}` to be an integer in [{low}, {high}]. {received(name, value)}"
        )
    value = int(value)
    if not low <= value <= high:
        raise ValueError(
            f"Expected `{name}` to be an integer in [{low}, {high}]. {received(name, value)}"
        )
    return value


def check_float(
    name: str,
    value,
    low: float,
    high: float,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """A finite real number (int or float, not a bool, not complex) in a bounded interval.

    Args:
        name: the argument's name, for the message.
        value: what arrived.
        low, high: the bounds of the accepted interval (both finite).
        low_inclusive, high_inclusive: whether each bound itself is accepted.

    Returns:
        ``float(value)``.

    Raises:
        TypeError: not a real number.
        ValueError: NaN, infinite, or outside the interval.
    """
    interval = _interval(low, high, low_inclusive, high_inclusive)
    expected = f"Expected `{name}` to be a finite number in {interval}."
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{expected} {received(name, value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{expected} {received(name, value)}")
    above_low = value >= low if low_inclusive else value > low
    below_high = value <= high if high_inclusive else value < high
    if not (above_low and below_high):
        raise ValueError(f"{expected} {received(name, value)}")
    return value


# Largest seed: NumPy's, Keras's set_random_seed and tf.random's seeds are 32-bit.
MAX_SEED = 2**32 - 1


def check_seed(name: str, value) -> int:
    """A random seed: an integer in ``[0, 2**32 - 1]``, returned as a Python ``int``.

    Raises:
        TypeError: not an integer.
        ValueError: negative or above ``2**32 - 1``.
    """
    return check_int(name, value, 0, MAX_SEED)


def check_choice(name: str, value, choices: Iterable):
    """One of a fixed set of values (compared with ``==``; strings are case-sensitive).

    Raises:
        ValueError: ``value`` is not among ``choices``; the message lists them.
    """
    choices = tuple(choices)
    # Same type and equal: True is not accepted for 1, nor 1.0 for 1, nor a list for anything.
    if any(type(value) is type(choice) and value == choice for choice in choices):
        return value
    raise ValueError(f"Expected `{name}` to be one of {choices}. {received(name, value)}")


def check_str(name: str, value, max_length: int = 1000) -> str:
    """A non-empty string of at most ``max_length`` characters.

    Raises:
        TypeError: not a string.
        ValueError: empty or too long.
    """
    if not isinstance(value, str):
        raise TypeError(f"Expected `{name}` to be a string. {received(name, value)}")
    if not value or len(value) > max_length:
        raise ValueError(
            f"Expected `{name}` to be a non-empty string of at most {max_length} characters. "
            f"{received(name, value)}"
        )
    return value


# Largest magnitude of a pixel-range bound: images in [0, 1], [-1, 1], [0, 255], or raw 16-bit values.
MAX_PIXEL_VALUE = 65536.0


def check_pixel_range(name: str, value) -> tuple[float, float]:
    """A pixel scale ``(low, high)``: two finite numbers with ``low < high``, both within +-65,536.

    Introduced in: book/18_adversarial_attacks.ipynb

    Raises:
        TypeError: not a pair of real numbers.
        ValueError: non-finite bounds, bounds out of range, or ``low >= high``.
    """
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"Expected `{name}` to be a pair (low, high). {received(name, value)}")
    low, high = (check_float(name, bound, -MAX_PIXEL_VALUE, MAX_PIXEL_VALUE) for bound in value)
    if not low < high:
        raise ValueError(f"Expected `{name}` to be (low, high) with low < high. {received(name, value)}")
    return low, high


def check_images(name: str, value, pixel_range: tuple[float, float], rank: int | None = None) -> np.ndarray:
    """Real, finite pixel values within ``pixel_range``, returned as a float32 array.

    Introduced in: book/18_adversarial_attacks.ipynb

    Args:
        name: the argument's name, for the message.
        value: an array-like of images (integers or floats; not booleans, not complex).
        pixel_range: ``(low, high)`` as returned by :func:`check_pixel_range`.
        rank: the exact number of axes required; ``None`` accepts a batch of 2 to 5
            axes (``(batch, features)`` up to ``(batch, frames, height, width, channels)``).

    Raises:
        TypeError: not a real numeric array.
        ValueError: wrong rank, empty, NaN or infinite values, or values outside ``pixel_range``.
    """
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:  # ragged nested lists
        raise TypeError(f"Expected `{name}` to be a numeric array. {received(name, value)}") from error
    array = _widen(array)
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise TypeError(
            f"Expected `{name}` to be an array of real numbers. Received: {name} of dtype {array.dtype}"
        )
    ranks = (rank,) if rank is not None else (2, 3, 4, 5)
    if array.ndim not in ranks or array.size == 0:
        wanted = f"{rank} axes" if rank is not None else "a batch of 2 to 5 axes, (batch, ...)"
        raise ValueError(
            f"Expected `{name}` to be a non-empty array of {wanted}. Received: {name} with shape {array.shape}"
        )
    array = array.astype(np.float32)
    low, high = pixel_range
    if not np.all(np.isfinite(array)):
        raise ValueError(
            f"Expected `{name}` to hold finite values. Received: {name} with NaN or infinite values"
        )
    # Compared in float32, the images' precision: float32(0.3) > 0.3 must not be refused.
    if array.min() < np.float32(low) or array.max() > np.float32(high):
        raise ValueError(
            f"Expected `{name}` to hold values in [{low:g}, {high:g}]. "
            f"Received: {name} with values in [{array.min():g}, {array.max():g}]"
        )
    return array


def check_labels(name: str, value, count: int, classes: int) -> np.ndarray:
    """Class indices: integers of shape ``(count,)`` in ``[0, classes)``, returned as int64.

    Introduced in: book/18_adversarial_attacks.ipynb

    Raises:
        TypeError: not integers (floats, booleans and strings are refused).
        ValueError: a shape other than ``(count,)``, or a class outside ``[0, classes)``.
    """
    array = np.asarray(value)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(
            f"Expected `{name}` to be integer class indices. Received: {name} of dtype {array.dtype}"
        )
    if array.shape != (count,):
        raise ValueError(
            f"Expected `{name}` to have shape ({count},), one class per image. "
            f"Received: {name} with shape {array.shape}"
        )
    if array.min() < 0 or array.max() >= classes:
        raise ValueError(
            f"Expected `{name}` to hold classes in [0, {classes}). "
            f"Received: {name} with values in [{array.min()}, {array.max()}]"
        )
    return array.astype(np.int64)


# Largest number of elements an array argument may hold (about 4 GB in float32): a typo such as
# a shape of (10**6, 10**6) fails at once instead of exhausting the machine.
MAX_ARRAY_SIZE = 10**9


def check_array(
    name: str,
    value,
    ndim: int | Iterable[int] | None = None,
    dtype: str = "real",
    allow_empty: bool = False,
    finite: bool = True,
) -> np.ndarray:
    """A numeric array: real (or integer) values, a given number of axes, finite, non-empty.

    Args:
        name: the argument's name, for the message.
        value: an array-like (a NumPy array, a list of numbers, a tensor).
        ndim: the accepted numbers of axes (one int or several); ``None`` accepts any.
        dtype: ``"real"`` (integers or floats, returned as float64 unless already float32,
            float16 or float64), ``"integer"`` (returned as int64) or ``"number"`` (ints or floats,
            returned unchanged).
        allow_empty: whether an array with no elements is accepted.
        finite: whether NaN and infinite values are refused.

    Raises:
        TypeError: strings, booleans, complex numbers, objects, ragged lists; floats where
            integers are required.
        ValueError: the wrong number of axes, empty, too large, NaN or infinite values.
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"Expected `{name}` to be a numeric array. {received(name, value)}")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:  # ragged nested lists
        raise TypeError(f"Expected `{name}` to be a numeric array. {received(name, value)}") from error
    array = _widen(array)
    is_int = np.issubdtype(array.dtype, np.integer) and array.dtype != np.bool_
    is_float = np.issubdtype(array.dtype, np.floating)
    if dtype == "integer" and not is_int:
        raise TypeError(
            f"Expected `{name}` to be an array of integers. Received: {name} of dtype {array.dtype}"
        )
    if not (is_int or is_float):
        raise TypeError(
            f"Expected `{name}` to be an array of real numbers. Received: {name} of dtype {array.dtype}"
        )
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, numbers.Integral) else tuple(ndim)
        if array.ndim not in allowed:
            wanted = " or ".join(str(n) for n in allowed)
            raise ValueError(
                f"Expected `{name}` to have {wanted} axes. Received: {name} with shape {array.shape}"
            )
    if array.size == 0 and not allow_empty:
        raise ValueError(f"Expected `{name}` to be non-empty. Received: {name} with shape {array.shape}")
    if array.size > MAX_ARRAY_SIZE:
        raise ValueError(
            f"Expected `{name}` to hold at most {MAX_ARRAY_SIZE:,} values. "
            f"Received: {name} with shape {array.shape}"
        )
    if finite and is_float and not np.all(np.isfinite(array)):
        raise ValueError(
            f"Expected `{name}` to hold finite values. Received: {name} with NaN or infinite values"
        )
    if dtype == "integer":
        return array.astype(np.int64, copy=False)
    if dtype == "real" and not is_float:
        return array.astype(np.float64)
    return array


def check_shape(name: str, value, length: int | Iterable[int] | None = None, low: int = 1, high: int = 100_000) -> tuple[int, ...]:
    """A tuple of integers (sizes, a kernel size, an input shape), each in ``[low, high]``.

    Args:
        name: the argument's name, for the message.
        value: a tuple or list of integers.
        length: the accepted numbers of entries (one int or several); ``None`` accepts 1 to 8.
        low, high: the bounds of every entry.

    Raises:
        TypeError: not a tuple or list of integers.
        ValueError: the wrong number of entries, or an entry outside ``[low, high]``.
    """
    allowed = tuple(range(1, 9)) if length is None else (
        (length,) if isinstance(length, numbers.Integral) else tuple(length)
    )
    wanted = " or ".join(str(n) for n in allowed) if length is not None else "1 to 8"
    expected = f"Expected `{name}` to be a tuple of {wanted} integers in [{low}, {high}]."
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{expected} {received(name, value)}")
    if any(isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral) for v in value):
        raise TypeError(f"{expected} {received(name, value)}")
    if len(value) not in allowed or not all(low <= v <= high for v in value):
        raise ValueError(f"{expected} {received(name, value)}")
    return tuple(int(v) for v in value)


# Longest path argument, in characters (Linux's PATH_MAX).
MAX_PATH_LENGTH = 4096


def check_path(name: str, value) -> pathlib.Path:
    """A path (a ``str`` or ``os.PathLike``): non-empty, at most 4,096 characters, no NUL byte.

    Whether the file exists is not checked here: opening it says so.

    Raises:
        TypeError: neither a string nor a path (bytes, a number, ``None``).
        ValueError: empty, too long, or holding a NUL byte.
    """
    text = os.fspath(value) if isinstance(value, os.PathLike) else value
    expected = (
        f"Expected `{name}` to be a path (a string or a pathlib.Path): non-empty, at most "
        f"{MAX_PATH_LENGTH:,} characters, without NUL bytes."
    )
    if not isinstance(text, str):
        raise TypeError(f"{expected} {received(name, value)}")
    if not text or len(text) > MAX_PATH_LENGTH or "\0" in text:
        raise ValueError(f"{expected} {received(name, value)}")
    return pathlib.Path(text)


def check_callable(name: str, value):
    """Something that can be called (a function, a Keras model, a layer).

    Raises:
        TypeError: anything else.
    """
    if not callable(value):
        raise TypeError(f"Expected `{name}` to be callable (a function or a model). {received(name, value)}")
    return value


def optional(check, name: str, value, *args, **kwargs):
    """``None``, or what ``check(name, value, *args, **kwargs)`` accepts.

    Example:
        >>> optional(check_int, "steps", None, 1, 10) is None
        True
    """
    return None if value is None else check(name, value, *args, **kwargs)
