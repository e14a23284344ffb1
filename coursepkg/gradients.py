"""Gradients with respect to a model's input: the only backend-specific autodiff.

Introduced in: book/01_convolution.ipynb (device summary); used by the
visualisation, style-transfer and adversarial chapters.

Filter visualisation, Deep Dream, style transfer and adversarial attacks all
need d(loss)/d(input). Keras 3 has no backend-neutral call for that, so this
module holds one small branch per backend (TensorFlow, JAX, PyTorch). Every
other module uses ``keras.ops`` only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def value_and_input_gradient(loss_fn: Callable, inputs) -> tuple[float, np.ndarray]:
    """Evaluate a scalar loss and its gradient with respect to ``inputs``.

    Args:
        loss_fn: function from a backend tensor shaped like ``inputs`` to a
            scalar tensor; build it from Keras layers, models and ``keras.ops``.
        inputs: array-like input (for example a batch of images).

    Returns:
        ``(loss, gradient)``: the loss as a Python float and the gradient as a
        float32 NumPy array with the shape of ``inputs``.

    Example:
        >>> loss, grad = value_and_input_gradient(
        ...     lambda x: keras.ops.sum(model(x)[:, 3]), images)
    """
    import keras

    inputs = np.asarray(inputs, dtype="float32")
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tensor = tf.convert_to_tensor(inputs)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            loss = _scalar(loss_fn(tensor))
        gradient = tape.gradient(loss, tensor)
        if gradient is None:
            gradient = tf.zeros_like(tensor)
        return float(loss), np.asarray(gradient, dtype="float32")
    if backend == "jax":
        import jax

        loss, gradient = jax.value_and_grad(lambda x: _scalar(loss_fn(x)))(jax.numpy.asarray(inputs))
        return float(loss), np.asarray(gradient, dtype="float32")
    if backend == "torch":
        import torch

        tensor = torch.tensor(inputs, device=keras.backend.get_device() or "cpu", requires_grad=True)
        loss = _scalar(loss_fn(tensor))
        loss.backward()
        gradient = tensor.grad if tensor.grad is not None else torch.zeros_like(tensor)
        return float(loss.detach().cpu()), gradient.detach().cpu().numpy().astype("float32")
    raise NotImplementedError(
        f"Input gradients are implemented for the tensorflow, jax and torch backends. Received: backend={backend!r}"
    )


def _scalar(value):
    """Check that the loss function returned a single number."""
    import keras

    if tuple(keras.ops.shape(value)) not in ((), (1,)):
        raise ValueError(
            "Expected `loss_fn` to return a scalar. "
            f"Received: a tensor of shape {tuple(keras.ops.shape(value))}; reduce it with keras.ops.sum or mean"
        )
    return keras.ops.reshape(value, ())
