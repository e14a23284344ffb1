"""Optimiser update rules in NumPy, written as Keras 3 writes them, and 2-D test surfaces.

Introduced in: book/04_training.ipynb

The chapter writes gradient descent, momentum, RMSProp and Adam out as
formulas; these classes are the same formulas in NumPy, line for line as in
``keras/src/optimizers/{sgd,rmsprop,adam}.py`` (same epsilon placement, same
bias correction, same decoupled weight decay), so that a run of one can be
compared with a run of ``keras.optimizers`` step by step. The surfaces are
small 2-D functions with the curvature problems the lecture names
(ill-conditioning, a curved valley, a saddle), with exact gradients, on which
:func:`run_optimizer` records an optimiser's path.

Example:
    >>> surface = rosenbrock()
    >>> path = run_optimizer(NumpyAdam(learning_rate=0.05), surface.gradient, surface.start, steps=200)
    >>> path.shape
    (201, 2)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

# --------------------------------------------------------------------------- argument checks


def _check_positive(name: str, value) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not value > 0
    ):
        raise ValueError(f"Expected `{name}` to be a positive number. Received: {name}={value!r}")


def _check_fraction(name: str, value, allow_zero: bool = True) -> None:
    number = not isinstance(value, bool) and isinstance(
        value, (int, float, np.integer, np.floating)
    )
    if not number or not ((value >= 0 if allow_zero else value > 0) and value < 1):
        interval = "[0, 1)" if allow_zero else "(0, 1)"
        raise ValueError(f"Expected `{name}` to be in {interval}. Received: {name}={value!r}")


def _check_weight_decay(value) -> None:
    if value is not None:
        _check_positive("weight_decay", value)


def _as_array(name: str, value, dtype) -> np.ndarray:
    array = np.asarray(value, dtype=dtype)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"Expected `{name}` to hold finite numbers. Received: {name}={value!r}")
    return array


def _check_same_shape(variable: np.ndarray, gradient: np.ndarray) -> None:
    if variable.shape != gradient.shape:
        raise ValueError(
            "Expected `gradient` to have the shape of `variable`. "
            f"Received: variable.shape={variable.shape}, gradient.shape={gradient.shape}"
        )


def _decay(variable: np.ndarray, learning_rate: float, weight_decay: float | None) -> np.ndarray:
    """Keras's decoupled weight decay, applied before the update: w <- w - w * wd * lr."""
    if weight_decay is None:
        return variable
    cast = variable.dtype.type
    return variable - variable * cast(weight_decay) * cast(learning_rate)


def _zeros_like(variable) -> np.ndarray:
    return np.zeros_like(np.asarray(variable, dtype=_float_dtype(variable)))


def _float_dtype(value) -> type:
    """float32 inputs stay float32 (Keras's precision); everything else is float64."""
    return np.float32 if np.asarray(value).dtype == np.float32 else np.float64


# --------------------------------------------------------------------------- update rules


@dataclasses.dataclass(frozen=True)
class NumpySGD:
    """Gradient descent, with optional (Nesterov) momentum, as ``keras.optimizers.SGD``.

    Plain SGD: ``w <- w - lr * g``. With momentum ``mu`` Keras keeps a
    velocity ``m`` (zero at the start)::

        m <- mu * m - lr * g
        w <- w + m                      (classical momentum)
        w <- w + mu * m - lr * g        (nesterov=True, with the new m)

    Introduced in: book/04_training.ipynb

    Args:
        learning_rate: step size ``lr`` (> 0).
        momentum: ``mu`` in [0, 1); 0 is plain gradient descent.
        nesterov: use Nesterov's look-ahead form (needs ``momentum > 0`` to matter).
        weight_decay: decoupled weight decay (``w <- w - w * wd * lr`` before the
            update), or ``None`` for none, as in Keras.

    Example:
        >>> rule = NumpySGD(learning_rate=0.1, momentum=0.9)
        >>> state = rule.init(np.zeros(2))
        >>> w, state = rule.update(np.zeros(2), np.ones(2), state)
    """

    learning_rate: float = 0.01  # step size
    momentum: float = 0.0  # fraction of the previous velocity kept
    nesterov: bool = False  # Nesterov's look-ahead variant
    weight_decay: float | None = None  # decoupled weight decay (AdamW style), None = off

    def __post_init__(self) -> None:
        _check_positive("learning_rate", self.learning_rate)
        _check_fraction("momentum", self.momentum)
        if not isinstance(self.nesterov, bool):
            raise ValueError(
                f"Expected `nesterov` to be True or False. Received: nesterov={self.nesterov!r}"
            )
        _check_weight_decay(self.weight_decay)

    def init(self, variable) -> dict[str, np.ndarray]:
        """The optimiser state for one variable: the velocity, zero."""
        return {"momentum": _zeros_like(variable)}

    def update(self, variable, gradient, state):
        """One step. Returns ``(new_variable, new_state)``; the inputs are not modified."""
        return self._step(*_prepare(variable, gradient, state), state)

    def _step(self, variable, gradient, state):
        """:meth:`update` without the input checks (``run_optimizer`` checks once)."""
        cast = variable.dtype.type  # scalars in the variable's precision, as Keras casts them
        lr, momentum = cast(self.learning_rate), cast(self.momentum)
        variable = _decay(variable, self.learning_rate, self.weight_decay)
        if self.momentum == 0:
            return variable - gradient * lr, dict(state)
        velocity = state["momentum"].astype(variable.dtype) * momentum - gradient * lr
        if self.nesterov:
            variable = variable + (velocity * momentum - gradient * lr)
        else:
            variable = variable + velocity
        return variable, {"momentum": velocity}

    def to_keras(self):
        """The ``keras.optimizers.SGD`` with the same settings."""
        import keras

        return keras.optimizers.SGD(**dataclasses.asdict(self))


@dataclasses.dataclass(frozen=True)
class NumpyRMSprop:
    """RMSProp, as ``keras.optimizers.RMSprop``: one step size per weight.

    A running mean of squared gradients ``v`` scales each weight's step::

        v <- rho * v + (1 - rho) * g**2
        w <- w - lr * g / sqrt(v + epsilon)          (epsilon inside the root)

    With ``centered=True`` the running mean ``a`` of ``g`` is also kept and
    ``v - a**2`` (a variance) replaces ``v``; with ``momentum > 0`` the step
    itself is accumulated: ``mom <- momentum * mom + step; w <- w - mom``.

    Introduced in: book/04_training.ipynb

    Args:
        learning_rate: step size ``lr`` (> 0).
        rho: decay of the running mean, in (0, 1).
        momentum: in [0, 1); 0 (the default) is plain RMSProp.
        epsilon: small constant added to the mean square before the root (> 0).
        centered: divide by an estimate of the gradient's standard deviation.
        weight_decay: decoupled weight decay, or ``None``.
    """

    learning_rate: float = 0.001  # step size
    rho: float = 0.9  # decay of the running mean of g**2
    momentum: float = 0.0  # momentum on the scaled step, 0 = off
    epsilon: float = 1e-7  # added to the mean square, inside the square root
    centered: bool = False  # subtract the squared running mean of g
    weight_decay: float | None = None  # decoupled weight decay, None = off

    def __post_init__(self) -> None:
        _check_positive("learning_rate", self.learning_rate)
        _check_fraction("rho", self.rho, allow_zero=False)
        _check_fraction("momentum", self.momentum)
        _check_positive("epsilon", self.epsilon)
        if not isinstance(self.centered, bool):
            raise ValueError(
                f"Expected `centered` to be True or False. Received: centered={self.centered!r}"
            )
        _check_weight_decay(self.weight_decay)

    def init(self, variable) -> dict[str, np.ndarray]:
        """The optimiser state for one variable: mean square (and mean, momentum), zero."""
        zeros = _zeros_like(variable)
        return {"velocity": zeros, "average_gradient": zeros, "momentum": zeros}

    def update(self, variable, gradient, state):
        """One step. Returns ``(new_variable, new_state)``; the inputs are not modified."""
        return self._step(*_prepare(variable, gradient, state), state)

    def _step(self, variable, gradient, state):
        """:meth:`update` without the input checks (``run_optimizer`` checks once)."""
        cast = variable.dtype.type  # scalars in the variable's precision, as Keras casts them
        lr, rho, epsilon = cast(self.learning_rate), cast(self.rho), cast(self.epsilon)
        state = {key: value.astype(variable.dtype) for key, value in state.items()}
        variable = _decay(variable, self.learning_rate, self.weight_decay)
        velocity = rho * state["velocity"] + cast(1 - self.rho) * np.square(gradient)
        average_gradient = state["average_gradient"]
        if self.centered:
            average_gradient = rho * average_gradient + cast(1 - self.rho) * gradient
            denominator = velocity - np.square(average_gradient) + epsilon
        else:
            denominator = velocity + epsilon
        increment = lr * gradient / np.sqrt(denominator)
        momentum = state["momentum"]
        if self.momentum > 0:
            momentum = cast(self.momentum) * momentum + increment
            variable = variable - momentum
        else:
            variable = variable - increment
        return variable, {
            "velocity": velocity,
            "average_gradient": average_gradient,
            "momentum": momentum,
        }

    def to_keras(self):
        """The ``keras.optimizers.RMSprop`` with the same settings."""
        import keras

        return keras.optimizers.RMSprop(**dataclasses.asdict(self))


@dataclasses.dataclass(frozen=True)
class NumpyAdam:
    """Adam, as ``keras.optimizers.Adam``: momentum and RMSProp, bias-corrected.

    With ``t`` the step number (1 for the first step)::

        m <- m + (1 - beta_1) * (g - m)          (= beta_1 * m + (1 - beta_1) * g)
        v <- v + (1 - beta_2) * (g**2 - v)
        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w <- w - alpha * m / (sqrt(v) + epsilon)

    Keras folds both bias corrections into ``alpha`` and adds ``epsilon`` to
    ``sqrt(v)`` *before* correcting it (the paper's "epsilon hat" form), so its
    ``epsilon`` is not the paper's. ``amsgrad=True`` divides by the largest
    ``v`` seen so far instead of the current one.

    Introduced in: book/04_training.ipynb

    Args:
        learning_rate: step size ``lr`` (> 0).
        beta_1: decay of the mean of ``g`` (momentum), in [0, 1).
        beta_2: decay of the mean of ``g**2``, in (0, 1).
        epsilon: added to ``sqrt(v)`` (> 0).
        amsgrad: use the AMSGrad variant.
        weight_decay: decoupled weight decay (this is AdamW's rule), or ``None``.
    """

    learning_rate: float = 0.001  # step size
    beta_1: float = 0.9  # decay of the first moment (mean gradient)
    beta_2: float = 0.999  # decay of the second moment (mean squared gradient)
    epsilon: float = 1e-7  # added to sqrt(v), outside the square root
    amsgrad: bool = False  # divide by the running maximum of v
    weight_decay: float | None = None  # decoupled weight decay, None = off

    def __post_init__(self) -> None:
        _check_positive("learning_rate", self.learning_rate)
        _check_fraction("beta_1", self.beta_1)
        _check_fraction("beta_2", self.beta_2, allow_zero=False)
        _check_positive("epsilon", self.epsilon)
        if not isinstance(self.amsgrad, bool):
            raise ValueError(
                f"Expected `amsgrad` to be True or False. Received: amsgrad={self.amsgrad!r}"
            )
        _check_weight_decay(self.weight_decay)

    def init(self, variable) -> dict[str, np.ndarray]:
        """The optimiser state for one variable: both moments zero, no step taken yet."""
        zeros = _zeros_like(variable)
        return {"m": zeros, "v": zeros, "v_hat": zeros, "iterations": np.array(0)}

    def update(self, variable, gradient, state):
        """One step. Returns ``(new_variable, new_state)``; the inputs are not modified."""
        return self._step(*_prepare(variable, gradient, state), state)

    def _step(self, variable, gradient, state):
        """:meth:`update` without the input checks (``run_optimizer`` checks once)."""
        cast = variable.dtype.type  # scalars in the variable's precision, as Keras casts them
        lr, beta_1, beta_2 = cast(self.learning_rate), cast(self.beta_1), cast(self.beta_2)
        m, v, v_hat = (state[key].astype(variable.dtype) for key in ("m", "v", "v_hat"))
        variable = _decay(variable, self.learning_rate, self.weight_decay)
        step = int(state["iterations"]) + 1  # Keras: local_step = iterations + 1
        alpha = lr * np.sqrt(1 - beta_2 ** cast(step)) / (1 - beta_1 ** cast(step))
        m = m + (gradient - m) * cast(1 - self.beta_1)
        v = v + (np.square(gradient) - v) * cast(1 - self.beta_2)
        denominator_v = v
        if self.amsgrad:
            v_hat = np.maximum(v_hat, v)
            denominator_v = v_hat
        variable = variable - (m * alpha) / (np.sqrt(denominator_v) + cast(self.epsilon))
        return variable, {"m": m, "v": v, "v_hat": v_hat, "iterations": np.array(step)}

    def to_keras(self):
        """The ``keras.optimizers.Adam`` with the same settings."""
        import keras

        return keras.optimizers.Adam(**dataclasses.asdict(self))


def _prepare(variable, gradient, state) -> tuple[np.ndarray, np.ndarray]:
    """Check one update's inputs; keep float32 inputs float32, compute others in float64."""
    dtype = _float_dtype(variable)
    variable = _as_array("variable", variable, dtype)
    gradient = _as_array("gradient", gradient, dtype)
    _check_same_shape(variable, gradient)
    if not isinstance(state, dict):
        raise ValueError(
            f"Expected `state` to be the dict returned by `init`. Received: state={state!r}"
        )
    return variable, gradient


# --------------------------------------------------------------------------- running an optimiser


def run_optimizer(
    optimizer, gradient_fn: Callable, start, steps: int, dtype=np.float64
) -> np.ndarray:
    """Run a NumPy update rule from ``start`` and record every point it visits.

    Introduced in: book/04_training.ipynb

    Args:
        optimizer: a :class:`NumpySGD`, :class:`NumpyRMSprop` or :class:`NumpyAdam`.
        gradient_fn: function from a point (array shaped like ``start``) to the
            gradient there, e.g. ``surface.gradient``.
        start: the starting point.
        steps: number of updates (>= 1).
        dtype: ``np.float64`` (default) or ``np.float32`` (Keras's precision).

    Returns:
        Array of shape ``(steps + 1, *start.shape)``: the start, then the point
        after each step. A run that overflows keeps going with ``inf``/``nan``
        values (that is what divergence looks like) rather than raising.

    Example:
        >>> surface = quadratic()
        >>> path = run_optimizer(NumpySGD(learning_rate=0.05), surface.gradient, surface.start, 100)
    """
    if not isinstance(optimizer, (NumpySGD, NumpyRMSprop, NumpyAdam)):
        raise ValueError(
            "Expected `optimizer` to be a NumpySGD, NumpyRMSprop or NumpyAdam. "
            f"Received: optimizer={optimizer!r}"
        )
    if not callable(gradient_fn):
        raise ValueError(
            f"Expected `gradient_fn` to be a function. Received: gradient_fn={gradient_fn!r}"
        )
    _check_steps(steps)
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"Expected `dtype` to be float32 or float64. Received: dtype={dtype!r}")
    point = _as_array("start", start, dtype)
    state = optimizer.init(point)
    path = [point]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            gradient = np.asarray(gradient_fn(point), dtype=dtype)
            if gradient.shape != point.shape:
                raise ValueError(
                    "Expected `gradient_fn` to return an array shaped like `start`. "
                    f"Received: shape {gradient.shape} for start.shape={point.shape}"
                )
            if np.isfinite(point).all() and np.isfinite(gradient).all():
                point, state = optimizer._step(point, gradient, state)
            else:  # a diverged run: keep recording, as NaN, rather than raise
                point = np.full_like(point, np.nan)
            path.append(point)
    return np.stack(path)


def keras_trajectory(optimizer, gradient_fn: Callable, start, steps: int) -> np.ndarray:
    """Run a ``keras.optimizers`` optimiser from ``start``, feeding it exact gradients.

    No automatic differentiation is involved: at each step the current value
    of a ``keras.Variable`` is read, ``gradient_fn`` computes the gradient in
    NumPy, and ``optimizer.apply_gradients`` applies it, exactly as ``fit``
    would. This is what the chapter compares the NumPy rules with.

    Introduced in: book/04_training.ipynb

    Args:
        optimizer: a fresh ``keras.optimizers.Optimizer`` (it is built on the
            variable created here, so do not reuse it for another run).
        gradient_fn: function from a point to the gradient there.
        start: the starting point.
        steps: number of updates (>= 1).

    Returns:
        float32 array of shape ``(steps + 1, *start.shape)``.
    """
    import keras

    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise ValueError(
            f"Expected `optimizer` to be a keras.optimizers.Optimizer. Received: optimizer={optimizer!r}"
        )
    if not callable(gradient_fn):
        raise ValueError(
            f"Expected `gradient_fn` to be a function. Received: gradient_fn={gradient_fn!r}"
        )
    _check_steps(steps)
    start = _as_array("start", start, np.float32)
    variable = keras.Variable(start, dtype="float32", name="point")
    path = [start]
    for _ in range(steps):
        point = np.asarray(keras.ops.convert_to_numpy(variable.value))
        gradient = np.asarray(gradient_fn(point.astype(np.float64)), dtype=np.float32)
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(gradient), variable)])
        path.append(np.asarray(keras.ops.convert_to_numpy(variable.value)))
    return np.stack(path)


def _check_steps(steps) -> None:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"Expected `steps` to be a positive integer. Received: steps={steps!r}")


# --------------------------------------------------------------------------- test surfaces


@dataclasses.dataclass(frozen=True)
class Surface:
    """A 2-D function to minimise, with its exact gradient and a plotting window.

    ``value`` and ``gradient`` take points of shape ``(..., 2)``, so one call
    evaluates a whole grid for a contour plot.
    """

    name: str  # title for plots
    value: Callable[[np.ndarray], np.ndarray]  # (..., 2) -> (...)
    gradient: Callable[[np.ndarray], np.ndarray]  # (..., 2) -> (..., 2)
    start: tuple[float, float]  # where the chapter's runs start
    minimum: tuple[float, float] | None  # a global minimiser (None: unbounded below)
    xlim: tuple[float, float]  # plotting window, x
    ylim: tuple[float, float]  # plotting window, y


def _xy(point) -> tuple[np.ndarray, np.ndarray]:
    point = np.asarray(point, dtype=np.float64)
    if point.ndim == 0 or point.shape[-1] != 2:
        raise ValueError(f"Expected a point of shape (..., 2). Received: point.shape={point.shape}")
    return point[..., 0], point[..., 1]


def quadratic(curvature_x: float = 1.0, curvature_y: float = 50.0, start=(-4.0, 1.5)) -> Surface:
    """The ill-conditioned bowl ``f(x, y) = (curvature_x * x**2 + curvature_y * y**2) / 2``.

    The condition number is ``curvature_y / curvature_x``: gradient descent
    must use ``lr < 2 / curvature_y`` not to diverge along y, and then crawls
    along x at ``lr * curvature_x`` of the remaining distance per step.

    Introduced in: book/04_training.ipynb

    Args:
        curvature_x: second derivative along x (> 0).
        curvature_y: second derivative along y (> 0).
        start: the starting point of the chapter's runs.

    Returns:
        A :class:`Surface` with its minimum at (0, 0).
    """
    _check_positive("curvature_x", curvature_x)
    _check_positive("curvature_y", curvature_y)

    def value(point):
        x, y = _xy(point)
        return 0.5 * (curvature_x * x**2 + curvature_y * y**2)

    def gradient(point):
        x, y = _xy(point)
        return np.stack([curvature_x * x, curvature_y * y], axis=-1)

    name = f"Quadratic, condition number {curvature_y / curvature_x:g}"
    return Surface(name, value, gradient, tuple(start), (0.0, 0.0), (-4.5, 4.5), (-2.5, 2.5))


def rosenbrock(a: float = 1.0, b: float = 100.0, start=(-1.5, 2.0)) -> Surface:
    """Rosenbrock's banana valley ``f(x, y) = (a - x)**2 + b * (y - x**2)**2``.

    The valley floor ``y = x**2`` is easy to reach and then long, flat and
    curved: the steepest direction points across it, not along it.

    Introduced in: book/04_training.ipynb

    Args:
        a: position of the minimum, at ``(a, a**2)``.
        b: steepness of the valley walls (> 0).
        start: the starting point of the chapter's runs.

    Returns:
        A :class:`Surface`.
    """
    _check_positive("b", b)

    def value(point):
        x, y = _xy(point)
        return (a - x) ** 2 + b * (y - x**2) ** 2

    def gradient(point):
        x, y = _xy(point)
        dx = -2 * (a - x) - 4 * b * x * (y - x**2)
        dy = 2 * b * (y - x**2)
        return np.stack([dx, dy], axis=-1)

    return Surface(
        f"Rosenbrock (b={b:g})", value, gradient, tuple(start), (a, a * a), (-2.0, 2.0), (-1.0, 3.0)
    )


def saddle(start=(1.5, 1e-6)) -> Surface:
    """A saddle between two valleys: ``f(x, y) = x**2 / 2 + y**4 / 4 - y**2 / 2``.

    The origin is a saddle point (a minimum along x, a maximum along y) and the
    minima are at ``(0, -1)`` and ``(0, 1)``. Started almost on the ridge
    (``y`` tiny), gradient descent is drawn to the saddle, where the gradient
    vanishes, and leaves it only slowly: ``y`` grows by the factor
    ``1 + lr`` per step, however small it is.

    Introduced in: book/04_training.ipynb

    Args:
        start: the starting point of the chapter's runs.

    Returns:
        A :class:`Surface` (``minimum`` is the minimiser at ``(0, 1)``).
    """

    def value(point):
        x, y = _xy(point)
        return 0.5 * x**2 + 0.25 * y**4 - 0.5 * y**2

    def gradient(point):
        x, y = _xy(point)
        return np.stack([x, y**3 - y], axis=-1)

    return Surface(
        "Saddle at (0, 0)", value, gradient, tuple(start), (0.0, 1.0), (-2.0, 2.0), (-1.6, 1.6)
    )


SURFACES: dict[str, Callable[[], Surface]] = {
    "quadratic": quadratic,
    "rosenbrock": rosenbrock,
    "saddle": saddle,
}  # name -> builder with the chapter's default settings
