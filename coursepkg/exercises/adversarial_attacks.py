"""Exercises of book/18_adversarial_attacks.ipynb.

The FGSM and targeted steps are checked against :func:`coursepkg.attacks.fgsm`
run on a model whose input gradient is known by construction (a linear score
``sum(w * x)``, whose gradient is ``w``): ``tests/test_exercises_adversarial_attacks.py``
checks that the references below equal the package's attacks. The smallest
epsilon of a linear classifier is the margin over ``||w||_1`` (checked there
against :func:`coursepkg.attacks.smallest_epsilon`); the softmax-regression
gradient is checked against finite differences and against
:func:`coursepkg.gradients.value_and_input_gradient`.
"""

from __future__ import annotations

import numpy as np

from coursepkg.checking import (
    compare_function,
    compare_number,
    exercise,
)

CHAPTER = "book/18_adversarial_attacks.ipynb"


def _step_cases(seed: int = 0):
    rng = np.random.default_rng(seed)
    gradients = rng.normal(size=(3, 8, 8, 1))
    gradients[0, 0, 0, 0] = 0.0  # sign(0) = 0: that pixel does not move
    return [
        ((rng.random((3, 8, 8, 1)), gradients, 0.1), "three 8x8 grey images, epsilon 0.1"),
        ((np.array([0.0, 0.02, 0.5, 0.99, 1.0]), np.array([-1.0, -3.0, 2.0, 5.0, 1.0]), 0.05),
         "five pixels, some at the edges of [0, 1] (the result must be clipped)"),
        ((rng.random((2, 4, 4, 3)), rng.normal(size=(2, 4, 4, 3)) * 1e-6, 8 / 255),
         "tiny gradients, epsilon 8/255 (only their signs matter)"),
    ]


# --------------------------------------------------------------------------- adversarial_attacks.fgsm_by_hand


def fgsm_step(images, gradients, epsilon) -> np.ndarray:
    """``clip(x + epsilon * sign(g), 0, 1)``."""
    return np.clip(np.asarray(images, dtype=np.float64) + epsilon * np.sign(gradients), 0.0, 1.0)


@exercise(
    "adversarial_attacks.fgsm_by_hand",
    CHAPTER,
    hint=(
        "Every pixel moves by exactly epsilon, up where the gradient is positive and down where "
        "it is negative: np.sign(gradients). Then np.clip the result to [0, 1]."
    ),
)
def _fgsm_by_hand(answer):
    return compare_function(answer, fgsm_step, _step_cases(), "your fgsm", rtol=1e-6, atol=1e-6)


# --------------------------------------------------------------------------- adversarial_attacks.targeted_step


def targeted_step(images, target_gradients, epsilon) -> np.ndarray:
    """``clip(x - epsilon * sign(g_target), 0, 1)``: down the loss of the target class."""
    return np.clip(np.asarray(images, dtype=np.float64) - epsilon * np.sign(target_gradients), 0.0, 1.0)


@exercise(
    "adversarial_attacks.targeted_step",
    CHAPTER,
    hint=(
        "The gradient given is that of the target's cross-entropy: to make the target more "
        "likely, go *down* that loss, so subtract epsilon * sign(gradient); then clip to [0, 1]."
    ),
)
def _targeted_step(answer):
    problems = compare_function(answer, targeted_step, _step_cases(1), "your targeted step", rtol=1e-6, atol=1e-6)
    if problems and callable(answer):
        (images, gradients, epsilon), _ = _step_cases(1)[0]
        try:
            if np.allclose(answer(images.copy(), gradients.copy(), epsilon), fgsm_step(images, gradients, epsilon)):
                return problems + ["it steps up the target's loss, away from the target"]
        except Exception:  # the first problem already reports the error
            pass
    return problems


# --------------------------------------------------------------------------- adversarial_attacks.linear_smallest_epsilon

LINEAR_W = (0.5, -2.0, 1.0, 0.25)
LINEAR_B = -0.5
LINEAR_X = (1.0, -0.5, 0.75, 2.0)


def linear_smallest_epsilon(w=LINEAR_W, b=LINEAR_B, x=LINEAR_X) -> float:
    """``|w.x + b| / ||w||_1``: each unit of epsilon along ``-sign(w)`` moves the score by ``||w||_1``."""
    w, x = np.asarray(w, dtype=np.float64), np.asarray(x, dtype=np.float64)
    return float(abs(w @ x + b) / np.abs(w).sum())


@exercise(
    "adversarial_attacks.linear_smallest_epsilon",
    CHAPTER,
    hint=(
        "Compute the score w.x + b first. Moving every coordinate by epsilon against the sign of "
        "its weight lowers the score by epsilon * sum(|w_i|). Solve score - epsilon * ||w||_1 = 0."
    ),
)
def _linear_smallest_epsilon(answer):
    return compare_number(answer, linear_smallest_epsilon(), "the smallest epsilon", rel_tol=1e-4)


# --------------------------------------------------------------------------- adversarial_attacks.linear_gradient


def softmax_regression_gradient(x, weights, bias, label) -> np.ndarray:
    """``W (softmax(W^T x + b) - e_y)``: the input gradient of the cross-entropy of a softmax regression."""
    x, weights = np.asarray(x, dtype=np.float64), np.asarray(weights, dtype=np.float64)
    logits = x @ weights + np.asarray(bias, dtype=np.float64)
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    probabilities[int(label)] -= 1.0
    return weights @ probabilities


def _gradient_cases(seed: int = 2):
    rng = np.random.default_rng(seed)
    return [
        ((rng.random(6), rng.normal(size=(6, 3)), rng.normal(size=3), 1), "d=6 inputs, k=3 classes, label 1"),
        ((rng.random(784), rng.normal(size=(784, 10)) * 0.05, np.zeros(10), 7), "an MNIST-sized input, label 7"),
        ((rng.random(4), rng.normal(size=(4, 2)) * 30, np.array([800.0, 795.0]), 0),
         "large weights and logits (exp overflows: subtract the largest logit first)"),
    ]


@exercise(
    "adversarial_attacks.linear_gradient",
    CHAPTER,
    hint=(
        "With p = softmax(x @ weights + bias), the gradient of -log p[label] with respect to the "
        "logits is p - e_label (e_label: one-hot); the logits depend on x through weights, so the "
        "input gradient is weights @ (p - e_label)."
    ),
)
def _linear_gradient(answer):
    return compare_function(
        answer, softmax_regression_gradient, _gradient_cases(), "your gradient", rtol=1e-5, atol=1e-8
    )


# --------------------------------------------------------------------------- adversarial_attacks.epsilon_units


def tutorial_epsilon(epsilon: float = 8 / 255, source=(0.0, 1.0), target=(-1.0, 1.0)) -> float:
    """The same change of a pixel, in the units of another range: scale by the ratio of the widths."""
    return epsilon * (target[1] - target[0]) / (source[1] - source[0])


@exercise(
    "adversarial_attacks.epsilon_units",
    CHAPTER,
    hint="A change of epsilon on [0, 1] is a fraction epsilon of the range; [-1, 1] is 2 wide.",
)
def _epsilon_units(answer):
    return compare_number(answer, tutorial_epsilon(), "the epsilon on [-1, 1]", rel_tol=1e-3)
