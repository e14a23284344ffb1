"""Reference activations, their derivatives, softmax and cross-entropy, in NumPy.

Introduced in: book/03_activations_and_loss.ipynb

The chapter plots these functions and checks them against autodiff and
``keras.activations`` / ``keras.losses``; the exercise checks compare student
answers with them. Every function works element-wise on arrays of any shape
(softmax and the losses along one axis), computes in float64, and is written
to stay finite where the textbook formula overflows: ``sigmoid(-1000)``,
``softmax([1000, 1001])`` and the cross-entropy of a confident wrong logit all
come out right.

Conventions at kinks: ReLU, Leaky ReLU, PReLU and ELU are not differentiable
at 0 (unless the two slopes agree); their derivative there is the slope of the
negative side, as in TensorFlow's gradients (``x > 0`` selects the positive
slope).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from coursepkg import validation

__all__ = [
    "ACTIVATIONS",
    "GELU_TANH_COEFFICIENT",
    "SELU_ALPHA",
    "SELU_SCALE",
    "activation",
    "binary_cross_entropy",
    "categorical_cross_entropy",
    "elu",
    "elu_derivative",
    "gelu",
    "gelu_derivative",
    "leaky_relu",
    "leaky_relu_derivative",
    "log_softmax",
    "logsumexp",
    "prelu",
    "prelu_derivative",
    "relu",
    "relu_derivative",
    "selu",
    "selu_derivative",
    "sigmoid",
    "sigmoid_derivative",
    "softmax",
    "softmax_cross_entropy_gradient",
    "softmax_jacobian",
    "sparse_categorical_cross_entropy",
    "tanh",
    "tanh_derivative",
]

# Constants of SELU (Klambauer et al., 2017, eq. 14), to full double precision.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
# The cubic coefficient of the tanh approximation of GELU (Hendrycks and Gimpel, 2016).
GELU_TANH_COEFFICIENT = 0.044715

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


# --------------------------------------------------------------------------- input checks


# Largest magnitude of an activation's parameter (a slope, ELU's alpha).
MAX_PARAMETER = 1_000.0
# Largest number of classes of softmax_jacobian, whose result is an (n, n) matrix (200 MB).
MAX_JACOBIAN_CLASSES = 5_000


def _as_float_array(name: str, value) -> np.ndarray:
    """``value`` as a float64 array of any shape (possibly empty, possibly NaN).

    Strings, booleans, complex numbers, objects and ragged lists are refused with a
    TypeError naming the argument.
    """
    return validation.check_array(name, value, finite=False, allow_empty=True).astype(np.float64)


def _check_real(name: str, value, minimum: float = -MAX_PARAMETER) -> float:
    """A finite real parameter (a slope, an alpha) in [``minimum``, 1,000]."""
    return validation.check_float(name, value, minimum, MAX_PARAMETER)


def _check_axis(axis, array: np.ndarray) -> int:
    """An integer naming one of the axes of ``array`` (negative from the end), not empty."""
    rank = max(array.ndim, 1)
    axis = validation.check_int("axis", axis, -rank, rank - 1)
    if array.ndim == 0:
        raise ValueError(
            f"Expected `axis` to be a valid axis of an array with {array.ndim} dimension(s). "
            f"Received: axis={axis}"
        )
    if array.shape[axis] == 0:
        raise ValueError(f"Expected at least one class along `axis`. Received: shape={array.shape}, axis={axis}")
    return axis


def _check_from_logits(from_logits) -> bool:
    return validation.check_bool("from_logits", from_logits)


# --------------------------------------------------------------------------- sigmoid and tanh


def sigmoid(x) -> np.ndarray:
    """The logistic sigmoid, ``1 / (1 + exp(-x))``, without overflow.

    Computed from ``z = exp(-|x|) <= 1`` so that no exponential overflows:
    ``1 / (1 + z)`` for ``x >= 0`` and ``z / (1 + z)`` for ``x < 0``.

    Args:
        x: real number or array of any shape (empty and NaN allowed; strings, booleans
            and complex numbers refused).

    Returns:
        float64 array of the shape of ``x``, values in [0, 1].

    Example:
        >>> sigmoid([-1000.0, 0.0, 1000.0])
        array([0. , 0.5, 1. ])
    """
    x = _as_float_array("x", x)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def sigmoid_derivative(x) -> np.ndarray:
    """Derivative of the sigmoid, ``s(x) (1 - s(x)) = s(x) s(-x)``.

    Written as ``z / (1 + z)^2`` with ``z = exp(-|x|)``: accurate in the tails,
    where ``1 - s(x)`` would round to 0. Its maximum, at ``x = 0``, is 1/4.

    Args:
        x: real number or array of any shape (empty and NaN allowed; strings, booleans
            and complex numbers refused).

    Returns:
        float64 array of the shape of ``x``, values in [0, 1/4].
    """
    x = _as_float_array("x", x)
    z = np.exp(-np.abs(x))
    return z / (1.0 + z) ** 2


def tanh(x) -> np.ndarray:
    """The hyperbolic tangent, ``(e^x - e^-x) / (e^x + e^-x) = 2 s(2x) - 1``.

    Args:
        x: real number or array of any shape (empty and NaN allowed; strings, booleans
            and complex numbers refused).

    Returns:
        float64 array of the shape of ``x``, values in [-1, 1].
    """
    return np.tanh(_as_float_array("x", x))


def tanh_derivative(x) -> np.ndarray:
    """Derivative of tanh, ``1 - tanh(x)^2``, accurate in the tails.

    Written as ``4 z / (1 + z)^2`` with ``z = exp(-2|x|)``; its maximum, at 0, is 1.

    Args:
        x: real number or array of any shape (empty and NaN allowed; strings, booleans
            and complex numbers refused).

    Returns:
        float64 array of the shape of ``x``, values in [0, 1].
    """
    x = _as_float_array("x", x)
    z = np.exp(-2.0 * np.abs(x))
    return 4.0 * z / (1.0 + z) ** 2


# --------------------------------------------------------------------------- the ReLU family


def relu(x) -> np.ndarray:
    """Rectified linear unit, ``max(x, 0)``.

    Args:
        x: real number or array of any shape (empty and NaN allowed; strings, booleans
            and complex numbers refused).

    Returns:
        float64 array of the shape of ``x``.
    """
    return np.maximum(_as_float_array("x", x), 0.0)


def relu_derivative(x) -> np.ndarray:
    """Derivative of ReLU: 1 for ``x > 0``, 0 otherwise (0 at the kink).

    Args:
        x: real number or array of any shape (empty and NaN allowed; strings, booleans
            and complex numbers refused).

    Returns:
        float64 array of 0s and 1s, of the shape of ``x``.
    """
    return (_as_float_array("x", x) > 0).astype(np.float64)


def leaky_relu(x, negative_slope: float = 0.2) -> np.ndarray:
    """Leaky ReLU, ``x`` for ``x > 0`` and ``negative_slope * x`` otherwise.

    The default slope, 0.2, is that of ``keras.activations.leaky_relu``
    (the layer ``keras.layers.LeakyReLU`` defaults to 0.3).

    Args:
        x: real number or array of any shape (empty and NaN allowed; strings, booleans
            and complex numbers refused).
        negative_slope: slope for negative inputs, a finite number in [-1,000, 1,000].

    Returns:
        float64 array of the shape of ``x``.
    """
    x = _as_float_array("x", x)
    negative_slope = _check_real("negative_slope", negative_slope)
    return np.where(x > 0, x, negative_slope * x)


def leaky_relu_derivative(x, negative_slope: float = 0.2) -> np.ndarray:
    """Derivative of Leaky ReLU: 1 for ``x > 0``, ``negative_slope`` otherwise.

    Args:
        x: real number or array of any shape (empty and NaN allowed; strings, booleans
            and complex numbers refused).
        negative_slope: slope for negative inputs, a finite number in [-1,000, 1,000].

    Returns:
        float64 array of the shape of ``x``.
    """
    x = _as_float_array("x", x)
    negative_slope = _check_real("negative_slope", negative_slope)
    return np.where(x > 0, 1.0, negative_slope)


def _check_prelu(x, alpha) -> tuple[np.ndarray, np.ndarray]:
    x = _as_float_array("x", x)
    alpha = validation.check_array("alpha", alpha).astype(np.float64)
    try:
        np.broadcast_shapes(x.shape, alpha.shape)
    except ValueError as error:
        raise ValueError(
            f"Expected `alpha` to broadcast against `x`. Received: alpha.shape={alpha.shape}, x.shape={x.shape}"
        ) from error
    return x, alpha


def prelu(x, alpha) -> np.ndarray:
    """Parametric ReLU (He et al., 2015): Leaky ReLU whose slope ``alpha`` is learned.

    ``alpha`` may be an array broadcast against ``x`` (one slope per channel,
    as in ``keras.layers.PReLU``).

    Args:
        x: real number or array of any shape (empty and NaN allowed; strings, booleans
            and complex numbers refused).
        alpha: negative-side slope(s), a finite number or a non-empty finite array
            broadcastable to ``x``.

    Returns:
        float64 array of the broadcast shape.
    """
    x, alpha = _check_prelu(x, alpha)
    return np.where(x > 0, x, alpha * x)


def prelu_derivative(x, alpha) -> np.ndarray:
    """Derivative of PReLU with respect to ``x``: 1 for ``x > 0``, ``alpha`` otherwise.

    The derivative with respect to ``alpha``, which training also needs, is
    ``min(x, 0)``.

    Args:
        x: real number or array of any shape (empty and NaN allowed; strings, booleans
            and complex numbers refused).
        alpha: negative-side slope(s), a finite number or a non-empty finite array
            broadcastable to ``x``.

    Returns:
        float64 array of the broadcast shape.
    """
    x, alpha = _check_prelu(x, alpha)
    return np.where(x > 0, 1.0, alpha * np.ones_like(x))


def elu(x, alpha: float = 1.0) -> np.ndarray:
    """Exponential linear unit (Clevert et al., 2016).

    ``x`` for ``x > 0`` and ``alpha (exp(x) - 1)`` otherwise, computed with
    ``expm1`` (accurate near 0) on ``min(x, 0)`` (no overflow for large ``x``).

    Args:
        x: real number or array of any shape (empty and NaN allowed; strings, booleans
            and complex numbers refused).
        alpha: value the function tends to at minus infinity is ``-alpha``; a finite
            number in [0, 1,000].

    Returns:
        float64 array of the shape of ``x``.
    """
    x = _as_float_array("x", x)
    alpha = _check_real("alpha", alpha, minimum=0.0)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def elu_derivative(x, alpha: float = 1.0) -> np.ndarray:
    """Derivative of ELU: 1 for ``x > 0``, ``alpha exp(x)`` otherwise.

    Continuous at 0 only when ``alpha = 1``.

    Args:
        x: real number or array of any shape (empty and NaN allowed; strings, booleans
            and complex numbers refused).
        alpha: the ELU parameter, a finite number in [0, 1,000].

    Returns:
        float64 array of the shape of ``x``.
    """
    x = _as_float_array("x", x)
    alpha = _check_real("alpha", alpha, minimum=0.0)
    return np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


def selu(x) -> np.ndarray:
    """Scaled ELU (Klambauer et al., 2017): ``SELU_SCALE * elu(x, SELU_ALPHA)``.

    The two constants are chosen so that, with LeCun-normal weights, activations
    keep zero mean and unit variance from layer to layer.

    Args:
        x: real number or array of any shape (empty and NaN allowed; strings, booleans
            and complex numbers refused).

    Returns:
        float64 array of the shape of ``x``.
    """
    return SELU_SCALE * elu(x, SELU_ALPHA)


def selu_derivative(x) -> np.ndarray:
    """Derivative of SELU: ``SELU_SCALE`` for ``x > 0``, ``SELU_SCALE SELU_ALPHA exp(x)`` otherwise.

    Args:
        x: real number or array of any shape (empty and NaN allowed; strings, booleans
            and complex numbers refused).

    Returns:
        float64 array of the shape of ``x``.
    """
    return SELU_SCALE * elu_derivative(x, SELU_ALPHA)


# --------------------------------------------------------------------------- GELU


def _check_approximate(approximate) -> bool:
    return validation.check_bool("approximate", approximate)


def gelu(x, approximate: bool = False) -> np.ndarray:
    """Gaussian error linear unit (Hendrycks and Gimpel, 2016), ``x Phi(x)``.

    ``Phi`` is the standard normal CDF, ``(1 + erf(x / sqrt(2))) / 2``. With
    ``approximate=True``, the tanh form used by BERT and GPT-2:
    ``x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2``.

    Args:
        x: real number or array of any shape (empty and NaN allowed; strings, booleans
            and complex numbers refused).
        approximate: use the tanh approximation (as ``keras.activations.gelu``); a boolean.

    Returns:
        float64 array of the shape of ``x``.
    """
    from scipy.special import ndtr

    x = _as_float_array("x", x)
    if _check_approximate(approximate):
        inner = _SQRT_2_OVER_PI * (x + GELU_TANH_COEFFICIENT * x**3)
        return 0.5 * x * (1.0 + np.tanh(inner))
    return x * ndtr(x)


def gelu_derivative(x, approximate: bool = False) -> np.ndarray:
    """Derivative of GELU.

    Exact form: ``Phi(x) + x phi(x)`` with ``phi`` the standard normal density.
    Tanh form, with ``u = sqrt(2/pi) (x + c x^3)`` and ``t = tanh(u)``:
    ``(1 + t) / 2 + x (1 - t^2) sqrt(2/pi) (1 + 3 c x^2) / 2``.

    Args:
        x: real number or array of any shape (empty and NaN allowed; strings, booleans
            and complex numbers refused).
        approximate: differentiate the tanh approximation instead; a boolean.

    Returns:
        float64 array of the shape of ``x``.
    """
    from scipy.special import ndtr

    x = _as_float_array("x", x)
    if _check_approximate(approximate):
        inner = _SQRT_2_OVER_PI * (x + GELU_TANH_COEFFICIENT * x**3)
        t = np.tanh(inner)
        slope = _SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_TANH_COEFFICIENT * x**2)
        # 1 - t^2 written as 4z/(1+z)^2, z = exp(-2|u|): it reaches 0 without cancellation.
        z = np.exp(-2.0 * np.abs(inner))
        return 0.5 * (1.0 + t) + 0.5 * x * (4.0 * z / (1.0 + z) ** 2) * slope
    # Keep x phi(x) at exactly 0 in the far tails, where x**2 overflows.
    density = _INV_SQRT_2PI * np.exp(-0.5 * np.minimum(x * x, 1e300))
    return ndtr(x) + x * density


# --------------------------------------------------------------------------- softmax


def logsumexp(logits, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """``log(sum(exp(logits)))`` along ``axis``, shifted by the maximum so nothing overflows.

    Args:
        logits: real array with at least one dimension (NaN allowed; strings, booleans
            and complex numbers refused).
        axis: axis to reduce, an integer in [-logits.ndim, logits.ndim - 1].
        keepdims: keep the reduced axis with size 1 (a boolean).

    Returns:
        float64 array.
    """
    logits = _as_float_array("logits", logits)
    axis = _check_axis(axis, logits)
    keepdims = validation.check_bool("keepdims", keepdims)
    shift = np.max(logits, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0)  # all -inf (or an inf) along the axis
    result = shift + np.log(np.sum(np.exp(logits - shift), axis=axis, keepdims=True))
    return result if keepdims else np.squeeze(result, axis=axis)


def softmax(logits, axis: int = -1) -> np.ndarray:
    """Softmax, ``exp(z_i) / sum_j exp(z_j)``, computed as ``exp(z_i - max z) / sum_j exp(z_j - max z)``.

    Subtracting the maximum changes nothing mathematically (it cancels between
    numerator and denominator) but keeps every exponential in (0, 1], so
    ``softmax([1000, 1001])`` is ``[0.269, 0.731]`` instead of ``nan``.

    Args:
        logits: real array with at least one dimension (scores, "logits").
        axis: axis holding the classes, an integer in [-logits.ndim, logits.ndim - 1].

    Returns:
        float64 array of the shape of ``logits``, non-negative, summing to 1 along ``axis``.

    Example:
        >>> softmax([1000.0, 1001.0]).round(4)
        array([0.2689, 0.7311])
    """
    logits = _as_float_array("logits", logits)
    axis = _check_axis(axis, logits)
    shifted = logits - np.max(logits, axis=axis, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / np.sum(exponentials, axis=axis, keepdims=True)


def log_softmax(logits, axis: int = -1) -> np.ndarray:
    """The logarithm of softmax, ``z_i - logsumexp(z)``, finite even where softmax underflows to 0.

    Args:
        logits: real array with at least one dimension.
        axis: axis holding the classes, an integer in [-ndim, ndim - 1].

    Returns:
        float64 array of the shape of ``logits``, values <= 0.
    """
    logits = _as_float_array("logits", logits)
    axis = _check_axis(axis, logits)
    return logits - logsumexp(logits, axis=axis, keepdims=True)


def softmax_jacobian(logits) -> np.ndarray:
    """Jacobian of softmax for one vector of logits: ``diag(p) - p p^T``.

    Args:
        logits: 1-D real array of length ``n`` in [1, 5,000].

    Returns:
        float64 array of shape (n, n); entry ``[i, j]`` is ``d p_i / d z_j``.
    """
    logits = _as_float_array("logits", logits)
    if logits.ndim != 1 or not 1 <= logits.size <= MAX_JACOBIAN_CLASSES:
        raise ValueError(
            f"Expected `logits` to be a 1-D array of 1 to {MAX_JACOBIAN_CLASSES:,} values. "
            f"Received: logits.shape={logits.shape}"
        )
    probabilities = softmax(logits)
    return np.diag(probabilities) - np.outer(probabilities, probabilities)


# --------------------------------------------------------------------------- cross-entropy


def _check_distribution(name: str, array: np.ndarray) -> None:
    if np.any(array < 0) or np.any(array > 1):
        raise ValueError(
            f"Expected `{name}` to hold probabilities in [0, 1] (use from_logits=True for scores). "
            f"Received: values from {array.min():.4g} to {array.max():.4g}"
        )


def categorical_cross_entropy(y_true, y_pred, from_logits: bool = False, axis: int = -1) -> np.ndarray:
    """Cross-entropy ``-sum_i y_i log q_i`` of each example, along ``axis``.

    With ``from_logits=True``, ``y_pred`` holds scores and ``log q`` is
    :func:`log_softmax` of them: finite for any logits. With probabilities,
    ``log`` is taken as is (terms with ``y_i = 0`` count 0): a predicted
    probability of exactly 0 on the true class gives ``inf``. Keras instead
    rescales the probabilities to sum to 1 and clips them to
    ``[1e-7, 1 - 1e-7]``, so the two differ only beyond a loss of about 16.

    Args:
        y_true: targets, one-hot or any probability vectors, shape (..., n_classes).
        y_pred: probabilities (rows summing to 1) or logits, same shape.
        from_logits: whether ``y_pred`` holds logits (a boolean).
        axis: axis holding the classes, an integer in [-ndim, ndim - 1].

    Returns:
        float64 array of per-example losses (``axis`` removed).
    """
    y_true = _as_float_array("y_true", y_true)
    y_pred = _as_float_array("y_pred", y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"Expected `y_true` and `y_pred` to have the same shape. "
            f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
        )
    axis = _check_axis(axis, y_pred)
    _check_distribution("y_true", y_true)
    if _check_from_logits(from_logits):
        log_q = log_softmax(y_pred, axis=axis)
    else:
        _check_distribution("y_pred", y_pred)
        with np.errstate(divide="ignore"):
            log_q = np.log(y_pred)
    with np.errstate(invalid="ignore"):  # 0 * log 0 is nan; np.where takes it as 0
        terms = np.where(y_true > 0, -y_true * log_q, 0.0)
    return np.sum(terms, axis=axis)


def sparse_categorical_cross_entropy(labels, y_pred, from_logits: bool = False) -> np.ndarray:
    """Cross-entropy with integer class labels: ``-log q[label]`` of each example.

    Args:
        labels: integer array of shape (batch,) with values in ``[0, n_classes)`` (floats,
            booleans and strings refused).
        y_pred: probabilities or logits, shape (batch, n_classes).
        from_logits: whether ``y_pred`` holds logits (a boolean).

    Returns:
        float64 array of shape (batch,).
    """
    y_pred = _as_float_array("y_pred", y_pred)
    if y_pred.ndim != 2:
        raise ValueError(f"Expected `y_pred` to have shape (batch, n_classes). Received: y_pred.shape={y_pred.shape}")
    labels_array = validation.check_array("labels", labels, dtype="integer", allow_empty=True)
    if labels_array.shape != (y_pred.shape[0],):
        raise ValueError(
            f"Expected `labels` to be integers of shape ({y_pred.shape[0]},). "
            f"Received: labels with shape {labels_array.shape}"
        )
    if labels_array.size and (labels_array.min() < 0 or labels_array.max() >= y_pred.shape[1]):
        raise ValueError(
            f"Expected `labels` in [0, {y_pred.shape[1]}). "
            f"Received: labels from {labels_array.min()} to {labels_array.max()}"
        )
    one_hot = np.eye(y_pred.shape[1])[labels_array]
    return categorical_cross_entropy(one_hot, y_pred, from_logits=from_logits)


def binary_cross_entropy(y_true, y_pred, from_logits: bool = False) -> np.ndarray:
    """Element-wise binary cross-entropy ``-(y log q + (1 - y) log(1 - q))``.

    From a logit ``z`` (``q = sigmoid(z)``) it is computed as
    ``max(z, 0) - y z + log(1 + exp(-|z|))``, finite for any ``z``.

    Args:
        y_true: targets in [0, 1], any shape.
        y_pred: probabilities or logits, same shape.
        from_logits: whether ``y_pred`` holds logits (a boolean).

    Returns:
        float64 array of the shape of the inputs (Keras then averages over the last axis).
    """
    y_true = _as_float_array("y_true", y_true)
    y_pred = _as_float_array("y_pred", y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"Expected `y_true` and `y_pred` to have the same shape. "
            f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
        )
    if y_true.size:
        _check_distribution("y_true", y_true)
    if _check_from_logits(from_logits):
        return np.maximum(y_pred, 0.0) - y_true * y_pred + np.log1p(np.exp(-np.abs(y_pred)))
    if y_pred.size:
        _check_distribution("y_pred", y_pred)
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = np.where(y_true > 0, -y_true * np.log(y_pred), 0.0)
        negative = np.where(y_true < 1, -(1.0 - y_true) * np.log1p(-y_pred), 0.0)
    return positive + negative


def softmax_cross_entropy_gradient(y_true, logits, axis: int = -1) -> np.ndarray:
    """Gradient of ``categorical_cross_entropy(y_true, logits, from_logits=True)`` w.r.t. the logits.

    It is ``softmax(logits) - y_true`` for each example (targets summing to 1):
    the predicted probabilities minus the targets.

    Args:
        y_true: targets (one-hot or probability vectors), shape (..., n_classes).
        logits: scores, same shape.
        axis: axis holding the classes, an integer in [-ndim, ndim - 1].

    Returns:
        float64 array of the shape of ``logits``.
    """
    y_true = _as_float_array("y_true", y_true)
    logits = _as_float_array("logits", logits)
    if y_true.shape != logits.shape:
        raise ValueError(
            f"Expected `y_true` and `logits` to have the same shape. "
            f"Received: y_true.shape={y_true.shape}, logits.shape={logits.shape}"
        )
    axis = _check_axis(axis, logits)
    total = np.sum(y_true, axis=axis, keepdims=True)
    return softmax(logits, axis=axis) * total - y_true


# --------------------------------------------------------------------------- table


ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
    "leaky_relu": (leaky_relu, leaky_relu_derivative),
    "elu": (elu, elu_derivative),
    "selu": (selu, selu_derivative),
    "gelu": (gelu, gelu_derivative),
}
"""Each element-wise activation with default parameters: name -> (function, derivative).

The names are those of ``keras.activations``; PReLU is left out because its slope
is a weight, not a default.
"""


def activation(name: str) -> tuple[Callable, Callable]:
    """The reference ``(function, derivative)`` pair of an activation, by its Keras name.

    Args:
        name: one of the keys of :data:`ACTIVATIONS`.

    Returns:
        The pair of functions.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    validation.check_choice("name", name, sorted(ACTIVATIONS))
    return ACTIVATIONS[name]
