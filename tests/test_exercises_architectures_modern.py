"""The exercises of book/10_xception_mobilenet.ipynb, book/11_efficientnet.ipynb and
book/12_convnext.ipynb: references checked against layers Keras builds (or NumPy), right
answers pass, wrong answers fail without giving the answer away."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from coursepkg.checking import evaluate, exercises
from coursepkg.exercises import architectures_modern as modern

XCEPTION_IDS = ("xception.separable_params", "xception.cost_ratio")
EFFICIENTNET_IDS = ("efficientnet.multipliers", "efficientnet.flops_factor")
CONVNEXT_IDS = ("convnext.block_params", "convnext.model_params")
ALL_IDS = XCEPTION_IDS + EFFICIENTNET_IDS + CONVNEXT_IDS
PUBLISHED_BASES = (1.2, 1.1, 1.15)  # alpha, beta, gamma of Tan and Le (2019), section 3.3


def feedback_text(result) -> str:
    return " ".join(result.problems) + " " + result.feedback()


# --------------------------------------------------------------------------- Keras and NumPy references


def keras_separable_params() -> tuple[int, int]:
    """Weights of Conv2D and SeparableConv2D layers that Keras builds on the exercise's input."""
    import keras

    counts = []
    for layer in (
        keras.layers.Conv2D(modern.SEPARABLE_FILTERS, modern.SEPARABLE_KERNEL, use_bias=False),
        keras.layers.SeparableConv2D(
            modern.SEPARABLE_FILTERS, modern.SEPARABLE_KERNEL, use_bias=False
        ),
    ):
        layer.build((None, *modern.SEPARABLE_INPUT))
        counts.append(layer.count_params())
    return tuple(counts)


def keras_cost_ratio() -> float:
    """Multiplications read off the kernels and output shapes of built Keras layers."""
    import keras

    inputs = keras.Input(modern.RATIO_INPUT)
    standard = keras.layers.Conv2D(modern.RATIO_FILTERS, modern.RATIO_KERNEL, padding="same")
    separable = keras.layers.SeparableConv2D(
        modern.RATIO_FILTERS, modern.RATIO_KERNEL, padding="same"
    )
    standard_output, separable_output = standard(inputs), separable(inputs)
    positions = int(np.prod(standard_output.shape[1:3]))
    assert positions == int(np.prod(separable_output.shape[1:3]))
    standard_multiplications = positions * int(np.prod(standard.kernel.shape))
    separable_multiplications = positions * (
        int(np.prod(separable.depthwise_kernel.shape))
        + int(np.prod(separable.pointwise_kernel.shape))
    )
    return standard_multiplications / separable_multiplications


def numpy_multipliers(phi) -> np.ndarray:
    return np.power(np.array(PUBLISHED_BASES), phi)


def numpy_flops_factor(phi) -> float:
    alpha, beta, gamma = PUBLISHED_BASES
    return float(np.power(alpha * beta**2 * gamma**2, phi))


def keras_block_params(dim) -> int:
    """A ConvNeXt block written from plain Keras layers, as a student would, plus the layer scale."""
    import keras
    from keras import layers

    inputs = keras.Input((14, 14, dim))
    x = layers.DepthwiseConv2D(7, padding="same")(inputs)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    x = layers.Dense(4 * dim, activation="gelu")(x)
    x = layers.Dense(dim)(x)
    layer_scale = dim  # one trainable scale per channel
    return keras.Model(inputs, layers.Add()([inputs, x])).count_params() + layer_scale


def keras_model_params() -> int:
    """The same small ConvNeXt built by Keras's own ConvNeXt code."""
    from keras.src.applications.convnext import ConvNeXt

    model = ConvNeXt(
        depths=list(modern.MODEL_DEPTHS),
        projection_dims=list(modern.MODEL_DIMS),
        weights=None,
        input_shape=modern.MODEL_INPUT,
        classes=modern.MODEL_CLASSES,
    )
    return model.count_params()


def test_the_chapters_register_their_exercises():
    for prefix, ids, chapter in (
        ("xception", XCEPTION_IDS, modern.XCEPTION_CHAPTER),
        ("efficientnet", EFFICIENTNET_IDS, modern.EFFICIENTNET_CHAPTER),
        ("convnext", CONVNEXT_IDS, modern.CONVNEXT_CHAPTER),
    ):
        registered = {item.id: item for item in exercises(prefix)}
        assert set(registered) == set(ids)
        assert {item.chapter for item in registered.values()} == {chapter}


def test_separable_params_reference_matches_keras():
    assert modern.separable_params() == keras_separable_params()


def test_cost_ratio_reference_matches_keras_and_the_closed_form():
    assert modern.cost_ratio() == pytest.approx(keras_cost_ratio(), rel=1e-12)
    closed_form = 1 / (1 / modern.RATIO_FILTERS + 1 / modern.RATIO_KERNEL**2)
    assert modern.cost_ratio() == pytest.approx(closed_form, rel=1e-12)


def test_multipliers_reference_matches_numpy():
    np.testing.assert_allclose(
        modern.multipliers(), numpy_multipliers(modern.MULTIPLIERS_PHI), rtol=1e-12
    )


def test_flops_factor_reference_matches_numpy():
    assert modern.flops_factor() == pytest.approx(numpy_flops_factor(modern.FLOPS_PHI), rel=1e-12)


def test_block_params_reference_matches_keras_layers():
    assert modern.convnext_block_params() == keras_block_params(modern.BLOCK_DIM)


def test_model_params_reference_matches_keras_applications_code():
    assert modern.convnext_model_params() == keras_model_params()


# --------------------------------------------------------------------------- right answers pass


@functools.cache  # computed once per process: collection and tests share it
def right_answers():
    return {
        "xception.separable_params": keras_separable_params(),
        "xception.cost_ratio": keras_cost_ratio(),
        "efficientnet.multipliers": tuple(numpy_multipliers(modern.MULTIPLIERS_PHI)),
        "efficientnet.flops_factor": numpy_flops_factor(modern.FLOPS_PHI),
        "convnext.block_params": keras_block_params(modern.BLOCK_DIM),
        "convnext.model_params": keras_model_params(),
    }


@pytest.mark.parametrize("exercise_id", ALL_IDS)
def test_right_answer_passes(exercise_id):
    result = evaluate(exercise_id, right_answers()[exercise_id])
    assert result.passed, result.feedback()


def three_significant_digits(value: float) -> float:
    return float(f"{value:.3g}")


def test_rounded_and_other_container_answers_pass():
    for exercise_id in ("xception.cost_ratio", "efficientnet.flops_factor"):
        assert evaluate(exercise_id, three_significant_digits(right_answers()[exercise_id])).passed
    rounded = tuple(
        three_significant_digits(value) for value in right_answers()["efficientnet.multipliers"]
    )
    assert evaluate("efficientnet.multipliers", rounded).passed
    assert evaluate("efficientnet.multipliers", list(rounded)).passed
    depth, width, resolution = numpy_multipliers(modern.MULTIPLIERS_PHI)
    assert evaluate("efficientnet.multipliers", np.array([depth, width, resolution])).passed
    assert evaluate("xception.separable_params", list(keras_separable_params())).passed
    assert evaluate("convnext.block_params", float(keras_block_params(modern.BLOCK_DIM))).passed


def test_two_significant_digits_are_not_enough():
    flops = numpy_flops_factor(modern.FLOPS_PHI)
    coarse = float(f"{flops:.2g}")
    assert abs(coarse - flops) / flops > modern.REAL_TOLERANCE  # the case is a real test
    result = evaluate("efficientnet.flops_factor", coarse)
    assert not result.passed and (
        "too large" in result.problems[0] or "too small" in result.problems[0]
    )


def test_unanswered_is_not_attempted():
    for exercise_id in ALL_IDS:
        result = evaluate(exercise_id, ...)
        assert not result.passed and not result.attempted


# --------------------------------------------------------------------------- wrong answers fail


@functools.cache  # computed once per process: collection and tests share it
def wrong_answers():
    # The package's arithmetic references (checked against Keras above) keep collection cheap.
    standard, separable = modern.separable_params()
    ratio = modern.cost_ratio()
    depth, width, resolution = numpy_multipliers(modern.MULTIPLIERS_PHI)
    flops = numpy_flops_factor(modern.FLOPS_PHI)
    block = modern.convnext_block_params()
    model = modern.convnext_model_params()
    dim = modern.BLOCK_DIM
    return [
        (
            "xception.separable_params",
            (standard, separable + modern.SEPARABLE_FILTERS),
            "too large",
        ),
        ("xception.separable_params", (standard // 2, separable), "standard convolution's weights"),
        ("xception.separable_params", (standard, separable - 1), "too small"),
        ("xception.separable_params", standard, "pair"),
        ("xception.separable_params", (standard, "many"), "whole number"),
        ("xception.cost_ratio", 1 / ratio, "too small"),  # the inverse: separable over standard
        ("xception.cost_ratio", modern.RATIO_KERNEL**2, "too large"),  # 1/N forgotten
        ("xception.cost_ratio", "twenty", "should be a number"),
        ("efficientnet.multipliers", (width, depth, resolution), "depth multiplier"),  # swapped
        ("efficientnet.multipliers", (depth, width, 2 * resolution), "too large"),
        ("efficientnet.multipliers", (depth, width), "tuple (depth, width, resolution)"),
        ("efficientnet.flops_factor", 2.0**modern.FLOPS_PHI, "too large"),  # 2**phi, not 1.92**phi
        ("efficientnet.flops_factor", flops / 2, "too small"),
        ("efficientnet.flops_factor", None, "TODO"),
        ("convnext.block_params", block - dim, "too small"),  # the layer scale forgotten
        ("convnext.block_params", block + 4 * dim * dim, "too large"),
        ("convnext.block_params", 1.5, "whole number"),
        ("convnext.model_params", model - modern.MODEL_CLASSES, "too small"),
        ("convnext.model_params", model + 1, "too large"),
    ]


@pytest.mark.parametrize(
    "exercise_id, answer, expected_words",
    wrong_answers(),
    ids=[f"{item[0]}-{index}" for index, item in enumerate(wrong_answers())],
)
def test_wrong_answer_fails_with_specific_feedback(exercise_id, answer, expected_words):
    result = evaluate(exercise_id, answer)
    assert not result.passed
    text = feedback_text(result)
    assert expected_words in text, text
    if result.attempted:
        assert "Hint:" in result.feedback()


def secrets_of(value) -> list[str]:
    """The ways an answer could appear in a message: integers whole, real numbers to 2-4 digits."""
    values = value if isinstance(value, tuple) else (value,)
    secrets = []
    for item in values:
        if float(item).is_integer():
            secrets += [str(int(item)), f"{int(item):,}"]
        else:
            secrets += [f"{item:.{digits}g}" for digits in (3, 4)] + [f"{item:.2f}"]
    return [secret for secret in secrets if len(secret) > 2]  # short strings occur anywhere


def given_by_the_student(answer) -> list[str]:
    """What the student typed may be echoed back: those strings are not secrets."""
    items = answer if isinstance(answer, tuple) else (answer,)
    numbers = tuple(
        item for item in items if isinstance(item, (int, float)) and not isinstance(item, bool)
    )
    return secrets_of(numbers) + [f"{item:.6g}" for item in numbers]


@pytest.mark.parametrize("exercise_id", ALL_IDS)
def test_feedback_does_not_reveal_the_answer(exercise_id):
    secrets = secrets_of(right_answers()[exercise_id])
    for answer in [
        answer for identifier, answer, _ in wrong_answers() if identifier == exercise_id
    ]:
        text = feedback_text(evaluate(exercise_id, answer))
        assert "off by" not in text, text
        echoed = given_by_the_student(answer)
        for secret in secrets:
            if not any(secret in given for given in echoed):
                assert secret not in text, f"feedback {text!r} reveals {secret!r}"
