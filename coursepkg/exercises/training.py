"""Exercises of book/04_training.ipynb.

Every expected answer is computed here from the reference update rules of
:mod:`coursepkg.optim` or from Keras itself, never typed in by hand. The two
function exercises run the student's step for several steps on random
quadratics and compare the path with the NumPy reference and with
``keras.optimizers``; ``tests/test_optim.py`` checks the references against
Keras.
"""

from __future__ import annotations

import numpy as np

from coursepkg.checking import (
    NotAnswered,
    compare_array,
    compare_number,
    describe,
    exercise,
    raise_if_not_answered,
)
from coursepkg.optim import NumpyAdam, NumpySGD, keras_trajectory, quadratic, run_optimizer

CHAPTER = "book/04_training.ipynb"
STEPS = 6  # steps each function exercise runs on each test problem
# Tolerances of the comparison with the reference: loose enough for the textbook form of
# Adam's epsilon (added after the bias correction), tight enough for any real mistake.
RTOL, ATOL = 1e-4, 1e-5


# --------------------------------------------------------------------------- step functions


def _problems(seed: int):
    """Random diagonal quadratics ``f(w) = sum(c * (w - target)**2) / 2`` and starting points."""
    rng = np.random.default_rng(seed)
    cases = []
    for shape in [(3,), (2, 2), (5,)]:
        curvature = rng.uniform(0.5, 20.0, size=shape)
        target = rng.normal(size=shape)
        start = rng.normal(scale=2.0, size=shape)
        cases.append((curvature, target, start))
    return cases


def _gradient_of(curvature, target):
    return lambda point: curvature * (np.asarray(point, dtype=np.float64) - target)


def _run_student(step_fn, rule, start, gradient_fn, state_names, call):
    """Chain the student's step ``STEPS`` times; returns the path of every output."""
    variable = np.array(start, dtype=np.float64)
    states = [np.zeros_like(variable) for _ in state_names]
    paths = {"variable": [variable], **{name: [state] for name, state in zip(state_names, states)}}
    for step in range(1, STEPS + 1):
        gradient = gradient_fn(variable)
        result = call(
            step_fn,
            rule,
            variable.copy(),
            gradient.copy(),
            [state.copy() for state in states],
            step,
        )
        raise_if_not_answered(result, "the step function")  # a stub still returning ... (or None)
        if not isinstance(result, (tuple, list)) or len(result) != 1 + len(state_names):
            names = ", ".join(["new_variable", *(f"new_{name}" for name in state_names)])
            raise _AnswerError(
                f"should return a tuple ({names}); on step {step} it returned {describe(result)}"
            )
        variable, *states = (np.asarray(item, dtype=np.float64) for item in result)
        for name, value in zip(["variable", *state_names], [variable, *states]):
            if value.shape != np.shape(start):
                raise _AnswerError(
                    f"returned a {name} of shape {value.shape} on step {step}; expected shape {np.shape(start)}"
                )
            paths[name].append(value)
    return {name: np.stack(values) for name, values in paths.items()}


class _AnswerError(Exception):
    """The student's function returned something of the wrong kind."""


def _check_step_function(answer, what, rule_for, state_names, call, reference_names):
    """Compare a student's step with the NumPy reference, then with Keras.

    Args:
        answer: the student's step function.
        what: its name in the feedback.
        rule_for: function from a NumPy random generator to a reference rule.
        state_names: names of the state arrays the step returns after the variable.
        call: ``call(step_fn, rule, variable, gradient, states, step)`` calls the
            student's function with the rule's settings.
        reference_names: the reference state key for each of ``state_names``.
    """
    if not callable(answer):
        return [f"{what} should be a function; received {describe(answer)}"]
    rng = np.random.default_rng(7)
    for index, (curvature, target, start) in enumerate(_problems(seed=11)):
        rule = rule_for(rng)
        gradient_fn = _gradient_of(curvature, target)
        where = f"test problem {index + 1} (a {start.size}-weight quadratic, {_settings(rule)})"
        try:
            student = _run_student(answer, rule, start, gradient_fn, state_names, call)
        except NotAnswered:
            raise
        except _AnswerError as error:
            return [f"{what} {error}"]
        except Exception as error:
            return [f"{what} raised {type(error).__name__} on {where}: {error}"]
        paths = _reference_states(rule, start, gradient_fn)
        reference = {"variable": paths["variable"]}
        reference.update({name: paths[key] for name, key in zip(state_names, reference_names)})
        for step in range(1, STEPS + 1):
            for name in ["variable", *state_names]:
                problems = compare_array(
                    student[name][step], reference[name][step],
                    f"the {name} after step {step} on {where}", rtol=RTOL, atol=ATOL,
                )  # fmt: skip
                if problems:
                    return problems
        keras_path = keras_trajectory(rule.to_keras(), gradient_fn, start, STEPS)
        problems = compare_array(
            student["variable"], keras_path, f"your path compared with keras.optimizers on {where}",
            rtol=1e-4, atol=1e-5,
        )  # fmt: skip
        if problems:
            return problems
    return []


def _settings(rule) -> str:
    """The settings of a rule, short: "learning_rate=0.0331, momentum=0.904"."""
    names = {"NumpySGD": ("learning_rate", "momentum"),
             "NumpyAdam": ("learning_rate", "beta_1", "beta_2", "epsilon")}[type(rule).__name__]  # fmt: skip
    return ", ".join(f"{name}={getattr(rule, name):.3g}" for name in names)


def _reference_states(rule, start, gradient_fn):
    """The reference path of the variable and of every state entry."""
    variable = np.array(start, dtype=np.float64)
    state = rule.init(variable)
    paths = {"variable": [variable], **{key: [value] for key, value in state.items()}}
    for _ in range(STEPS):
        variable, state = rule.update(variable, gradient_fn(variable), state)
        paths["variable"].append(variable)
        for key, value in state.items():
            paths[key].append(value)
    return {name: np.stack(values) for name, values in paths.items()}


def _momentum_rule(rng) -> NumpySGD:
    return NumpySGD(
        learning_rate=float(rng.uniform(0.005, 0.05)), momentum=float(rng.uniform(0.5, 0.95))
    )


def _call_momentum(step_fn, rule, variable, gradient, states, step):
    return step_fn(variable, gradient, states[0], rule.learning_rate, rule.momentum)


@exercise(
    "training.momentum_step",
    CHAPTER,
    hint=(
        "Keras keeps the velocity with the learning rate inside it: first "
        "velocity <- momentum * velocity - learning_rate * gradient, then "
        "variable <- variable + velocity. Return both, new variable first."
    ),
)
def _momentum_step(answer):
    return _check_step_function(
        answer, "your momentum_step", _momentum_rule, ["velocity"], _call_momentum, ["momentum"]
    )


def _adam_rule(rng) -> NumpyAdam:
    return NumpyAdam(
        learning_rate=float(rng.uniform(0.01, 0.2)),
        beta_1=float(rng.uniform(0.8, 0.95)),
        beta_2=float(rng.uniform(0.99, 0.999)),
        epsilon=1e-7,
    )


def _call_adam(step_fn, rule, variable, gradient, states, step):
    return step_fn(
        variable,
        gradient,
        states[0],
        states[1],
        step,
        rule.learning_rate,
        rule.beta_1,
        rule.beta_2,
        rule.epsilon,
    )


@exercise(
    "training.adam_step",
    CHAPTER,
    hint=(
        "Update m and v first (m <- beta_1 m + (1 - beta_1) g, v <- beta_2 v + (1 - beta_2) g^2), "
        "then step with alpha = learning_rate * sqrt(1 - beta_2**step) / (1 - beta_1**step) and "
        "divide by sqrt(v) + epsilon, epsilon outside the root, as Keras does. `step` is 1 on the first call."
    ),
)
def _adam_step(answer):
    return _check_step_function(
        answer, "your adam_step", _adam_rule, ["m", "v"], _call_adam, ["m", "v"]
    )


# --------------------------------------------------------------------------- value questions

DROPOUT_RATE = 0.2  # rate of the Dropout layer in training.dropout_scale
DROPOUT_INPUT = 3.0  # the value every unit sends into it


def dropout_kept_value(rate: float = DROPOUT_RATE, value: float = DROPOUT_INPUT) -> float:
    """What a kept unit leaves ``keras.layers.Dropout(rate)`` with in training mode."""
    import keras

    layer = keras.layers.Dropout(rate, seed=0)
    output = keras.ops.convert_to_numpy(
        layer(np.full((1, 1000), value, dtype="float32"), training=True)
    )
    kept = output[output != 0]
    return float(kept[0])


@exercise(
    "training.dropout_scale",
    CHAPTER,
    hint=(
        "Keras uses inverted dropout: in training, the units it keeps are scaled so that the "
        "expected output equals the input. What factor keeps the mean unchanged when a "
        "fraction `rate` of the units is set to zero?"
    ),
)
def _dropout_scale(answer):
    return compare_number(answer, dropout_kept_value(), "the value of a kept unit", rel_tol=1e-4)


ADAM_LEARNING_RATE = 0.01  # learning rate of the exercise training.adam_first_step
ADAM_GRADIENTS = (0.1, 10.0, 1000.0)  # three weights, gradients four orders of magnitude apart


def adam_first_step_sizes(
    learning_rate: float = ADAM_LEARNING_RATE, gradients=ADAM_GRADIENTS
) -> np.ndarray:
    """How far each weight moves on Adam's first step (Keras's defaults otherwise)."""
    rule = NumpyAdam(learning_rate=learning_rate)
    gradients = np.asarray(gradients, dtype=np.float64)
    weights = np.zeros_like(gradients)
    moved, _ = rule.update(weights, gradients, rule.init(weights))
    return np.abs(moved - weights)


@exercise(
    "training.adam_first_step",
    CHAPTER,
    hint=(
        "On the first step m and v are (1 - beta_1) g and (1 - beta_2) g^2; the bias correction "
        "divides them by exactly those factors. What is m_hat / sqrt(v_hat) then? Give the "
        "distance moved (a positive number), to 4 significant digits at least."
    ),
)
def _adam_first_step(answer):
    expected = adam_first_step_sizes()
    if np.ptp(expected) > 1e-4 * expected.max():  # guards the premise of the question
        return ["internal error: the reference first steps differ between the weights"]
    return compare_number(
        answer, float(expected.mean()), "the distance a weight moves", rel_tol=1e-4
    )


STABILITY_CURVATURES = (1.0, 25.0)  # the quadratic of training.max_learning_rate


def largest_stable_learning_rate(curvatures=STABILITY_CURVATURES) -> float:
    """Largest learning rate at which gradient descent does not diverge on the quadratic.

    Along an axis of curvature ``c`` one step multiplies the distance to the
    minimum by ``1 - lr * c``; the run diverges once ``|1 - lr * c| > 1`` on
    the steepest axis, that is for ``lr > 2 / max(c)``.
    """
    return 2.0 / max(curvatures)


def _diverges(learning_rate: float, steps: int = 200) -> bool:
    surface = quadratic(*STABILITY_CURVATURES)
    path = run_optimizer(
        NumpySGD(learning_rate=learning_rate), surface.gradient, surface.start, steps
    )
    return not np.all(np.isfinite(path)) or np.linalg.norm(path[-1]) > np.linalg.norm(path[0])


@exercise(
    "training.max_learning_rate",
    CHAPTER,
    hint=(
        "One gradient-descent step multiplies the distance to the minimum along an axis of "
        "curvature c by (1 - lr c). Which axis breaks first as lr grows, and for which lr does "
        "that factor leave [-1, 1]?"
    ),
)
def _max_learning_rate(answer):
    expected = largest_stable_learning_rate()
    if _diverges(0.99 * expected) or not _diverges(1.01 * expected):  # guards the formula
        return ["internal error: the reference stability limit does not match a run"]
    return compare_number(answer, expected, "the largest stable learning rate", rel_tol=1e-3)
