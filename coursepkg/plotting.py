"""Figures the chapters share: learning curves, images, confusion matrices, paths, activations.

Introduced in: book/02_layers_and_shapes.ipynb (learning curves, image grids,
confusion matrices), book/03_activations_and_loss.ipynb (activations) and
book/04_training.ipynb (optimiser paths).

Every helper builds its figure with matplotlib's object-oriented API and
returns the ``matplotlib.figure.Figure``; none calls ``plt.show()`` or closes a
figure. In a notebook, leave the figure as the cell's last expression or end
the cell with ``plt.show()``; in a script, ``fig.savefig(...)``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence

import numpy as np

WRONG_COLOUR = "tab:red"
RIGHT_COLOUR = "black"
# Names of quantities for which higher is better (keras.callbacks.EarlyStopping's "auto" mode).
_HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1", "iou")


# --------------------------------------------------------------------------- checks


def _positive_int(value, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(
            f"Expected `{argument}` to be a positive integer. Received: {argument}={value!r}"
        )
    return int(value)


def _class_indices(values, argument: str, n: int | None = None) -> np.ndarray:
    """Class indices from indices ``(n,)``, scores or one-hot rows ``(n, classes)``,
    or sigmoid probabilities ``(n, 1)`` (above 0.5: class 1)."""
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1 and np.issubdtype(array.dtype, np.floating):
        array = (array[:, 0] > 0.5).astype(np.int64)
    elif array.ndim == 2:
        array = array.argmax(axis=1)
    if array.dtype == bool:
        array = array.astype(np.int64)
    if array.ndim != 1 or not (np.issubdtype(array.dtype, np.integer) or _whole(array)):
        raise ValueError(
            f"Expected `{argument}` to be class indices (n,) or scores (n, classes). "
            f"Received: {argument} with shape {np.shape(values)} and dtype {array.dtype}"
        )
    if n is not None and len(array) != n:
        raise ValueError(
            f"Expected `{argument}` to have one entry per example ({n}). Received: {len(array)} entries"
        )
    if len(array) and array.min() < 0:
        raise ValueError(
            f"Expected `{argument}` to hold non-negative class indices. Received: min={array.min()}"
        )
    return array.astype(np.int64)


def _whole(array: np.ndarray) -> bool:
    return np.issubdtype(array.dtype, np.floating) and bool(np.all(array == np.round(array)))


def _class_name(index: int, class_names) -> str:
    return str(class_names[index]) if class_names is not None else str(index)


# --------------------------------------------------------------------------- learning curves


def plot_history(
    history,
    metrics: Sequence[str] | None = None,
    monitor: str | None = None,
    mode: str = "auto",
    panel_size: tuple[float, float] = (4.5, 3.2),
):
    """Learning curves: loss and every metric, training against validation, one panel each.

    Introduced in: book/02_layers_and_shapes.ipynb

    Args:
        history: the ``keras.callbacks.History`` that ``model.fit`` returns, or
            its ``.history`` dict (``{"loss": [...], "val_loss": [...], ...}``).
        metrics: quantities to plot, by their training name (``"loss"``,
            ``"accuracy"``, ``"learning_rate"``...); ``None`` plots all of them,
            loss first.
        monitor: the quantity whose best epoch is marked on every panel with a
            dashed line; ``None`` means ``"val_loss"`` if present, else ``"loss"``.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (``"max"`` for accuracy-like
            names, as ``keras.callbacks.EarlyStopping`` does, else ``"min"``).
        panel_size: (width, height) of one panel in inches.

    Returns:
        The Figure, one Axes per quantity, titled with its name; the x-axis is
        the epoch number as Keras prints it (from 1).

    Example:
        >>> history = model.fit(x, y, validation_split=0.1, epochs=10)
        >>> fig = coursepkg.plot_history(history)
    """
    import matplotlib.pyplot as plt

    logs, epochs = _history_logs(history)
    names = [name for name in logs if not name.startswith("val_")]
    names += [name[4:] for name in logs if name.startswith("val_") and name[4:] not in logs]
    names.sort(key=lambda name: (name != "loss", name == "learning_rate"))  # loss first, lr last
    if metrics is not None:
        if isinstance(metrics, str) or not all(name in names for name in metrics) or not metrics:
            raise ValueError(
                f"Expected `metrics` to be a list of some of {names}. Received: metrics={metrics!r}"
            )
        names = list(metrics)
    if monitor is None:
        monitor = "val_loss" if "val_loss" in logs else "loss" if "loss" in logs else None
    elif monitor not in logs:
        raise ValueError(
            f"Expected `monitor` to be one of {sorted(logs)}. Received: monitor={monitor!r}"
        )
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"Expected `mode` to be 'auto', 'min' or 'max'. Received: mode={mode!r}")

    best_epoch = None
    if monitor is not None:
        values = np.asarray(logs[monitor], dtype=float)
        if mode == "auto":
            mode = "max" if any(word in monitor for word in _HIGHER_IS_BETTER) else "min"
        if np.isfinite(values).any():
            index = np.nanargmax(values) if mode == "max" else np.nanargmin(values)
            best_epoch = epochs[index]

    ncols = min(len(names), 3)
    nrows = math.ceil(len(names) / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows), squeeze=False
    )
    for ax, name in zip(axes.flat, names, strict=False):
        if name in logs:
            ax.plot(epochs, logs[name], marker="o", markersize=3, label="training")
        if f"val_{name}" in logs:
            ax.plot(epochs, logs[f"val_{name}"], marker="o", markersize=3, label="validation")
        if best_epoch is not None:
            ax.axvline(
                best_epoch,
                color="grey",
                linestyle="--",
                linewidth=1,
                label=f"best epoch {best_epoch} ({mode} {monitor})",
            )
        if name == "learning_rate":
            ax.set_yscale("log")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(names) :]:
        fig.delaxes(ax)
    fig.tight_layout()
    return fig


def _history_logs(history) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The logs dict and the epoch numbers (from 1, as Keras prints them)."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping) or not logs:
        raise ValueError(
            "Expected `history` to be a keras.callbacks.History or a non-empty dict of lists. "
            f"Received: history={history!r}"
        )
    lengths = {len(np.atleast_1d(values)) for values in logs.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(
            "Expected every list in `history` to hold one value per epoch. "
            f"Received lengths: { {name: len(np.atleast_1d(v)) for name, v in logs.items()} }"
        )
    (length,) = lengths
    epoch = getattr(history, "epoch", None)  # a History knows its epochs (initial_epoch may be > 0)
    epochs = (
        np.asarray(epoch) + 1
        if epoch is not None and len(epoch) == length
        else np.arange(1, length + 1)
    )
    return {
        name: np.asarray(values, dtype=float).reshape(-1) for name, values in logs.items()
    }, epochs


# --------------------------------------------------------------------------- image grid


def plot_images(
    images,
    labels=None,
    predictions=None,
    class_names: Sequence[str] | None = None,
    ncols: int = 8,
    cell_size: float = 1.4,
    title: str | None = None,
):
    """A grid of images, each titled with its label, or its prediction (red when wrong).

    Introduced in: book/02_layers_and_shapes.ipynb

    Grey images are drawn with the ``gray`` colour map on a fixed scale (0..255
    for uint8, 0..1 for floats), so that a dark image looks dark. Float images
    outside [0, 1] (standardised inputs, say) are rescaled to [0, 1] one by one.

    Args:
        images: ``(n, height, width)``, ``(n, height, width, 1)`` or
            ``(n, height, width, 3)``; uint8 (0..255) or float.
        labels: ``None`` or the true classes, ``(n,)`` indices or one-hot rows.
        predictions: ``None`` or the predicted classes, ``(n,)`` indices or
            ``(n, classes)`` scores (the arg-max is taken). When given, each
            title shows the prediction, and wrong ones are red with the true
            label in brackets (``labels`` is then required).
        class_names: names of the class indices (default: the indices).
        ncols: images per row.
        cell_size: width and height of one image, in inches.
        title: figure title.

    Returns:
        The Figure, one Axes per image (axis ticks off).

    Example:
        >>> fig = coursepkg.plot_images(x_test[:16], y_test[:16],
        ...                             model.predict(x_test[:16]), class_names)
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]  # (n, height, width)
    if len(images) == 0 or not (
        images.ndim == 3 or (images.ndim == 4 and images.shape[-1] in (3, 4))
    ):
        raise ValueError(
            "Expected `images` to be a non-empty array (n, height, width), (n, height, width, 1) "
            f"or (n, height, width, 3). Received: images with shape {np.shape(images)}"
        )
    if not (np.issubdtype(images.dtype, np.integer) or np.issubdtype(images.dtype, np.floating)):
        raise ValueError(f"Expected `images` to be uint8 or float. Received: dtype={images.dtype}")
    n = len(images)
    ncols = min(_positive_int(ncols, "ncols"), n)
    true = None if labels is None else _class_indices(labels, "labels", n)
    predicted = None if predictions is None else _class_indices(predictions, "predictions", n)
    if predicted is not None and true is None:
        raise ValueError(
            "Expected `labels` with `predictions`, to tell right from wrong. Received: labels=None"
        )
    if class_names is not None:
        largest = max([-1] + [int(array.max()) for array in (true, predicted) if array is not None])
        if len(class_names) <= largest:
            raise ValueError(
                f"Expected `class_names` to name every class index up to {largest}. "
                f"Received: {len(class_names)} names"
            )

    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(cell_size * ncols, cell_size * nrows + 0.3), squeeze=False
    )
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index >= n:
            continue
        pixels, options = _displayable(images[index])
        ax.imshow(pixels, **options)
        if predicted is not None:
            wrong = predicted[index] != true[index]
            text = _class_name(predicted[index], class_names)
            if wrong:
                text += f"\n(true: {_class_name(true[index], class_names)})"
            ax.set_title(text, fontsize="small", color=WRONG_COLOUR if wrong else RIGHT_COLOUR)
        elif true is not None:
            ax.set_title(_class_name(true[index], class_names), fontsize="small")
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _displayable(image: np.ndarray) -> tuple[np.ndarray, dict]:
    """(image, imshow keyword arguments) with a fixed grey scale or RGB in [0, 1]."""
    if np.issubdtype(image.dtype, np.integer):
        if image.ndim == 2:
            return image, {"cmap": "gray", "vmin": 0, "vmax": 255}
        return np.clip(image, 0, 255).astype(np.uint8), {}
    image = image.astype(np.float64)
    low, high = np.nanmin(image), np.nanmax(image)
    if low < 0 or high > 1:  # standardised or 0..255 floats: stretch this image to [0, 1]
        image = (image - low) / (high - low) if high > low else np.zeros_like(image)
    if image.ndim == 2:
        return image, {"cmap": "gray", "vmin": 0.0, "vmax": 1.0}
    return image, {}


# --------------------------------------------------------------------------- confusion matrix


def plot_confusion_matrix(
    y_true,
    y_pred,
    class_names: Sequence[str] | None = None,
    normalize: str | None = None,
    annotate: bool | str = "auto",
    cmap: str = "Blues",
    size: float | None = None,
):
    """Confusion matrix: rows are true classes, columns predicted ones, values written in.

    Introduced in: book/02_layers_and_shapes.ipynb

    The matrix is ``sklearn.metrics.confusion_matrix`` over all classes.

    Args:
        y_true: true classes, ``(n,)`` indices or one-hot rows.
        y_pred: predicted classes, ``(n,)`` indices or ``(n, classes)``
            scores (``model.predict`` output; the arg-max is taken), or
            ``(n, 1)`` sigmoid probabilities (above 0.5: class 1).
        class_names: names of the classes; also fixes their number (default:
            ``max(label) + 1``).
        normalize: ``None`` (counts), ``"true"`` (each row sums to 1: the
            recall of each class is on the diagonal), ``"pred"`` (each column
            sums to 1: precision), or ``"all"``, as scikit-learn.
        annotate: write the value in each cell; ``"auto"`` does so up to 20
            classes.
        cmap: matplotlib colour map.
        size: figure width and height in inches (default grows with the classes).

    Returns:
        The Figure, with one Axes holding the matrix as an image (and a colour
        bar Axes). ``fig.axes[0].images[0].get_array()`` is the matrix.

    Example:
        >>> scores = model.predict(x_test)
        >>> fig = coursepkg.plot_confusion_matrix(y_test, scores, class_names, normalize="true")
    """
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    true = _class_indices(y_true, "y_true")
    predicted = _class_indices(y_pred, "y_pred", len(true))
    if len(true) == 0:
        raise ValueError("Expected at least one example. Received: y_true of length 0")
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(
            f"Expected `normalize` to be None, 'true', 'pred' or 'all'. Received: normalize={normalize!r}"
        )
    if annotate not in ("auto", True, False):
        raise ValueError(
            f"Expected `annotate` to be 'auto', True or False. Received: annotate={annotate!r}"
        )
    largest = int(max(true.max(), predicted.max()))
    num_classes = len(class_names) if class_names is not None else largest + 1
    if num_classes <= largest:
        raise ValueError(
            f"Expected `class_names` to name every class index up to {largest}. "
            f"Received: {num_classes} names"
        )
    names = [_class_name(index, class_names) for index in range(num_classes)]
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = confusion_matrix(
            true, predicted, labels=np.arange(num_classes), normalize=normalize
        )

    size = size or min(max(4.0, 0.55 * num_classes + 2.0), 16.0)
    fig, ax = plt.subplots(figsize=(size + 1.0, size))
    vmax = 1.0 if normalize else max(int(matrix.max()), 1)
    image = ax.imshow(matrix, cmap=cmap, vmin=0, vmax=vmax)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction" if normalize else "count")
    ax.set_xticks(
        np.arange(num_classes),
        labels=names,
        rotation=45 if num_classes > 5 else 0,
        ha="right" if num_classes > 5 else "center",
    )
    ax.set_yticks(np.arange(num_classes), labels=names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    what = {
        None: "counts",
        "true": "normalised over true classes (rows)",
        "pred": "normalised over predictions (columns)",
        "all": "normalised over all examples",
    }
    ax.set_title(f"Confusion matrix, {what[normalize]}")
    if annotate is True or (annotate == "auto" and num_classes <= 20):
        for row in range(num_classes):
            for column in range(num_classes):
                value = matrix[row, column]
                text = f"{value:.2f}" if normalize else f"{int(value)}"
                dark = value > 0.5 * vmax
                ax.text(
                    column,
                    row,
                    text,
                    ha="center",
                    va="center",
                    fontsize="small",
                    color="white" if dark else "black",
                )
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- optimiser paths


def plot_optimizer_paths(
    function,
    paths: Mapping[str, np.ndarray],
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    levels: int = 25,
    small_multiples: bool = False,
    minimum: tuple[float, float] | None = None,
    title: str | None = None,
    resolution: int = 200,
):
    """Contour lines of a 2-D function with the path each optimiser took across it.

    Introduced in: book/04_training.ipynb

    The contour levels are spaced geometrically above the lowest value in the
    window, so that both a steep valley and its flat floor get lines
    (Rosenbrock's values span five orders of magnitude). Paths that leave the window are clipped at its
    edge, so a diverging run shows as a line leaving the plot.

    Args:
        function: ``f(x, y)`` evaluated on 2-D grid arrays, or a
            :class:`coursepkg.optim.Surface` (its window, minimum and name are
            then the defaults of ``xlim``, ``ylim``, ``minimum`` and ``title``).
        paths: optimiser name -> the points it visited, ``(steps + 1, 2)``,
            e.g. from :func:`coursepkg.optim.run_optimizer`.
        xlim, ylim: plotting window (default: the surface's, or around the paths).
        levels: number of contour levels.
        small_multiples: one panel per optimiser on the same contours, instead
            of all paths in one panel.
        minimum: a point to mark with a star (the minimiser).
        title: figure title.
        resolution: grid points per axis for the contours.

    Returns:
        The Figure: one Axes (``small_multiples=False``) holding one labelled
        line per optimiser, or one Axes per optimiser.

    Example:
        >>> surface = coursepkg.optim.rosenbrock()
        >>> paths = {name: coursepkg.optim.run_optimizer(rule, surface.gradient, surface.start, 300)
        ...          for name, rule in rules.items()}
        >>> fig = coursepkg.plot_optimizer_paths(surface, paths)
    """
    import matplotlib.pyplot as plt

    evaluate, xlim, ylim, minimum, title = _surface_parts(function, xlim, ylim, minimum, title)
    if not isinstance(paths, Mapping) or not paths:
        raise ValueError(
            f"Expected `paths` to be a non-empty dict of name -> (steps, 2) array. Received: paths={paths!r}"
        )
    arrays = {}
    for name, path in paths.items():
        array = np.asarray(path, dtype=float)
        if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
            raise ValueError(
                f"Expected each path to have shape (steps, 2). Received: paths[{name!r}].shape={array.shape}"
            )
        arrays[str(name)] = array
    _positive_int(levels, "levels")
    _positive_int(resolution, "resolution")
    if xlim is None or ylim is None:
        points = np.concatenate(
            [array[np.isfinite(array).all(axis=1)] for array in arrays.values()]
        )
        low, high = points.min(axis=0), points.max(axis=0)
        margin = 0.15 * np.maximum(high - low, 1e-3)
        xlim = xlim or (low[0] - margin[0], high[0] + margin[0])
        ylim = ylim or (low[1] - margin[1], high[1] + margin[1])
    for argument, window in (("xlim", xlim), ("ylim", ylim)):
        if len(window) != 2 or not window[0] < window[1]:
            raise ValueError(
                f"Expected `{argument}` to be (low, high) with low < high. Received: {argument}={window!r}"
            )

    grid_x, grid_y = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    values = np.asarray(evaluate(grid_x, grid_y), dtype=float)  # (resolution, resolution)
    if values.shape != grid_x.shape:
        raise ValueError(
            "Expected `function` to return one value per grid point. "
            f"Received: shape {values.shape} for a grid of {grid_x.shape}"
        )
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise ValueError("Expected `function` to have finite values in the window. Received: none")
    span = max(float(finite.max() - finite.min()), 1e-12)
    # Geometric spacing above the lowest value: dense near the minimum, sparse up the walls.
    contour_levels = finite.min() + np.geomspace(span * 1e-4, span, levels)

    panels = len(arrays) if small_multiples else 1
    ncols = min(panels, 3)
    nrows = math.ceil(panels / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.0 * ncols, 4.2 * nrows), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, (name, path) in enumerate(arrays.items()):
        ax = axes.flat[index if small_multiples else 0]
        if small_multiples or index == 0:
            ax.contour(
                grid_x, grid_y, values, levels=contour_levels, cmap="viridis", linewidths=0.7
            )
            if minimum is not None:
                ax.plot(
                    *minimum,
                    marker="*",
                    markersize=14,
                    color="gold",
                    markeredgecolor="black",
                    linestyle="none",
                    label="minimum",
                )
            ax.set_xlim(xlim)
            ax.set_ylim(ylim)
            ax.set_xlabel("x")
            ax.set_ylabel("y")
            if small_multiples:
                ax.set_title(name)
        colour = colours[index % len(colours)]
        ax.plot(
            path[:, 0],
            path[:, 1],
            color=colour,
            marker="o",
            markersize=2.5,
            linewidth=1.3,
            label=f"{name} ({len(path) - 1} steps)",
        )
        ax.plot(*path[0], marker="s", color=colour, markersize=6, linestyle="none")  # start
        ax.legend(fontsize="small", loc="best")
    for ax in axes.flat[panels:]:
        fig.delaxes(ax)
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _surface_parts(function, xlim, ylim, minimum, title):
    """Accept f(x, y) or a coursepkg.optim.Surface; return f(x, y) and the defaults."""
    if callable(getattr(function, "value", None)) and hasattr(function, "xlim"):
        surface = function

        def evaluate(x, y):
            return surface.value(np.stack([x, y], axis=-1))

        return (
            evaluate,
            xlim or surface.xlim,
            ylim or surface.ylim,
            minimum if minimum is not None else getattr(surface, "minimum", None),
            title if title is not None else getattr(surface, "name", None),
        )
    if not callable(function):
        raise ValueError(
            "Expected `function` to be f(x, y) or a coursepkg.optim.Surface. "
            f"Received: function={function!r}"
        )
    return function, xlim, ylim, minimum, title


# --------------------------------------------------------------------------- activations


def plot_activations(
    activations: Sequence[str] | Mapping[str, tuple[Callable, Callable]] = (
        "sigmoid",
        "tanh",
        "relu",
    ),
    x=None,
    layout: str = "overlay",
):
    """Activation functions and their derivatives, side by side.

    Introduced in: book/03_activations_and_loss.ipynb

    The derivative panel shows why the choice matters for training: the
    sigmoid's slope is at most 0.25 and vanishes for large ``|x|``, ReLU's is
    exactly 1 for every positive input.

    Args:
        activations: Keras names of activations (the keys of
            :data:`coursepkg.activations.ACTIVATIONS`: ``"sigmoid"``, ``"tanh"``,
            ``"relu"``, ``"leaky_relu"``, ``"elu"``, ``"selu"``, ``"gelu"``), or
            a dict of name -> ``(function, derivative)`` NumPy functions.
        x: the inputs to plot at (default: 401 points on [-5, 5]).
        layout: ``"overlay"``: two panels, all functions on the left and all
            derivatives on the right; ``"grid"``: one row per activation.

    Returns:
        The Figure: 2 Axes (``"overlay"``, one line per activation in each)
        or 2 Axes per activation (``"grid"``).

    Example:
        >>> fig = coursepkg.plot_activations(["sigmoid", "tanh", "relu", "gelu"])
    """
    import matplotlib.pyplot as plt

    pairs = _activation_pairs(activations)
    if layout not in ("overlay", "grid"):
        raise ValueError(
            f"Expected `layout` to be 'overlay' or 'grid'. Received: layout={layout!r}"
        )
    x = np.linspace(-5.0, 5.0, 401) if x is None else np.asarray(x, dtype=float)
    if x.ndim != 1 or len(x) < 2 or not np.all(np.isfinite(x)):
        raise ValueError(
            f"Expected `x` to be a 1-D array of at least 2 finite numbers. Received: x with shape {x.shape}"
        )

    rows = 1 if layout == "overlay" else len(pairs)
    fig, axes = plt.subplots(rows, 2, figsize=(10.0, 3.4 * rows), squeeze=False)
    for index, (name, (function, derivative)) in enumerate(pairs.items()):
        left, right = axes[0 if layout == "overlay" else index]
        left.plot(x, np.asarray(function(x), dtype=float), label=name)
        right.plot(x, np.asarray(derivative(x), dtype=float), label=f"{name}'")
        if layout == "grid":
            left.set_title(name)
            right.set_title(f"derivative of {name}")
    if layout == "overlay":
        axes[0, 0].set_title("activation f(x)")
        axes[0, 1].set_title("derivative f'(x)")
    for ax in axes.flat:
        ax.axhline(0.0, color="grey", linewidth=0.6)
        ax.axvline(0.0, color="grey", linewidth=0.6)
        ax.set_xlabel("x")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def _activation_pairs(activations) -> dict[str, tuple[Callable, Callable]]:
    if isinstance(activations, Mapping):
        pairs = dict(activations)
        for name, pair in pairs.items():
            if not (
                isinstance(pair, (tuple, list)) and len(pair) == 2 and all(map(callable, pair))
            ):
                raise ValueError(
                    "Expected `activations` to map each name to (function, derivative). "
                    f"Received: activations[{name!r}]={pair!r}"
                )
    else:
        if isinstance(activations, str) or not isinstance(activations, Sequence):
            raise ValueError(
                f"Expected `activations` to be a list of names or a dict. Received: activations={activations!r}"
            )
        from coursepkg.activations import ACTIVATIONS

        unknown = [name for name in activations if name not in ACTIVATIONS]
        if unknown:
            raise ValueError(
                f"Expected `activations` to name some of {sorted(ACTIVATIONS)}. Received: {unknown}"
            )
        pairs = {name: ACTIVATIONS[name] for name in activations}
    if not pairs:
        raise ValueError("Expected at least one activation. Received: activations=[]")
    return pairs
