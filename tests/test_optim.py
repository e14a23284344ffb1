"""coursepkg.optim and the exercises of book/04_training.ipynb.

The NumPy update rules are compared with ``keras.optimizers`` run for several
steps on the same problem (float32 rules must agree to the last bit or nearly;
float64 rules to float32 rounding), the surfaces' gradients with finite
differences, and the exercises' references with Keras, with right answers
passing and wrong ones failing without giving the answer away.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from coursepkg import optim
from coursepkg.checking import evaluate, exercises
from coursepkg.exercises import training as training_exercises

STEPS = 40

# (rule, surface) pairs: every option of every rule, weight decay off and on.
RULES = {
    "sgd": optim.NumpySGD(learning_rate=0.02),
    "sgd-weight-decay": optim.NumpySGD(learning_rate=0.02, weight_decay=0.05),
    "momentum": optim.NumpySGD(learning_rate=0.02, momentum=0.9),
    "nesterov": optim.NumpySGD(learning_rate=0.02, momentum=0.9, nesterov=True),
    "momentum-weight-decay": optim.NumpySGD(learning_rate=0.02, momentum=0.8, weight_decay=0.1),
    "rmsprop": optim.NumpyRMSprop(learning_rate=0.05),
    "rmsprop-rho": optim.NumpyRMSprop(learning_rate=0.01, rho=0.5, epsilon=1e-4),
    "rmsprop-momentum": optim.NumpyRMSprop(learning_rate=0.01, momentum=0.7),
    "rmsprop-centered": optim.NumpyRMSprop(learning_rate=0.01, centered=True),
    "rmsprop-centered-momentum-decay": optim.NumpyRMSprop(
        learning_rate=0.01, momentum=0.5, centered=True, weight_decay=0.02
    ),
    "adam": optim.NumpyAdam(learning_rate=0.05, amsgrad=False),
    "adam-betas": optim.NumpyAdam(learning_rate=0.05, beta_1=0.5, beta_2=0.9, epsilon=1e-3),
    "adam-amsgrad": optim.NumpyAdam(learning_rate=0.05, amsgrad=True),
    "adamw": optim.NumpyAdam(learning_rate=0.05, weight_decay=0.04),
}
SURFACES = {
    "quadratic": optim.quadratic(),
    "rosenbrock": optim.rosenbrock(),
    "saddle": optim.saddle(),
}
# Rosenbrock's walls are steep (curvature ~2,000 at the start): smaller steps there.
LEARNING_RATE_SCALE = {"quadratic": 1.0, "rosenbrock": 0.02, "saddle": 1.0}


def feedback_text(result) -> str:
    return " ".join(result.problems) + " " + result.feedback()


# --------------------------------------------------------------------------- rules against Keras


@pytest.mark.parametrize("surface_name", SURFACES)
@pytest.mark.parametrize("rule_name", RULES)
def test_float32_rule_follows_keras_step_by_step(rule_name, surface_name):
    surface = SURFACES[surface_name]
    rule = RULES[rule_name]
    rule = dataclasses.replace(
        rule, learning_rate=rule.learning_rate * LEARNING_RATE_SCALE[surface_name]
    )
    keras_path = optim.keras_trajectory(rule.to_keras(), surface.gradient, surface.start, STEPS)
    numpy_path = optim.run_optimizer(rule, surface.gradient, surface.start, STEPS, dtype=np.float32)
    assert numpy_path.dtype == np.float32
    assert np.all(np.isfinite(keras_path))
    np.testing.assert_allclose(numpy_path, keras_path, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("rule_name", RULES)
def test_float64_rule_agrees_with_keras_to_float32_rounding(rule_name):
    rule, surface = RULES[rule_name], SURFACES["quadratic"]
    keras_path = optim.keras_trajectory(rule.to_keras(), surface.gradient, surface.start, STEPS)
    numpy_path = optim.run_optimizer(rule, surface.gradient, surface.start, STEPS)
    assert numpy_path.dtype == np.float64
    np.testing.assert_allclose(numpy_path, keras_path, rtol=1e-4, atol=1e-4)
    # ... and the run moved: the comparison is not between two starting points.
    assert np.linalg.norm(numpy_path[-1] - numpy_path[0]) > 0.1


@pytest.mark.parametrize("rule_name", ["sgd", "momentum", "rmsprop", "adam"])
def test_to_keras_copies_every_setting(rule_name):
    rule = RULES[rule_name]
    config = rule.to_keras().get_config()
    for name, value in vars(rule).items():
        if value is None:
            assert config[name] is None, name
        else:
            assert config[name] == pytest.approx(value), name


def test_update_works_on_any_shape_and_leaves_its_inputs_alone():
    rule = optim.NumpyAdam(learning_rate=0.1)
    variable = np.arange(6.0).reshape(2, 3)
    gradient = np.ones((2, 3))
    state = rule.init(variable)
    copies = variable.copy(), gradient.copy(), {key: value.copy() for key, value in state.items()}
    new_variable, new_state = rule.update(variable, gradient, state)
    assert new_variable.shape == (2, 3)
    np.testing.assert_array_equal(variable, copies[0])
    np.testing.assert_array_equal(gradient, copies[1])
    for key in state:
        np.testing.assert_array_equal(state[key], copies[2][key])
    assert int(new_state["iterations"]) == 1


def test_gradient_descent_on_a_quadratic_matches_the_closed_form():
    """x_k = (1 - lr * c)**k * x_0 along each axis: an independent check of SGD."""
    surface = optim.quadratic(curvature_x=1.0, curvature_y=20.0)
    learning_rate, steps = 0.09, 30
    path = optim.run_optimizer(
        optim.NumpySGD(learning_rate), surface.gradient, surface.start, steps
    )
    factors = (1 - learning_rate * np.array([1.0, 20.0])) ** np.arange(steps + 1)[:, None]
    np.testing.assert_allclose(path, factors * np.array(surface.start), rtol=1e-12, atol=1e-12)


def test_adam_first_step_moves_every_weight_by_the_learning_rate():
    rule = optim.NumpyAdam(learning_rate=0.01)
    weights = np.zeros(3)
    moved, _ = rule.update(weights, np.array([0.1, 10.0, -1000.0]), rule.init(weights))
    np.testing.assert_allclose(moved, [-0.01, -0.01, 0.01], rtol=1e-4)


def test_amsgrad_uses_the_largest_second_moment_seen():
    rule = optim.NumpyAdam(learning_rate=0.1, amsgrad=True)
    state = rule.init(np.zeros(1))
    variable = np.zeros(1)
    for gradient in (10.0, 0.01, 0.01):
        variable, state = rule.update(variable, np.array([gradient]), state)
    assert state["v_hat"][0] > state["v"][0]
    assert state["v_hat"][0] == pytest.approx((1 - 0.999) * 100.0, rel=1e-12)


def test_diverging_run_returns_non_finite_points_instead_of_raising():
    surface = optim.quadratic(curvature_x=1.0, curvature_y=20.0)
    path = optim.run_optimizer(
        optim.NumpySGD(learning_rate=0.5), surface.gradient, surface.start, 400
    )
    assert path.shape == (401, 2)
    assert not np.all(np.isfinite(path[-1]))


# --------------------------------------------------------------------------- surfaces


@pytest.mark.parametrize("surface_name", SURFACES)
def test_surface_gradient_matches_finite_differences(surface_name):
    surface = SURFACES[surface_name]
    points = np.random.default_rng(0).uniform(-1.5, 1.5, size=(20, 2))
    step = 1e-6
    numeric = np.stack(
        [(surface.value(points + step * unit) - surface.value(points - step * unit)) / (2 * step)
         for unit in np.eye(2)],
        axis=-1,
    )  # fmt: skip
    np.testing.assert_allclose(surface.gradient(points), numeric, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("surface_name", SURFACES)
def test_surface_minimum_is_stationary_and_lowest(surface_name):
    surface = SURFACES[surface_name]
    minimum = np.array(surface.minimum)
    np.testing.assert_allclose(surface.gradient(minimum), [0.0, 0.0], atol=1e-12)
    grid = np.stack(
        np.meshgrid(np.linspace(*surface.xlim, 41), np.linspace(*surface.ylim, 41)), axis=-1
    )
    assert surface.value(grid).min() >= surface.value(minimum) - 1e-12


def test_saddle_has_a_saddle_point_at_the_origin():
    surface = optim.saddle()
    np.testing.assert_allclose(surface.gradient(np.zeros(2)), [0.0, 0.0])
    along_x, along_y = surface.value(np.array([0.1, 0.0])), surface.value(np.array([0.0, 0.1]))
    assert along_x > surface.value(np.zeros(2)) > along_y


def test_surfaces_evaluate_a_grid_at_once():
    surface = optim.rosenbrock()
    grid = np.zeros((4, 5, 2))
    assert surface.value(grid).shape == (4, 5)
    assert surface.gradient(grid).shape == (4, 5, 2)


def test_surface_registry_builds_each_surface():
    assert {
        name: builder().name for name, builder in optim.SURFACES.items()
    }.keys() == SURFACES.keys()


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda: optim.NumpySGD(learning_rate=0.0), "learning_rate"),
        (lambda: optim.NumpySGD(learning_rate=-1.0), "learning_rate"),
        (lambda: optim.NumpySGD(momentum=1.0), "momentum"),
        (lambda: optim.NumpySGD(momentum="high"), "momentum"),
        (lambda: optim.NumpyAdam(beta_1=-0.1), "beta_1"),
        (lambda: optim.NumpySGD(nesterov="yes"), "nesterov"),
        (lambda: optim.NumpySGD(weight_decay=-0.1), "weight_decay"),
        (lambda: optim.NumpyRMSprop(rho=0.0), "rho"),
        (lambda: optim.NumpyRMSprop(epsilon=0.0), "epsilon"),
        (lambda: optim.NumpyRMSprop(centered=1), "centered"),
        (lambda: optim.NumpyAdam(beta_1=1.0), "beta_1"),
        (lambda: optim.NumpyAdam(beta_2=1.5), "beta_2"),
        (lambda: optim.NumpyAdam(amsgrad=None), "amsgrad"),
        (lambda: optim.NumpyAdam(learning_rate="fast"), "learning_rate"),
        (lambda: optim.quadratic(curvature_y=0.0), "curvature_y"),
        (lambda: optim.rosenbrock(b=-1.0), "b"),
    ],
)
def test_bad_settings_raise_errors_naming_the_argument(build, argument):
    with pytest.raises((TypeError, ValueError), match=f"`{argument}`"):
        build()


def test_bad_update_inputs_raise_value_errors():
    rule = optim.NumpySGD()
    with pytest.raises(ValueError, match="gradient.shape"):
        rule.update(np.zeros(2), np.zeros(3), rule.init(np.zeros(2)))
    with pytest.raises(ValueError, match="`gradient`"):
        rule.update(np.zeros(2), np.array([np.nan, 0.0]), rule.init(np.zeros(2)))
    with pytest.raises(TypeError, match="`state`"):
        rule.update(np.zeros(2), np.zeros(2), None)


def test_bad_run_arguments_raise_value_errors():
    surface = optim.quadratic()
    rule = optim.NumpySGD()
    with pytest.raises(ValueError, match="`steps`"):
        optim.run_optimizer(rule, surface.gradient, surface.start, 0)
    with pytest.raises(TypeError, match="`steps`"):
        optim.run_optimizer(rule, surface.gradient, surface.start, 2.5)
    with pytest.raises(TypeError, match="`optimizer`"):
        optim.run_optimizer("adam", surface.gradient, surface.start, 3)
    with pytest.raises(TypeError, match="`gradient_fn`"):
        optim.run_optimizer(rule, surface, surface.start, 3)
    with pytest.raises(ValueError, match="`start`"):
        optim.run_optimizer(rule, surface.gradient, (np.inf, 0.0), 3)
    with pytest.raises(TypeError, match="`dtype`"):
        optim.run_optimizer(rule, surface.gradient, surface.start, 3, dtype=np.int32)
    with pytest.raises(TypeError, match="`optimizer`"):
        optim.keras_trajectory(rule, surface.gradient, surface.start, 3)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        surface.value(np.zeros(3))


# --------------------------------------------------------------------------- exercises

IDS = (
    "training.momentum_step",
    "training.adam_step",
    "training.dropout_scale",
    "training.adam_first_step",
    "training.max_learning_rate",
)


def test_the_chapter_registers_its_exercises():
    registered = {item.id: item for item in exercises("training")}
    assert set(registered) == set(IDS)
    assert {item.chapter for item in registered.values()} == {"book/04_training.ipynb"}


def momentum_step(variable, gradient, velocity, learning_rate, momentum):
    velocity = momentum * velocity - learning_rate * gradient
    return variable + velocity, velocity


def adam_step(variable, gradient, m, v, step, learning_rate, beta_1, beta_2, epsilon):
    m = beta_1 * m + (1 - beta_1) * gradient
    v = beta_2 * v + (1 - beta_2) * gradient**2
    alpha = learning_rate * np.sqrt(1 - beta_2**step) / (1 - beta_1**step)
    return variable - alpha * m / (np.sqrt(v) + epsilon), m, v


def test_right_step_functions_pass():
    assert evaluate("training.momentum_step", momentum_step).passed
    assert evaluate("training.adam_step", adam_step).passed


def test_textbook_adam_with_epsilon_after_the_bias_correction_also_passes():
    def textbook_adam(variable, gradient, m, v, step, learning_rate, beta_1, beta_2, epsilon):
        m = beta_1 * m + (1 - beta_1) * gradient
        v = beta_2 * v + (1 - beta_2) * gradient**2
        m_hat, v_hat = m / (1 - beta_1**step), v / (1 - beta_2**step)
        return variable - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m, v

    assert evaluate("training.adam_step", textbook_adam).passed


def classical_momentum(variable, gradient, velocity, learning_rate, momentum):
    velocity = momentum * velocity + gradient  # the learning rate outside the velocity
    return variable - learning_rate * velocity, velocity


def momentum_without_memory(variable, gradient, velocity, learning_rate, momentum):
    velocity = -learning_rate * gradient
    return variable + velocity, velocity


def adam_without_bias_correction(
    variable, gradient, m, v, step, learning_rate, beta_1, beta_2, epsilon
):
    m = beta_1 * m + (1 - beta_1) * gradient
    v = beta_2 * v + (1 - beta_2) * gradient**2
    return variable - learning_rate * m / (np.sqrt(v) + epsilon), m, v


def adam_step_counted_from_zero(
    variable, gradient, m, v, step, learning_rate, beta_1, beta_2, epsilon
):
    return adam_step(variable, gradient, m, v, step + 1, learning_rate, beta_1, beta_2, epsilon)


def adam_in_wrong_order(variable, gradient, m, v, step, learning_rate, beta_1, beta_2, epsilon):
    new_variable, new_m, new_v = adam_step(
        variable, gradient, m, v, step, learning_rate, beta_1, beta_2, epsilon
    )
    return new_variable, new_v, new_m


@pytest.mark.parametrize(
    ("exercise_id", "answer", "message"),
    [
        ("training.momentum_step", classical_momentum, "velocity after step 1"),
        ("training.momentum_step", momentum_without_memory, "variable after step 2"),
        ("training.momentum_step", lambda *args: args[0], "should return a tuple"),
        ("training.momentum_step", "v = mu v - lr g", "should be a function"),
        ("training.adam_step", adam_without_bias_correction, "variable after step 1"),
        ("training.adam_step", adam_step_counted_from_zero, "variable after step 1"),
        ("training.adam_step", adam_in_wrong_order, "the m after step 1"),
        ("training.adam_step", lambda *args: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_wrong_step_functions_fail_with_a_useful_message(exercise_id, answer, message):
    result = evaluate(exercise_id, answer)
    assert not result.passed and result.attempted
    assert message in feedback_text(result)


@pytest.mark.parametrize("exercise_id", ["training.momentum_step", "training.adam_step"])
@pytest.mark.parametrize("stub_returns", [..., None])
def test_a_step_function_stub_is_not_answered_yet(exercise_id, stub_returns):
    """The exercise cell's own stub: [TODO], not [FAIL], and no points lost as a wrong answer."""
    result = evaluate(exercise_id, lambda *args: stub_returns)
    assert not result.attempted and not result.passed
    assert result.feedback().startswith(f"[TODO] {exercise_id}")


def test_the_step_function_checks_compare_with_keras_too(monkeypatch):
    """A step that agrees with a (broken) reference but not with Keras still fails."""
    monkeypatch.setattr(training_exercises, "_reference_states", fake_reference_states)
    result = evaluate("training.momentum_step", momentum_without_memory)
    assert not result.passed
    assert "keras.optimizers" in feedback_text(result)


def fake_reference_states(rule, start, gradient_fn):
    """A reference that forgets the velocity, to see the Keras comparison bite."""
    variable = np.array(start, dtype=np.float64)
    paths = {"variable": [variable], "momentum": [np.zeros_like(variable)]}
    for _ in range(training_exercises.STEPS):
        velocity = -rule.learning_rate * gradient_fn(variable)
        variable = variable + velocity
        paths["variable"].append(variable)
        paths["momentum"].append(velocity)
    return {name: np.stack(values) for name, values in paths.items()}


def test_dropout_reference_matches_the_inverted_dropout_formula():
    rate, value = training_exercises.DROPOUT_RATE, training_exercises.DROPOUT_INPUT
    assert training_exercises.dropout_kept_value() == pytest.approx(value / (1 - rate), rel=1e-6)


def test_adam_first_step_reference_is_the_learning_rate_for_every_gradient():
    sizes = training_exercises.adam_first_step_sizes()
    np.testing.assert_allclose(sizes, training_exercises.ADAM_LEARNING_RATE, rtol=1e-4)


def test_stability_limit_reference_matches_runs_either_side():
    limit = training_exercises.largest_stable_learning_rate()
    surface = optim.quadratic(*training_exercises.STABILITY_CURVATURES)
    below = optim.run_optimizer(optim.NumpySGD(0.98 * limit), surface.gradient, surface.start, 300)
    above = optim.run_optimizer(optim.NumpySGD(1.02 * limit), surface.gradient, surface.start, 300)
    assert np.linalg.norm(below[-1]) < 1e-2 * np.linalg.norm(below[0])
    assert np.linalg.norm(above[-1]) > 10 * np.linalg.norm(above[0])


@pytest.mark.parametrize(
    ("exercise_id", "reference", "wrong_answers"),
    [
        ("training.dropout_scale", training_exercises.dropout_kept_value,
         [training_exercises.DROPOUT_INPUT, training_exercises.DROPOUT_INPUT * 0.8, 1.25, "a lot"]),
        ("training.adam_first_step", lambda: float(training_exercises.adam_first_step_sizes().mean()),
         [0.001, 0.1, 10 * training_exercises.ADAM_LEARNING_RATE, True]),
        ("training.max_learning_rate", training_exercises.largest_stable_learning_rate,
         [2.0, 1.0 / 25, 2.0 / 26, float("nan")]),
    ],
)  # fmt: skip
def test_value_questions_pass_the_reference_and_fail_wrong_answers_without_the_answer(
    exercise_id, reference, wrong_answers
):
    expected = reference()
    assert evaluate(exercise_id, expected).passed
    assert not evaluate(exercise_id, ...).attempted
    for wrong in wrong_answers:
        result = evaluate(exercise_id, wrong)
        assert not result.passed, wrong
        text = feedback_text(result)
        for shown in {f"{expected:g}", f"{expected:.6g}", f"{expected}", f"{expected:.3g}"}:
            assert shown not in text, (wrong, text)


# --------------------------------------------------------------------------- argument checks (issue 16)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize(
    ("rule", "argument"),
    [(optim.NumpySGD, "learning_rate"), (optim.NumpySGD, "momentum"), (optim.NumpySGD, "weight_decay"),
     (optim.NumpyRMSprop, "rho"), (optim.NumpyRMSprop, "epsilon"), (optim.NumpyAdam, "beta_1"),
     (optim.NumpyAdam, "beta_2"), (optim.NumpyAdam, "epsilon"), (optim.NumpyAdam, "weight_decay")],
)  # fmt: skip
def test_nan_and_infinite_settings_are_refused(rule, argument, value):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        rule(**{argument: value})


@pytest.mark.parametrize(
    ("settings", "argument"),
    [({"learning_rate": 1e6}, "learning_rate"), ({"epsilon": 10.0}, "epsilon"),
     ({"weight_decay": 1e3}, "weight_decay")],
)  # fmt: skip
def test_absurd_settings_are_refused(settings, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        optim.NumpyAdam(**settings)


@pytest.mark.parametrize("flag", ["no", "False", 0, None])
def test_flags_must_be_real_booleans(flag):
    with pytest.raises(TypeError, match="`nesterov`"):
        optim.NumpySGD(momentum=0.9, nesterov=flag)
    with pytest.raises(TypeError, match="`amsgrad`"):
        optim.NumpyAdam(amsgrad=flag)


def test_settings_are_stored_as_python_numbers():
    rule = optim.NumpyAdam(learning_rate=np.float32(0.5), amsgrad=np.bool_(True))
    assert type(rule.learning_rate) is float and rule.amsgrad is True


def test_strings_never_reach_numpy():
    rule = optim.NumpySGD()
    with pytest.raises(TypeError, match="`variable`"):
        rule.init(["a", "b"])
    with pytest.raises(TypeError, match="`variable`"):
        rule.update("ab", np.zeros(2), rule.init(np.zeros(2)))
    with pytest.raises(TypeError, match="`gradient`"):
        rule.update(np.zeros(2), ["a", "b"], rule.init(np.zeros(2)))
    surface = optim.quadratic()
    with pytest.raises(TypeError, match="`start`"):
        optim.run_optimizer(rule, surface.gradient, "start", 3)
    with pytest.raises(TypeError, match="`gradient_fn`"):
        optim.run_optimizer(rule, lambda point: "down", surface.start, 3)
    with pytest.raises(TypeError, match="`point`"):
        surface.value("origin")
    with pytest.raises(TypeError, match="`start`"):
        optim.quadratic(start="origin")
    with pytest.raises(ValueError, match="`start`"):
        optim.saddle(start=(float("nan"), 0.0))


@pytest.mark.parametrize("dtype", [None, "float16", "no-such-type", 3, np.complex64])
def test_run_optimizer_dtype_is_float32_or_float64(dtype):
    surface = optim.quadratic()
    with pytest.raises(TypeError, match="`dtype`"):
        optim.run_optimizer(optim.NumpySGD(), surface.gradient, surface.start, 3, dtype=dtype)
    path = optim.run_optimizer(optim.NumpySGD(), surface.gradient, surface.start, 3, dtype="float32")
    assert path.dtype == np.float32


def test_absurd_step_counts_are_refused_before_running():
    surface = optim.quadratic()
    with pytest.raises(ValueError, match="`steps`"):
        optim.run_optimizer(optim.NumpySGD(), surface.gradient, surface.start, 10**12)
    with pytest.raises(ValueError, match="`curvature_x`"):
        optim.quadratic(curvature_x=float("nan"))
    with pytest.raises(ValueError, match="`a`"):
        optim.rosenbrock(a=float("inf"))


def test_a_diverged_path_can_still_be_evaluated():
    surface = optim.rosenbrock()
    with np.errstate(over="ignore", invalid="ignore"):
        values = surface.value(np.array([[np.nan, 0.0], [np.inf, 1.0]]))
    assert not np.isfinite(values).any()
