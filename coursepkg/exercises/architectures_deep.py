"""Exercises of book/08_nin_googlenet.ipynb and book/09_resnet.ipynb.

Every expected answer is computed here by reference code, never typed in by
hand: multiplication counts by :func:`coursepkg.models.conv_multiplications`,
parameter counts by :func:`coursepkg.convolution.conv2d_params` over the
filters of the paper's table (``coursepkg.models.googlenet.INCEPTION_V1_FILTERS``),
output sizes by :func:`coursepkg.convolution.conv_output_size`, and the
residual block a student writes is compared with the course's own builder,
:func:`coursepkg.models.basic_block`, built in Keras.
``tests/test_exercises_architectures_deep.py`` checks every reference against
layers that Keras builds.
"""

from __future__ import annotations

import numpy as np

from coursepkg.checking import (
    NotAnswered,
    compare_integer,
    describe,
    exercise,
    raise_if_not_answered,
)
from coursepkg.convolution import conv2d_params, conv_output_size

GOOGLENET_CHAPTER = "book/08_nin_googlenet.ipynb"
RESNET_CHAPTER = "book/09_resnet.ipynb"


def _inception_filters(module_name: str) -> tuple[int, ...]:
    """(#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj) of a GoogLeNet module (table 1)."""
    from coursepkg.models.googlenet import INCEPTION_V1_FILTERS

    return INCEPTION_V1_FILTERS[module_name]


def _shape_problems(answer, expected: tuple[int, ...]) -> list[str]:
    """Problems with a (height, width, channels) answer; Keras's (None, h, w, c) is accepted."""
    if isinstance(answer, np.ndarray):
        answer = answer.tolist()
    if not isinstance(answer, (tuple, list)):
        return [
            f"the shape should be a tuple (height, width, channels); received {describe(answer)}"
        ]
    answer = tuple(answer)
    if len(answer) == 4 and answer[0] is None:
        answer = answer[1:]
    if len(answer) != 3:
        return [
            "the shape should have 3 entries (height, width, channels), without the batch "
            f"dimension; received {len(answer)} entries"
        ]
    problems = []
    for name, received, correct in zip(("height", "width", "channels"), answer, expected):
        problems += compare_integer(received, correct, f"the {name}")
    return problems


# --------------------------------------------------------------------------- googlenet.reduced_multiplications

# The 3x3 branch of module 4a: a 14x14x480 input, 96 1x1 filters, then 208 3x3 filters.
BRANCH_MODULE = "4a"
BRANCH_INPUT = (14, 14, 480)  # (height, width, channels) entering module 4a


def reduced_3x3_multiplications(input_shape=BRANCH_INPUT, module_name=BRANCH_MODULE) -> int:
    """Multiplications of a module's 3x3 branch: the 1x1 reduction, then the 3x3 convolution."""
    from coursepkg.models import conv_multiplications

    _, reduce_3x3, filters_3x3, _, _, _ = _inception_filters(module_name)
    return conv_multiplications(input_shape, filters_3x3, 3, reduce_filters=reduce_3x3)


@exercise(
    "googlenet.reduced_multiplications",
    GOOGLENET_CHAPTER,
    hint=(
        "Count the two convolutions of the branch separately and add them. A convolution with "
        "'same' padding costs height x width x filters x (k x k x input channels) "
        "multiplications; the 3x3 convolution's input channels are the 1x1 layer's filters, "
        "not the module's input channels."
    ),
)
def _reduced_multiplications(answer):
    return compare_integer(answer, reduced_3x3_multiplications(), "the number of multiplications")


# --------------------------------------------------------------------------- googlenet.one_by_one_params

# The first 1x1 layer of NiN's second mlpconv block: 192 channels in, 192 filters out.
ONE_BY_ONE_CHANNELS = 192  # input channels
ONE_BY_ONE_FILTERS = 192  # 1x1 filters


def one_by_one_params(channels=ONE_BY_ONE_CHANNELS, filters=ONE_BY_ONE_FILTERS) -> int:
    """Parameters of a 1x1 Conv2D with biases."""
    return conv2d_params(channels, filters, 1)


@exercise(
    "googlenet.one_by_one_params",
    GOOGLENET_CHAPTER,
    hint=(
        "A 1x1 convolution is a dense layer applied at every pixel: each filter has one weight "
        "per input channel, plus a bias. The size of the image does not enter."
    ),
)
def _one_by_one_params(answer):
    return compare_integer(answer, one_by_one_params(), "the number of parameters")


# --------------------------------------------------------------------------- googlenet.module_params

MODULE_NAME = "4a"  # GoogLeNet's module 4a
MODULE_INPUT_CHANNELS = 480  # channels of the 14x14 maps entering it (the output of module 3b)


def inception_module_params(input_channels=MODULE_INPUT_CHANNELS, module_name=MODULE_NAME) -> int:
    """Parameters of an Inception module with dimension reduction (all convolutions with biases)."""
    f1, reduce_3x3, f3, reduce_5x5, f5, pool_proj = _inception_filters(module_name)
    return (
        conv2d_params(input_channels, f1, 1)  # 1x1 branch
        + conv2d_params(input_channels, reduce_3x3, 1)  # 3x3 branch: reduction ...
        + conv2d_params(reduce_3x3, f3, 3)  # ... then 3x3
        + conv2d_params(input_channels, reduce_5x5, 1)  # 5x5 branch: reduction ...
        + conv2d_params(reduce_5x5, f5, 5)  # ... then 5x5
        + conv2d_params(input_channels, pool_proj, 1)  # pooling branch: max pooling, then 1x1
    )


@exercise(
    "googlenet.module_params",
    GOOGLENET_CHAPTER,
    hint=(
        "Six convolutions have parameters: three 1x1 layers that read the module's input, the "
        "3x3 and 5x5 layers that read the reduced maps, and the 1x1 projection after the "
        "pooling (which reads all the input channels; the pooling itself has none). Each has "
        "filters x (k x k x input channels + 1)."
    ),
)
def _module_params(answer):
    return compare_integer(answer, inception_module_params(), "the number of parameters")


# --------------------------------------------------------------------------- resnet.block_weights

BLOCK_CHANNELS = 256  # channels entering and leaving both blocks
BOTTLENECK_FILTERS = 64  # channels inside the bottleneck (256 -> 64 -> 64 -> 256)


def block_weights(channels=BLOCK_CHANNELS, bottleneck=BOTTLENECK_FILTERS) -> tuple[int, int]:
    """Convolution weights (no biases, no batch normalisation) of a basic and a bottleneck block.

    Both blocks keep ``channels`` channels and have an identity shortcut, so
    only their convolutions hold weights: two 3x3 layers for the basic block,
    1x1 down to ``bottleneck``, 3x3, 1x1 back up for the bottleneck.
    """
    basic = 2 * conv2d_params(channels, channels, 3, use_bias=False)
    reduced = (
        conv2d_params(channels, bottleneck, 1, use_bias=False)
        + conv2d_params(bottleneck, bottleneck, 3, use_bias=False)
        + conv2d_params(bottleneck, channels, 1, use_bias=False)
    )
    return basic, reduced


@exercise(
    "resnet.block_weights",
    RESNET_CHAPTER,
    hint=(
        "Count only convolution weights, k x k x input channels x filters per layer. The basic "
        "block has two 3x3 layers from 256 to 256 channels; the bottleneck has 1x1 from 256 to "
        "64, 3x3 from 64 to 64 and 1x1 from 64 to 256."
    ),
)
def _block_weights(answer):
    if isinstance(answer, np.ndarray):
        answer = answer.tolist()
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return [f"the answer should be a pair (basic, bottleneck); received {describe(answer)}"]
    basic, reduced = block_weights()
    return compare_integer(answer[0], basic, "the basic block's weights") + compare_integer(
        answer[1], reduced, "the bottleneck block's weights"
    )


# --------------------------------------------------------------------------- resnet.stage_shape

STAGE_INPUT = (100, 100, 3)  # (height, width, channels) of the image fed to ResNet-18
STAGE_LAYER = "conv4_block2_out"  # the last block of stage conv4
STAGE_FILTERS = (64, 128, 256, 512)  # channels of the stages conv2 to conv5


def resnet18_stage_shape(input_shape=STAGE_INPUT, stage=4) -> tuple[int, int, int]:
    """(height, width, channels) at the end of stage ``conv{stage}`` of ResNet-18.

    The stem pads 3 pixels and applies a 7x7 convolution of stride 2, then pads 1
    pixel and applies a 3x3 max pooling of stride 2; the first block of every
    stage after conv2 halves the size with a stride-2 convolution ("same" padding).
    """
    height, width, _ = input_shape
    sizes = []
    for size in (height, width):
        size = conv_output_size(size, 7, stride=2, padding=3)  # conv1
        size = conv_output_size(size, 3, stride=2, padding=1)  # pool1
        for _ in range(3, stage + 1):  # conv3, conv4, ...: one halving each
            size = conv_output_size(size, 3, stride=2, padding="same")
        sizes.append(size)
    return sizes[0], sizes[1], STAGE_FILTERS[stage - 2]


@exercise(
    "resnet.stage_shape",
    RESNET_CHAPTER,
    hint=(
        "Follow the height: the stem's 7x7 stride-2 convolution (3 pixels of padding) and its "
        "3x3 stride-2 pooling (1 pixel of padding) use floor((n + 2p - k) / s) + 1; stage conv2 "
        "keeps the size, and conv3 and conv4 each start with a stride-2 'same' convolution, "
        "ceil(n / 2). The channels are the stage's filters."
    ),
)
def _stage_shape(answer):
    return _shape_problems(answer, resnet18_stage_shape())


# --------------------------------------------------------------------------- resnet.residual_block

# (input shape, filters, strides) on which the student's block is built; the first keeps the
# shape (identity shortcut), the others change it (1x1 projection shortcut).
BLOCK_CASES = (
    ((16, 16, 16), 16, 1),
    ((16, 16, 16), 32, 2),
    ((9, 9, 8), 8, 2),
)


def _describe_case(input_shape, filters, strides) -> str:
    return f"an input of shape {input_shape} with filters={filters}, strides={strides}"


def _built(block, input_shape, filters, strides):
    """A Keras model wrapping ``block(inputs, filters, strides)``."""
    import keras

    inputs = keras.Input(shape=input_shape)
    outputs = block(inputs, filters, strides)
    raise_if_not_answered(outputs, "residual_block")
    return keras.Model(inputs, outputs)


def reference_block(inputs, filters, strides):
    """The reference: :func:`coursepkg.models.basic_block` with a projection shortcut."""
    from coursepkg.models import basic_block

    return basic_block(inputs, filters, strides=strides, shortcut="B", name="reference")


def _passes_identity(model, input_shape) -> bool:
    """With every convolution weight set to zero, the block should return relu(x)."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            layer.set_weights([np.zeros_like(weight) for weight in layer.get_weights()])
    x = np.random.default_rng(0).normal(size=(2, *input_shape)).astype("float32")
    output = keras.ops.convert_to_numpy(model(x, training=False))
    return output.shape == x.shape and np.allclose(output, np.maximum(x, 0.0), atol=1e-5)


@exercise(
    "resnet.residual_block",
    RESNET_CHAPTER,
    hint=(
        "Residual branch: Conv2D(filters, 3, strides, padding='same', use_bias=False), "
        "BatchNormalization, ReLU, Conv2D(filters, 3, padding='same', use_bias=False), "
        "BatchNormalization. Shortcut: the input itself when the shape does not change, "
        "otherwise Conv2D(filters, 1, strides, use_bias=False) and BatchNormalization. "
        "Add the two, then apply a ReLU."
    ),
)
def _residual_block(answer):
    if not callable(answer):
        return [f"residual_block should be a function; received {describe(answer)}"]
    for input_shape, filters, strides in BLOCK_CASES:
        case = _describe_case(input_shape, filters, strides)
        try:
            model = _built(answer, input_shape, filters, strides)
        except NotAnswered:
            raise
        except Exception as error:
            return [f"building your block on {case} raised {type(error).__name__}: {error}"]
        expected = _built(reference_block, input_shape, filters, strides)
        expected_shape = tuple(expected.output.shape[1:])
        received_shape = tuple(model.output.shape[1:]) if hasattr(model.output, "shape") else None
        if received_shape != expected_shape:
            return [
                f"on {case} your block returns shape {received_shape}; expected {expected_shape}"
            ]
        problems = compare_integer(
            model.count_params(), expected.count_params(), f"the parameters of your block on {case}"
        )
        if problems:
            return problems
        if input_shape[-1] == filters and strides == 1 and not _passes_identity(model, input_shape):
            return [
                f"on {case}, with every convolution weight set to zero your block does not return "
                "relu(input): the input is not added back through an identity shortcut"
            ]
    return []
