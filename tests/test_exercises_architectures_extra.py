"""The exercises of book/13_choosing_architecture.ipynb and book/14_visualising.ipynb:
references checked against Keras and independent computations, right answers pass, wrong
answers fail without giving the answer away."""

from __future__ import annotations

import functools
import itertools
import math

import keras
import numpy as np
import pytest

from coursepkg.checking import evaluate, exercises
from coursepkg.exercises import choosing
from coursepkg.exercises import visualising as visualising_exercises

VISUALISING_IDS = (
    "visualising.feature_map_shape",
    "visualising.receptive_field",
    "visualising.normalise_gradient",
)
CHOOSING_IDS = ("choosing.weights_mb", "choosing.best_under_budget", "choosing.compound_scaling")


def feedback_text(result) -> str:
    return " ".join(result.problems) + " " + result.feedback()


@pytest.mark.parametrize(
    "chapter, ids, notebook",
    [
        ("visualising", VISUALISING_IDS, "book/14_visualising.ipynb"),
        ("choosing", CHOOSING_IDS, "book/13_choosing_architecture.ipynb"),
    ],
)
def test_the_chapters_register_their_exercises(chapter, ids, notebook):
    registered = {item.id: item for item in exercises(chapter)}
    assert set(registered) == set(ids)
    assert all(item.chapter == notebook for item in registered.values())


# --------------------------------------------------------------------------- references


def test_feature_map_shape_reference_matches_the_arithmetic_and_the_course_builder():
    from coursepkg.convolution import conv_output_size
    from coursepkg.models import vgg16

    height, width, _ = visualising_exercises.SHAPE_INPUT
    for _ in range(
        4
    ):  # four 2x2 poolings of stride 2 below block4_pool; 'same' convolutions keep the size
        height, width = conv_output_size(height, 2, 2), conv_output_size(width, 2, 2)
    expected = (height, width, 512)
    assert visualising_exercises.feature_map_shape() == expected
    ours = vgg16(include_top=False, input_shape=visualising_exercises.SHAPE_INPUT)
    assert tuple(ours.get_layer("block4_pool").output.shape[1:]) == expected


def test_receptive_field_reference_matches_a_measured_gradient():
    """The input pixels that reach one unit of block4_conv1, measured on a one-channel VGG16 stack.

    Average pooling stands in for max pooling (same window and stride) so that the gradient
    reaches every pixel of the window.
    """
    from coursepkg.gradients import value_and_input_gradient

    stack = [keras.Input((128, 128, 1))]
    for convolutions in (2, 2, 3):
        stack += [
            keras.layers.Conv2D(1, 3, padding="same", kernel_initializer="ones")
            for _ in range(convolutions)
        ]
        stack.append(keras.layers.AveragePooling2D(2))
    stack.append(
        keras.layers.Conv2D(1, 3, padding="same", kernel_initializer="ones")
    )  # block4_conv1
    model = keras.Sequential(stack)
    centre = model.output_shape[1] // 2
    _, gradient = value_and_input_gradient(
        lambda x: model(x)[0, centre, centre, 0], np.ones((1, 128, 128, 1), dtype="float32")
    )
    measured = int(np.any(gradient[0, :, :, 0] != 0, axis=0).sum())
    assert visualising_exercises.vgg16_receptive_field() == measured == 60


def test_receptive_field_reference_rejects_an_unknown_layer():
    with pytest.raises(ValueError, match="block9_conv1"):
        visualising_exercises.vgg16_receptive_field("block9_conv1")


def test_weights_mb_reference_matches_the_weight_tensors():
    model = keras.applications.MobileNet(weights=None, **choosing.WEIGHTS_MODEL)
    nbytes = sum(
        int(np.prod(weight.shape)) * np.dtype(weight.dtype).itemsize for weight in model.weights
    )
    assert choosing.small_mobilenet_megabytes() == pytest.approx(nbytes / 1e6, rel=1e-12)


def sorted_choice(names, top1, cost, budget):
    """The budget choice by sorting (an independent implementation)."""
    fits = sorted(
        (-accuracy, price, index)
        for index, (accuracy, price) in enumerate(zip(top1, cost))
        if price <= budget
    )
    return names[fits[0][2]] if fits else None


def test_best_under_budget_reference_matches_sorting():
    rng = np.random.default_rng(11)
    for size in (1, 3, 7, 15):
        names = [f"m{index}" for index in range(size)]
        top1 = list(np.round(rng.uniform(0.6, 0.8, size=size), 2))  # rounded: ties happen
        cost = list(np.round(rng.uniform(1, 100, size=size)))
        for budget in (0.5, 10.0, 50.0, 1e9):
            assert choosing.best_under_budget(names, top1, cost, budget) == sorted_choice(
                names, top1, cost, budget
            )


def test_compound_scaling_reference_matches_the_efficientnet_module():
    from coursepkg.models import compound_scaling

    factors = compound_scaling(choosing.SCALING_PHI, **choosing.SCALING)
    expected = factors.depth * factors.width**2 * factors.resolution**2
    assert choosing.flops_factor(phi=choosing.SCALING_PHI, **choosing.SCALING) == pytest.approx(
        expected
    )
    assert expected == pytest.approx(factors.flops)


# --------------------------------------------------------------------------- right answers pass


def reference_normalise(gradient):
    return gradient / (np.sqrt(np.mean(gradient**2)) + 1e-8)


@functools.cache  # computed once per process: collection and tests share it
def right_answers():
    model = keras.applications.MobileNet(weights=None, **choosing.WEIGHTS_MODEL)
    alpha, beta, gamma = (choosing.SCALING[key] for key in ("alpha", "beta", "gamma"))
    return {
        "visualising.feature_map_shape": tuple(
            keras.applications.VGG16(weights=None, include_top=False, input_shape=(160, 160, 3))
            .get_layer("block4_pool")
            .output.shape[1:]
        ),
        "visualising.receptive_field": 60,  # measured above by the gradient test
        "visualising.normalise_gradient": reference_normalise,
        "choosing.weights_mb": model.count_params() * 4 / 1e6,
        "choosing.best_under_budget": sorted_choice,
        "choosing.compound_scaling": (alpha * beta**2 * gamma**2) ** choosing.SCALING_PHI,
    }


@pytest.fixture(scope="module")
def answers():
    return right_answers()


@pytest.mark.parametrize("exercise_id", VISUALISING_IDS + CHOOSING_IDS)
def test_right_answer_passes(exercise_id, answers):
    result = evaluate(exercise_id, answers[exercise_id])
    assert result.passed, result.feedback()


def test_shapes_in_keras_style_or_as_arrays_pass(answers):
    shape = answers["visualising.feature_map_shape"]
    assert evaluate("visualising.feature_map_shape", (None, *shape)).passed
    assert evaluate("visualising.feature_map_shape", np.array(shape)).passed
    assert evaluate("visualising.feature_map_shape", list(shape)).passed


@pytest.mark.parametrize("exercise_id", VISUALISING_IDS + CHOOSING_IDS)
def test_unanswered_is_not_attempted(exercise_id):
    result = evaluate(exercise_id, ...)
    assert not result.passed and not result.attempted


@pytest.mark.parametrize(
    "exercise_id", ["visualising.normalise_gradient", "choosing.best_under_budget"]
)
def test_function_stub_of_the_notebook_is_not_attempted(exercise_id):
    def stub(*arguments):
        return ...

    result = evaluate(exercise_id, stub)
    assert not result.passed and not result.attempted


# --------------------------------------------------------------------------- wrong answers fail


def without_epsilon(gradient):
    with np.errstate(invalid="ignore", divide="ignore"):  # 0 / 0 on the zero gradient: the mistake
        return gradient / np.sqrt(np.mean(gradient**2))


def by_l2_norm(gradient):
    return gradient / (np.linalg.norm(gradient) + 1e-8)


def by_standard_deviation(gradient):
    return gradient / (gradient.std() + 1e-8)


def by_last_axis(gradient):
    return gradient / (np.sqrt(np.mean(gradient**2, axis=-1, keepdims=True)) + 1e-8)


def over_budget(names, top1, cost, budget):
    return names[int(np.argmax(top1))]  # ignores the budget


def strictly_under(names, top1, cost, budget):
    fits = [index for index in range(len(names)) if cost[index] < budget]
    return names[max(fits, key=lambda index: (top1[index], -cost[index]))] if fits else None


def first_on_tie(names, top1, cost, budget):
    fits = [index for index in range(len(names)) if cost[index] <= budget]
    return names[max(fits, key=lambda index: top1[index])] if fits else None


def cheapest(names, top1, cost, budget):
    fits = [index for index in range(len(names)) if cost[index] <= budget]
    return names[min(fits, key=lambda index: cost[index])] if fits else None


def empty_string_when_nothing_fits(names, top1, cost, budget):
    return sorted_choice(names, top1, cost, budget) or ""


@functools.cache  # computed once per process: collection and tests share it
def wrong_answers():
    height, width, channels = visualising_exercises.feature_map_shape()
    megabytes = choosing.small_mobilenet_megabytes()
    return [
        ("visualising.feature_map_shape", (height * 2, width * 2, channels), "height"),
        ("visualising.feature_map_shape", (height, width, 256), "channels"),
        ("visualising.feature_map_shape", (height, width), "3 entries"),
        ("visualising.feature_map_shape", "10x10", "tuple"),
        ("visualising.receptive_field", 44, "too small"),
        ("visualising.receptive_field", 76, "too large"),
        ("visualising.receptive_field", 60.5, "whole number"),
        ("visualising.normalise_gradient", without_epsilon, "NaN"),
        ("visualising.normalise_gradient", by_l2_norm, "values are off"),
        ("visualising.normalise_gradient", by_standard_deviation, "values are off"),
        ("visualising.normalise_gradient", by_last_axis, "values are off"),
        ("visualising.normalise_gradient", lambda gradient: 1 / 0, "ZeroDivisionError"),
        ("visualising.normalise_gradient", 3.0, "function"),
        ("choosing.weights_mb", megabytes * 1e6 / 2**20, "too small"),  # mebibytes, not MB
        ("choosing.weights_mb", megabytes / 4, "too small"),  # the parameter count in millions
        ("choosing.weights_mb", megabytes * 2, "too large"),  # 8 bytes per parameter
        ("choosing.weights_mb", "3 MB", "number"),
        ("choosing.best_under_budget", over_budget, "over the budget"),
        ("choosing.best_under_budget", strictly_under, "budget"),
        ("choosing.best_under_budget", first_on_tie, "as accurate and cheaper"),
        ("choosing.best_under_budget", cheapest, "more accurate"),
        ("choosing.best_under_budget", empty_string_when_nothing_fits, "no model fits"),
        ("choosing.best_under_budget", lambda *arguments: 1 / 0, "ZeroDivisionError"),
        ("choosing.best_under_budget", "EfficientNetB0", "function"),
        ("choosing.compound_scaling", 2.0**choosing.SCALING_PHI, "rule of thumb"),
        ("choosing.compound_scaling", 1.2 * 1.1 * 1.15 * choosing.SCALING_PHI, "too small"),
        (
            "choosing.compound_scaling",
            (1.2 * 1.1 * 1.15) ** choosing.SCALING_PHI,
            "too small",
        ),  # squares forgotten
        ("choosing.compound_scaling", 7.0, "within 10%"),
        ("choosing.compound_scaling", None, "not answered"),
    ]


@pytest.mark.parametrize(
    "exercise_id, answer, expected_words",
    wrong_answers(),
    ids=[f"{item[0]}-{index}" for index, item in enumerate(wrong_answers())],
)
def test_wrong_answer_fails_with_specific_feedback(exercise_id, answer, expected_words):
    result = evaluate(exercise_id, answer)
    assert not result.passed
    assert expected_words in feedback_text(result), feedback_text(result)


def expected_strings():
    """The right answers, written the ways feedback could reveal them."""
    height, width, channels = visualising_exercises.feature_map_shape()
    megabytes = choosing.small_mobilenet_megabytes()
    factor = choosing.flops_factor(phi=choosing.SCALING_PHI, **choosing.SCALING)
    return {
        "visualising.feature_map_shape": [f"({height}, {width}, {channels})", f"{height}x{width}"],
        "visualising.receptive_field": [str(visualising_exercises.vgg16_receptive_field())],
        "choosing.weights_mb": [
            f"{megabytes:.6g}",
            f"{megabytes:.3f}",
            f"{megabytes:.2f}",
            f"{megabytes:.1f}",
            f"{megabytes:.3g}",
        ],
        "choosing.compound_scaling": [
            f"{factor:.6g}",
            f"{factor:.3f}",
            f"{factor:.2f}",
            f"{factor:.3g}",
        ],
    }


@pytest.mark.parametrize("exercise_id, answer, _", wrong_answers())
def test_feedback_never_reveals_the_expected_answer(exercise_id, answer, _):
    text = feedback_text(evaluate(exercise_id, answer))
    for revealing in expected_strings().get(exercise_id, []):
        if revealing in repr(answer):  # the student's own value may contain it
            continue
        assert revealing not in text, (exercise_id, revealing, text)


def test_budget_feedback_names_the_student_choice_not_the_right_one():
    names, top1, cost, budget = _first_case_with_a_choice()
    wrong = next(
        name for name in names if name != choosing.best_under_budget(names, top1, cost, budget)
    )
    result = evaluate("choosing.best_under_budget", lambda *arguments: wrong)
    text = feedback_text(result)
    assert not result.passed
    right = choosing.best_under_budget(names, top1, cost, budget)
    assert f"'{right}'" not in text


def _first_case_with_a_choice():
    for (names, top1, cost, budget), _ in choosing._budget_cases():
        if choosing.best_under_budget(names, top1, cost, budget) is not None:
            return names, top1, cost, budget
    raise AssertionError("every budget case has no answer")


def test_budget_cases_exercise_every_rule():
    """The generated tables must catch each mistake above: a budget excluding the most accurate
    model, a tie on accuracy, a cost equal to the budget, and a budget nothing fits."""
    cases = [arguments for arguments, _ in choosing._budget_cases()]
    assert any(
        choosing.best_under_budget(*arguments) != arguments[0][int(np.argmax(arguments[1]))]
        for arguments in cases
    )
    assert any(choosing.best_under_budget(*arguments) is None for arguments in cases)
    assert any(budget in cost for _, _, cost, budget in cases)
    assert any(len({accuracy for accuracy in top1}) < len(top1) for _, top1, _, _ in cases)
    assert all(math.isfinite(budget) for _, _, _, budget in cases)
    assert all(len(names) == len(set(names)) for names, _, _, _ in cases)
    assert list(itertools.chain.from_iterable(names for names, _, _, _ in cases))
