"""coursepkg.plotting: each helper returns a Figure holding what it promises.

Figures are inspected through matplotlib's object model (axes, lines, images,
texts), the confusion matrix is compared with scikit-learn's, and bad input
must raise a TypeError (wrong type) or ValueError (out of range) that names
the argument, before any figure is made. Figures are closed after each
test; nothing is shown (Agg backend).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.metrics import confusion_matrix  # noqa: E402

from coursepkg import activations, optim, plotting  # noqa: E402

RED = matplotlib.colors.to_rgba(plotting.WRONG_COLOUR)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def keras_like_history():
    return {
        "loss": [1.2, 0.7, 0.5, 0.45, 0.44],
        "accuracy": [0.6, 0.75, 0.82, 0.85, 0.86],
        "val_loss": [1.1, 0.8, 0.6, 0.65, 0.7],
        "val_accuracy": [0.62, 0.7, 0.8, 0.79, 0.78],
    }


def line_labels(ax):
    return [line.get_label() for line in ax.get_lines()]


# --------------------------------------------------------------------------- plot_history


def test_plot_history_one_panel_per_quantity_with_train_validation_and_best_epoch():
    fig = plotting.plot_history(keras_like_history())
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    for ax, name in zip(fig.axes, ["loss", "accuracy"], strict=True):
        assert ax.get_xlabel() == "epoch"
        labels = line_labels(ax)
        assert labels[:2] == ["training", "validation"]
        assert labels[2] == "best epoch 3 (min val_loss)"  # val_loss is lowest at the third epoch
        training_line, validation_line, best_line = ax.get_lines()
        np.testing.assert_array_equal(training_line.get_xdata(), [1, 2, 3, 4, 5])
        np.testing.assert_array_equal(training_line.get_ydata(), keras_like_history()[name])
        np.testing.assert_array_equal(
            validation_line.get_ydata(), keras_like_history()[f"val_{name}"]
        )
        assert list(best_line.get_xdata()) == [3, 3]


def test_plot_history_accepts_a_keras_history_and_maximises_accuracy():
    import keras

    history = keras.callbacks.History()
    history.history = keras_like_history()
    history.epoch = [10, 11, 12, 13, 14]  # as after fit(..., initial_epoch=10)
    fig = plotting.plot_history(history, metrics=["accuracy"], monitor="val_accuracy")
    (ax,) = fig.axes
    training_line, _, best_line = ax.get_lines()
    np.testing.assert_array_equal(training_line.get_xdata(), [11, 12, 13, 14, 15])
    assert list(best_line.get_xdata()) == [13, 13] and "max val_accuracy" in best_line.get_label()


def test_plot_history_without_validation_marks_the_lowest_training_loss():
    fig = plotting.plot_history({"loss": [3.0, 1.0, 2.0], "learning_rate": [0.1, 0.1, 0.01]})
    assert [ax.get_title() for ax in fig.axes] == ["loss", "learning_rate"]
    assert line_labels(fig.axes[0]) == ["training", "best epoch 2 (min loss)"]
    assert fig.axes[1].get_yscale() == "log"


@pytest.mark.parametrize(
    ("history", "arguments", "error", "argument_name"),
    [
        ({}, {}, ValueError, "history"),
        ([1.0, 0.5], {}, TypeError, "history"),
        ({"loss": [1.0, 0.5], "val_loss": [1.0]}, {}, ValueError, "history"),
        (keras_like_history(), {"metrics": ["mae"]}, ValueError, "metrics"),
        (keras_like_history(), {"metrics": "loss"}, TypeError, "metrics"),
        (keras_like_history(), {"monitor": "val_mae"}, ValueError, "monitor"),
        (keras_like_history(), {"mode": "lowest"}, ValueError, "mode"),
    ],
)
def test_plot_history_rejects_bad_input(history, arguments, error, argument_name):
    with pytest.raises(error, match=argument_name):
        plotting.plot_history(history, **arguments)


# --------------------------------------------------------------------------- plot_images


def test_plot_images_grey_uint8_grid_with_labels():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(10, 28, 28), dtype=np.uint8)
    names = [f"class {index}" for index in range(10)]
    fig = plotting.plot_images(images, labels=np.arange(10), class_names=names, ncols=4)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 12  # 3 rows of 4; the last two cells are empty
    shown = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(shown) == 10
    np.testing.assert_array_equal(shown[3].get_array(), images[3])
    assert shown[3].get_clim() == (0, 255) and shown[3].get_cmap().name == "gray"
    assert [ax.get_title() for ax in fig.axes[:10]] == names


def test_plot_images_marks_wrong_predictions_in_red():
    rng = np.random.default_rng(1)
    images = rng.random((6, 8, 8, 3)).astype(np.float32)  # RGB floats in [0, 1]
    labels = np.array([0, 1, 2, 0, 1, 2])
    scores = np.eye(3)[[0, 1, 1, 0, 2, 2]]  # predictions as one-hot scores: 2 wrong
    fig = plotting.plot_images(images, labels, scores, class_names=["cat", "dog", "fox"])
    titles = [ax.title for ax in fig.axes]
    wrong = [
        index
        for index, title in enumerate(titles)
        if matplotlib.colors.to_rgba(title.get_color()) == RED
    ]
    assert wrong == [2, 4]
    assert titles[2].get_text() == "dog\n(true: fox)" and titles[0].get_text() == "cat"
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), images[0])


def test_plot_images_channel_axis_and_standardised_floats():
    # Standardised values outside [0, 1]: each image is stretched to [0, 1].
    images = np.linspace(-2.0, 3.0, 2 * 5 * 5).reshape(2, 5, 5, 1)
    fig = plotting.plot_images(images)
    shown = fig.axes[0].images[0].get_array()
    assert shown.shape == (5, 5)
    assert shown.min() == pytest.approx(0.0) and shown.max() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("arguments", "argument_name"),
    [
        ({"images": np.zeros((4, 5))}, "images"),
        ({"images": np.zeros((0, 5, 5))}, "images"),
        ({"images": np.zeros((2, 5, 5, 2))}, "images"),
        ({"labels": [0, 1, 2]}, "labels"),
        ({"labels": [0, 1], "predictions": [1]}, "predictions"),
        ({"predictions": [0, 1]}, "labels"),
        ({"labels": [0, 3], "class_names": ["a", "b"]}, "class_names"),
        ({"ncols": 0}, "ncols"),
    ],
)
def test_plot_images_rejects_bad_input(arguments, argument_name):
    call = {"images": np.zeros((2, 5, 5), np.uint8), **arguments}
    with pytest.raises(ValueError, match=argument_name):
        plotting.plot_images(**call)


# --------------------------------------------------------------------------- plot_confusion_matrix


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_plot_confusion_matrix_equals_sklearn(normalize):
    rng = np.random.default_rng(2)
    y_true = rng.integers(0, 4, size=200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, 5, size=200))
    names = ["a", "b", "c", "d", "e"]  # class 4 is predicted but never true
    fig = plotting.plot_confusion_matrix(y_true, y_pred, class_names=names, normalize=normalize)
    ax = fig.axes[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = confusion_matrix(y_true, y_pred, labels=range(5), normalize=normalize)
    np.testing.assert_allclose(ax.images[0].get_array(), expected)
    assert [label.get_text() for label in ax.get_xticklabels()] == names
    assert [label.get_text() for label in ax.get_yticklabels()] == names
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    texts = [text.get_text() for text in ax.texts]
    assert len(texts) == 25
    assert texts[6] == (f"{expected[1, 1]:.2f}" if normalize else str(expected[1, 1]))


def test_plot_confusion_matrix_takes_scores_and_infers_the_classes():
    y_true = np.array([0, 1, 2, 2])
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.6, 0.3], [0.0, 0.1, 0.9]])
    fig = plotting.plot_confusion_matrix(y_true, scores)
    np.testing.assert_array_equal(
        fig.axes[0].images[0].get_array(), confusion_matrix(y_true, scores.argmax(1))
    )
    assert [label.get_text() for label in fig.axes[0].get_xticklabels()] == ["0", "1", "2"]


def test_plot_confusion_matrix_thresholds_sigmoid_probabilities():
    y_true = np.array([0, 0, 1, 1, 1])
    probabilities = np.array([[0.2], [0.7], [0.9], [0.4], [0.51]])  # a binary model's output
    fig = plotting.plot_confusion_matrix(y_true, probabilities, class_names=["no", "yes"])
    expected = confusion_matrix(y_true, (probabilities[:, 0] > 0.5).astype(int))
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), expected)


@pytest.mark.parametrize(
    ("arguments", "argument_name"),
    [
        ({"y_pred": [0, 1]}, "y_pred"),
        ({"y_true": [[[0]]]}, "y_true"),
        ({"y_true": [0.5, 1, 0]}, "y_true"),
        ({"y_true": [-1, 1, 0]}, "y_true"),
        ({"normalize": "rows"}, "normalize"),
        ({"class_names": ["a"]}, "class_names"),
        ({"annotate": "yes"}, "annotate"),
    ],
)
def test_plot_confusion_matrix_rejects_bad_input(arguments, argument_name):
    call = {"y_true": [0, 1, 1], "y_pred": [0, 1, 0], **arguments}
    with pytest.raises(ValueError, match=argument_name):
        plotting.plot_confusion_matrix(**call)


# --------------------------------------------------------------------------- plot_optimizer_paths


def optimiser_paths(surface, steps=30):
    rules = {
        "SGD": optim.NumpySGD(learning_rate=0.02),
        "momentum": optim.NumpySGD(learning_rate=0.02, momentum=0.9),
        "Adam": optim.NumpyAdam(learning_rate=0.1),
    }
    return {
        name: optim.run_optimizer(rule, surface.gradient, surface.start, steps)
        for name, rule in rules.items()
    }


def test_plot_optimizer_paths_one_panel_with_a_line_per_optimiser():
    surface = optim.quadratic()
    paths = optimiser_paths(surface)
    fig = plotting.plot_optimizer_paths(surface, paths)
    (ax,) = fig.axes
    assert len(ax.collections) >= 1  # the contour lines
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["minimum", "SGD (30 steps)", "momentum (30 steps)", "Adam (30 steps)"]
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_array_equal(lines["Adam (30 steps)"].get_xydata(), paths["Adam"])
    assert ax.get_xlim() == surface.xlim and ax.get_ylim() == surface.ylim
    assert fig.texts[0].get_text() == surface.name  # the suptitle


def test_plot_optimizer_paths_small_multiples_and_a_plain_function():
    paths = optimiser_paths(optim.quadratic())

    def bowl(x, y):
        return 0.5 * (x**2 + 20 * y**2)

    fig = plotting.plot_optimizer_paths(bowl, paths, small_multiples=True)
    assert [ax.get_title() for ax in fig.axes] == ["SGD", "momentum", "Adam"]
    for ax, path in zip(fig.axes, paths.values(), strict=True):
        assert len(ax.collections) >= 1
        (line,) = [line for line in ax.get_lines() if "steps" in line.get_label()]
        np.testing.assert_array_equal(line.get_xydata(), path)
        xlim, ylim = ax.get_xlim(), ax.get_ylim()  # the window encloses every path
        points = np.concatenate(list(paths.values()))
        assert xlim[0] < points[:, 0].min() and points[:, 0].max() < xlim[1]
        assert ylim[0] < points[:, 1].min() and points[:, 1].max() < ylim[1]


@pytest.mark.parametrize(
    ("arguments", "error", "argument_name"),
    [
        ({"function": "rosenbrock"}, TypeError, "function"),
        ({"function": lambda x, y: 1.0}, ValueError, "function"),
        ({"paths": {}}, ValueError, "paths"),
        ({"paths": {"SGD": np.zeros((5, 3))}}, ValueError, "paths"),
        ({"xlim": (1.0, -1.0)}, ValueError, "xlim"),
        ({"levels": 0}, ValueError, "levels"),
    ],
)
def test_plot_optimizer_paths_rejects_bad_input(arguments, error, argument_name):
    call = {
        "function": lambda x, y: x**2 + y**2,
        "paths": {"SGD": np.array([[1.0, 1.0], [0.5, 0.5]])},
        "xlim": (-2.0, 2.0),
        "ylim": (-2.0, 2.0),
        **arguments,
    }
    with pytest.raises(error, match=argument_name):
        plotting.plot_optimizer_paths(**call)


# --------------------------------------------------------------------------- plot_activations


def test_plot_activations_overlay_draws_each_function_and_derivative():
    names = ["sigmoid", "tanh", "relu", "gelu"]
    fig = plotting.plot_activations(names)
    left, right = fig.axes
    assert left.get_title() == "activation f(x)" and right.get_title() == "derivative f'(x)"
    curves = [line for line in left.get_lines() if line.get_label() in names]
    slopes = [line for line in right.get_lines() if line.get_label().endswith("'")]
    assert [line.get_label() for line in curves] == names
    assert [line.get_label() for line in slopes] == [f"{name}'" for name in names]
    x = curves[0].get_xdata()
    np.testing.assert_allclose(curves[0].get_ydata(), activations.sigmoid(x))
    np.testing.assert_allclose(slopes[0].get_ydata(), activations.sigmoid_derivative(x))
    # The sigmoid's steepest slope is 1/4, at 0.
    assert max(slopes[0].get_ydata()) == pytest.approx(0.25, abs=1e-4)


def test_plot_activations_grid_with_custom_functions():
    def square(x):
        return x**2

    def double(x):
        return 2 * x

    fig = plotting.plot_activations(
        {"square": (square, double), "relu": (activations.relu, activations.relu_derivative)},
        x=np.linspace(-1, 1, 11),
        layout="grid",
    )
    assert len(fig.axes) == 4
    assert [ax.get_title() for ax in fig.axes] == [
        "square",
        "derivative of square",
        "relu",
        "derivative of relu",
    ]
    derivative = [line for line in fig.axes[1].get_lines() if line.get_label() == "square'"][0]
    np.testing.assert_allclose(derivative.get_ydata(), 2 * np.linspace(-1, 1, 11))


@pytest.mark.parametrize(
    ("arguments", "error", "argument_name"),
    [
        ({"activations": ["sigmoid", "swish_ish"]}, ValueError, "activations"),
        ({"activations": "relu"}, TypeError, "activations"),
        ({"activations": []}, ValueError, "activation"),
        ({"activations": {"f": np.sin}}, TypeError, "activations"),
        ({"x": [0.0]}, ValueError, "`x`"),
        ({"layout": "rows"}, ValueError, "layout"),
    ],
)
def test_plot_activations_rejects_bad_input(arguments, error, argument_name):
    with pytest.raises(error, match=argument_name):
        plotting.plot_activations(**arguments)


def test_no_helper_shows_a_figure(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("plt.show() called by a helper")

    monkeypatch.setattr(plt, "show", refuse)
    open_before = set(plt.get_fignums())
    plotting.plot_history(keras_like_history())
    plotting.plot_images(np.zeros((2, 4, 4), np.uint8))
    plotting.plot_confusion_matrix([0, 1], [1, 1])
    plotting.plot_optimizer_paths(optim.saddle(), optimiser_paths(optim.saddle(), steps=5))
    plotting.plot_activations()
    assert len(set(plt.get_fignums()) - open_before) == 5  # all five still open for the caller


# --------------------------------------------------------------------------- issue 16: bad arguments


def refused_without_a_figure(error, words, helper, arguments):
    """``helper(**arguments)`` raises ``error`` naming ``words``, before any figure exists."""
    open_before = set(plt.get_fignums())
    with pytest.raises(error, match=words):
        helper(**arguments)
    assert set(plt.get_fignums()) == open_before


@pytest.mark.parametrize(
    ("function", "arguments", "error", "words"),
    [
        # Grids of thousands of panels used to hang tight_layout or exhaust memory.
        (plotting.plot_images, {"images": np.zeros((20_000, 2, 2))}, ValueError, "`images`"),
        (plotting.plot_images, {"images": np.zeros((4, 2, 2)), "ncols": 10**6}, ValueError, "`ncols`"),
        (plotting.plot_history, {"history": {f"m{i}": [1.0] for i in range(500)}}, ValueError, "`history`"),
        (plotting.plot_confusion_matrix, {"y_true": [0, 1], "y_pred": [1, 20_000]}, ValueError, "`y_pred`"),
        (plotting.plot_confusion_matrix, {"y_true": list(range(100)), "y_pred": list(range(100)),
                                          "annotate": True}, ValueError, "`annotate=True`"),
        (plotting.plot_optimizer_paths, {"function": lambda x, y: x + y,
                                         "paths": {str(i): np.zeros((2, 2)) for i in range(60)}},
         ValueError, "`paths`"),
        # NaN and infinite sizes.
        (plotting.plot_images, {"images": np.zeros((4, 2, 2)), "cell_size": float("nan")}, ValueError, "`cell_size`"),
        (plotting.plot_history, {"history": {"loss": [1.0]}, "panel_size": (float("inf"), 3.0)},
         ValueError, "`panel_size`"),
        (plotting.plot_confusion_matrix, {"y_true": [0, 1], "y_pred": [0, 1], "size": float("nan")},
         ValueError, "`size`"),
        (plotting.plot_optimizer_paths, {"function": lambda x, y: x + y, "paths": {"a": np.zeros((2, 2))},
                                         "xlim": (float("-inf"), 1.0)}, ValueError, "`xlim`"),
        # String flags are refused, not read as true.
        (plotting.plot_optimizer_paths, {"function": lambda x, y: x + y, "paths": {"a": np.zeros((2, 2))},
                                         "small_multiples": "no"}, TypeError, "`small_multiples`"),
        (plotting.plot_confusion_matrix, {"y_true": [0, 1], "y_pred": [0, 1], "annotate": "no"},
         ValueError, "`annotate`"),
        (plotting.plot_confusion_matrix, {"y_true": [0, 1], "y_pred": [0, 1], "annotate": 1},
         TypeError, "`annotate`"),
        # Strings, complex and empty arrays.
        (plotting.plot_images, {"images": np.zeros((4, 2, 2)) + 1j}, TypeError, "`images`"),
        (plotting.plot_images, {"images": np.zeros((2, 2, 2)), "labels": ["a", "b"]}, TypeError, "`labels`"),
        (plotting.plot_images, {"images": np.full((2, 2, 2), np.nan)}, ValueError, "`images`"),
        (plotting.plot_confusion_matrix, {"y_true": "0110", "y_pred": [0, 1, 1, 0]}, TypeError, "`y_true`"),
        (plotting.plot_confusion_matrix, {"y_true": [0, 1], "y_pred": [0, 1], "class_names": [3, 4]},
         TypeError, "`class_names`"),
        (plotting.plot_optimizer_paths, {"function": lambda x, y: x + y, "paths": {"a": np.zeros((2, 2)) + 1j}},
         TypeError, "`paths`"),
        (plotting.plot_optimizer_paths, {"function": lambda x, y: (x + y).astype(complex),
                                         "paths": {"a": np.ones((2, 2))}}, TypeError, "`function`"),
        (plotting.plot_activations, {"x": np.linspace(-1, 1, 5) + 1j}, TypeError, "`x`"),
        (plotting.plot_activations, {"x": []}, ValueError, "`x`"),
        (plotting.plot_confusion_matrix, {"y_true": [0, 1], "y_pred": [0, 1], "cmap": "no_such_map"},
         ValueError, "`cmap`"),
    ],
)  # fmt: skip
def test_bad_arguments_are_refused_before_a_figure_is_made(function, arguments, error, words):
    refused_without_a_figure(error, words, function, arguments)


def test_whole_float_labels_and_numpy_class_names_are_still_accepted():
    figure = plotting.plot_images(
        np.zeros((2, 4, 4), np.uint8), np.array([0.0, 1.0]), class_names=np.array(["zero", "one"])
    )
    assert [axis.get_title() for axis in figure.axes] == ["zero", "one"]
