"""Exercises of book/17_style_transfer.ipynb.

Every expected answer comes from the package's own functions, which
``tests/test_style.py`` checks against direct NumPy computations: the Gram
matrix by :func:`coursepkg.style.gram_matrix`, Gatys's style loss of one layer
by :func:`coursepkg.style.style_loss`, the total variation by
:func:`coursepkg.style.total_variation_loss` and the octave sizes by
:func:`coursepkg.style.octave_sizes`. The ratio of the keras-io and Gatys
normalisations is the module table's formula, which
``tests/test_exercises_style.py`` checks against the two losses computed on
feature maps of that shape.
"""

from __future__ import annotations

import numpy as np

from coursepkg.checking import (
    compare_array,
    compare_function,
    compare_number,
    compare_scalar_function,
    describe,
    exercise,
)

CHAPTER = "book/17_style_transfer.ipynb"


def _numpy(tensor) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(tensor), dtype=np.float64)


def _maps(seed: int, shape) -> np.ndarray:
    """Non-negative feature maps, as after a ReLU (about half of them zero)."""
    return np.maximum(np.random.default_rng(seed).normal(size=shape), 0.0).astype(np.float32)


# --------------------------------------------------------------------------- style.gram_matrix


def gatys_gram(features) -> np.ndarray:
    """Gatys's Gram matrix ``F^T F`` of one image's feature maps ``(height, width, channels)``."""
    from coursepkg.style import gram_matrix

    return _numpy(gram_matrix(np.asarray(features, dtype=np.float32)[np.newaxis], "gatys"))[0]


GRAM_CASES = [
    ((_maps(0, (4, 5, 3)),), "4x5 feature maps of 3 channels"),
    ((_maps(1, (8, 8, 16)),), "8x8 feature maps of 16 channels"),
    ((_maps(2, (1, 7, 2)),), "a single row of 7 locations, 2 channels"),
    ((np.ones((3, 3, 4), dtype=np.float32),), "constant 3x3 maps of 4 channels"),
]


@exercise(
    "style.gram_matrix",
    CHAPTER,
    hint=(
        "Reshape the (height, width, channels) maps into F of shape (locations, channels), "
        "one row per location, then G = F.T @ F: entry (i, j) sums, over all locations, the "
        "product of channel i and channel j."
    ),
)
def _gram_matrix(answer):
    return compare_function(answer, gatys_gram, GRAM_CASES, "your gram_matrix", rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------------- style.layer_style_loss


def gatys_layer_style_loss(style_features, generated_features) -> float:
    """``E_l = sum (G - A)^2 / (4 N^2 M^2)`` of Gatys et al., for maps of the same size."""
    from coursepkg.style import style_loss

    style = np.asarray(style_features, dtype=np.float32)[np.newaxis]
    generated = np.asarray(generated_features, dtype=np.float32)[np.newaxis]
    return float(_numpy(style_loss(style, generated, "gatys")))


STYLE_CASES = [
    ((_maps(3, (4, 5, 3)), _maps(4, (4, 5, 3))), "two 4x5 maps of 3 channels"),
    ((_maps(5, (8, 8, 16)), _maps(6, (8, 8, 16))), "two 8x8 maps of 16 channels"),
    ((_maps(7, (6, 2, 5)), _maps(7, (6, 2, 5))), "a map and itself (the loss is 0)"),
    ((_maps(8, (3, 3, 1)), 2.0 * _maps(8, (3, 3, 1))), "a single channel and its double"),
]


@exercise(
    "style.layer_style_loss",
    CHAPTER,
    hint=(
        "N is the number of channels and M = height * width the number of locations. Compute "
        "the two Gram matrices A (style) and G (generated) as in the previous exercise, then "
        "sum the squared differences of their entries and divide by 4 N^2 M^2."
    ),
)
def _layer_style_loss(answer):
    return compare_scalar_function(
        answer, gatys_layer_style_loss, STYLE_CASES, "your layer_style_loss", rel_tol=1e-4, abs_tol=1e-7
    )


# --------------------------------------------------------------------------- style.keras_io_factor

FACTOR_IMAGE = (256, 256)  # pixels of the generated image
FACTOR_MAPS = (64, 64, 256)  # VGG's block3_conv1 on it: 64x64 locations, 256 channels


def keras_io_over_gatys(image=FACTOR_IMAGE, maps=FACTOR_MAPS) -> float:
    """keras-io's style loss of one layer divided by Gatys's: ``N^2 M^2 / (C^2 S^2)`` with ``C = 3``."""
    from coursepkg.style import KERAS_IO_CHANNELS

    channels = maps[2]
    locations = maps[0] * maps[1]
    pixels = image[0] * image[1]
    return (channels * locations) ** 2 / (KERAS_IO_CHANNELS * pixels) ** 2


@exercise(
    "style.keras_io_factor",
    CHAPTER,
    hint=(
        "Both losses sum the same squared differences of Gram matrices; only the divisor "
        "differs: Gatys divides by 4 N^2 M^2 (this layer's channels and locations), keras-io by "
        "4 C^2 S^2 with C = 3 and S the number of pixels of the image. Divide one by the other."
    ),
)
def _keras_io_factor(answer):
    return compare_number(answer, keras_io_over_gatys(), "the factor", rel_tol=1e-3)


# --------------------------------------------------------------------------- style.total_variation


def anisotropic_total_variation(image) -> float:
    """``sum |x[i+1, j] - x[i, j]| + sum |x[i, j+1] - x[i, j]|`` of one ``(height, width, channels)`` image."""
    from coursepkg.style import total_variation_loss

    return float(_numpy(total_variation_loss(np.asarray(image, dtype=np.float32)[np.newaxis], "anisotropic")))


def _total_variation_cases():
    rng = np.random.default_rng(9)
    stripes = np.zeros((6, 6, 3), dtype=np.float32)
    stripes[:, ::2] = 1.0  # vertical stripes: every horizontal neighbour differs by 1
    return [
        ((rng.random((5, 7, 3), dtype=np.float32),), "a random 5x7 RGB image"),
        ((np.full((4, 4, 3), 0.3, dtype=np.float32),), "a constant image (0)"),
        ((stripes,), "vertical stripes one pixel wide"),
        ((rng.random((1, 9, 1), dtype=np.float32),), "a single row of 9 grey pixels"),
    ]


@exercise(
    "style.total_variation",
    CHAPTER,
    hint=(
        "Two sums of absolute differences between neighbours: image[1:, :, :] - image[:-1, :, :] "
        "(each pixel and the one below it) and image[:, 1:, :] - image[:, :-1, :] (each pixel "
        "and the one to its right), over all channels."
    ),
)
def _total_variation(answer):
    return compare_scalar_function(
        answer, anisotropic_total_variation, _total_variation_cases(), "your total_variation",
        rel_tol=1e-4, abs_tol=1e-5,
    )  # fmt: skip


# --------------------------------------------------------------------------- style.octave_sizes

OCTAVE_IMAGE = (300, 400)  # (height, width) of the photograph
OCTAVES = 4  # Mordvintsev et al.'s number of octaves
OCTAVE_SCALE = 1.4  # and their scale


def expected_octave_sizes() -> list[tuple[int, int]]:
    from coursepkg.style import octave_sizes

    return octave_sizes(OCTAVE_IMAGE, OCTAVES, OCTAVE_SCALE)


@exercise(
    "style.octave_sizes",
    CHAPTER,
    hint=(
        "Octave k, counted back from the last, divides both sides by 1.4 ** k and rounds to "
        "whole pixels (round, not int). List them from the smallest (k = 3) to the image's own "
        "size (k = 0)."
    ),
)
def _octave_sizes(answer):
    expected = expected_octave_sizes()
    if isinstance(answer, np.ndarray):
        answer = answer.tolist()
    if not isinstance(answer, (list, tuple)) or len(answer) != len(expected):
        return [f"the answer should be a list of {len(expected)} pairs (height, width); received {describe(answer)}"]
    if any(np.shape(size) != (2,) for size in answer):
        return ["every size should be a pair (height, width)"]
    order = "" if tuple(answer[-1]) == expected[-1] else " (the list should end with the image's own size)"
    problems = compare_array(answer, np.array(expected), "the octave sizes", rtol=0.0, atol=0.0)
    return [problem + order for problem in problems]
