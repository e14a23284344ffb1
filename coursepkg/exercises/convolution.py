"""Exercises of book/01_convolution.ipynb."""

from __future__ import annotations

import numpy as np

from coursepkg.checking import compare_array, compare_function, compare_integer, exercise
from coursepkg.convolution import conv2d_params, conv_output_size, correlate2d, receptive_field

CHAPTER = "book/01_convolution.ipynb"


@exercise(
    "convolution.output_size",
    CHAPTER,
    hint="Use floor((n + 2p - k) / s) + 1 with n=32, k=5, s=2, p=1.",
)
def _output_size(answer):
    return compare_integer(answer, conv_output_size(32, 5, stride=2, padding=1), "the output width")


@exercise(
    "convolution.param_count",
    CHAPTER,
    hint="Each filter spans every input channel and has one bias: filters x (k x k x channels + 1).",
)
def _param_count(answer):
    return compare_integer(answer, conv2d_params(8, 16, 5), "the number of parameters")


@exercise(
    "convolution.one_by_one",
    CHAPTER,
    hint="A 1x1 filter still reads every input channel; do not forget the biases.",
)
def _one_by_one(answer):
    return compare_integer(answer, conv2d_params(256, 64, 1), "the number of parameters")


@exercise(
    "convolution.receptive_field",
    CHAPTER,
    hint="Each extra 3x3 layer (stride 1) widens the receptive field by 2 pixels.",
)
def _receptive_field(answer):
    problems = compare_integer(answer, 5, "the number of 3x3 layers")
    if not problems and receptive_field([3] * int(answer)) != 11:  # guards the constant above
        return ["internal error: the reference receptive field is not 11"]
    return problems


def _correlation_cases(seed: int = 0):
    rng = np.random.default_rng(seed)
    return [
        ((rng.normal(size=(5, 5)), rng.normal(size=(3, 3))), "a 5x5 image and a 3x3 kernel"),
        ((rng.normal(size=(6, 9)), rng.normal(size=(3, 3))), "a 6x9 (non-square) image and a 3x3 kernel"),
        ((rng.normal(size=(8, 7)), rng.normal(size=(2, 4))), "an 8x7 image and a 2x4 (non-square) kernel"),
        ((rng.normal(size=(4, 4)), rng.normal(size=(4, 4))), "a 4x4 image and a 4x4 kernel (one output pixel)"),
    ]


@exercise(
    "convolution.correlate2d",
    CHAPTER,
    hint=(
        "The 'valid' output has shape (H - kh + 1, W - kw + 1); out[i, j] is the sum of "
        "image[i:i+kh, j:j+kw] * kernel. Do not flip the kernel."
    ),
)
def _correlate2d(answer):
    return compare_function(answer, correlate2d, _correlation_cases(), "your correlate2d")


@exercise(
    "convolution.shift_kernel",
    CHAPTER,
    hint=(
        "With 'same' padding out[i, j] = sum_k,l image[i + k - 1, j + l - 1] * K[k, l]; "
        "which single weight copies image[i, j - 1]?"
    ),
)
def _shift_kernel(answer):
    kernel = np.asarray(answer, dtype=np.float64) if not callable(answer) else answer
    if not isinstance(kernel, np.ndarray) or kernel.shape != (3, 3) or not np.isfinite(kernel).all():
        return compare_array(answer, np.zeros((3, 3)), "your kernel")  # says what is wrong with it
    image = np.random.default_rng(1).normal(size=(6, 8))
    shifted = np.zeros_like(image)
    shifted[:, 1:] = image[:, :-1]  # every pixel moves one step to the right
    return compare_array(
        correlate2d(image, kernel, padding="same"), shifted, "the image filtered by your kernel"
    )
