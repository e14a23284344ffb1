"""The exercises of book/08_nin_googlenet.ipynb and book/09_resnet.ipynb: references checked
against layers Keras builds, right answers pass, wrong answers fail without giving the answer away."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from coursepkg.checking import evaluate, exercises
from coursepkg.exercises import architectures_deep as deep

GOOGLENET_IDS = (
    "googlenet.reduced_multiplications",
    "googlenet.one_by_one_params",
    "googlenet.module_params",
)
RESNET_IDS = ("resnet.block_weights", "resnet.stage_shape", "resnet.residual_block")
NUMBER_IDS = GOOGLENET_IDS + ("resnet.block_weights", "resnet.stage_shape")


def feedback_text(result) -> str:
    return " ".join(result.problems) + " " + result.feedback()


# --------------------------------------------------------------------------- Keras references


@functools.lru_cache(maxsize=1)
def keras_reduced_branch_multiplications() -> int:
    """Multiplications of module 4a's 3x3 branch, from the kernels and outputs of Keras layers."""
    import keras

    _, reduce_3x3, filters_3x3, _, _, _ = deep._inception_filters(deep.BRANCH_MODULE)
    inputs = keras.Input(deep.BRANCH_INPUT)
    reduction = keras.layers.Conv2D(reduce_3x3, 1)
    convolution = keras.layers.Conv2D(filters_3x3, 3, padding="same")
    outputs = convolution(reduction(inputs))
    total = 0
    for layer, output in ((reduction, reduction.output), (convolution, outputs)):
        kernel_height, kernel_width, channels, _ = layer.kernel.shape
        total += int(np.prod(output.shape[1:])) * kernel_height * kernel_width * channels
    return total


@functools.lru_cache(maxsize=1)
def keras_module_params() -> int:
    import keras

    from coursepkg.models import inception_module

    inputs = keras.Input((14, 14, deep.MODULE_INPUT_CHANNELS))
    outputs = inception_module(inputs, *deep._inception_filters(deep.MODULE_NAME), name="m")
    return keras.Model(inputs, outputs).count_params()


@functools.lru_cache(maxsize=1)
def keras_one_by_one_params() -> int:
    import keras

    layer = keras.layers.Conv2D(deep.ONE_BY_ONE_FILTERS, 1)
    layer.build((None, 8, 8, deep.ONE_BY_ONE_CHANNELS))
    return layer.count_params()


@functools.lru_cache(maxsize=1)
def keras_block_weights() -> tuple[int, int]:
    """Convolution kernels of the course's basic and bottleneck blocks, built by Keras."""
    import keras

    from coursepkg.models import basic_block, bottleneck_block

    counts = []
    for block, filters in (
        (basic_block, deep.BLOCK_CHANNELS),
        (bottleneck_block, deep.BOTTLENECK_FILTERS),
    ):
        inputs = keras.Input((8, 8, deep.BLOCK_CHANNELS))
        model = keras.Model(inputs, block(inputs, filters, use_bias=False, name="b"))
        counts.append(
            sum(
                layer.count_params()
                for layer in model.layers
                if isinstance(layer, keras.layers.Conv2D)
            )
        )
    return tuple(counts)


@functools.lru_cache(maxsize=1)
def keras_stage_shape() -> tuple[int, int, int]:
    from coursepkg.models import resnet18

    model = resnet18(input_shape=deep.STAGE_INPUT, include_top=False)
    return tuple(model.get_layer(deep.STAGE_LAYER).output.shape[1:])


def test_the_chapters_register_their_exercises():
    googlenet = {item.id: item for item in exercises("googlenet")}
    resnet = {item.id: item for item in exercises("resnet")}
    assert set(googlenet) == set(GOOGLENET_IDS)
    assert set(resnet) == set(RESNET_IDS)
    assert {item.chapter for item in googlenet.values()} == {deep.GOOGLENET_CHAPTER}
    assert {item.chapter for item in resnet.values()} == {deep.RESNET_CHAPTER}


def test_reduced_multiplications_reference_matches_keras_layers():
    assert deep.reduced_3x3_multiplications() == keras_reduced_branch_multiplications()


def test_one_by_one_reference_matches_keras():
    assert deep.one_by_one_params() == keras_one_by_one_params()


def test_module_params_reference_matches_keras():
    assert deep.inception_module_params() == keras_module_params()


def test_block_weights_reference_matches_keras():
    assert deep.block_weights() == keras_block_weights()


def test_stage_shape_reference_matches_keras():
    assert deep.resnet18_stage_shape() == keras_stage_shape()


def test_the_reference_block_passes_its_own_identity_check():
    case = deep.BLOCK_CASES[0]
    assert deep._passes_identity(deep._built(deep.reference_block, *case), case[0])


# --------------------------------------------------------------------------- right answers pass


def student_block(x, filters, strides):
    """A residual block written from scratch with the functional API, as a student would."""
    import keras
    from keras import layers

    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False)(x)
        shortcut = layers.BatchNormalization()(shortcut)
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.Activation("relu")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    return keras.layers.ReLU()(layers.Add()([y, shortcut]))


@functools.cache  # computed once per process: collection and tests share it
def right_answers():
    return {
        "googlenet.reduced_multiplications": keras_reduced_branch_multiplications(),
        "googlenet.one_by_one_params": keras_one_by_one_params(),
        "googlenet.module_params": keras_module_params(),
        "resnet.block_weights": keras_block_weights(),
        "resnet.stage_shape": keras_stage_shape(),
        "resnet.residual_block": student_block,
    }


@pytest.mark.parametrize("exercise_id", GOOGLENET_IDS + RESNET_IDS)
def test_right_answer_passes(exercise_id):
    result = evaluate(exercise_id, right_answers()[exercise_id])
    assert result.passed, result.feedback()


def test_shape_and_pair_answers_accept_other_containers():
    height, width, channels = keras_stage_shape()
    assert evaluate("resnet.stage_shape", (None, height, width, channels)).passed
    assert evaluate("resnet.stage_shape", np.array([height, width, channels])).passed
    assert evaluate("resnet.block_weights", list(keras_block_weights())).passed
    assert evaluate("googlenet.module_params", float(keras_module_params())).passed


def test_unanswered_is_not_attempted():
    for exercise_id in GOOGLENET_IDS + RESNET_IDS:
        result = evaluate(exercise_id, ...)
        assert not result.passed and not result.attempted


def test_function_stub_of_the_notebook_is_not_attempted():
    def residual_block(x, filters, strides):
        return ...

    result = evaluate("resnet.residual_block", residual_block)
    assert not result.passed and not result.attempted


# --------------------------------------------------------------------------- wrong answers fail


def plain_block(x, filters, strides):
    """The residual branch alone: right shape and, on the identity case, right parameters."""
    from keras import layers

    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.Activation("relu")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    if strides == 1 and x.shape[-1] == filters:
        return layers.Activation("relu")(y)
    shortcut = layers.BatchNormalization()(
        layers.Conv2D(filters, 1, strides=strides, use_bias=False)(x)
    )
    return layers.Activation("relu")(layers.Add()([y, shortcut]))


def block_with_biases(x, filters, strides):
    """Convolutions with biases: one extra parameter per filter."""
    from keras import layers

    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=strides)(x)
        shortcut = layers.BatchNormalization()(shortcut)
    y = layers.Conv2D(filters, 3, strides=strides, padding="same")(x)
    y = layers.BatchNormalization()(y)
    y = layers.Activation("relu")(y)
    y = layers.Conv2D(filters, 3, padding="same")(y)
    y = layers.BatchNormalization()(y)
    return layers.Activation("relu")(layers.Add()([y, shortcut]))


def block_without_stride(x, filters, strides):
    """Forgets the stride: the output keeps the input's height and width."""
    return student_block(x, filters, 1)


@functools.cache  # computed once per process: collection and tests share it
def wrong_answers():
    # The package's arithmetic references (checked against Keras above) keep collection cheap.
    multiplications = deep.reduced_3x3_multiplications()
    one_by_one = deep.one_by_one_params()
    module = deep.inception_module_params()
    basic, bottleneck = deep.block_weights()
    height, width, channels = deep.resnet18_stage_shape()
    naive_3x3 = deep.BRANCH_INPUT[0] * deep.BRANCH_INPUT[1] * 208 * 3 * 3 * deep.BRANCH_INPUT[2]
    return [
        ("googlenet.reduced_multiplications", naive_3x3, "too large"),  # the reduction forgotten
        ("googlenet.reduced_multiplications", multiplications - 1, "too small"),
        ("googlenet.reduced_multiplications", "a lot", "whole number"),
        (
            "googlenet.one_by_one_params",
            one_by_one - deep.ONE_BY_ONE_FILTERS,
            "too small",
        ),  # no biases
        ("googlenet.one_by_one_params", 2.5, "whole number"),
        (
            "googlenet.module_params",
            module - 64 * 481,
            "too small",
        ),  # the pool projection forgotten
        ("googlenet.module_params", module + 1, "too large"),
        ("resnet.block_weights", (basic, bottleneck + 1), "bottleneck block's weights"),
        ("resnet.block_weights", (basic - 1, bottleneck), "basic block's weights"),
        ("resnet.block_weights", basic + bottleneck, "pair"),  # the sum, not the pair
        ("resnet.stage_shape", (height + 1, width, channels), "height"),
        ("resnet.stage_shape", (height, width, 2 * channels), "channels"),
        ("resnet.stage_shape", (height, width), "3 entries"),
        ("resnet.stage_shape", 7, "tuple"),
        ("resnet.residual_block", plain_block, "shortcut"),
        ("resnet.residual_block", block_with_biases, "too large"),
        ("resnet.residual_block", block_without_stride, "shape"),
        ("resnet.residual_block", lambda x, filters, strides: 1 / 0, "ZeroDivisionError"),
        ("resnet.residual_block", 42, "function"),
    ]


@pytest.mark.parametrize(
    "exercise_id, answer, expected_words",
    wrong_answers(),
    ids=[f"{item[0]}-{index}" for index, item in enumerate(wrong_answers())],
)
def test_wrong_answer_fails_with_specific_feedback(exercise_id, answer, expected_words):
    result = evaluate(exercise_id, answer)
    assert result.attempted and not result.passed
    text = feedback_text(result)
    assert expected_words in text, text
    assert "Hint:" in result.feedback()


@pytest.mark.parametrize("exercise_id", NUMBER_IDS)
def test_feedback_does_not_reveal_the_answer(exercise_id):
    right = right_answers()[exercise_id]
    values = right if isinstance(right, tuple) else (right,)
    secrets = [str(value) for value in values] + [f"{value:,}" for value in values]
    secrets = [secret for secret in secrets if len(secret) > 2]  # short numbers occur anywhere
    for answer in [
        answer for identifier, answer, _ in wrong_answers() if identifier == exercise_id
    ]:
        text = feedback_text(evaluate(exercise_id, answer))
        for secret in secrets:
            assert secret not in text, f"feedback {text!r} reveals {secret!r}"


def test_residual_block_feedback_does_not_reveal_the_parameter_count():
    expected = deep._built(deep.reference_block, *deep.BLOCK_CASES[1]).count_params()
    text = feedback_text(evaluate("resnet.residual_block", block_with_biases))
    assert str(expected) not in text and f"{expected:,}" not in text
