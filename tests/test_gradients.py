"""Input gradients against analytic gradients and finite differences, on the active backend."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from coursepkg.gradients import value_and_input_gradient


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
