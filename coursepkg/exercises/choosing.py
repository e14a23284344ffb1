"""Exercises of book/13_choosing_architecture.ipynb.

Every expected answer is computed here by reference code: the weight memory
from ``count_params()`` of the model that ``keras.applications`` builds (without
weights, so no download), the budget choice by a reference implementation run
on generated tables, and the EfficientNet cost factor from the compound-scaling
rule of Tan and Le (2019). ``tests/test_exercises_architectures_extra.py``
checks the references.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from coursepkg.checking import NotAnswered, compare_number, describe, exercise

CHAPTER = "book/13_choosing_architecture.ipynb"
BYTES_PER_FLOAT32 = 4
BYTES_PER_MEGABYTE = 10**6  # MB = 10^6 bytes (the SI megabyte; the exercise says so)


def compare_roughly(received, expected: float, what: str, rel_tol: float) -> list[str]:
    """Like :func:`coursepkg.checking.compare_number`, but without the size of the error.

    "Too large (off by 3.3)" would give the answer away by subtraction; this says only
    the direction and how far, in coarse steps.
    """
    problems = compare_number(received, expected, what, rel_tol=rel_tol)
    if not problems or "should be a number" in problems[0]:
        return problems
    value = float(received)
    ratio = value / expected if expected else math.inf
    if not math.isfinite(ratio) or ratio <= 0 or max(ratio, 1 / ratio) > 2:
        distance = "off by more than a factor of 2"
    elif abs(ratio - 1) > 0.1:
        distance = "off by more than 10% but less than a factor of 2"
    else:
        distance = "within 10%, but not close enough"
    return [
        f"{what}: {value:.6g} is {'too large' if value > expected else 'too small'} ({distance})"
    ]


# --------------------------------------------------------------------------- choosing.weights_mb

# keras.applications.MobileNet adapted to a small task: half width, 128x128 inputs, 10 classes.
WEIGHTS_MODEL = {"alpha": 0.5, "input_shape": (128, 128, 3), "classes": 10}


@functools.lru_cache(maxsize=1)
def small_mobilenet_params() -> int:
    """``count_params()`` of ``keras.applications.MobileNet(weights=None, **WEIGHTS_MODEL)``."""
    import keras

    return int(keras.applications.MobileNet(weights=None, **WEIGHTS_MODEL).count_params())


def small_mobilenet_megabytes() -> float:
    """Memory of that model's weights stored as float32, in MB (10^6 bytes)."""
    return small_mobilenet_params() * BYTES_PER_FLOAT32 / BYTES_PER_MEGABYTE


@exercise(
    "choosing.weights_mb",
    CHAPTER,
    hint=(
        "Build the model with keras.applications.MobileNet(weights=None, alpha=0.5, "
        "input_shape=(128, 128, 3), classes=10), take count_params(), multiply by the 4 bytes of "
        "a float32 and divide by 10**6 (not 2**20)."
    ),
)
def _weights_mb(answer):
    return compare_roughly(
        answer, small_mobilenet_megabytes(), "the weight memory in MB", rel_tol=2e-3
    )


# --------------------------------------------------------------------------- choosing.best_under_budget


def best_under_budget(names, top1, cost, budget):
    """Reference: the most accurate model whose cost fits the budget (ties: the cheaper one).

    Args:
        names: model names.
        top1: their accuracies (higher is better).
        cost: their costs (milliseconds, megabytes...; lower is better).
        budget: the largest cost allowed (a cost equal to the budget fits).

    Returns:
        The chosen name, or ``None`` when no model fits.
    """
    best = None
    for name, accuracy, price in zip(names, top1, cost):
        if price > budget:
            continue
        if best is None or (accuracy, -price) > (best[1], -best[2]):
            best = (name, accuracy, price)
    return None if best is None else best[0]


def _budget_cases(seed: int = 0):
    """(arguments, description) pairs: generated tables of models and budgets."""
    rng = np.random.default_rng(seed)
    cases = []
    for size, budget_quantile in ((6, 0.5), (9, 0.8), (12, 0.3)):
        names = [f"net{index}" for index in range(size)]
        top1 = list(np.round(rng.uniform(0.6, 0.85, size=size), 3))
        cost = list(np.round(rng.lognormal(3.0, 1.0, size=size), 1))
        budget = float(np.quantile(cost, budget_quantile))
        cases.append(
            ((names, top1, cost, budget), f"a table of {size} models with a budget of {budget:g}")
        )
    names = ["small", "medium", "large", "twin"]
    top1 = [0.70, 0.78, 0.82, 0.78]
    cost = [10.0, 40.0, 120.0, 25.0]
    cases.append(((names, top1, cost, 40.0), "a table where two models tie on accuracy"))
    cases.append(((names, top1, cost, 10.0), "a budget exactly equal to the cheapest model's cost"))
    cases.append(((names, top1, cost, 5.0), "a budget that no model fits"))
    return cases


@exercise(
    "choosing.best_under_budget",
    CHAPTER,
    hint=(
        "Skip every model whose cost is above the budget (a cost equal to it fits); among the "
        "rest keep the highest top-1, and on a tie the lower cost. Return None when nothing fits."
    ),
)
def _best_under_budget(answer):
    if not callable(answer):
        return [f"your best_under_budget should be a function; received {describe(answer)}"]
    for (names, top1, cost, budget), description in _budget_cases():
        try:
            chosen = answer(list(names), list(top1), list(cost), budget)
        except Exception as error:
            return [
                f"your best_under_budget raised {type(error).__name__} on {description}: {error}"
            ]
        if chosen is Ellipsis:  # the notebook's stub, still `return ...`
            raise NotAnswered("best_under_budget")
        expected = best_under_budget(names, top1, cost, budget)
        if chosen == expected:
            continue
        if expected is None:
            return [
                f"on {description}, your function returned {chosen!r}; no model fits that budget"
            ]
        if chosen is None:
            return [
                f"on {description}, your function returned None, but some model fits the budget"
            ]
        if chosen not in names:
            return [
                f"on {description}, your function returned {describe(chosen)}, which is not a model name"
            ]
        index = names.index(chosen)
        if cost[index] > budget:
            return [
                f"on {description}, your function chose {chosen!r}, whose cost {cost[index]:g} "
                "is over the budget"
            ]
        return [
            f"on {description}, your function chose {chosen!r} (top-1 {top1[index]:g}, cost "
            f"{cost[index]:g}); another model within the budget is more accurate, or as accurate "
            "and cheaper"
        ]
    return []


# --------------------------------------------------------------------------- choosing.compound_scaling

SCALING = {
    "alpha": 1.2,
    "beta": 1.1,
    "gamma": 1.15,
}  # EfficientNet's depth, width, resolution bases
SCALING_PHI = 3  # the compound coefficient asked about


def flops_factor(alpha: float, beta: float, gamma: float, phi: float) -> float:
    """FLOPS of the scaled network over the baseline's.

    Depth multiplies the FLOPS by ``d = alpha**phi``; width and resolution
    enter squared (channels in and out, height and width), so the factor is
    ``d * w**2 * r**2 = (alpha * beta**2 * gamma**2) ** phi``.
    """
    depth, width, resolution = alpha**phi, beta**phi, gamma**phi
    return depth * width**2 * resolution**2


@exercise(
    "choosing.compound_scaling",
    CHAPTER,
    hint=(
        "Depth multiplies the FLOPS once, width and resolution twice each (they scale both "
        "sides of a convolution, or both sides of the image): d * w^2 * r^2 with d = alpha^phi, "
        "w = beta^phi, r = gamma^phi."
    ),
)
def _compound_scaling(answer):
    expected = flops_factor(SCALING["alpha"], SCALING["beta"], SCALING["gamma"], SCALING_PHI)
    if isinstance(answer, (int, float)) and not isinstance(answer, bool) and math.isfinite(answer):
        two_to_phi = 2.0**SCALING_PHI
        if math.isclose(answer, two_to_phi) and not math.isclose(
            expected, two_to_phi, rel_tol=1e-3
        ):
            return [
                "you used the rule of thumb 2^phi; compute the factor from alpha, beta and gamma themselves"
            ]
    return compare_roughly(answer, expected, "the FLOPS factor", rel_tol=1e-4)
