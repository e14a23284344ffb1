"""coursepkg.activations against Keras, SciPy, autodiff and finite differences; its exercises.

Every comparison is with an independent reference: ``keras.activations`` and
``keras.losses`` (float32, so tolerances of a few float32 ulps), SciPy's
special functions (float64), gradients computed by the Keras backend through
``coursepkg.value_and_input_gradient``, or central finite differences. Runs
under any backend (``KERAS_BACKEND=tensorflow`` or ``jax``).
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import scipy.special

from coursepkg import activations as ref
from coursepkg.checking import evaluate, exercises
from coursepkg.exercises import activations as activation_exercises
from coursepkg.gradients import value_and_input_gradient

# Points on [-6, 6] that avoid the kink at 0 (ReLU, Leaky ReLU, ELU with alpha != 1).
GRID = np.concatenate([np.linspace(-6.0, -1e-3, 300), np.linspace(1e-3, 6.0, 300)])
FLOAT32 = {"rtol": 1e-5, "atol": 2e-6}  # a few float32 ulps on values of order 1


def numpy(tensor) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(tensor), dtype=np.float64)


def central_difference(function, x, step=1e-6):
    return (function(x + step) - function(x - step)) / (2 * step)


# Each activation: (reference function, reference derivative, the same function in Keras).
KERAS_PAIRS = {
    "sigmoid": (ref.sigmoid, ref.sigmoid_derivative, keras.activations.sigmoid),
    "tanh": (ref.tanh, ref.tanh_derivative, keras.activations.tanh),
    "relu": (ref.relu, ref.relu_derivative, keras.activations.relu),
    "leaky_relu": (ref.leaky_relu, ref.leaky_relu_derivative, keras.activations.leaky_relu),
    "leaky_relu_0.1": (
        lambda x: ref.leaky_relu(x, 0.1),
        lambda x: ref.leaky_relu_derivative(x, 0.1),
        lambda x: keras.activations.leaky_relu(x, negative_slope=0.1),
    ),
    "elu": (ref.elu, ref.elu_derivative, keras.activations.elu),
    "elu_0.5": (
        lambda x: ref.elu(x, 0.5),
        lambda x: ref.elu_derivative(x, 0.5),
        lambda x: keras.activations.elu(x, alpha=0.5),
    ),
    "selu": (ref.selu, ref.selu_derivative, keras.activations.selu),
    "gelu": (ref.gelu, ref.gelu_derivative, keras.activations.gelu),
    "gelu_tanh": (
        lambda x: ref.gelu(x, approximate=True),
        lambda x: ref.gelu_derivative(x, approximate=True),
        lambda x: keras.activations.gelu(x, approximate=True),
    ),
}


# --------------------------------------------------------------------------- activations


@pytest.mark.parametrize("name", sorted(KERAS_PAIRS))
def test_activation_matches_keras(name):
    function, _, keras_function = KERAS_PAIRS[name]
    expected = numpy(keras_function(keras.ops.convert_to_tensor(GRID.astype("float32"))))
    np.testing.assert_allclose(function(GRID), expected, **FLOAT32)


@pytest.mark.parametrize("name", sorted(KERAS_PAIRS))
def test_derivative_matches_finite_differences(name):
    function, derivative, _ = KERAS_PAIRS[name]
    np.testing.assert_allclose(derivative(GRID), central_difference(function, GRID), rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("name", sorted(KERAS_PAIRS))
def test_derivative_matches_backend_autodiff(name):
    _, derivative, keras_function = KERAS_PAIRS[name]
    # The activation acts element-wise, so the gradient of the sum is the derivative at each point.
    _, gradient = value_and_input_gradient(lambda x: keras.ops.sum(keras_function(x)), GRID)
    # float32 autodiff: the tanh form of GELU saturates to exactly 0 below x ~ -5 (true value ~1e-6)
    np.testing.assert_allclose(derivative(GRID), gradient, rtol=1e-5, atol=5e-6)


def test_table_lists_every_activation_with_its_keras_name():
    assert set(ref.ACTIVATIONS) == {"sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu"}
    for name, (function, derivative) in ref.ACTIVATIONS.items():
        assert ref.activation(name) == (function, derivative)
        assert hasattr(keras.activations, name)


def test_sigmoid_matches_scipy_expit_including_extremes():
    x = np.concatenate([GRID, [-1000.0, -745.0, -50.0, 50.0, 745.0, 1000.0]])
    np.testing.assert_allclose(ref.sigmoid(x), scipy.special.expit(x), rtol=1e-14, atol=1e-300)
    # s'(x) = s(x) s(-x), accurate relative to its value far in the tails
    np.testing.assert_allclose(
        ref.sigmoid_derivative(x), scipy.special.expit(x) * scipy.special.expit(-x), rtol=1e-12, atol=1e-300
    )


def test_tanh_derivative_is_accurate_in_the_tails():
    x = np.array([-30.0, -20.0, 0.0, 20.0, 30.0])
    np.testing.assert_allclose(ref.tanh_derivative(x), 1.0 / np.cosh(x) ** 2, rtol=1e-12, atol=0)


def test_gelu_matches_erf_formula():
    x = np.concatenate([GRID, [-40.0, 0.0, 40.0]])
    # Phi(x) = (1 + erf(x / sqrt 2)) / 2 = erfc(-x / sqrt 2) / 2; the erfc form keeps full
    # precision in the negative tail, where 1 + erf(...) cancels.
    normal_cdf = 0.5 * scipy.special.erfc(-x / math.sqrt(2.0))
    np.testing.assert_allclose(normal_cdf, 0.5 * (1.0 + scipy.special.erf(x / math.sqrt(2.0))), rtol=1e-6, atol=1e-16)
    np.testing.assert_allclose(ref.gelu(x), x * normal_cdf, rtol=1e-12, atol=1e-300)
    density = np.exp(-0.5 * x**2) / math.sqrt(2.0 * math.pi)
    np.testing.assert_allclose(ref.gelu_derivative(x), normal_cdf + x * density, rtol=1e-12, atol=1e-300)


def test_selu_uses_the_published_constants():
    # Klambauer et al. (2017): lambda ~ 1.0507 and alpha ~ 1.6733; at -inf SELU tends to -lambda alpha.
    assert ref.SELU_SCALE == pytest.approx(1.0507, abs=1e-4)
    assert ref.SELU_ALPHA == pytest.approx(1.6733, abs=1e-4)
    assert float(ref.selu(-1000.0)) == pytest.approx(-ref.SELU_SCALE * ref.SELU_ALPHA)


def test_prelu_matches_keras_layer_with_per_channel_slopes():
    x = np.random.default_rng(0).normal(scale=3.0, size=(5, 4))  # (batch, channels)
    slopes = np.array([0.0, 0.1, 0.25, -0.5])
    layer = keras.layers.PReLU()
    layer.build((None, 4))
    layer.set_weights([slopes.astype("float32")])
    np.testing.assert_allclose(ref.prelu(x, slopes), numpy(layer(x.astype("float32"))), **FLOAT32)
    np.testing.assert_allclose(
        ref.prelu_derivative(x, slopes), central_difference(lambda v: ref.prelu(v, slopes), x), atol=1e-8
    )
    _, gradient = value_and_input_gradient(lambda v: keras.ops.sum(layer(v)), x)
    np.testing.assert_allclose(ref.prelu_derivative(x, slopes), gradient, atol=1e-6)


def test_kinks_take_the_slope_of_the_negative_side():
    assert float(ref.relu_derivative(0.0)) == 0.0
    assert float(ref.leaky_relu_derivative(0.0, 0.2)) == 0.2
    assert float(ref.elu_derivative(0.0, 0.5)) == 0.5
    assert float(ref.prelu_derivative(0.0, 0.3)) == pytest.approx(0.3)


def test_derivative_maxima():
    grid = np.linspace(-10, 10, 20_001)
    assert ref.sigmoid_derivative(grid).max() == pytest.approx(0.25, rel=1e-12)
    assert ref.tanh_derivative(grid).max() == pytest.approx(1.0, rel=1e-12)
    assert ref.sigmoid_derivative(grid).argmax() == np.argmin(np.abs(grid))


def test_extreme_inputs_raise_no_floating_point_warning():
    extreme = np.array([-1e4, -1000.0, -50.0, 0.0, 50.0, 1000.0, 1e4])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        for function, derivative in ref.ACTIVATIONS.values():
            assert np.all(np.isfinite(function(extreme)))
            assert np.all(np.isfinite(derivative(extreme)))
        assert np.all(np.isfinite(ref.gelu_derivative(extreme, approximate=True)))
        assert np.all(np.isfinite(ref.softmax(extreme)))
        assert np.all(np.isfinite(ref.log_softmax(extreme)))
        assert np.all(np.isfinite(ref.binary_cross_entropy(np.ones(7), extreme, from_logits=True)))


# --------------------------------------------------------------------------- softmax


def test_softmax_and_log_softmax_match_scipy():
    logits = np.random.default_rng(1).normal(scale=5.0, size=(6, 10))
    for axis in (-1, 0):
        np.testing.assert_allclose(ref.softmax(logits, axis=axis), scipy.special.softmax(logits, axis=axis), rtol=1e-12)
        np.testing.assert_allclose(
            ref.log_softmax(logits, axis=axis), scipy.special.log_softmax(logits, axis=axis), rtol=1e-10
        )
        np.testing.assert_allclose(
            ref.logsumexp(logits, axis=axis), scipy.special.logsumexp(logits, axis=axis), rtol=1e-12
        )


def test_softmax_matches_keras():
    logits = np.random.default_rng(2).normal(scale=5.0, size=(6, 10))
    np.testing.assert_allclose(ref.softmax(logits), numpy(keras.activations.softmax(logits.astype("float32"))), **FLOAT32)
    np.testing.assert_allclose(
        ref.log_softmax(logits), numpy(keras.activations.log_softmax(logits.astype("float32"))), rtol=1e-5, atol=1e-5
    )


def test_softmax_is_stable_on_extreme_logits():
    e = math.e
    np.testing.assert_allclose(ref.softmax([1000.0, 1001.0]), [1 / (1 + e), e / (1 + e)], rtol=1e-14)
    np.testing.assert_allclose(ref.softmax([-1000.0, -1001.0]), [e / (1 + e), 1 / (1 + e)], rtol=1e-14)
    np.testing.assert_allclose(ref.log_softmax([0.0, -1000.0]), [0.0, -1000.0], atol=1e-12)
    np.testing.assert_allclose(ref.log_softmax([1000.0, 1001.0]), scipy.special.log_softmax([1000.0, 1001.0]))
    np.testing.assert_array_equal(ref.softmax([0.0, -np.inf]), [1.0, 0.0])
    assert float(ref.logsumexp([1000.0, 1000.0])) == pytest.approx(1000.0 + math.log(2.0))


def test_softmax_is_invariant_to_a_shift_and_sums_to_one():
    logits = np.random.default_rng(3).normal(size=(4, 7))
    np.testing.assert_allclose(ref.softmax(logits + 123.4), ref.softmax(logits), rtol=1e-12)
    np.testing.assert_allclose(ref.softmax(logits).sum(axis=-1), 1.0, rtol=1e-14)


def test_softmax_jacobian_matches_finite_differences_and_autodiff():
    logits = np.random.default_rng(4).normal(size=5)
    jacobian = ref.softmax_jacobian(logits)
    for j in range(5):
        step = np.zeros(5)
        step[j] = 1e-6
        np.testing.assert_allclose(
            jacobian[:, j], (ref.softmax(logits + step) - ref.softmax(logits - step)) / 2e-6, atol=1e-9
        )
    for i in range(5):
        _, gradient = value_and_input_gradient(lambda z, i=i: keras.activations.softmax(z)[i], logits)
        np.testing.assert_allclose(jacobian[i], gradient, atol=1e-6)


# --------------------------------------------------------------------------- cross-entropy


def _classification_batch(seed=5, batch=8, classes=10, scale=3.0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=scale, size=(batch, classes))
    labels = rng.integers(0, classes, size=batch)
    return logits, labels, np.eye(classes)[labels]


@pytest.mark.parametrize("from_logits", [True, False])
def test_categorical_cross_entropy_matches_keras(from_logits):
    logits, labels, targets = _classification_batch()
    predictions = logits if from_logits else ref.softmax(logits)
    expected_categorical = keras.losses.CategoricalCrossentropy(from_logits=from_logits, reduction=None)(
        targets.astype("float32"), predictions.astype("float32")
    )
    expected_sparse = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, reduction=None)(
        labels, predictions.astype("float32")
    )
    np.testing.assert_allclose(ref.categorical_cross_entropy(targets, predictions, from_logits), numpy(expected_categorical), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        ref.sparse_categorical_cross_entropy(labels, predictions, from_logits), numpy(expected_sparse), rtol=1e-5, atol=1e-5
    )


def test_cross_entropy_with_soft_targets_matches_keras():
    logits, _, _ = _classification_batch(seed=6)
    soft_targets = ref.softmax(np.random.default_rng(7).normal(size=logits.shape))
    expected = keras.losses.categorical_crossentropy(soft_targets.astype("float32"), logits.astype("float32"), from_logits=True)
    np.testing.assert_allclose(ref.categorical_cross_entropy(soft_targets, logits, from_logits=True), numpy(expected), rtol=1e-5, atol=1e-5)


def test_cross_entropy_from_extreme_logits_is_exact():
    logits = np.array([[100.0, -100.0, 0.0], [-80.0, 80.0, 79.0]])
    labels = np.array([1, 2])
    expected = -scipy.special.log_softmax(logits, axis=-1)[np.arange(2), labels]  # 200 and ~1.31
    np.testing.assert_allclose(ref.sparse_categorical_cross_entropy(labels, logits, from_logits=True), expected, rtol=1e-14)
    keras_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)(labels, logits.astype("float32"))
    np.testing.assert_allclose(numpy(keras_loss), expected, rtol=1e-5)


@pytest.mark.parametrize("from_logits", [True, False])
def test_binary_cross_entropy_matches_keras(from_logits):
    rng = np.random.default_rng(8)
    logits = rng.normal(scale=3.0, size=(6, 4))
    targets = rng.integers(0, 2, size=(6, 4)).astype(np.float64)
    predictions = logits if from_logits else ref.sigmoid(logits)
    expected = keras.losses.BinaryCrossentropy(from_logits=from_logits, reduction=None)(
        targets.astype("float32"), predictions.astype("float32")
    )
    # Keras averages over the last axis; the reference returns element-wise losses.
    np.testing.assert_allclose(ref.binary_cross_entropy(targets, predictions, from_logits).mean(axis=-1), numpy(expected), rtol=1e-5, atol=1e-5)


def test_binary_cross_entropy_is_two_class_softmax_cross_entropy():
    logits = np.linspace(-50, 50, 101)
    targets = (logits > 3).astype(np.float64)
    two_class_logits = np.stack([logits, np.zeros_like(logits)], axis=-1)  # (points, 2): class 1 gets logit z
    two_class_targets = np.stack([targets, 1 - targets], axis=-1)
    np.testing.assert_allclose(
        ref.binary_cross_entropy(targets, logits, from_logits=True),
        ref.categorical_cross_entropy(two_class_targets, two_class_logits, from_logits=True),
        rtol=1e-12, atol=1e-14,
    )  # fmt: skip
    np.testing.assert_allclose(ref.softmax(two_class_logits)[:, 0], ref.sigmoid(logits), rtol=1e-12)


def test_softmax_cross_entropy_gradient_is_p_minus_y():
    logits, _, targets = _classification_batch(seed=9, batch=4, classes=6)
    gradient = ref.softmax_cross_entropy_gradient(targets, logits)
    np.testing.assert_allclose(gradient, ref.softmax(logits) - targets, rtol=1e-14)
    _, autodiff = value_and_input_gradient(
        lambda z: keras.ops.sum(keras.losses.categorical_crossentropy(targets.astype("float32"), z, from_logits=True)),
        logits,
    )
    np.testing.assert_allclose(gradient, autodiff, atol=1e-6)


def test_cross_entropy_of_a_zero_probability_is_infinite():
    with np.errstate(divide="raise"):
        loss = ref.categorical_cross_entropy([[0.0, 1.0]], [[1.0, 0.0]])
    assert np.isinf(loss[0])
    assert ref.categorical_cross_entropy([[1.0, 0.0]], [[1.0, 0.0]])[0] == 0.0


# --------------------------------------------------------------------------- input errors


@pytest.mark.parametrize(
    ("call", "argument", "error"),
    [
        (lambda: ref.sigmoid("1.0"), "`x`", TypeError),
        (lambda: ref.relu(None), "`x`", TypeError),
        (lambda: ref.tanh(np.array([1 + 2j])), "`x`", TypeError),
        (lambda: ref.gelu([[1.0], ["a"]]), "`x`", TypeError),
        (lambda: ref.leaky_relu(1.0, negative_slope="0.2"), "`negative_slope`", TypeError),
        (lambda: ref.leaky_relu_derivative(1.0, negative_slope=float("nan")), "`negative_slope`", ValueError),
        (lambda: ref.elu(1.0, alpha=-1.0), "`alpha`", ValueError),
        (lambda: ref.prelu(1.0, alpha="x"), "`alpha`", TypeError),
        (lambda: ref.gelu(1.0, approximate="tanh"), "`approximate`", TypeError),
        (lambda: ref.softmax(3.0), "`axis`", ValueError),
        (lambda: ref.softmax([1.0, 2.0], axis=1), "`axis`", ValueError),
        (lambda: ref.log_softmax(np.zeros((2, 0))), "`axis`", ValueError),
        (lambda: ref.softmax_jacobian(np.zeros((2, 2))), "`logits`", ValueError),
        (lambda: ref.categorical_cross_entropy([[1.0, 0.0]], [[0.5, 0.3, 0.2]]), "`y_true`", ValueError),
        (lambda: ref.categorical_cross_entropy([[1.0, 0.0]], [[2.0, -1.0]]), "`y_pred`", ValueError),
        (lambda: ref.categorical_cross_entropy([[1.0, 0.0]], [[2.0, -1.0]], from_logits="yes"), "`from_logits`", TypeError),
        (lambda: ref.sparse_categorical_cross_entropy([0, 3], np.zeros((2, 3)), from_logits=True), "`labels`", ValueError),
        (lambda: ref.sparse_categorical_cross_entropy([0.0, 1.0], np.zeros((2, 3)), from_logits=True), "`labels`", TypeError),
        (lambda: ref.sparse_categorical_cross_entropy([0], np.zeros(3), from_logits=True), "`y_pred`", ValueError),
        (lambda: ref.binary_cross_entropy([2.0], [0.5]), "`y_true`", ValueError),
        (lambda: ref.softmax_cross_entropy_gradient([[1.0, 0.0]], [[1.0, 2.0, 3.0]]), "`y_true`", ValueError),
        (lambda: ref.activation("swish"), "`name`", ValueError),
    ],
)
def test_bad_input_raises_an_error_naming_the_argument(call, argument, error):
    """A wrong type is a TypeError, a right type out of range a ValueError (issue 16)."""
    with pytest.raises(error, match=argument):
        call()


# --------------------------------------------------------------------------- exercises

EXERCISE_IDS = [
    "activations.sigmoid_max_slope",
    "activations.uniform_loss",
    "activations.gelu_tanh_derivative",
    "activations.log_softmax",
    "activations.cross_entropy_gradient",
]


def _naive_log_softmax(logits):
    with np.errstate(over="ignore", invalid="ignore"):
        exponentials = np.exp(logits)  # overflows for logits above ~709
        return np.log(exponentials / exponentials.sum(axis=-1, keepdims=True))


def _uniform_loss_from_reference():
    return float(ref.sparse_categorical_cross_entropy(np.array([0]), np.full((1, 10), 0.1))[0])


RIGHT_ANSWERS = {
    "activations.sigmoid_max_slope": lambda: float(ref.sigmoid_derivative(0.0)),
    "activations.uniform_loss": _uniform_loss_from_reference,
    "activations.gelu_tanh_derivative": lambda: (lambda x: ref.gelu_derivative(x, approximate=True)),
    "activations.log_softmax": lambda: ref.log_softmax,
    "activations.cross_entropy_gradient": lambda: (
        lambda logits, labels: (ref.softmax(logits) - np.eye(logits.shape[1])[labels]) / len(labels)
    ),
}

WRONG_ANSWERS = {
    "activations.sigmoid_max_slope": [
        lambda: float(ref.sigmoid(0.0)),  # the sigmoid itself, not its slope
        lambda: float(ref.tanh_derivative(0.0)),  # tanh's slope
        lambda: "a quarter",
    ],
    "activations.uniform_loss": [
        lambda: math.log2(10),  # wrong logarithm
        lambda: 0.1,
    ],
    "activations.gelu_tanh_derivative": [
        lambda: ref.gelu_derivative,  # the exact GELU's derivative, not the tanh form's
        lambda: (lambda x: 0.5 * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))),  # product rule forgotten
        lambda: (lambda x: float(ref.gelu_derivative(np.asarray(x).ravel()[0], approximate=True))),  # wrong shape
    ],
    "activations.log_softmax": [
        lambda: _naive_log_softmax,
        lambda: (lambda logits: logits - np.log(np.sum(np.exp(logits)))),  # sums over the whole batch
        lambda: (lambda logits: ref.log_softmax(logits, axis=0) if np.ndim(logits) > 1 else ref.log_softmax(logits)),
    ],
    "activations.cross_entropy_gradient": [
        lambda: (lambda logits, labels: ref.softmax(logits) - np.eye(logits.shape[1])[labels]),  # no 1/batch
        lambda: (lambda logits, labels: (np.eye(logits.shape[1])[labels] - ref.softmax(logits)) / len(labels)),  # sign
        lambda: (lambda logits, labels: 1 / 0),  # crashes
    ],
}


def test_chapter_registers_exactly_these_exercises():
    registered = {item.id: item for item in exercises("activations")}
    assert sorted(registered) == sorted(EXERCISE_IDS)
    assert {item.chapter for item in registered.values()} == {activation_exercises.CHAPTER}


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_exercise_passes_with_the_reference_answer(exercise_id):
    result = evaluate(exercise_id, RIGHT_ANSWERS[exercise_id]())
    assert result.passed, result.feedback()


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_exercise_is_not_attempted_while_the_answer_is_ellipsis(exercise_id):
    result = evaluate(exercise_id, ...)
    assert not result.passed and not result.attempted


@pytest.mark.parametrize(
    ("exercise_id", "index"), [(key, index) for key, answers in WRONG_ANSWERS.items() for index in range(len(answers))]
)
def test_exercise_fails_a_wrong_answer_without_revealing_the_right_one(exercise_id, index):
    result = evaluate(exercise_id, WRONG_ANSWERS[exercise_id][index]())
    feedback = result.feedback()
    assert result.attempted and not result.passed
    assert result.problems and "Hint:" in feedback
    right = RIGHT_ANSWERS[exercise_id]()
    if callable(right):  # no value of the expected output appears in the feedback
        (args, _), *_ = {
            "activations.gelu_tanh_derivative": activation_exercises._derivative_cases(),
            "activations.log_softmax": activation_exercises._log_softmax_cases(),
            "activations.cross_entropy_gradient": activation_exercises._gradient_cases(),
        }[exercise_id]
        expected_values = np.ravel(right(*args))[:5]
    else:
        expected_values = [right]
    for value in expected_values:
        for text in (f"{value:.6g}", f"{value:.4f}", f"{value:.3g}"):
            if text not in ("0", "0.0000", "-0", "1", "-1"):
                assert text not in feedback, f"the feedback reveals {text}: {feedback}"


def test_uniform_loss_answer_is_the_log_of_the_number_of_classes():
    # Guards the statement of the exercise: the expected value is ln(10), computed by the reference.
    assert activation_exercises._uniform_loss() == pytest.approx(math.log(10), rel=1e-12)
    assert activation_exercises._sigmoid_max_slope() == pytest.approx(0.25, rel=1e-12)


# --------------------------------------------------------------------------- argument checks (issue 16)


@pytest.mark.parametrize(
    "function", [ref.sigmoid, ref.relu, ref.tanh_derivative, ref.gelu, ref.selu_derivative]
)
def test_empty_and_nan_inputs_pass_through(function):
    assert function(np.zeros((0, 3))).shape == (0, 3)
    result = function(np.array([np.nan, 0.0]))
    assert np.isnan(result[0]) and np.isfinite(result[1])


@pytest.mark.parametrize(
    "bad", [np.array([True, False]), np.array([1.0 + 1.0j]), np.array([1, "a"], dtype=object), "1.0", b"1"]
)
def test_booleans_complex_objects_and_strings_are_refused(bad):
    with pytest.raises(TypeError, match="`x`"):
        ref.relu(bad)


@pytest.mark.parametrize(
    ("call", "argument", "error"),
    [
        (lambda: ref.logsumexp([1.0, 2.0], keepdims="no"), "`keepdims`", TypeError),
        (lambda: ref.gelu_derivative(1.0, approximate=0), "`approximate`", TypeError),
        (lambda: ref.binary_cross_entropy([1.0], [0.5], from_logits=1), "`from_logits`", TypeError),
        (lambda: ref.softmax([1.0, 2.0], axis=0.0), "`axis`", TypeError),
        (lambda: ref.softmax([1.0, 2.0], axis=10**12), "`axis`", ValueError),
        (lambda: ref.elu(1.0, alpha=float("inf")), "`alpha`", ValueError),
        (lambda: ref.leaky_relu(1.0, negative_slope=1e6), "`negative_slope`", ValueError),
        (lambda: ref.leaky_relu(1.0, negative_slope=1 + 1j), "`negative_slope`", TypeError),
        (lambda: ref.prelu(np.ones((2, 3)), alpha=np.ones(2)), "`alpha`", ValueError),
        (lambda: ref.prelu(np.ones(2), alpha=np.nan), "`alpha`", ValueError),
        (lambda: ref.prelu_derivative(np.ones(2), alpha=[]), "`alpha`", ValueError),
        (lambda: ref.softmax_jacobian(np.zeros(10**5)), "`logits`", ValueError),
        (lambda: ref.sparse_categorical_cross_entropy([True], np.zeros((1, 3))), "`labels`", TypeError),
        (lambda: ref.sparse_categorical_cross_entropy(["0"], np.zeros((1, 3))), "`labels`", TypeError),
        (lambda: ref.activation(["relu"]), "`name`", ValueError),
    ],
)
def test_bad_settings_are_refused_naming_them(call, argument, error):
    with pytest.raises(error, match=argument):
        call()


def test_prelu_accepts_one_slope_per_channel():
    x = np.array([[-1.0, -2.0], [3.0, -4.0]])
    np.testing.assert_allclose(ref.prelu(x, [0.1, 0.5]), [[-0.1, -1.0], [3.0, -2.0]])
