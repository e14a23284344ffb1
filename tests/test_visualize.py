"""Feature maps against Keras and NumPy, gradient ascent that really ascends, figures, bad input."""

from __future__ import annotations

import keras
import matplotlib
import numpy as np
import pytest

from coursepkg import visualize
from coursepkg.convolution import correlate2d

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def small_model(input_shape=(16, 16, 3), activation="relu"):
    """A VGG-style model with named layers: conv, conv, pool, conv, pool, dense."""
    keras.utils.set_random_seed(7)
    inputs = keras.Input(shape=input_shape, name="image")
    x = keras.layers.Conv2D(4, 3, padding="same", activation=activation, name="block1_conv1")(
        inputs
    )
    x = keras.layers.Conv2D(5, 3, padding="same", activation=activation, name="block1_conv2")(x)
    x = keras.layers.MaxPooling2D(2, name="block1_pool")(x)
    x = keras.layers.Conv2D(6, 3, padding="valid", activation=activation, name="block2_conv1")(x)
    x = keras.layers.MaxPooling2D(2, name="block2_pool")(x)
    if None in input_shape:  # any image size: global pooling instead of flattening
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    else:
        x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(3, name="predictions")(x)
    return keras.Model(inputs, outputs, name="tiny_vgg")


def images(count=2, shape=(16, 16, 3), seed=0):
    return np.random.default_rng(seed).uniform(0.0, 1.0, size=(count, *shape)).astype("float32")


# --------------------------------------------------------------------------- feature_maps


def test_feature_maps_have_the_layer_output_shapes():
    model = small_model()
    names = ["block1_conv1", "block1_conv2", "block1_pool", "block2_conv1", "block2_pool"]
    maps = visualize.feature_maps(model, images(3), names)
    assert list(maps) == names
    for name in names:
        expected = (3, *model.get_layer(name).output.shape[1:])
        assert maps[name].shape == expected, name
        assert maps[name].dtype == np.float32


def test_first_layer_maps_match_a_numpy_cross_correlation():
    model = small_model()
    batch = images(1)
    maps = visualize.feature_maps(model, batch, ["block1_conv1"])["block1_conv1"]
    kernel, bias = model.get_layer("block1_conv1").get_weights()  # (3, 3, 3, 4), (4,)
    for channel in range(kernel.shape[-1]):
        response = sum(
            correlate2d(batch[0, :, :, colour], kernel[:, :, colour, channel], padding="same")
            for colour in range(3)
        )
        expected = np.maximum(response + bias[channel], 0.0)  # ReLU
        np.testing.assert_allclose(maps[0, :, :, channel], expected, rtol=1e-4, atol=1e-5)


def test_feature_maps_match_a_keras_sub_model_and_accept_one_image():
    model = small_model()
    image = images(1)[0]  # (height, width, channels): no batch axis
    maps = visualize.feature_maps(model, image, ["block2_conv1"])
    reference = keras.Model(model.input, model.get_layer("block2_conv1").output)
    expected = keras.ops.convert_to_numpy(reference(image[np.newaxis]))
    assert maps["block2_conv1"].shape == expected.shape  # a batch of one
    np.testing.assert_allclose(maps["block2_conv1"], expected, rtol=1e-5, atol=1e-6)


def test_feature_maps_accept_a_sequential_model():
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(2, 3, name="conv"),
            keras.layers.MaxPooling2D(2, name="pool"),
        ]
    )
    maps = visualize.feature_maps(model, images(2, (8, 8, 1)), ["conv", "pool"])
    assert maps["conv"].shape == (2, 6, 6, 2) and maps["pool"].shape == (2, 3, 3, 2)


def test_an_unknown_layer_is_named_and_the_valid_ones_listed():
    model = small_model()
    with pytest.raises(ValueError) as error:
        visualize.feature_maps(model, images(1), ["block1_conv1", "block9_conv1"])
    message = str(error.value)
    assert "'block9_conv1'" in message
    for name in ("block1_conv1", "block1_pool", "block2_conv1", "predictions"):
        assert name in message


def test_a_layer_without_feature_maps_is_refused():
    with pytest.raises(ValueError, match="'flatten'.*feature maps.*block1_conv1"):
        visualize.feature_maps(small_model(), images(1), ["flatten"])


@pytest.mark.parametrize(
    ("layer_names", "error"), [([], ValueError), ("block1_conv1", TypeError), (None, TypeError)]
)
def test_layer_names_must_be_a_non_empty_list(layer_names, error):
    with pytest.raises(error, match="layer_names"):
        visualize.feature_maps(small_model(), images(1), layer_names)


def test_images_of_the_wrong_rank_are_refused():
    with pytest.raises(ValueError, match="images"):
        visualize.feature_maps(small_model(), np.zeros((16, 16)), ["block1_conv1"])


# --------------------------------------------------------------------------- most_active_channels


def test_most_active_channels_against_numpy():
    maps = np.random.default_rng(1).uniform(size=(2, 5, 5, 9))
    expected = np.argsort(maps.mean(axis=(0, 1, 2)))[::-1][:4]
    np.testing.assert_array_equal(visualize.most_active_channels(maps, 4), expected)
    assert len(visualize.most_active_channels(maps, 50)) == 9  # at most the number of channels


def test_most_active_channels_keeps_the_lower_index_on_ties():
    maps = np.zeros((1, 2, 2, 4))
    maps[..., 2] = 1.0
    np.testing.assert_array_equal(visualize.most_active_channels(maps, 4), [2, 0, 1, 3])


@pytest.mark.parametrize(
    ("count", "error"), [(0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError)]
)
def test_most_active_channels_rejects_bad_counts(count, error):
    with pytest.raises(error, match="count"):
        visualize.most_active_channels(np.ones((2, 2, 3)), count)


# --------------------------------------------------------------------------- gradient ascent


def test_normalise_gradient_against_numpy():
    gradient = np.random.default_rng(2).normal(scale=1e-3, size=(1, 4, 4, 3))
    result = visualize.normalise_gradient(gradient)
    np.testing.assert_allclose(result, gradient / (np.sqrt(np.mean(gradient**2)) + 1e-8), rtol=1e-5)
    np.testing.assert_allclose(np.sqrt(np.mean(result.astype(np.float64) ** 2)), 1.0, rtol=1e-4)
    assert result.dtype == np.float32


def test_normalise_gradient_keeps_a_zero_gradient_zero():
    result = visualize.normalise_gradient(np.zeros((3, 3)))
    assert np.all(np.isfinite(result)) and not np.any(result)


def test_gradient_ascent_increases_the_filter_mean_activation():
    model = small_model()
    start = 0.5 + np.random.default_rng(0).uniform(-0.1, 0.1, size=(16, 16, 3))
    image, activations = visualize.visualize_filter(
        model, "block2_conv1", 1, steps=15, step_size=0.05, start=start
    )
    assert image.shape == (16, 16, 3) and image.dtype == np.float32
    assert activations.shape == (16,)
    assert activations[-1] > activations[0] + 1e-3
    assert image.min() >= 0.0 and image.max() <= 1.0  # clipped to the default value range
    # Independently: the filter's mean activation, read with feature_maps, is larger on the result.
    before = visualize.feature_maps(model, start, ["block2_conv1"])["block2_conv1"][..., 1].mean()
    after = visualize.feature_maps(model, image, ["block2_conv1"])["block2_conv1"][..., 1].mean()
    assert after > before
    np.testing.assert_allclose(before, activations[0], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(after, activations[-1], rtol=1e-4, atol=1e-6)


def test_gradient_ascent_with_regularisers_and_preprocessing():
    model = small_model(input_shape=(None, None, 3), activation="tanh")
    image, activations = visualize.visualize_filter(
        model, "block1_conv2", 3, image_size=(12, 20), steps=12, step_size=0.05, jitter=2,
        blur_sigma=0.5, border=1, preprocess=lambda x: 2.0 * x - 1.0, seed=3,
    )  # fmt: skip
    assert image.shape == (12, 20, 3)
    assert activations[-1] > activations[0]


def test_gradient_ascent_starts_from_the_given_image():
    model = small_model()
    start = np.full((16, 16, 3), 0.5, dtype=np.float32)
    image, activations = visualize.visualize_filter(
        model, "block1_conv1", 0, steps=1, step_size=0.0, start=start
    )
    np.testing.assert_array_equal(image, start)  # a step of size 0 leaves it where it was
    assert activations[0] == pytest.approx(activations[1])


@pytest.mark.parametrize(
    "arguments, words",
    [
        ({"layer_name": "nope"}, "'nope'.*block1_conv1"),
        ({"layer_name": "predictions"}, "feature maps"),
        ({"filter_index": 6}, r"filter_index.*\[0, 5\]"),
        ({"filter_index": -1}, "filter_index"),
        ({"steps": 0}, "steps"),
        ({"step_size": -0.1}, "step_size"),
        ({"jitter": -1}, "jitter"),
        ({"blur_sigma": float("nan")}, "blur_sigma"),
        ({"value_range": (1.0, 0.0)}, "value_range"),
        ({"image_size": (16,)}, "image_size"),
        ({"start": np.zeros((8, 8, 3))}, "start"),
    ],
)
def test_gradient_ascent_rejects_bad_arguments(arguments, words):
    settings = {"layer_name": "block2_conv1", "filter_index": 0, **arguments}
    with pytest.raises(ValueError, match=words):
        visualize.visualize_filter(
            small_model(), settings.pop("layer_name"), settings.pop("filter_index"), **settings
        )


def test_gradient_ascent_needs_an_image_size_for_a_model_of_any_size():
    with pytest.raises(ValueError, match="image_size"):
        visualize.visualize_filter(small_model(input_shape=(None, None, 3)), "block1_conv1", 0)


def test_deprocess_image_centres_and_clips():
    image = np.random.default_rng(4).normal(loc=30.0, scale=5.0, size=(6, 6, 3))
    result = visualize.deprocess_image(image)
    assert result.min() >= 0.0 and result.max() <= 1.0 and result.dtype == np.float32
    assert abs(float(np.median(result)) - 0.5) < 0.05
    np.testing.assert_array_equal(
        visualize.deprocess_image(np.ones((2, 2, 3))), np.full((2, 2, 3), 0.5)
    )


# --------------------------------------------------------------------------- figures


def test_plot_feature_maps_draws_one_row_per_layer():
    model = small_model()
    maps = visualize.feature_maps(model, images(2), ["block1_conv1", "block2_conv1"])
    figure = visualize.plot_feature_maps(maps, channels=3, title="maps")
    assert len(figure.axes) == 2 * 3
    assert (
        "block1_conv1" in figure.axes[0].get_ylabel() and "16x16x4" in figure.axes[0].get_ylabel()
    )
    assert "block2_conv1" in figure.axes[3].get_ylabel()
    # "activation" order: the first panel of a row is the most active channel
    first = int(visualize.most_active_channels(maps["block2_conv1"][0], 1)[0])
    assert figure.axes[3].get_title().startswith(f"#{first}")


def test_plot_feature_maps_with_explicit_channels_and_index_order():
    maps = {"a": np.random.default_rng(5).uniform(size=(1, 4, 4, 6)), "b": np.zeros((4, 4, 3))}
    figure = visualize.plot_feature_maps(maps, channels=[2, 0])
    assert [axis.get_title() for axis in figure.axes[:2]] == ["#2", "#0"]
    assert figure.axes[2].get_title() == "#2 (0)"  # an all-zero channel is marked
    figure = visualize.plot_feature_maps(maps, channels=4, order="index")
    assert [axis.get_title() for axis in figure.axes[:4]] == ["#0", "#1", "#2", "#3"]
    assert not figure.axes[7].axison  # layer "b" has only 3 channels: the 4th panel is empty


@pytest.mark.parametrize(
    "arguments, words",
    [
        ({"maps": {}}, "maps"),
        ({"maps": {"a": np.zeros((4, 4))}}, "maps"),
        ({"order": "random"}, "order"),
        ({"channels": [0, 9]}, "channels"),
        ({"channels": 0}, "channels"),
        ({"image_index": 3}, "image_index"),
    ],
)
def test_plot_feature_maps_rejects_bad_arguments(arguments, words):
    settings = {"maps": {"a": np.ones((1, 4, 4, 5))}, **arguments}
    with pytest.raises(ValueError, match=words):
        visualize.plot_feature_maps(**settings)


def test_plot_filters_draws_each_filter_scaled_around_grey():
    kernel = np.zeros((3, 3, 3, 5))
    kernel[0, 0, 0, 1] = 2.0  # filter 1: one positive red weight
    kernel[1, 1, 2, 2] = -0.5  # filter 2: one negative blue weight
    figure = visualize.plot_filters(kernel, ncols=3, title="filters")
    assert len(figure.axes) == 6 and not figure.axes[5].axison  # 5 filters in a 2x3 grid
    patches = [np.asarray(axis.images[0].get_array()) for axis in figure.axes[:5]]
    np.testing.assert_allclose(patches[0], 0.5)  # an all-zero filter is mid-grey
    assert patches[1][0, 0, 0] == 1.0 and patches[1][1, 1, 1] == 0.5
    assert patches[2][1, 1, 2] == 0.0
    assert all(patch.min() >= 0.0 and patch.max() <= 1.0 for patch in patches)


def test_plot_filters_count_and_grey_kernels():
    kernel = np.random.default_rng(6).normal(size=(5, 5, 1, 10))
    figure = visualize.plot_filters(kernel, count=4)
    assert len(figure.axes) == 4
    assert figure.axes[0].images[0].get_cmap().name == "gray"


@pytest.mark.parametrize(
    "kernel", [np.zeros((3, 3, 64, 8)), np.zeros((3, 3, 3)), np.zeros((3, 3, 2, 4))]
)
def test_plot_filters_refuses_deeper_kernels(kernel):
    with pytest.raises(ValueError, match="first-layer"):
        visualize.plot_filters(kernel)


# --------------------------------------------------------------------------- issue 16: bad arguments


def test_the_public_names_are_listed():
    public = {
        name for name, value in vars(visualize).items()
        if not name.startswith("_") and callable(value) and getattr(value, "__module__", "") == visualize.__name__
    }  # fmt: skip
    assert public <= set(visualize.__all__)
    assert all(hasattr(visualize, name) for name in visualize.__all__)


@pytest.mark.parametrize(
    ("function", "arguments", "error", "words"),
    [
        # Thousands of panels used to hang the figure.
        (visualize.plot_filters, {"kernel": np.zeros((3, 3, 3, 20_000))}, ValueError, "`count`"),
        (visualize.plot_filters, {"kernel": np.zeros((3, 3, 3, 8)), "ncols": 10**6}, ValueError, "`ncols`"),
        (visualize.plot_feature_maps, {"maps": {"a": np.ones((1, 2, 2, 500))}, "channels": 20_000},
         ValueError, "`channels`"),
        (visualize.plot_feature_maps, {"maps": {str(i): np.ones((1, 2, 2, 2)) for i in range(300)}},
         ValueError, "`maps`"),
        # NaN sizes, strings, complex and empty arrays.
        (visualize.plot_filters, {"kernel": np.zeros((3, 3, 3, 4)), "cell_size": float("nan")},
         ValueError, "`cell_size`"),
        (visualize.plot_filters, {"kernel": np.zeros((3, 3, 3, 0))}, ValueError, "`kernel`"),
        (visualize.plot_feature_maps, {"maps": {"a": np.ones((1, 4, 4, 3)) + 1j}}, TypeError, "`maps`"),
        (visualize.plot_feature_maps, {"maps": {"a": np.ones((1, 4, 4, 3))}, "cmap": "nope"},
         ValueError, "`cmap`"),
        (visualize.most_active_channels, {"maps": "maps", "count": 2}, TypeError, "`maps`"),
        (visualize.normalise_gradient, {"gradient": np.array([])}, ValueError, "`gradient`"),
        (visualize.normalise_gradient, {"gradient": np.ones(3), "epsilon": float("inf")}, ValueError, "`epsilon`"),
        (visualize.deprocess_image, {"image": np.ones((4, 4, 3)), "contrast": float("nan")},
         ValueError, "`contrast`"),
    ],
)  # fmt: skip
def test_bad_arguments_are_refused_before_a_figure_is_made(function, arguments, error, words):
    import matplotlib.pyplot as plt

    open_before = set(plt.get_fignums())
    with pytest.raises(error, match=words):
        function(**arguments)
    assert set(plt.get_fignums()) == open_before


@pytest.mark.parametrize(
    ("arguments", "error", "words"),
    [
        ({"step_size": float("nan")}, ValueError, "`step_size`"),
        ({"jitter": float("inf")}, TypeError, "`jitter`"),
        ({"steps": 10**6}, ValueError, "`steps`"),
        ({"border": 4}, ValueError, "`border`"),  # block2_conv1's maps are 6x6
        ({"image_size": (16, 10**6)}, ValueError, "`image_size`"),
        ({"start": np.zeros((16, 16, 3)) + 1j}, TypeError, "`start`"),
        ({"value_range": (0.0, float("nan"))}, ValueError, "`value_range`"),
        ({"preprocess": "vgg"}, TypeError, "`preprocess`"),
        ({"seed": "0"}, TypeError, "`seed`"),
    ],
)
def test_gradient_ascent_refuses_bad_settings_before_running(arguments, error, words):
    with pytest.raises(error, match=words):
        visualize.visualize_filter(small_model(), "block2_conv1", 0, **arguments)


@pytest.mark.parametrize(
    ("model", "images_", "error", "words"),
    [
        ("vgg16", images(1), TypeError, "`model`"),
        (None, images(1) + 1j, TypeError, "`images`"),
        (None, "cat.jpg", TypeError, "`images`"),
        (None, np.zeros((0, 16, 16, 3)), ValueError, "`images`"),
    ],
)
def test_feature_maps_refuse_bad_models_and_images(model, images_, error, words):
    with pytest.raises(error, match=words):
        visualize.feature_maps(model or small_model(), images_, ["block1_conv1"])
