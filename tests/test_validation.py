"""coursepkg.validation: one message for one mistake, in Keras's style."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coursepkg import validation


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_check_bool_accepts_real_booleans(value):
    assert validation.check_bool("flag", value) is bool(value)


@pytest.mark.parametrize("value", ["no", "False", 0, 1, None, 1.0])
def test_check_bool_refuses_strings_and_numbers(value):
    with pytest.raises(TypeError, match=r"Expected `flag` to be a boolean.*Received: flag="):
        validation.check_bool("flag", value)


def test_check_int_accepts_integers_in_range_and_returns_python_ints():
    assert validation.check_int("depth", np.int64(3), low=1, high=10) == 3
    assert type(validation.check_int("depth", np.int64(3), low=1, high=10)) is int


@pytest.mark.parametrize(
    "value, error",
    [(0, ValueError), (11, ValueError), (10**6, ValueError), (3.0, TypeError),
     (True, TypeError), ("3", TypeError), (None, TypeError)],
)  # fmt: skip
def test_check_int_refuses_out_of_range_and_non_integers(value, error):
    with pytest.raises(error, match=r"Expected `depth` to be an integer in \[1, 10\]. Received: depth="):
        validation.check_int("depth", value, low=1, high=10)


def test_check_float_bounds_and_inclusiveness():
    assert validation.check_float("rate", 1, 0.0, 1.0) == 1.0
    with pytest.raises(ValueError, match=r"in \(0.0, 1.0\]. Received: rate=0.0"):
        validation.check_float("rate", 0.0, 0.0, 1.0, low_inclusive=False)
    with pytest.raises(ValueError, match=r"in \[0.0, 1.0\). Received: rate=1.0"):
        validation.check_float("rate", 1.0, 0.0, 1.0, high_inclusive=False)


@pytest.mark.parametrize(
    "value, error",
    [(math.nan, ValueError), (math.inf, ValueError), (-math.inf, ValueError), (2.5, ValueError),
     (1 + 0j, TypeError), ("0.5", TypeError), (True, TypeError), ([0.5], TypeError)],
)  # fmt: skip
def test_check_float_refuses_nan_inf_complex_and_strings(value, error):
    with pytest.raises(error, match="Expected `sigma` to be a finite number"):
        validation.check_float("sigma", value, 0.0, 2.0)


def test_check_choice_is_type_strict():
    assert validation.check_choice("mode", "a", ("a", "b")) == "a"
    assert validation.check_choice("size", 3, (1, 3)) == 3
    for value in (True, 3.0, ["a"], "A"):
        with pytest.raises(ValueError, match=r"Expected `mode` to be one of"):
            validation.check_choice("mode", value, ("a", 3))


def test_check_str():
    assert validation.check_str("name", "vgg16") == "vgg16"
    with pytest.raises(TypeError, match="Received: name=16"):
        validation.check_str("name", 16)
    with pytest.raises(ValueError, match="non-empty"):
        validation.check_str("name", "")
    with pytest.raises(ValueError, match=r"at most 5 characters.*\.\.\."):
        validation.check_str("name", "x" * 200, max_length=5)
