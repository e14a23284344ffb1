"""Exercises of book/03_activations_and_loss.ipynb.

Every expected answer is computed here from the reference functions of
:mod:`coursepkg.activations`, never typed in by hand. The function exercises
are run on many inputs (negative, zero, very large, batches) and compared with
the reference and, for derivatives, with finite differences of the reference
function; ``tests/test_activations.py`` checks the references themselves
against Keras and SciPy.
"""

from __future__ import annotations

import numpy as np

from coursepkg.activations import (
    categorical_cross_entropy,
    gelu,
    gelu_derivative,
    log_softmax,
    sigmoid_derivative,
    softmax_cross_entropy_gradient,
)
from coursepkg.checking import compare_array, compare_function, compare_number, exercise

CHAPTER = "book/03_activations_and_loss.ipynb"
FINITE_DIFFERENCE_STEP = 1e-5  # step h of the central differences (f(x + h) - f(x - h)) / 2h


def _central_difference(function, x: np.ndarray) -> np.ndarray:
    step = FINITE_DIFFERENCE_STEP
    return (function(x + step) - function(x - step)) / (2 * step)


# --------------------------------------------------------------------------- activations.sigmoid_max_slope


def _sigmoid_max_slope() -> float:
    grid = np.linspace(-10.0, 10.0, 20_001)  # contains 0 exactly
    return float(np.max(sigmoid_derivative(grid)))


@exercise(
    "activations.sigmoid_max_slope",
    CHAPTER,
    hint=(
        "Write the derivative as s(x) (1 - s(x)): a product p (1 - p) of two numbers that add "
        "up to 1. For which p is it largest, and at which x does the sigmoid take that value?"
    ),
)
def _check_sigmoid_max_slope(answer):
    return compare_number(answer, _sigmoid_max_slope(), "the maximum of the sigmoid's derivative", rel_tol=1e-6)


# --------------------------------------------------------------------------- activations.uniform_loss

UNIFORM_CLASSES = 10  # classes of the classifier in the exercise (the digits)


def _uniform_loss(n_classes: int = UNIFORM_CLASSES) -> float:
    labels = np.arange(n_classes)  # one example of each class
    uniform = np.full((n_classes, n_classes), 1.0 / n_classes)
    targets = np.eye(n_classes)[labels]
    return float(np.mean(categorical_cross_entropy(targets, uniform)))


@exercise(
    "activations.uniform_loss",
    CHAPTER,
    hint=(
        "If all 10 classes get the same probability, what probability does the true class get? "
        "With a one-hot target, only one term of the cross-entropy sum is left. Keras uses the "
        "natural logarithm."
    ),
)
def _check_uniform_loss(answer):
    return compare_number(answer, _uniform_loss(), "the cross-entropy of the uniform prediction", rel_tol=1e-3)


# --------------------------------------------------------------------------- activations.gelu_tanh_derivative


def _derivative_cases(seed: int = 0):
    rng = np.random.default_rng(seed)
    return [
        ((np.linspace(-5.0, 5.0, 101),), "101 points from -5 to 5 (0 included)"),
        ((np.array([0.0]),), "x = 0"),
        ((np.array([-1000.0, -50.0, -10.0, 10.0, 50.0, 1000.0]),), "large inputs, from -1000 to 1000"),
        ((rng.normal(scale=2.0, size=(3, 4)),), "a 3x4 array (the shape must be kept)"),
    ]


def _gelu_tanh_derivative_reference(x):
    return gelu_derivative(x, approximate=True)


@exercise(
    "activations.gelu_tanh_derivative",
    CHAPTER,
    hint=(
        "Use the product rule on x * g(x) with g(x) = (1 + tanh(u(x))) / 2, then the chain rule: "
        "d tanh(u)/dx = (1 - tanh(u)^2) u'(x), where u(x) = sqrt(2/pi) (x + 0.044715 x^3)."
    ),
)
def _check_gelu_tanh_derivative(answer):
    problems = compare_function(
        answer, _gelu_tanh_derivative_reference, _derivative_cases(), "your derivative", rtol=1e-5, atol=1e-7
    )
    if problems:
        return problems
    grid = np.linspace(-4.0, 4.0, 81)
    measured = _central_difference(lambda x: gelu(x, approximate=True), grid)
    return compare_array(
        answer(grid.copy()), measured, "your derivative, against finite differences of GELU (tanh form)",
        rtol=1e-5, atol=1e-6,
    )  # fmt: skip


# --------------------------------------------------------------------------- activations.log_softmax


def _log_softmax_cases(seed: int = 1):
    rng = np.random.default_rng(seed)
    mixed = rng.normal(size=(3, 5))
    mixed[1] = [1000.0, 999.0, 990.0, 1001.0, 0.0]  # one row of huge logits
    mixed[2] = [-1000.0, -1001.0, -2000.0, -999.0, -1000.5]  # one row of very negative logits
    return [
        ((rng.normal(size=5),), "5 ordinary logits"),
        ((rng.normal(scale=3.0, size=(4, 10)),), "a batch of 4 examples with 10 classes"),
        ((np.array([1000.0, 1001.0, 1002.0]),), "the logits [1000, 1001, 1002]"),
        ((np.array([-1000.0, 0.0, 1000.0]),), "the logits [-1000, 0, 1000]"),
        ((np.full(4, 7.0),), "4 equal logits"),
        ((mixed,), "a batch of 3 rows: ordinary, huge (about 1000) and very negative logits"),
    ]


@exercise(
    "activations.log_softmax",
    CHAPTER,
    hint=(
        "log softmax(z)_i = z_i - log(sum_j exp(z_j)). Subtract m = max_j z_j inside the "
        "exponentials and add it back outside the log; work along the last axis, with keepdims=True."
    ),
)
def _check_log_softmax(answer):
    return compare_function(answer, log_softmax, _log_softmax_cases(), "your log_softmax", rtol=1e-7, atol=1e-6)


# --------------------------------------------------------------------------- activations.cross_entropy_gradient


def _mean_cross_entropy_gradient(logits, labels) -> np.ndarray:
    """Gradient of the mean sparse cross-entropy over a batch with respect to the logits."""
    logits = np.asarray(logits, dtype=np.float64)
    targets = np.eye(logits.shape[1])[np.asarray(labels)]
    return softmax_cross_entropy_gradient(targets, logits) / logits.shape[0]


def _mean_cross_entropy(logits, labels) -> float:
    targets = np.eye(logits.shape[1])[labels]
    return float(np.mean(categorical_cross_entropy(targets, logits, from_logits=True)))


def _gradient_cases(seed: int = 2):
    rng = np.random.default_rng(seed)
    extreme = np.array([[1000.0, -1000.0, 0.0], [-500.0, 500.0, 499.0]])
    return [
        ((rng.normal(size=(4, 3)), rng.integers(0, 3, size=4)), "a batch of 4 examples with 3 classes"),
        ((rng.normal(scale=3.0, size=(8, 10)), rng.integers(0, 10, size=8)), "a batch of 8 examples with 10 classes"),
        ((rng.normal(size=(1, 5)), np.array([2])), "a batch of one example"),
        ((extreme, np.array([1, 2])), "extreme logits (up to +-1000)"),
    ]


@exercise(
    "activations.cross_entropy_gradient",
    CHAPTER,
    hint=(
        "Derive the gradient for one example first (the chapter's section on the gradient of "
        "softmax and cross-entropy), then remember that the loss is the mean over the batch. "
        "Compute softmax stably (subtract the maximum of each row)."
    ),
)
def _check_cross_entropy_gradient(answer):
    problems = compare_function(
        answer, _mean_cross_entropy_gradient, _gradient_cases(), "your gradient", rtol=1e-6, atol=1e-8
    )
    if problems:
        return problems
    (logits, labels), _ = _gradient_cases()[0]
    measured = np.zeros_like(logits)
    for index in np.ndindex(logits.shape):
        step = np.zeros_like(logits)
        step[index] = FINITE_DIFFERENCE_STEP
        measured[index] = (
            _mean_cross_entropy(logits + step, labels) - _mean_cross_entropy(logits - step, labels)
        ) / (2 * FINITE_DIFFERENCE_STEP)
    return compare_array(
        answer(logits.copy(), labels.copy()), measured,
        "your gradient, against finite differences of the mean loss", rtol=1e-5, atol=1e-8,
    )  # fmt: skip
