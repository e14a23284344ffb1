"""Gradients with respect to a model's input: the only backend-specific autodiff.

Introduced in: book/01_convolution.ipynb (device summary); used by the
visualisation, style-transfer and adversarial chapters.

Filter visualisation, Deep Dream, style transfer and adversarial attacks all
need d(loss)/d(input). Keras 3 has no backend-neutral call for that, so this
module holds one small branch per backend (TensorFlow, JAX, PyTorch). Every
other module uses ``keras.ops`` only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from coursepkg import validation


def value_and_input_gradient(loss_fn: Callable, inputs) -> tuple[float, np.ndarray]:
    """Evaluate a scalar loss and its gradient with respect to ``inputs``.

    Args:
        loss_fn: function from a backend tensor shaped like ``inputs`` to a
            scalar tensor; build it from Keras layers, models and ``keras.ops``.
        inputs: array-like input (for example a batch of images): a non-empty array
            of finite real numbers (strings, booleans and complex numbers are refused).

    Returns:
        ``(loss, gradient)``: the loss as a Python float and the gradient as a
        float32 NumPy array with the shape of ``inputs``.

    Raises:
        TypeError: ``loss_fn`` is not callable, or ``inputs`` is not a real array.
        ValueError: ``inputs`` is empty or holds NaN or infinite values, or
            ``loss_fn`` does not return a scalar.

    Example:
        >>> loss, grad = value_and_input_gradient(
        ...     lambda x: keras.ops.sum(model(x)[:, 3]), images)
    """
    validation.check_callable("loss_fn", loss_fn)
    inputs = validation.check_array("inputs", inputs).astype("float32")
    import keras

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


def compiled_value_and_gradient(
    loss_fn: Callable, variables: Sequence = (), jit_compile: bool | str = "auto"
) -> Callable:
    """Compile a scalar loss and its gradient with respect to its input, for repeated calls.

    Introduced in: book/17_style_transfer.ipynb

    :func:`value_and_input_gradient` runs ``loss_fn`` op by op at every call,
    which is right for a few calls. Style transfer and Deep Dream call the same
    loss hundreds of times on images of one shape, so this function compiles
    it once per input shape, the way Keras compiles a training step:

    * **TensorFlow**: a ``tf.function`` around a ``tf.GradientTape``, with
      ``jit_compile`` passed on (``True``: XLA; ``False``: TensorFlow's own
      graph, usually the faster one on a CPU).
    * **JAX**: ``jax.jit(jax.value_and_grad(...))``. The values of
      ``variables`` (the model's weights) are passed to the compiled function
      as arguments through a ``keras.StatelessScope``, as Keras's own JAX
      trainer does, instead of being baked into the compiled program as
      constants; ``jit_compile=False`` runs ``jax.value_and_grad`` op by op.
    * **PyTorch**: ``torch.autograd`` op by op (nothing is compiled).

    Args:
        loss_fn: function from a float32 backend tensor (shaped like the
            inputs it will be called with) to a scalar tensor, written with
            Keras layers, models and ``keras.ops``.
        variables: a list or tuple of the ``keras.Variable`` objects ``loss_fn``
            reads, typically ``model.variables`` (used by JAX only). Variables left
            out still work, as constants of the compiled program.
        jit_compile: ``"auto"`` (Keras's rule: XLA under JAX, and under
            TensorFlow only when a GPU is present), ``True`` or ``False``.

    Returns:
        A function ``inputs -> (loss, gradient)``: backend tensors, the loss a
        float32 scalar and the gradient shaped like ``inputs``. Convert them
        with ``keras.ops.convert_to_numpy`` where NumPy is needed.

    Raises:
        TypeError: ``loss_fn`` is not callable, ``variables`` is not a sequence of
            ``keras.Variable``, or ``jit_compile`` is neither ``"auto"`` nor a boolean.
        ValueError: (at the first call) ``loss_fn`` does not return a scalar.

    Example:
        >>> step = compiled_value_and_gradient(
        ...     lambda x: keras.ops.sum(model(x) ** 2), variables=model.variables)
        >>> loss, gradient = step(images)  # compiled at the first call
    """
    validation.check_callable("loss_fn", loss_fn)
    _check_jit_compile(jit_compile)
    variables = _check_variables(variables)
    import keras

    backend = keras.backend.backend()
    jit = resolve_jit_compile(jit_compile)
    if backend == "tensorflow":
        import tensorflow as tf

        def tensorflow_value_and_gradient(inputs):
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                loss = keras.ops.cast(_scalar(loss_fn(inputs)), "float32")
            gradient = tape.gradient(loss, inputs)
            if gradient is None:
                gradient = tf.zeros_like(inputs)
            return loss, gradient

        compiled = tf.function(tensorflow_value_and_gradient, jit_compile=jit, reduce_retracing=True)
        return lambda inputs: compiled(tf.convert_to_tensor(inputs, dtype="float32"))
    if backend == "jax":
        import jax

        def pure_loss(inputs, values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return keras.ops.cast(_scalar(loss_fn(inputs)), "float32")

        jax_value_and_gradient = jax.value_and_grad(pure_loss)
        if jit:
            jax_value_and_gradient = jax.jit(jax_value_and_gradient)

        def call(inputs):
            values = [variable.value for variable in variables]
            return jax_value_and_gradient(jax.numpy.asarray(inputs, dtype="float32"), values)

        return call
    if backend == "torch":
        import torch

        def torch_value_and_gradient(inputs):
            device = keras.backend.get_device() or "cpu"
            if not isinstance(inputs, torch.Tensor):
                inputs = torch.as_tensor(np.asarray(inputs, dtype="float32"))
            tensor = inputs.detach().to(device=device, dtype=torch.float32).clone().requires_grad_(True)
            loss = _scalar(loss_fn(tensor)).float()
            loss.backward()
            gradient = tensor.grad if tensor.grad is not None else torch.zeros_like(tensor)
            return loss.detach(), gradient.detach()

        return torch_value_and_gradient
    raise NotImplementedError(
        f"Input gradients are implemented for the tensorflow, jax and torch backends. Received: backend={backend!r}"
    )


def resolve_jit_compile(jit_compile: bool | str = "auto") -> bool:
    """Whether :func:`compiled_value_and_gradient` uses XLA on the active backend.

    ``"auto"`` follows Keras's own rule for ``model.compile(jit_compile="auto")``:
    XLA under JAX; under TensorFlow only when a GPU is present (TensorFlow's
    XLA is often slower than its own graphs on a CPU); never under PyTorch.

    Args:
        jit_compile: ``"auto"``, ``True`` or ``False``.

    Raises:
        TypeError: anything else (``"yes"``, ``1``, ``None``).
    """
    jit_compile = _check_jit_compile(jit_compile)
    import keras

    backend = keras.backend.backend()
    if backend == "torch":
        return False
    if jit_compile != "auto":
        return bool(jit_compile)
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    return True


def _check_jit_compile(jit_compile) -> bool | str:
    if isinstance(jit_compile, str) and jit_compile == "auto":
        return jit_compile
    if not isinstance(jit_compile, (bool, np.bool_)):
        raise TypeError(
            f'Expected `jit_compile` to be "auto", True or False. Received: jit_compile={jit_compile!r:.80}'
        )
    return bool(jit_compile)


def _check_variables(variables) -> list:
    """A list or tuple of ``keras.Variable`` (``model.variables``), returned as a list."""
    if not isinstance(variables, (list, tuple)):
        raise TypeError(
            f"Expected `variables` to be a list of keras.Variable, such as model.variables. "
            f"Received: variables={variables!r:.80}"
        )
    if variables:
        import keras

        if not all(isinstance(variable, keras.Variable) for variable in variables):
            raise TypeError(
                f"Expected `variables` to hold keras.Variable objects only. "
                f"Received: variables={variables!r:.80}"
            )
    return list(variables)


def _scalar(value):
    """Check that the loss function returned a single number."""
    import keras

    if tuple(keras.ops.shape(value)) not in ((), (1,)):
        raise ValueError(
            "Expected `loss_fn` to return a scalar. "
            f"Received: a tensor of shape {tuple(keras.ops.shape(value))}; reduce it with keras.ops.sum or mean"
        )
    return keras.ops.reshape(value, ())
