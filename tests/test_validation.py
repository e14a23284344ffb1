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


def test_check_pixel_range():
    assert validation.check_pixel_range("pixel_range", [0, 255]) == (0.0, 255.0)
    assert validation.check_pixel_range("pixel_range", (-1.0, 1.0)) == (-1.0, 1.0)
    for value, error in [((1.0, 1.0), ValueError), ((0.0, math.inf), ValueError), ((0.0, 1e6), ValueError),
                         ("01", TypeError), ((0.0,), TypeError), (("0", "1"), TypeError)]:  # fmt: skip
        with pytest.raises(error, match="`pixel_range`"):
            validation.check_pixel_range("pixel_range", value)


def test_check_images_returns_float32_within_the_range():
    images = validation.check_images("images", np.full((2, 3, 3), 255, dtype=np.uint8), (0.0, 255.0))
    assert images.dtype == np.float32 and images.shape == (2, 3, 3)
    assert validation.check_images("image", np.zeros((4, 4, 3)), (0.0, 1.0), rank=3).shape == (4, 4, 3)
    cases = [
        (np.array([[0.5, 1.5]]), ValueError, r"`images` to hold values in \[0, 1\]. Received: images with values in \[0.5, 1.5\]"),
        (np.array([[0.5, np.nan]]), ValueError, "`images` to hold finite values"),
        (np.zeros(3), ValueError, r"a batch of 2 to 5 axes.*shape \(3,\)"),
        (np.zeros((0, 3)), ValueError, "non-empty"),
        (np.zeros((2, 2), dtype=bool), TypeError, "array of real numbers"),
        (np.zeros((2, 2), dtype=complex), TypeError, "array of real numbers"),
        ([[0.1], [0.2, 0.3]], TypeError, "numeric array"),
    ]
    for value, error, match in cases:
        with pytest.raises(error, match=match):
            validation.check_images("images", value, (0.0, 1.0))
    with pytest.raises(ValueError, match="`image` to be a non-empty array of 3 axes"):
        validation.check_images("image", np.zeros((1, 4, 4, 3)), (0.0, 1.0), rank=3)


def test_check_labels():
    labels = validation.check_labels("labels", [0, 2, 1], count=3, classes=3)
    assert labels.dtype == np.int64 and labels.tolist() == [0, 2, 1]
    cases = [
        ([0.0, 1.0, 2.0], TypeError, "integer class indices"),
        ([True, False, True], TypeError, "integer class indices"),
        (["a", "b", "c"], TypeError, "integer class indices"),
        ([[0], [1], [2]], ValueError, r"shape \(3,\), one class per image. Received: labels with shape \(3, 1\)"),
        ([0, 1], ValueError, r"shape \(3,\)"),
        ([0, 1, 3], ValueError, r"classes in \[0, 3\). Received: labels with values in \[0, 3\]"),
        ([-1, 1, 2], ValueError, r"classes in \[0, 3\)"),
    ]
    for value, error, match in cases:
        with pytest.raises(error, match=match):
            validation.check_labels("labels", value, count=3, classes=3)


def test_check_array_returns_real_arrays_and_keeps_float32():
    assert validation.check_array("x", [1, 2, 3]).dtype == np.float64
    array = np.ones((2, 2), np.float32)
    assert validation.check_array("x", array, ndim=2).dtype == np.float32
    assert validation.check_array("labels", [1, 2], dtype="integer").dtype == np.int64
    assert validation.check_array("x", [], allow_empty=True).shape == (0,)
    assert np.isnan(validation.check_array("x", [np.nan], finite=False)).all()


@pytest.mark.parametrize(
    "value, kwargs, error, message",
    [("abc", {}, TypeError, "numeric array. Received: x='abc'"),
     (np.array(["a", "b"]), {}, TypeError, "real numbers. Received: x of dtype <U1"),
     (np.ones(3) + 1j, {}, TypeError, "real numbers. Received: x of dtype complex128"),
     (np.ones(3, bool), {}, TypeError, "real numbers. Received: x of dtype bool"),
     ([[1.0, 2.0], [3.0]], {}, TypeError, "numeric array"),
     ([1.5], {"dtype": "integer"}, TypeError, "array of integers"),
     (np.zeros((2, 0)), {}, ValueError, r"non-empty. Received: x with shape \(2, 0\)"),
     (np.ones(3), {"ndim": (2, 3)}, ValueError, r"2 or 3 axes. Received: x with shape \(3,\)"),
     ([1.0, np.inf], {}, ValueError, "finite values")],
)  # fmt: skip
def test_check_array_refuses_what_is_not_real_finite_data(value, kwargs, error, message):
    with pytest.raises(error, match=rf"Expected `x` to .*{message}"):
        validation.check_array("x", value, **kwargs)


def test_check_shape_and_check_callable_and_optional():
    assert validation.check_shape("size", [32, np.int64(32)], length=2) == (32, 32)
    for value, error in [(32, TypeError), ((32.0, 32), TypeError), ((True, 3), TypeError),
                         ((0, 3), ValueError), ((10**9, 3), ValueError), ((3,), ValueError)]:  # fmt: skip
        with pytest.raises(error, match=r"Expected `size` to be a tuple of 2 integers in \[1, 100000\]"):
            validation.check_shape("size", value, length=2)
    assert validation.check_callable("model", len) is len
    with pytest.raises(TypeError, match="Expected `model` to be callable.*Received: model='vgg'"):
        validation.check_callable("model", "vgg")
    assert validation.optional(validation.check_int, "steps", None, 1, 10) is None
    assert validation.optional(validation.check_int, "steps", 3, 1, 10) == 3
    with pytest.raises(ValueError, match="Received: steps=0"):
        validation.optional(validation.check_int, "steps", 0, 1, 10)


def test_bfloat16_outputs_of_mixed_precision_models_are_read_as_float32():
    import ml_dtypes

    outputs = np.ones((2, 3), dtype=ml_dtypes.bfloat16)  # model.predict under mixed_bfloat16
    assert validation.check_array("x", outputs).dtype == np.float32
    assert validation.check_images("x", outputs, (0.0, 1.0)).dtype == np.float32


def test_check_seed_and_check_path():
    assert validation.check_seed("seed", np.uint32(2**32 - 1)) == 2**32 - 1
    with pytest.raises(ValueError, match=r"Expected `seed` to be an integer in \[0, 4294967295\]"):
        validation.check_seed("seed", -1)
    assert str(validation.check_path("path", "a/b")) == "a/b"
    with pytest.raises(TypeError, match="Expected `path` to be a path.*Received: path=b'a'"):
        validation.check_path("path", b"a")
    for value in ("", "a\0b", "x" * 5000):
        with pytest.raises(ValueError, match="Expected `path` to be a path"):
            validation.check_path("path", value)
