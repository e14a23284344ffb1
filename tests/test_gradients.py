"""Input gradients against analytic gradients and finite differences, on the active backend."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from coursepkg.gradients import (
    compiled_value_and_gradient,
    resolve_jit_compile,
    value_and_input_gradient,
)


def test_sum_of_squares():
    inputs = np.random.default_rng(0).normal(size=(2, 3, 4)).astype(np.float32)
    loss, gradient = value_and_input_gradient(lambda x: keras.ops.sum(x**2), inputs)
    assert isinstance(loss, float)
    assert gradient.dtype == np.float32 and gradient.shape == inputs.shape
    np.testing.assert_allclose(loss, np.sum(inputs.astype(np.float64) ** 2), rtol=1e-5)
    np.testing.assert_allclose(gradient, 2 * inputs, rtol=1e-6)


def test_linear_dense_model_gradient_is_its_weights():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])
    weights = keras.ops.convert_to_numpy(model.layers[0].kernel)  # (5, 3)
    bias = keras.ops.convert_to_numpy(model.layers[0].bias)  # (3,)
    rng = np.random.default_rng(1)
    inputs = rng.normal(size=(4, 5)).astype(np.float32)
    mix = rng.normal(size=(3,)).astype(np.float32)
    loss, gradient = value_and_input_gradient(lambda x: keras.ops.sum(model(x) * mix), inputs)
    np.testing.assert_allclose(loss, np.sum((inputs @ weights + bias) * mix), rtol=1e-5)
    # d/dx sum_n (x_n W + b) . m = W m, the same for every example of the batch
    np.testing.assert_allclose(gradient, np.tile(weights @ mix, (4, 1)), rtol=1e-5, atol=1e-6)


def test_gradient_of_one_output_picks_one_column():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4)])
    weights = keras.ops.convert_to_numpy(model.layers[0].kernel)
    inputs = np.ones((2, 6), dtype=np.float32)
    _, gradient = value_and_input_gradient(lambda x: keras.ops.sum(model(x)[:, 2]), inputs)
    np.testing.assert_allclose(gradient, np.tile(weights[:, 2], (2, 1)), rtol=1e-6)


def test_conv_model_against_central_differences():
    keras.utils.set_random_seed(2)
    model = keras.Sequential(
        [
            keras.Input((6, 5, 2)),
            keras.layers.Conv2D(3, 3, padding="same", activation="tanh"),
            keras.layers.Conv2D(2, 2, activation="tanh"),
            keras.layers.GlobalAveragePooling2D(),
        ]
    )
    target = np.array([[0.3, -0.2]], dtype=np.float32)

    def loss_fn(x):
        return keras.ops.sum((model(x) - target) ** 2)

    def per_example_losses(batch: np.ndarray) -> np.ndarray:
        outputs = keras.ops.convert_to_numpy(model(keras.ops.convert_to_tensor(batch)))
        return np.sum((outputs.astype(np.float64) - target) ** 2, axis=1)

    inputs = np.random.default_rng(2).normal(size=(1, 6, 5, 2)).astype(np.float32)
    loss, gradient = value_and_input_gradient(loss_fn, inputs)
    np.testing.assert_allclose(loss, per_example_losses(inputs)[0], rtol=1e-5)
    # every input value nudged up and down by `step`, all in one batch
    step = 1e-2
    nudges = np.eye(inputs.size, dtype=np.float32).reshape(-1, *inputs.shape[1:]) * step
    losses = per_example_losses(np.concatenate([inputs + nudges, inputs - nudges]))
    numeric = ((losses[: inputs.size] - losses[inputs.size :]) / (2 * step)).reshape(inputs.shape)
    scale = np.abs(numeric).max()
    assert scale > 1e-3  # the check below is not trivially satisfied by zeros
    np.testing.assert_allclose(gradient, numeric, rtol=1e-2, atol=1e-2 * scale)


def test_loss_of_shape_one_is_accepted():
    inputs = np.arange(3, dtype=np.float32)
    loss, gradient = value_and_input_gradient(
        lambda x: keras.ops.reshape(keras.ops.sum(x * x), (1,)), inputs
    )
    assert loss == pytest.approx(5.0)
    np.testing.assert_allclose(gradient, 2 * inputs)


def test_loss_that_ignores_the_input_has_zero_gradient():
    inputs = np.ones((2, 2), dtype=np.float32)
    loss, gradient = value_and_input_gradient(lambda x: keras.ops.convert_to_tensor(3.0), inputs)
    assert loss == 3.0
    np.testing.assert_array_equal(gradient, np.zeros((2, 2), dtype=np.float32))


@pytest.mark.parametrize("reduce", [lambda x: x * 2, lambda x: keras.ops.sum(x, axis=0)])
def test_non_scalar_loss_raises(reduce):
    with pytest.raises(ValueError, match="scalar"):
        value_and_input_gradient(reduce, np.ones((3, 2), dtype=np.float32))


def test_inputs_are_not_modified_and_lists_are_accepted():
    inputs = [[1.0, -2.0], [0.5, 4.0]]
    loss, gradient = value_and_input_gradient(lambda x: keras.ops.sum(keras.ops.abs(x)), inputs)
    assert loss == pytest.approx(7.5)
    np.testing.assert_array_equal(gradient, np.sign(np.array(inputs, dtype=np.float32)))
    assert inputs == [[1.0, -2.0], [0.5, 4.0]]


# --------------------------------------------------------------------------- compiled_value_and_gradient


@pytest.mark.parametrize("jit_compile", ["auto", True, False])
def test_compiled_matches_the_uncompiled_gradient(jit_compile):
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [keras.Input((None, None, 2)), keras.layers.Conv2D(3, 3, activation="tanh"), keras.layers.BatchNormalization()]
    )

    def loss_fn(x):
        return keras.ops.sum(model(x, training=False) ** 2)

    compiled = compiled_value_and_gradient(loss_fn, variables=model.variables, jit_compile=jit_compile)
    for shape in ((1, 6, 5, 2), (2, 7, 7, 2)):  # a new shape compiles again
        inputs = np.random.default_rng(shape[1]).normal(size=shape).astype(np.float32)
        loss, gradient = compiled(inputs)
        expected_loss, expected_gradient = value_and_input_gradient(loss_fn, inputs)
        assert tuple(keras.ops.shape(loss)) == () and tuple(keras.ops.shape(gradient)) == shape
        np.testing.assert_allclose(float(keras.ops.convert_to_numpy(loss)), expected_loss, rtol=1e-5)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(gradient), expected_gradient, rtol=1e-4, atol=1e-6)


def test_compiled_function_sees_later_changes_of_the_weights():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, use_bias=False)])
    compiled = compiled_value_and_gradient(lambda x: keras.ops.sum(model(x)), variables=model.variables)
    inputs = np.ones((1, 4), dtype=np.float32)
    compiled(inputs)  # compiled with the first weights
    model.layers[0].kernel.assign(np.arange(4, dtype=np.float32).reshape(4, 1))
    loss, gradient = compiled(inputs)
    assert float(keras.ops.convert_to_numpy(loss)) == pytest.approx(6.0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(gradient), [[0.0, 1.0, 2.0, 3.0]])


def test_compiled_sum_of_squares_is_analytic():
    inputs = np.random.default_rng(4).normal(size=(3, 4)).astype(np.float32)
    loss, gradient = compiled_value_and_gradient(lambda x: keras.ops.sum(x**2))(inputs)
    np.testing.assert_allclose(float(keras.ops.convert_to_numpy(loss)), np.sum(inputs.astype(np.float64) ** 2), rtol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(gradient), 2 * inputs, rtol=1e-6)


def test_compiled_arguments_are_checked():
    with pytest.raises(TypeError, match="loss_fn"):
        compiled_value_and_gradient("sum")
    with pytest.raises(TypeError, match="jit_compile"):
        compiled_value_and_gradient(keras.ops.sum, jit_compile="yes")
    with pytest.raises(TypeError, match="jit_compile"):
        compiled_value_and_gradient(keras.ops.sum, jit_compile=1)
    with pytest.raises(ValueError, match="scalar"):
        compiled_value_and_gradient(lambda x: x * 2)(np.ones((2, 2), dtype=np.float32))


def test_resolve_jit_compile_follows_keras():
    backend = keras.backend.backend()
    assert resolve_jit_compile(True) is (backend != "torch")
    assert resolve_jit_compile(False) is False
    if backend == "jax":
        assert resolve_jit_compile("auto") is True
    if backend == "tensorflow":
        import tensorflow as tf

        assert resolve_jit_compile("auto") is bool(tf.config.list_physical_devices("GPU"))


# --------------------------------------------------------------------------- argument checks (issue 16)


@pytest.mark.parametrize(
    ("inputs", "error"),
    [("images", TypeError), (np.array(["a", "b"]), TypeError), (np.ones(3) + 1j, TypeError),
     (np.ones(3, dtype=bool), TypeError), (np.zeros((0, 3)), ValueError),
     (np.array([np.nan, 1.0]), ValueError)],
)  # fmt: skip
def test_inputs_must_be_a_finite_real_array(inputs, error):
    with pytest.raises(error, match="`inputs`"):
        value_and_input_gradient(keras.ops.sum, inputs)


def test_loss_fn_must_be_callable():
    with pytest.raises(TypeError, match="`loss_fn`"):
        value_and_input_gradient("sum", np.ones(3))


@pytest.mark.parametrize("variables", ["weights", None, 3, [np.zeros(3)], [None]])
def test_variables_must_be_keras_variables(variables):
    with pytest.raises(TypeError, match="`variables`"):
        compiled_value_and_gradient(keras.ops.sum, variables=variables)


@pytest.mark.parametrize("jit_compile", ["yes", "AUTO", 1, None, 0.0])
def test_resolve_jit_compile_refuses_anything_but_auto_and_booleans(jit_compile):
    with pytest.raises(TypeError, match="`jit_compile`"):
        resolve_jit_compile(jit_compile)
