"""The exercises of book/18_adversarial_attacks.ipynb: references checked against the package's
attacks and finite differences, right answers pass, wrong answers fail without giving the answer away."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from coursepkg.attacks import fgsm, smallest_epsilon
from coursepkg.checking import evaluate, exercises
from coursepkg.exercises import adversarial_attacks as chapter
from coursepkg.gradients import value_and_input_gradient

IDS = (
    "adversarial_attacks.fgsm_by_hand",
    "adversarial_attacks.targeted_step",
    "adversarial_attacks.linear_smallest_epsilon",
    "adversarial_attacks.linear_gradient",
    "adversarial_attacks.epsilon_units",
)


def test_the_chapter_registers_its_exercises():
    registered = {item.id: item for item in exercises("adversarial_attacks")}
    assert set(registered) == set(IDS)
    assert all(item.chapter == "book/18_adversarial_attacks.ipynb" for item in registered.values())


# --------------------------------------------------------------------------- references


def linear_model(weights: np.ndarray):
    """Logits ``x @ weights`` of flattened images: its cross-entropy gradient is known in closed form."""
    matrix = keras.ops.convert_to_tensor(weights.astype(np.float32))
    return lambda images: keras.ops.matmul(keras.ops.reshape(images, (keras.ops.shape(images)[0], -1)), matrix)


def test_fgsm_and_targeted_references_equal_the_package_attacks():
    rng = np.random.default_rng(0)
    images = rng.uniform(0.1, 0.9, size=(4, 3, 3, 1)).astype(np.float32)
    weights = rng.normal(size=(9, 3))
    model = linear_model(weights)
    labels = np.array([0, 1, 2, 0])
    _, gradients = value_and_input_gradient(
        lambda x: -keras.ops.sum(keras.ops.log_softmax(model(x)) * np.eye(3, dtype=np.float32)[labels]), images
    )
    result = fgsm(model, images, labels, 0.05)
    np.testing.assert_allclose(result.images, chapter.fgsm_step(images, gradients, 0.05), atol=1e-6)
    targets = np.array([2, 2, 0, 1])
    _, target_gradients = value_and_input_gradient(
        lambda x: -keras.ops.sum(keras.ops.log_softmax(model(x)) * np.eye(3, dtype=np.float32)[targets]), images
    )
    targeted = fgsm(model, images, targets, 0.05, targeted=True)
    np.testing.assert_allclose(targeted.images, chapter.targeted_step(images, target_gradients, 0.05), atol=1e-6)


def test_linear_smallest_epsilon_reference_against_the_package():
    w = np.array(chapter.LINEAR_W)
    # two logits (0, w.x + b): class 1 exactly when the score is positive
    matrix = keras.ops.convert_to_tensor(np.stack([np.zeros(4), w], axis=1).astype(np.float32))
    bias = keras.ops.convert_to_tensor(np.array([0.0, chapter.LINEAR_B], dtype=np.float32))

    def model(x):
        return keras.ops.matmul(x, matrix) + bias

    x = np.array([chapter.LINEAR_X], dtype=np.float32)
    found = smallest_epsilon(model, x, np.array([1]), max_epsilon=2.0, tolerance=1e-4, pixel_range=(-5.0, 5.0))
    assert found.found[0]
    assert found.epsilons[0] == pytest.approx(chapter.linear_smallest_epsilon(), abs=2e-4)
    assert chapter.linear_smallest_epsilon() == pytest.approx(2.25 / 3.75)


def test_softmax_regression_gradient_against_finite_differences_and_the_package():
    rng = np.random.default_rng(3)
    x, weights, bias = rng.random(5), rng.normal(size=(5, 4)), rng.normal(size=4)

    def loss(vector):
        logits = vector @ weights + bias
        return -(logits[2] - np.log(np.exp(logits).sum()))

    step = 1e-6
    numeric = np.array([(loss(x + step * e) - loss(x - step * e)) / (2 * step) for e in np.eye(5)])
    np.testing.assert_allclose(chapter.softmax_regression_gradient(x, weights, bias, 2), numeric, atol=1e-6)
    _, package = value_and_input_gradient(
        lambda v: -keras.ops.log_softmax(keras.ops.matmul(v, weights.astype(np.float32)) + bias.astype(np.float32))[0, 2],
        x[np.newaxis],
    )
    np.testing.assert_allclose(package[0], numeric, atol=1e-4)


def test_tutorial_epsilon_is_twice_the_unit_range_one():
    assert chapter.tutorial_epsilon() == pytest.approx(16 / 255)


# --------------------------------------------------------------------------- right answers


def fgsm_answer(images, gradients, epsilon):
    return np.clip(images + epsilon * np.sign(gradients), 0, 1)


def targeted_answer(images, gradients, epsilon):
    return np.clip(images - epsilon * np.sign(gradients), 0, 1)


def gradient_answer(x, weights, bias, label):
    logits = x @ weights + bias
    p = np.exp(logits - logits.max())
    p /= p.sum()
    p[label] -= 1
    return weights @ p


RIGHT = {
    "adversarial_attacks.fgsm_by_hand": fgsm_answer,
    "adversarial_attacks.targeted_step": targeted_answer,
    "adversarial_attacks.linear_smallest_epsilon": 2.25 / 3.75,
    "adversarial_attacks.linear_gradient": gradient_answer,
    "adversarial_attacks.epsilon_units": 16 / 255,
}


@pytest.mark.parametrize("exercise_id", IDS)
def test_right_answer_passes(exercise_id):
    result = evaluate(exercise_id, RIGHT[exercise_id])
    assert result.passed, result.feedback()


def test_unanswered_and_function_stubs_are_not_attempted():
    for exercise_id in IDS:
        result = evaluate(exercise_id, ...)
        assert not result.passed and not result.attempted

    def stub(*arguments):
        return ...

    for exercise_id in (IDS[0], IDS[1], IDS[3]):
        result = evaluate(exercise_id, stub)
        assert not result.passed and not result.attempted, exercise_id


# --------------------------------------------------------------------------- wrong answers fail


def fgsm_unclipped(images, gradients, epsilon):
    return images + epsilon * np.sign(gradients)


def fgsm_raw_gradient(images, gradients, epsilon):
    return np.clip(images + epsilon * gradients, 0, 1)


def gradient_without_stability(x, weights, bias, label):
    logits = x @ weights + bias
    p = np.exp(logits) / np.exp(logits).sum()
    p[label] -= 1
    return weights @ p


def gradient_of_the_wrong_sign(x, weights, bias, label):
    return -gradient_answer(x, weights, bias, label)


@pytest.mark.parametrize(
    "exercise_id, answer, words",
    [
        ("adversarial_attacks.fgsm_by_hand", fgsm_unclipped, "values are off"),
        ("adversarial_attacks.fgsm_by_hand", fgsm_raw_gradient, "values are off"),
        ("adversarial_attacks.targeted_step", fgsm_answer, "away from the target"),
        ("adversarial_attacks.linear_smallest_epsilon", 2.25 / np.sqrt(0.25 + 4 + 1 + 1 / 16), "too large"),
        ("adversarial_attacks.linear_smallest_epsilon", 2.25, "too large"),
        ("adversarial_attacks.linear_gradient", gradient_of_the_wrong_sign, "values are off"),
        ("adversarial_attacks.linear_gradient", gradient_without_stability, "large weights"),
        ("adversarial_attacks.epsilon_units", 8 / 255, "too small"),
        ("adversarial_attacks.epsilon_units", "16/255", "number"),
    ],
)
def test_wrong_answers_fail_with_a_reason(exercise_id, answer, words):
    with np.errstate(over="ignore", invalid="ignore"):
        result = evaluate(exercise_id, answer)
    assert not result.passed
    text = " ".join(result.problems)
    assert words in text, text
