"""The exercises of book/02_layers_and_shapes.ipynb: references checked against Keras,
right answers pass, wrong answers fail without giving the answer away."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from coursepkg.checking import evaluate, exercises
from coursepkg.exercises import layers as layer_exercises

CHAPTER = "book/02_layers_and_shapes.ipynb"
IDS = ("layers.output_shape", "layers.param_count", "layers.gap_savings", "layers.max_pool")


def feedback_text(result) -> str:
    return " ".join(result.problems) + " " + result.feedback()


# --------------------------------------------------------------------------- Keras references


def keras_stack_model():
    import keras

    model = keras.Sequential([keras.Input(layer_exercises.SHAPE_INPUT)])
    for kind, settings in layer_exercises.SHAPE_STACK:
        if kind == "conv":
            model.add(keras.layers.Conv2D(**settings))
        else:
            model.add(keras.layers.MaxPooling2D(**settings))
    return model


def keras_small_network():
    import keras

    model = keras.Sequential([keras.Input(layer_exercises.PARAM_INPUT)])
    for filters, kernel_size in layer_exercises.PARAM_CONVS:
        model.add(keras.layers.Conv2D(filters, kernel_size, activation="relu"))
        model.add(keras.layers.MaxPooling2D(layer_exercises.PARAM_POOL))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(layer_exercises.PARAM_CLASSES, activation="softmax"))
    return model


def keras_head_params(pooling: str) -> int:
    import keras

    head = keras.Sequential([
        keras.Input(layer_exercises.GAP_FEATURES),
        keras.layers.Flatten() if pooling == "flatten" else keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(layer_exercises.GAP_CLASSES),
    ])  # fmt: skip
    return head.count_params()


def test_the_chapter_registers_its_exercises():
    registered = {item.id: item for item in exercises("layers")}
    assert set(registered) == set(IDS)
    assert all(item.chapter == CHAPTER for item in registered.values())


def test_output_shape_reference_matches_keras():
    assert layer_exercises.stack_output_shape(
        layer_exercises.SHAPE_INPUT, layer_exercises.SHAPE_STACK
    ) == tuple(keras_stack_model().output_shape[1:])


def test_param_count_reference_matches_keras():
    assert layer_exercises.small_network_params() == keras_small_network().count_params()


def test_dense_params_matches_keras():
    import keras

    layer = keras.layers.Dense(7)
    layer.build((None, 13))
    assert layer_exercises.dense_params(13, 7) == layer.count_params() == 98


def test_gap_savings_reference_matches_keras():
    assert layer_exercises.gap_savings() == keras_head_params("flatten") - keras_head_params("gap")


@pytest.mark.parametrize("shape", [(4, 4), (6, 10), (5, 7), (3, 3), (2, 9)])
def test_max_pool_reference_matches_keras(shape):
    import keras

    image = np.random.default_rng(3).normal(size=shape)
    expected = keras.layers.MaxPooling2D(2)(image[None, :, :, None].astype("float32"))
    np.testing.assert_allclose(
        layer_exercises.max_pool_2x2(image), np.asarray(expected)[0, :, :, 0], rtol=1e-6
    )


def test_max_pool_reference_rejects_bad_input():
    with pytest.raises(ValueError, match="image"):
        layer_exercises.max_pool_2x2(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="image"):
        layer_exercises.max_pool_2x2(np.zeros((4, 4, 3)))


# --------------------------------------------------------------------------- right answers pass


@functools.cache  # computed once per process: collection and tests share it
def right_answers():
    model = keras_stack_model()
    return {
        "layers.output_shape": tuple(model.output_shape[1:]),
        "layers.param_count": keras_small_network().count_params(),
        "layers.gap_savings": keras_head_params("flatten") - keras_head_params("gap"),
        "layers.max_pool": lambda image: image[: image.shape[0] // 2 * 2, : image.shape[1] // 2 * 2]
        .reshape(image.shape[0] // 2, 2, image.shape[1] // 2, 2)
        .max(axis=(1, 3)),
    }


@pytest.mark.parametrize("exercise_id", IDS)
def test_right_answer_passes(exercise_id):
    result = evaluate(exercise_id, right_answers()[exercise_id])
    assert result.passed, result.feedback()


def test_output_shape_accepts_keras_style_and_arrays():
    shape = tuple(keras_stack_model().output_shape)  # (None, height, width, channels)
    assert evaluate("layers.output_shape", shape).passed
    assert evaluate("layers.output_shape", list(shape[1:])).passed
    assert evaluate("layers.output_shape", np.array(shape[1:])).passed


def test_unanswered_is_not_attempted():
    for exercise_id in IDS:
        result = evaluate(exercise_id, ...)
        assert not result.passed and not result.attempted


def test_function_stub_of_the_notebook_is_not_attempted():
    def max_pool_2x2(image):
        return ...

    result = evaluate("layers.max_pool", max_pool_2x2)
    assert not result.passed and not result.attempted


# --------------------------------------------------------------------------- wrong answers fail


def loop_max_pool_from_zero(image):
    """A common mistake: the running maximum starts at 0, so negative windows give 0."""
    output = np.zeros((image.shape[0] // 2, image.shape[1] // 2))
    for row in range(output.shape[0]):
        for col in range(output.shape[1]):
            best = 0.0
            for value in image[2 * row : 2 * row + 2, 2 * col : 2 * col + 2].ravel():
                best = max(best, value)
            output[row, col] = best
    return output


def padded_max_pool(image):
    """Another mistake: 'same' instead of 'valid' (keeps the odd last row and column)."""
    height, width = -(-image.shape[0] // 2), -(-image.shape[1] // 2)
    padded = np.full((2 * height, 2 * width), -np.inf)
    padded[: image.shape[0], : image.shape[1]] = image
    return padded.reshape(height, 2, width, 2).max(axis=(1, 3))


def average_pool(image):
    height, width = image.shape[0] // 2, image.shape[1] // 2
    return image[: 2 * height, : 2 * width].reshape(height, 2, width, 2).mean(axis=(1, 3))


@functools.cache  # computed once per process: collection and tests share it
def wrong_answers():
    # The package's arithmetic references (checked against Keras above) keep collection cheap.
    height, width, channels = layer_exercises.stack_output_shape(
        layer_exercises.SHAPE_INPUT, layer_exercises.SHAPE_STACK
    )
    count = layer_exercises.small_network_params()
    saved = layer_exercises.gap_savings()
    return [
        ("layers.output_shape", (height + 1, width, channels), "height"),
        ("layers.output_shape", (height, width, channels * 2), "channels"),
        ("layers.output_shape", (height, width), "3 entries"),
        ("layers.output_shape", 7, "tuple"),
        ("layers.param_count", count - 26, "too small"),  # the biases forgotten, say
        ("layers.param_count", count + 1, "too large"),
        ("layers.param_count", 12.5, "whole number"),
        ("layers.param_count", "many", "whole number"),
        ("layers.gap_savings", saved + 10, "too large"),
        ("layers.gap_savings", -1, "too small"),
        ("layers.max_pool", loop_max_pool_from_zero, "negative"),
        ("layers.max_pool", padded_max_pool, "shape"),
        ("layers.max_pool", average_pool, "values are off"),
        ("layers.max_pool", lambda image: 1 / 0, "ZeroDivisionError"),
        ("layers.max_pool", 42, "function"),
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


@pytest.mark.parametrize("exercise_id", ["layers.output_shape", "layers.param_count", "layers.gap_savings"])
def test_feedback_does_not_reveal_the_answer(exercise_id):
    right = right_answers()[exercise_id]
    secrets = [str(value) for value in (right if isinstance(right, tuple) else (right,))]
    secrets += [f"{value:,}" for value in (right if isinstance(right, tuple) else (right,))]
    secrets = [secret for secret in secrets if len(secret) > 1]  # a lone digit occurs anywhere
    for answer, _, _ in [(a, i, w) for i, a, w in wrong_answers() if i == exercise_id]:
        text = feedback_text(evaluate(exercise_id, answer))
        for secret in secrets:
            assert secret not in text, f"feedback {text!r} reveals {secret!r}"


def test_max_pool_feedback_does_not_reveal_expected_values():
    image = np.random.default_rng(0).normal(size=(4, 4))  # the first case of the checker
    expected = layer_exercises.max_pool_2x2(image)
    text = feedback_text(evaluate("layers.max_pool", average_pool))
    for value in expected.ravel():
        assert f"{value:.3g}" not in text
