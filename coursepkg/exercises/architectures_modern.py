"""Exercises of book/10_xception_mobilenet.ipynb, book/11_efficientnet.ipynb and book/12_convnext.ipynb.

Every expected answer is computed here by reference code, never typed in by
hand: the costs of a standard and a depthwise separable convolution by
:func:`coursepkg.models.separable_conv_cost`, the multipliers of compound
scaling by :func:`coursepkg.models.compound_scaling`, and the parameters of a
ConvNeXt block or network by building it with :func:`coursepkg.models.convnext_block`
and :func:`coursepkg.models.convnext` in Keras.
``tests/test_exercises_architectures_modern.py`` checks every reference against
layers that Keras builds (or, for the multipliers, against NumPy).

Feedback says whether a number is too large or too small, never by how much,
so that it cannot be turned into the answer.
"""

from __future__ import annotations

import functools

import numpy as np

from coursepkg.checking import compare_integer, compare_number, describe, exercise

XCEPTION_CHAPTER = "book/10_xception_mobilenet.ipynb"
EFFICIENTNET_CHAPTER = "book/11_efficientnet.ipynb"
CONVNEXT_CHAPTER = "book/12_convnext.ipynb"

REAL_TOLERANCE = 5e-3  # relative tolerance of real-valued answers: three significant digits suffice


def _compare_real(received, expected: float, what: str) -> list[str]:
    """Like :func:`compare_number`, but the message gives only the direction, not the distance."""
    problems = compare_number(received, expected, what, rel_tol=REAL_TOLERANCE)
    return [problem.split(" (off by")[0] for problem in problems]


def _as_sequence(answer, length: int, what: str) -> tuple[list, list[str]]:
    """(items, problems): the answer as a list of ``length`` items, or the problem with its shape."""
    if isinstance(answer, np.ndarray):
        answer = answer.tolist()
    if not isinstance(answer, (tuple, list)) or len(answer) != length:
        return [], [f"the answer should be {what}; received {describe(answer)}"]
    return list(answer), []


# --------------------------------------------------------------------------- xception.separable_params

SEPARABLE_INPUT = (32, 32, 128)  # (height, width, channels) entering the layer
SEPARABLE_FILTERS = 256  # output channels
SEPARABLE_KERNEL = 3  # kernel height and width


def separable_params(
    input_shape=SEPARABLE_INPUT, filters=SEPARABLE_FILTERS, kernel_size=SEPARABLE_KERNEL
) -> tuple[int, int]:
    """Weights of a standard Conv2D and of a SeparableConv2D, both without biases."""
    from coursepkg.models import separable_conv_cost

    standard, separable = separable_conv_cost(input_shape, filters, kernel_size, use_bias=False)
    return standard.parameters, separable.parameters


@exercise(
    "xception.separable_params",
    XCEPTION_CHAPTER,
    hint=(
        "A standard k x k convolution has one k x k x M kernel per output channel. The "
        "separable one has one k x k filter per input channel (depthwise), then a 1x1 "
        "convolution from M to N channels (pointwise). No biases here; the image size does "
        "not enter."
    ),
)
def _separable_params(answer):
    items, problems = _as_sequence(answer, 2, "a pair (standard, separable)")
    if problems:
        return problems
    standard, separable = separable_params()
    return compare_integer(
        items[0], standard, "the standard convolution's weights"
    ) + compare_integer(items[1], separable, "the separable convolution's weights")


# --------------------------------------------------------------------------- xception.cost_ratio

RATIO_INPUT = (28, 28, 64)  # (height, width, channels) entering the layer
RATIO_FILTERS = 128  # output channels
RATIO_KERNEL = 5  # kernel height and width ("same" padding, stride 1)


def cost_ratio(input_shape=RATIO_INPUT, filters=RATIO_FILTERS, kernel_size=RATIO_KERNEL) -> float:
    """How many times fewer multiplications the separable convolution needs than the standard one."""
    from coursepkg.models import separable_conv_cost

    standard, separable = separable_conv_cost(input_shape, filters, kernel_size)
    return standard.multiplications / separable.multiplications


@exercise(
    "xception.cost_ratio",
    XCEPTION_CHAPTER,
    hint=(
        "Divide the standard convolution's multiplications by the separable one's. The "
        "separable cost over the standard cost is 1/N + 1/k^2, with N the output channels and "
        "k the kernel size; the answer is the inverse of that (a number above 1)."
    ),
)
def _cost_ratio(answer):
    return _compare_real(answer, cost_ratio(), "the ratio of multiplications")


# --------------------------------------------------------------------------- efficientnet.multipliers

MULTIPLIERS_PHI = 2.5  # compound coefficient of the exercise (phi need not be a whole number)


def multipliers(phi=MULTIPLIERS_PHI) -> tuple[float, float, float]:
    """(depth, width, resolution) multipliers of compound scaling with the paper's bases."""
    from coursepkg.models import compound_scaling

    factors = compound_scaling(phi)
    return factors.depth, factors.width, factors.resolution


@exercise(
    "efficientnet.multipliers",
    EFFICIENTNET_CHAPTER,
    hint=(
        "Depth is multiplied by alpha**phi, width by beta**phi and resolution by gamma**phi, "
        "with the bases found by the grid search: alpha = 1.2, beta = 1.1, gamma = 1.15."
    ),
)
def _multipliers(answer):
    items, problems = _as_sequence(answer, 3, "a tuple (depth, width, resolution)")
    if problems:
        return problems
    for received, expected, name in zip(items, multipliers(), ("depth", "width", "resolution")):
        problems += _compare_real(received, expected, f"the {name} multiplier")
    return problems


# --------------------------------------------------------------------------- efficientnet.flops_factor

FLOPS_PHI = 4.5  # compound coefficient of the exercise


def flops_factor(phi=FLOPS_PHI) -> float:
    """How many times more multiplications the network needs after compound scaling by ``phi``."""
    from coursepkg.models import compound_scaling

    return compound_scaling(phi).flops


@exercise(
    "efficientnet.flops_factor",
    EFFICIENTNET_CHAPTER,
    hint=(
        "The cost grows like depth x width^2 x resolution^2, so each step of phi multiplies it "
        "by alpha * beta**2 * gamma**2. That product is close to 2 but not equal to it: use the "
        "exact bases, 1.2, 1.1 and 1.15."
    ),
)
def _flops_factor(answer):
    return _compare_real(answer, flops_factor(), "the factor")


# --------------------------------------------------------------------------- convnext.block_params

BLOCK_DIM = 384  # channels of the block (the third stage of ConvNeXt-T)


def convnext_block_params(dim=BLOCK_DIM) -> int:
    """Parameters of one ConvNeXt block, layer scale included, counted by Keras."""
    import keras

    from coursepkg.models import convnext_block

    inputs = keras.Input((14, 14, dim))
    return keras.Model(inputs, convnext_block(inputs, dim, name="reference")).count_params()


@exercise(
    "convnext.block_params",
    CONVNEXT_CHAPTER,
    hint=(
        "Five layers have parameters: the 7x7 depthwise convolution (one 7x7 filter and one "
        "bias per channel), the LayerNorm (a scale and an offset per channel), the 1x1 "
        "convolution from d to 4d channels and the one from 4d back to d (weights and biases), "
        "and the layer scale (one number per channel)."
    ),
)
def _block_params(answer):
    return compare_integer(answer, convnext_block_params(), "the number of parameters")


# --------------------------------------------------------------------------- convnext.model_params

MODEL_DEPTHS = (2, 2, 2, 2)  # blocks per stage
MODEL_DIMS = (24, 48, 96, 192)  # channels per stage
MODEL_INPUT = (32, 32, 3)  # a CIFAR-10 image
MODEL_CLASSES = 10


@functools.lru_cache(maxsize=8)  # building the model takes seconds; checks ask for it again
def convnext_model_params(
    depths=MODEL_DEPTHS, dims=MODEL_DIMS, input_shape=MODEL_INPUT, num_classes=MODEL_CLASSES
) -> int:
    """Parameters of a small ConvNeXt classifier, counted by Keras."""
    from coursepkg.models import convnext

    model = convnext(depths, dims, input_shape=input_shape, num_classes=num_classes)
    return model.count_params()


@exercise(
    "convnext.model_params",
    CONVNEXT_CHAPTER,
    hint=(
        "Add up: the stem (a 4x4 convolution from 3 channels, with biases, then a LayerNorm); "
        "every block (the formula of the previous exercise with its stage's d); the three "
        "downsampling layers (a LayerNorm on the previous stage's channels, then a 2x2 "
        "convolution with biases); and the head (a LayerNorm on the last stage's channels and "
        "a dense layer to the classes). The input normalisation has no parameters."
    ),
)
def _model_params(answer):
    return compare_integer(answer, convnext_model_params(), "the number of parameters")
