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
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from coursepkg import validation

WRONG_COLOUR = "tab:red"
RIGHT_COLOUR = "black"
# Names of quantities for which higher is better (keras.callbacks.EarlyStopping's "auto" mode).
_HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1", "iou")

# Upper bounds, so that a typo (20,000 panels, a cell of a million inches) fails at once
# instead of hanging the kernel in ``tight_layout`` or exhausting its memory.
MAX_PANELS = 400  # Axes in one figure (images, filters, feature maps, learning curves)
MAX_FIGURE_INCHES = 200.0  # width or height of a figure (20,000 pixels at 100 dpi)
MAX_PANEL_INCHES = 20.0  # width or height of one panel
MAX_CLASSES = 1000  # classes of a confusion matrix or of class indices (ImageNet's 1,000)
MAX_ANNOTATED_CLASSES = 50  # a confusion matrix with its values written in: 2,500 numbers
MAX_PATHS = 50  # optimiser paths in one figure
MAX_ACTIVATIONS = 50  # activation functions in one figure
MAX_POINTS = 1_000_000  # points of one curve (epochs, steps of a path, inputs of an activation)
MAX_COORDINATE = 1e6  # largest magnitude of a plotting window's limits and of a marked point
MAX_TITLE_LENGTH = 1000


# --------------------------------------------------------------------------- checks


def _check_count(name: str, value, high: int = MAX_PANELS) -> int:
    return validation.check_int(name, value, low=1, high=high)


def _check_inches(name: str, value, high: float = MAX_PANEL_INCHES) -> float:
    return validation.check_float(name, value, 0.0, high, low_inclusive=False)


def _check_title(title) -> str | None:
    return validation.optional(validation.check_str, "title", title, max_length=MAX_TITLE_LENGTH)


def _check_pair(name: str, value) -> tuple[float, float]:
    """Two finite numbers within +-MAX_COORDINATE (a point, or limits before their order is checked)."""
    if not isinstance(value, (tuple, list, np.ndarray)) or len(value) != 2:
        raise TypeError(f"Expected `{name}` to be a pair of numbers. Received: {name}={value!r}")
    first, second = (
        validation.check_float(name, number, -MAX_COORDINATE, MAX_COORDINATE) for number in value
    )
    return first, second


def _check_limits(name: str, value) -> tuple[float, float] | None:
    """``None`` or ``(low, high)`` with ``low < high``."""
    if value is None:
        return None
    low, high = _check_pair(name, value)
    if not low < high:
        raise ValueError(
            f"Expected `{name}` to be (low, high) with low < high. Received: {name}={value!r}"
        )
    return low, high


def _check_panel_size(name: str, value) -> tuple[float, float]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"Expected `{name}` to be (width, height) in inches. Received: {name}={value!r}")
    width, height = (_check_inches(name, number) for number in value)
    return width, height


def _check_figure(width: float, height: float, panels: int, names: str) -> None:
    """Refuses, before any figure exists, a grid of too many panels or too many inches."""
    if panels > MAX_PANELS or max(width, height) > MAX_FIGURE_INCHES:
        raise ValueError(
            f"Expected {names} to give at most {MAX_PANELS} panels and a figure of at most "
            f"{MAX_FIGURE_INCHES:g} inches a side. Received: {panels} panels, a figure of "
            f"{width:g} x {height:g} inches"
        )


def _check_cmap(cmap):
    """A matplotlib colour map, or the name of a registered one."""
    import matplotlib
    from matplotlib.colors import Colormap

    if isinstance(cmap, Colormap):
        return cmap
    if not isinstance(cmap, str):
        raise TypeError(f"Expected `cmap` to be the name of a matplotlib colour map. Received: cmap={cmap!r}")
    if cmap not in matplotlib.colormaps:
        raise ValueError(
            "Expected `cmap` to be the name of a matplotlib colour map, e.g. 'viridis' or 'Blues'. "
            f"Received: cmap={cmap!r}"
        )
    return cmap


def _check_names(name: str, value, needed: int, high: int = MAX_CLASSES) -> tuple[str, ...] | None:
    """``None``, or at least ``needed`` (and at most ``high``) strings naming the class indices."""
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise TypeError(f"Expected `{name}` to be a list of strings. Received: {name}={value!r}")
    if not needed <= len(value) <= high:
        raise ValueError(
            f"Expected `{name}` to name every class index up to {needed - 1} "
            f"(at most {high} names). Received: {len(value)} names"
        )
    return tuple(value)


def _class_indices(values, argument: str, n: int | None = None) -> np.ndarray:
    """Class indices from indices ``(n,)``, scores or one-hot rows ``(n, classes)``,
    or sigmoid probabilities ``(n, 1)`` (above 0.5: class 1); each below ``MAX_CLASSES``."""
    array = validation.check_array(argument, values, ndim=(1, 2), dtype="number")
    if array.ndim == 2 and array.shape[1] > MAX_CLASSES:
        raise ValueError(
            f"Expected `{argument}` to have at most {MAX_CLASSES} scores per example. "
            f"Received: {argument} with shape {array.shape}"
        )
    if array.ndim == 2 and array.shape[1] == 1 and np.issubdtype(array.dtype, np.floating):
        array = (array[:, 0] > 0.5).astype(np.int64)
    elif array.ndim == 2:
        array = array.argmax(axis=1)
    if np.issubdtype(array.dtype, np.floating) and not np.all(array == np.round(array)):
        raise ValueError(
            f"Expected `{argument}` to be class indices (n,) or scores (n, classes). "
            f"Received: {argument} with shape {np.shape(values)} and fractional values"
        )
    if n is not None and len(array) != n:
        raise ValueError(
            f"Expected `{argument}` to have one entry per example ({n}). Received: {len(array)} entries"
        )
    if array.min() < 0 or array.max() >= MAX_CLASSES:
        raise ValueError(
            f"Expected `{argument}` to hold class indices in [0, {MAX_CLASSES}). "
            f"Received: {argument} with values in [{array.min()}, {array.max()}]"
        )
    return array.astype(np.int64)


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
            its ``.history`` dict (``{"loss": [...], "val_loss": [...], ...}``):
            string keys, each holding one real number per epoch (1 to 1,000,000
            epochs; NaN and infinity, from a diverged run, are drawn as gaps).
        metrics: quantities to plot, by their training name (``"loss"``,
            ``"accuracy"``, ``"learning_rate"``...); ``None`` plots all of them,
            loss first. At most 400 panels (and 200 inches) in all.
        monitor: the quantity whose best epoch is marked on every panel with a
            dashed line; ``None`` means ``"val_loss"`` if present, else ``"loss"``.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (``"max"`` for accuracy-like
            names, as ``keras.callbacks.EarlyStopping`` does, else ``"min"``).
        panel_size: (width, height) of one panel in inches, each in (0, 20].

    Returns:
        The Figure, one Axes per quantity, titled with its name; the x-axis is
        the epoch number as Keras prints it (from 1).

    Raises:
        TypeError: a history that is not a dict of lists of numbers, or arguments of the wrong type.
        ValueError: unknown metrics or monitor, lists of different lengths, or sizes out of range.

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
        names = _check_metrics(metrics, names)
    if monitor is not None:
        validation.check_str("monitor", monitor, max_length=MAX_TITLE_LENGTH)
        if monitor not in logs:
            raise ValueError(
                f"Expected `monitor` to be one of {sorted(logs)}. Received: monitor={monitor!r}"
            )
    else:
        monitor = "val_loss" if "val_loss" in logs else "loss" if "loss" in logs else None
    mode = validation.check_choice("mode", mode, ("auto", "min", "max"))
    panel_size = _check_panel_size("panel_size", panel_size)
    ncols = min(len(names), 3)
    nrows = math.ceil(len(names) / ncols)
    width, height = panel_size[0] * ncols, panel_size[1] * nrows
    _check_figure(width, height, len(names), "`history` (or `metrics`) and `panel_size`")

    best_epoch = None
    if monitor is not None:
        values = logs[monitor]
        if mode == "auto":
            mode = "max" if any(word in monitor for word in _HIGHER_IS_BETTER) else "min"
        if np.isfinite(values).any():
            finite = np.where(np.isfinite(values), values, np.nan)
            index = np.nanargmax(finite) if mode == "max" else np.nanargmin(finite)
            best_epoch = epochs[index]

    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
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


def _check_metrics(metrics, names: list[str]) -> list[str]:
    """The quantities asked for: a non-empty list of some of ``names``."""
    if not isinstance(metrics, (list, tuple)) or not all(isinstance(name, str) for name in metrics):
        raise TypeError(
            f"Expected `metrics` to be a list of some of {names}. Received: metrics={metrics!r}"
        )
    if not metrics or not all(name in names for name in metrics):
        raise ValueError(
            f"Expected `metrics` to be a list of some of {names}. Received: metrics={metrics!r}"
        )
    return list(metrics)


def _history_logs(history) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The logs dict and the epoch numbers (from 1, as Keras prints them)."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise TypeError(
            "Expected `history` to be a keras.callbacks.History or a dict of lists. "
            f"Received: history={history!r:.200}"
        )
    if not logs or len(logs) > 2 * MAX_PANELS:
        raise ValueError(
            f"Expected `history` to hold 1 to {2 * MAX_PANELS} quantities. "
            f"Received: history with {len(logs)} quantities"
        )
    arrays = {}
    for name, values in logs.items():
        if not isinstance(name, str):
            raise TypeError(f"Expected `history` to have string keys. Received: history key {name!r}")
        array = validation.check_array("history", values, ndim=(0, 1), finite=False)
        arrays[name] = array.astype(float).reshape(-1)  # (epochs,)
    lengths = {len(values) for values in arrays.values()}
    if len(lengths) != 1 or max(lengths) > MAX_POINTS:
        raise ValueError(
            f"Expected every list in `history` to hold one value per epoch (at most {MAX_POINTS:,}). "
            f"Received lengths: { {name: len(values) for name, values in arrays.items()} }"
        )
    (length,) = lengths
    epoch = getattr(history, "epoch", None)  # a History knows its epochs (initial_epoch may be > 0)
    epochs = (
        np.asarray(epoch) + 1
        if epoch is not None and len(epoch) == length
        else np.arange(1, length + 1)
    )
    return arrays, epochs


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
        images: ``(n, height, width)``, ``(n, height, width, 1)``,
            ``(n, height, width, 3)`` or ``(n, height, width, 4)``; uint8
            (0..255) or float, finite; 1 to 400 images.
        labels: ``None`` or the true classes, ``(n,)`` indices or one-hot rows
            (class indices below 1,000).
        predictions: ``None`` or the predicted classes, ``(n,)`` indices or
            ``(n, classes)`` scores (the arg-max is taken). When given, each
            title shows the prediction, and wrong ones are red with the true
            label in brackets (``labels`` is then required).
        class_names: names (strings) of the class indices (default: the indices).
        ncols: images per row, 1 to 400.
        cell_size: width and height of one image, in inches, in (0, 20]; the
            figure may be at most 200 inches a side.
        title: figure title, at most 1,000 characters.

    Returns:
        The Figure, one Axes per image (axis ticks off).

    Raises:
        TypeError: arguments of the wrong type (strings, complex or boolean arrays...).
        ValueError: shapes that do not fit, values out of range, or too large a figure.

    Example:
        >>> fig = coursepkg.plot_images(x_test[:16], y_test[:16],
        ...                             model.predict(x_test[:16]), class_names)
    """
    import matplotlib.pyplot as plt

    images = _image_grid(images)
    n = len(images)
    true = None if labels is None else _class_indices(labels, "labels", n)
    predicted = None if predictions is None else _class_indices(predictions, "predictions", n)
    if predicted is not None and true is None:
        raise ValueError(
            "Expected `labels` with `predictions`, to tell right from wrong. Received: labels=None"
        )
    largest = max([-1] + [int(array.max()) for array in (true, predicted) if array is not None])
    class_names = _check_names("class_names", class_names, largest + 1)
    ncols = min(_check_count("ncols", ncols), n)
    cell_size = _check_inches("cell_size", cell_size)
    title = _check_title(title)
    nrows = math.ceil(n / ncols)
    width, height = cell_size * ncols, cell_size * nrows + 0.3
    _check_figure(width, height, n, "`images` and `cell_size`")

    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
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


def _image_grid(images) -> np.ndarray:
    """Finite images ``(n, height, width)`` or ``(n, height, width, 3 or 4)``, 1 <= n <= MAX_PANELS."""
    images = validation.check_array("images", images, ndim=(3, 4), dtype="number")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]  # (n, height, width)
    if images.ndim == 4 and images.shape[-1] not in (3, 4):
        raise ValueError(
            "Expected `images` to be a non-empty array (n, height, width), (n, height, width, 1) "
            f"or (n, height, width, 3). Received: images with shape {images.shape}"
        )
    if len(images) > MAX_PANELS:
        raise ValueError(
            f"Expected `images` to hold at most {MAX_PANELS} images, one panel each. "
            f"Received: images with shape {images.shape}"
        )
    return images


def _check_annotate(annotate, num_classes: int) -> bool | str:
    """``"auto"``, ``True`` (refused above MAX_ANNOTATED_CLASSES classes) or ``False``."""
    if isinstance(annotate, (bool, np.bool_)):
        annotate = bool(annotate)
    elif not (isinstance(annotate, str) and annotate == "auto"):
        error = ValueError if isinstance(annotate, str) else TypeError
        raise error(f"Expected `annotate` to be 'auto', True or False. Received: annotate={annotate!r}")
    if annotate is True and num_classes > MAX_ANNOTATED_CLASSES:
        raise ValueError(
            f"Expected `annotate=True` with at most {MAX_ANNOTATED_CLASSES} classes (one number per "
            f"cell). Received: annotate=True for {num_classes} classes"
        )
    return annotate


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
        y_true: true classes, ``(n,)`` indices or one-hot rows (indices below 1,000).
        y_pred: predicted classes, ``(n,)`` indices or ``(n, classes)``
            scores (``model.predict`` output; the arg-max is taken), or
            ``(n, 1)`` sigmoid probabilities (above 0.5: class 1).
        class_names: names (strings) of the classes; also fixes their number
            (default: ``max(label) + 1``), at most 1,000.
        normalize: ``None`` (counts), ``"true"`` (each row sums to 1: the
            recall of each class is on the diagonal), ``"pred"`` (each column
            sums to 1: precision), or ``"all"``, as scikit-learn.
        annotate: write the value in each cell: ``True`` (up to 50 classes),
            ``False``, or ``"auto"``, which does so up to 20 classes.
        cmap: name of a matplotlib colour map (or a ``Colormap``).
        size: figure width and height in inches, in (0, 100] (default grows
            with the classes).

    Returns:
        The Figure, with one Axes holding the matrix as an image (and a colour
        bar Axes). ``fig.axes[0].images[0].get_array()`` is the matrix.

    Raises:
        TypeError: arguments of the wrong type (strings, complex or boolean arrays...).
        ValueError: labels of different lengths or out of range, unknown options.

    Example:
        >>> scores = model.predict(x_test)
        >>> fig = coursepkg.plot_confusion_matrix(y_test, scores, class_names, normalize="true")
    """
    true = _class_indices(y_true, "y_true")
    predicted = _class_indices(y_pred, "y_pred", len(true))
    largest = int(max(true.max(), predicted.max()))
    class_names = _check_names("class_names", class_names, largest + 1)
    num_classes = len(class_names) if class_names is not None else largest + 1
    normalize = validation.optional(validation.check_choice, "normalize", normalize, ("true", "pred", "all"))
    annotate = _check_annotate(annotate, num_classes)
    cmap = _check_cmap(cmap)
    size = validation.optional(_check_inches, "size", size, MAX_FIGURE_INCHES / 2)
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

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
        function: ``f(x, y)`` evaluated on 2-D grid arrays, returning real
            numbers, or a :class:`coursepkg.optim.Surface` (its window, minimum
            and name are then the defaults of ``xlim``, ``ylim``, ``minimum`` and ``title``).
        paths: optimiser name -> the points it visited, ``(steps + 1, 2)``
            (1 to 1,000,000 points; NaN and infinity, from a diverged run, are
            allowed), e.g. from :func:`coursepkg.optim.run_optimizer`; 1 to 50 paths.
        xlim, ylim: plotting window ``(low, high)``, finite, within +-1,000,000
            (default: the surface's, or around the paths).
        levels: number of contour levels, 1 to 200.
        small_multiples: one panel per optimiser on the same contours, instead
            of all paths in one panel.
        minimum: a point ``(x, y)`` to mark with a star (the minimiser), within +-1,000,000.
        title: figure title, at most 1,000 characters.
        resolution: grid points per axis for the contours, 2 to 2,000.

    Returns:
        The Figure: one Axes (``small_multiples=False``) holding one labelled
        line per optimiser, or one Axes per optimiser.

    Raises:
        TypeError: arguments of the wrong type.
        ValueError: paths of the wrong shape, an empty window, sizes out of range,
            or a function without finite values in the window.

    Example:
        >>> surface = coursepkg.optim.rosenbrock()
        >>> paths = {name: coursepkg.optim.run_optimizer(rule, surface.gradient, surface.start, 300)
        ...          for name, rule in rules.items()}
        >>> fig = coursepkg.plot_optimizer_paths(surface, paths)
    """
    import matplotlib.pyplot as plt

    xlim, ylim = _check_limits("xlim", xlim), _check_limits("ylim", ylim)
    minimum = None if minimum is None else _check_pair("minimum", minimum)
    title = _check_title(title)
    evaluate, xlim, ylim, minimum, title = _surface_parts(function, xlim, ylim, minimum, title)
    arrays = _check_paths(paths)
    levels = _check_count("levels", levels, high=200)
    small_multiples = validation.check_bool("small_multiples", small_multiples)
    resolution = validation.check_int("resolution", resolution, low=2, high=2000)
    if xlim is None or ylim is None:
        xlim, ylim = _window_around(arrays, xlim, ylim)

    grid_x, grid_y = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    values = _grid_values(evaluate, grid_x, grid_y)  # (resolution, resolution)
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
        raise TypeError(
            "Expected `function` to be f(x, y) or a coursepkg.optim.Surface. "
            f"Received: function={function!r}"
        )
    return function, xlim, ylim, minimum, title


def _check_paths(paths) -> dict[str, np.ndarray]:
    """1 to MAX_PATHS named arrays ``(steps, 2)`` of real numbers (non-finite points allowed)."""
    if not isinstance(paths, Mapping):
        raise TypeError(
            f"Expected `paths` to be a dict of name -> (steps, 2) array. Received: paths={paths!r:.200}"
        )
    if not 1 <= len(paths) <= MAX_PATHS:
        raise ValueError(
            f"Expected `paths` to hold 1 to {MAX_PATHS} paths. Received: {len(paths)} paths"
        )
    arrays = {}
    for name, path in paths.items():
        array = validation.check_array("paths", path, ndim=2, finite=False)
        if array.shape[1] != 2 or len(array) > MAX_POINTS:
            raise ValueError(
                f"Expected `paths` to hold arrays of shape (steps, 2), at most {MAX_POINTS:,} steps. "
                f"Received: paths[{name!r}] with shape {array.shape}"
            )
        arrays[str(name)] = array.astype(float)
    return arrays


def _window_around(arrays: dict[str, np.ndarray], xlim, ylim):
    """The missing limits: the finite points of the paths, with a margin of 15% on each side."""
    points = np.concatenate([array[np.isfinite(array).all(axis=1)] for array in arrays.values()])
    if len(points) == 0:
        raise ValueError(
            "Expected `paths` to hold finite points, or `xlim` and `ylim` to be given. "
            "Received: paths without a finite point"
        )
    low, high = points.min(axis=0), points.max(axis=0)
    margin = 0.15 * np.maximum(high - low, 1e-3)
    xlim = xlim or (low[0] - margin[0], high[0] + margin[0])
    ylim = ylim or (low[1] - margin[1], high[1] + margin[1])
    return xlim, ylim


def _grid_values(evaluate, grid_x: np.ndarray, grid_y: np.ndarray) -> np.ndarray:
    """``evaluate(grid_x, grid_y)`` as float, one real value per grid point."""
    values = np.asarray(evaluate(grid_x, grid_y))
    if values.dtype == np.bool_ or not (
        np.issubdtype(values.dtype, np.integer) or np.issubdtype(values.dtype, np.floating)
    ):
        raise TypeError(
            f"Expected `function` to return real numbers. Received: values of dtype {values.dtype}"
        )
    if values.shape != grid_x.shape:
        raise ValueError(
            "Expected `function` to return one value per grid point. "
            f"Received: shape {values.shape} for a grid of {grid_x.shape}"
        )
    return values.astype(float)


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
            a dict of name -> ``(function, derivative)`` NumPy functions; 1 to 50 of them.
        x: the inputs to plot at, 2 to 1,000,000 finite numbers (default: 401
            points on [-5, 5]).
        layout: ``"overlay"``: two panels, all functions on the left and all
            derivatives on the right; ``"grid"``: one row per activation.

    Returns:
        The Figure: 2 Axes (``"overlay"``, one line per activation in each)
        or 2 Axes per activation (``"grid"``).

    Raises:
        TypeError: arguments of the wrong type.
        ValueError: unknown activation names, too few or too many points or activations.

    Example:
        >>> fig = coursepkg.plot_activations(["sigmoid", "tanh", "relu", "gelu"])
    """
    import matplotlib.pyplot as plt

    pairs = _activation_pairs(activations)
    layout = validation.check_choice("layout", layout, ("overlay", "grid"))
    x = np.linspace(-5.0, 5.0, 401) if x is None else validation.check_array("x", x, ndim=1)
    if not 2 <= len(x) <= MAX_POINTS:
        raise ValueError(
            f"Expected `x` to be a 1-D array of 2 to {MAX_POINTS:,} finite numbers. "
            f"Received: x with shape {x.shape}"
        )
    x = x.astype(float)

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
    """1 to MAX_ACTIVATIONS named ``(function, derivative)`` pairs, from Keras names or a dict."""
    if isinstance(activations, Mapping):
        pairs = {str(name): pair for name, pair in activations.items()}
        for name, pair in pairs.items():
            if not (
                isinstance(pair, (tuple, list)) and len(pair) == 2 and all(map(callable, pair))
            ):
                raise TypeError(
                    "Expected `activations` to map each name to (function, derivative). "
                    f"Received: activations[{name!r}]={pair!r}"
                )
    else:
        if not isinstance(activations, (list, tuple)) or not all(
            isinstance(name, str) for name in activations
        ):
            raise TypeError(
                f"Expected `activations` to be a list of names or a dict. Received: activations={activations!r}"
            )
        from coursepkg.activations import ACTIVATIONS

        unknown = [name for name in activations if name not in ACTIVATIONS]
        if unknown:
            raise ValueError(
                f"Expected `activations` to name some of {sorted(ACTIVATIONS)}. Received: {unknown}"
            )
        pairs = {name: ACTIVATIONS[name] for name in activations}
    if not 1 <= len(pairs) <= MAX_ACTIVATIONS:
        raise ValueError(
            f"Expected 1 to {MAX_ACTIVATIONS} activations. Received: activations with {len(pairs)} entries"
        )
    return pairs
