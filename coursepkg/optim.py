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

from coursepkg import validation

__all__ = [
    "SURFACES",
    "NumpyAdam",
    "NumpyRMSprop",
    "NumpySGD",
    "Surface",
    "keras_trajectory",
    "quadratic",
    "rosenbrock",
    "run_optimizer",
    "saddle",
]

# --------------------------------------------------------------------------- argument checks


# Bounds of the settings: a learning rate above 100 or a weight decay above 1 is a typo, and a
# curvature above 1e6 makes every chapter learning rate diverge at once.
MAX_LEARNING_RATE = 100.0
MAX_EPSILON = 1.0
MAX_WEIGHT_DECAY = 1.0
MAX_CURVATURE = 1e6
MAX_COORDINATE = 1e6  # largest |coordinate| of a starting point or a minimum
MAX_ROSENBROCK_A = 1e3  # the minimum (a, a**2) stays within MAX_COORDINATE
MAX_STEPS = 1_000_000
DTYPES = ("float32", "float64")


def _check_positive(name: str, value, high: float) -> float:
    """A finite number in (0, ``high``]."""
    return validation.check_float(name, value, 0.0, high, low_inclusive=False)


def _check_fraction(name: str, value, allow_zero: bool = True) -> float:
    """A finite number in [0, 1) (``allow_zero``) or (0, 1)."""
    return validation.check_float(name, value, 0.0, 1.0, low_inclusive=allow_zero, high_inclusive=False)


def _check_weight_decay(value) -> float | None:
    return validation.optional(_check_positive, "weight_decay", value, MAX_WEIGHT_DECAY)


def _settle(rule, **settings) -> None:
    """Store the checked settings (plain Python floats and bools) on a frozen dataclass."""
    for name, value in settings.items():
        object.__setattr__(rule, name, value)


def _as_array(name: str, value, dtype) -> np.ndarray:
    """A real, finite, non-empty array in ``dtype`` (strings, booleans, complex refused)."""
    return validation.check_array(name, value).astype(dtype)


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
    return np.zeros_like(_as_variable(variable))


def _as_variable(variable) -> np.ndarray:
    """A real, finite, non-empty array: float32 stays float32 (Keras's precision), all else float64."""
    array = validation.check_array("variable", variable)
    return array.astype(np.float32 if array.dtype == np.float32 else np.float64, copy=False)


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
        learning_rate: step size ``lr``, a finite number in (0, 100].
        momentum: ``mu`` in [0, 1); 0 is plain gradient descent.
        nesterov: use Nesterov's look-ahead form (needs ``momentum > 0`` to matter); a boolean.
        weight_decay: decoupled weight decay (``w <- w - w * wd * lr`` before the
            update) in (0, 1], or ``None`` for none, as in Keras.

    Raises:
        TypeError: a setting of the wrong type (a string, ``"no"`` for a boolean).
        ValueError: a setting out of its range, NaN or infinite.

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
        _settle(
            self,
            learning_rate=_check_positive("learning_rate", self.learning_rate, MAX_LEARNING_RATE),
            momentum=_check_fraction("momentum", self.momentum),
            nesterov=validation.check_bool("nesterov", self.nesterov),
            weight_decay=_check_weight_decay(self.weight_decay),
        )

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
        learning_rate: step size ``lr``, a finite number in (0, 100].
        rho: decay of the running mean, in (0, 1).
        momentum: in [0, 1); 0 (the default) is plain RMSProp.
        epsilon: small constant added to the mean square before the root, in (0, 1].
        centered: divide by an estimate of the gradient's standard deviation; a boolean.
        weight_decay: decoupled weight decay in (0, 1], or ``None``.

    Raises:
        TypeError: a setting of the wrong type (a string, ``"no"`` for a boolean).
        ValueError: a setting out of its range, NaN or infinite.
    """

    learning_rate: float = 0.001  # step size
    rho: float = 0.9  # decay of the running mean of g**2
    momentum: float = 0.0  # momentum on the scaled step, 0 = off
    epsilon: float = 1e-7  # added to the mean square, inside the square root
    centered: bool = False  # subtract the squared running mean of g
    weight_decay: float | None = None  # decoupled weight decay, None = off

    def __post_init__(self) -> None:
        _settle(
            self,
            learning_rate=_check_positive("learning_rate", self.learning_rate, MAX_LEARNING_RATE),
            rho=_check_fraction("rho", self.rho, allow_zero=False),
            momentum=_check_fraction("momentum", self.momentum),
            epsilon=_check_positive("epsilon", self.epsilon, MAX_EPSILON),
            centered=validation.check_bool("centered", self.centered),
            weight_decay=_check_weight_decay(self.weight_decay),
        )

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
        learning_rate: step size ``lr``, a finite number in (0, 100].
        beta_1: decay of the mean of ``g`` (momentum), in [0, 1).
        beta_2: decay of the mean of ``g**2``, in (0, 1).
        epsilon: added to ``sqrt(v)``, in (0, 1].
        amsgrad: use the AMSGrad variant; a boolean.
        weight_decay: decoupled weight decay in (0, 1] (this is AdamW's rule), or ``None``.

    Raises:
        TypeError: a setting of the wrong type (a string, ``"no"`` for a boolean).
        ValueError: a setting out of its range, NaN or infinite.
    """

    learning_rate: float = 0.001  # step size
    beta_1: float = 0.9  # decay of the first moment (mean gradient)
    beta_2: float = 0.999  # decay of the second moment (mean squared gradient)
    epsilon: float = 1e-7  # added to sqrt(v), outside the square root
    amsgrad: bool = False  # divide by the running maximum of v
    weight_decay: float | None = None  # decoupled weight decay, None = off

    def __post_init__(self) -> None:
        _settle(
            self,
            learning_rate=_check_positive("learning_rate", self.learning_rate, MAX_LEARNING_RATE),
            beta_1=_check_fraction("beta_1", self.beta_1),
            beta_2=_check_fraction("beta_2", self.beta_2, allow_zero=False),
            epsilon=_check_positive("epsilon", self.epsilon, MAX_EPSILON),
            amsgrad=validation.check_bool("amsgrad", self.amsgrad),
            weight_decay=_check_weight_decay(self.weight_decay),
        )

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
    variable = _as_variable(variable)
    gradient = _as_array("gradient", gradient, variable.dtype)
    _check_same_shape(variable, gradient)
    if not isinstance(state, dict):
        raise TypeError(
            f"Expected `state` to be the dict returned by `init`. Received: state={state!r:.80}"
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
        start: the starting point, a non-empty array of finite real numbers.
        steps: number of updates, an integer in [1, 1,000,000].
        dtype: ``np.float64`` (default) or ``np.float32`` (Keras's precision), as a
            NumPy type, dtype or its name.

    Returns:
        Array of shape ``(steps + 1, *start.shape)``: the start, then the point
        after each step. A run that overflows keeps going with ``inf``/``nan``
        values (that is what divergence looks like) rather than raising.

    Raises:
        TypeError: an argument of the wrong type, or ``gradient_fn`` returning
            something that is not an array of real numbers.
        ValueError: ``steps`` out of range, a ``start`` that is empty or not finite,
            or ``gradient_fn`` returning an array of another shape.

    Example:
        >>> surface = quadratic()
        >>> path = run_optimizer(NumpySGD(learning_rate=0.05), surface.gradient, surface.start, 100)
    """
    if not isinstance(optimizer, (NumpySGD, NumpyRMSprop, NumpyAdam)):
        raise TypeError(
            "Expected `optimizer` to be a NumpySGD, NumpyRMSprop or NumpyAdam. "
            f"Received: optimizer={optimizer!r:.80}"
        )
    validation.check_callable("gradient_fn", gradient_fn)
    steps = _check_steps(steps)
    dtype = _check_dtype(dtype)
    point = _as_array("start", start, dtype)
    state = optimizer.init(point)
    path = [point]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            gradient = _gradient_at(gradient_fn, point)
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
        start: the starting point, a non-empty array of finite real numbers.
        steps: number of updates, an integer in [1, 1,000,000].

    Returns:
        float32 array of shape ``(steps + 1, *start.shape)``.

    Raises:
        TypeError: an argument of the wrong type.
        ValueError: ``steps`` out of range, or a ``start`` that is empty or not finite.
    """
    validation.check_callable("gradient_fn", gradient_fn)
    steps = _check_steps(steps)
    start = _as_array("start", start, np.float32)
    import keras

    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(
            f"Expected `optimizer` to be a keras.optimizers.Optimizer. Received: optimizer={optimizer!r:.80}"
        )
    variable = keras.Variable(start, dtype="float32", name="point")
    path = [start]
    for _ in range(steps):
        point = np.asarray(keras.ops.convert_to_numpy(variable.value))
        gradient = _gradient_at(gradient_fn, point.astype(np.float64)).astype(np.float32)
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(gradient), variable)])
        path.append(np.asarray(keras.ops.convert_to_numpy(variable.value)))
    return np.stack(path)


def _check_steps(steps) -> int:
    return validation.check_int("steps", steps, 1, MAX_STEPS)


def _check_dtype(dtype) -> type:
    """``np.float32`` or ``np.float64``, given as a NumPy type, a dtype or its name."""
    try:
        name = np.dtype(dtype).name if dtype is not None else None
    except (TypeError, ValueError):
        name = None
    if name not in DTYPES:
        raise TypeError(f"Expected `dtype` to be float32 or float64. Received: dtype={dtype!r:.80}")
    return np.dtype(name).type


def _gradient_at(gradient_fn: Callable, point: np.ndarray) -> np.ndarray:
    """``gradient_fn(point)`` as an array of the point's dtype and shape (NaN allowed: divergence)."""
    value = gradient_fn(point)
    try:
        gradient = validation.check_array("gradient_fn", value, finite=False, allow_empty=True)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"Expected `gradient_fn` to return an array of real numbers. Received: {value!r:.80}"
        ) from error
    gradient = gradient.astype(point.dtype)
    if gradient.shape != point.shape:
        raise ValueError(
            "Expected `gradient_fn` to return an array shaped like `start`. "
            f"Received: shape {gradient.shape} for start.shape={point.shape}"
        )
    return gradient


def _check_point(name: str, value) -> tuple[float, float]:
    """A 2-D point ``(x, y)`` of finite coordinates within +-1,000,000."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"Expected `{name}` to be a point (x, y). Received: {name}={value!r:.80}")
    return tuple(validation.check_float(name, v, -MAX_COORDINATE, MAX_COORDINATE) for v in value)


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
    # NaN and infinity pass: a diverged path is evaluated too.
    point = validation.check_array("point", point, finite=False, allow_empty=True).astype(np.float64)
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
        curvature_x: second derivative along x, a finite number in (0, 1,000,000].
        curvature_y: second derivative along y, a finite number in (0, 1,000,000].
        start: the starting point of the chapter's runs, two finite numbers within
            +-1,000,000.

    Returns:
        A :class:`Surface` with its minimum at (0, 0).
    """
    curvature_x = _check_positive("curvature_x", curvature_x, MAX_CURVATURE)
    curvature_y = _check_positive("curvature_y", curvature_y, MAX_CURVATURE)
    start = _check_point("start", start)

    def value(point):
        x, y = _xy(point)
        return 0.5 * (curvature_x * x**2 + curvature_y * y**2)

    def gradient(point):
        x, y = _xy(point)
        return np.stack([curvature_x * x, curvature_y * y], axis=-1)

    name = f"Quadratic, condition number {curvature_y / curvature_x:g}"
    return Surface(name, value, gradient, start, (0.0, 0.0), (-4.5, 4.5), (-2.5, 2.5))


def rosenbrock(a: float = 1.0, b: float = 100.0, start=(-1.5, 2.0)) -> Surface:
    """Rosenbrock's banana valley ``f(x, y) = (a - x)**2 + b * (y - x**2)**2``.

    The valley floor ``y = x**2`` is easy to reach and then long, flat and
    curved: the steepest direction points across it, not along it.

    Introduced in: book/04_training.ipynb

    Args:
        a: position of the minimum, at ``(a, a**2)``; a finite number within +-1,000.
        b: steepness of the valley walls, a finite number in (0, 1,000,000].
        start: the starting point of the chapter's runs, two finite numbers within
            +-1,000,000.

    Returns:
        A :class:`Surface`.
    """
    a = validation.check_float("a", a, -MAX_ROSENBROCK_A, MAX_ROSENBROCK_A)
    b = _check_positive("b", b, MAX_CURVATURE)
    start = _check_point("start", start)

    def value(point):
        x, y = _xy(point)
        return (a - x) ** 2 + b * (y - x**2) ** 2

    def gradient(point):
        x, y = _xy(point)
        dx = -2 * (a - x) - 4 * b * x * (y - x**2)
        dy = 2 * b * (y - x**2)
        return np.stack([dx, dy], axis=-1)

    return Surface(
        f"Rosenbrock (b={b:g})", value, gradient, start, (a, a * a), (-2.0, 2.0), (-1.0, 3.0)
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
        start: the starting point of the chapter's runs, two finite numbers within
            +-1,000,000.

    Returns:
        A :class:`Surface` (``minimum`` is the minimiser at ``(0, 1)``).
    """
    start = _check_point("start", start)

    def value(point):
        x, y = _xy(point)
        return 0.5 * x**2 + 0.25 * y**4 - 0.5 * y**2

    def gradient(point):
        x, y = _xy(point)
        return np.stack([x, y**3 - y], axis=-1)

    return Surface(
        "Saddle at (0, 0)", value, gradient, start, (0.0, 1.0), (-2.0, 2.0), (-1.6, 1.6)
    )


SURFACES: dict[str, Callable[[], Surface]] = {
    "quadratic": quadratic,
    "rosenbrock": rosenbrock,
    "saddle": saddle,
}  # name -> builder with the chapter's default settings
