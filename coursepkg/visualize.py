"""What a CNN sees: feature maps, first-layer filters, and filters shown by gradient ascent.

Introduced in: book/14_visualising.ipynb

Three ways to look inside a trained convolutional network:

1. :func:`feature_maps` runs an image through the network and returns the
   output of chosen layers (``block1_conv1`` ... ``block5_pool`` of VGG16), which
   :func:`plot_feature_maps` draws as one row of channels per layer.
2. :func:`plot_filters` draws the kernels of the first convolution as small RGB
   patches: the only layer whose weights live in pixel space.
3. :func:`visualize_filter` searches for the input image that excites one
   filter most, by gradient ascent on the image (Erhan et al. 2009; Simonyan et
   al. 2014; Chollet, *Deep Learning with Python*, ch. 9). The gradient with
   respect to the input comes from :func:`coursepkg.gradients.value_and_input_gradient`,
   the one module that touches backend autodiff; everything here uses
   ``keras.ops`` and NumPy.

The plotting helpers return a ``matplotlib.figure.Figure`` and never call
``plt.show()``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from coursepkg import validation
from coursepkg.gradients import value_and_input_gradient
from coursepkg.plotting import (
    MAX_PANEL_INCHES,
    MAX_PANELS,
    _check_cmap,
    _check_figure,
    _check_title,
)

__all__ = [
    "CHANNEL_ORDERS",
    "deprocess_image",
    "feature_maps",
    "most_active_channels",
    "normalise_gradient",
    "plot_feature_maps",
    "plot_filters",
    "visualize_filter",
]

CHANNEL_ORDERS = ("activation", "index")
MAX_CHANNELS = 100_000  # channels of a layer (VGG16's deepest have 512)
MAX_STEPS = 100_000  # gradient-ascent steps
MAX_SHIFT = 1024  # pixels of jitter or border
MAX_IMAGE_SIDE = 4096  # pixels of a side of an optimised image
MAX_BATCH = 10_000  # images run through a model at once by feature_maps


# --------------------------------------------------------------------------- checks


def _check_model(model):
    """A ``keras.Model``; anything else is refused before Keras sees it."""
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"Expected `model` to be a keras.Model. Received: model={model!r:.200}")
    return model


def _layer(model, layer_name: str, argument: str):
    """The layer called ``layer_name``; the error lists the names that exist."""
    validation.check_str(argument, layer_name, max_length=1000)
    names = [layer.name for layer in model.layers]
    if layer_name not in names:
        raise ValueError(
            f"Expected `{argument}` to name layers of model {model.name!r}. "
            f"Received: {layer_name!r}, which is not one of its layers: {names}"
        )
    return model.get_layer(layer_name)


def _feature_layer(model, layer_name: str, argument: str):
    """A layer whose output is a stack of feature maps, (batch, height, width, channels)."""
    layer = _layer(model, layer_name, argument)
    shape = tuple(layer.output.shape)
    if len(shape) != 4:
        four_d = [item.name for item in model.layers if _is_feature_layer(item)]
        raise ValueError(
            f"Expected `{argument}` to name layers with feature maps (batch, height, width, "
            f"channels). Received: {layer_name!r}, whose output {shape} is not feature maps; "
            f"layers with feature maps: {four_d}"
        )
    return layer


def _is_feature_layer(layer) -> bool:
    try:
        return len(layer.output.shape) == 4
    except (AttributeError, ValueError):
        return False


def _model_input(model):
    """The model's input tensor (a list only for several inputs, so that calls take a plain array)."""
    return model.inputs[0] if len(model.inputs) == 1 else model.inputs


def _as_batch(images) -> np.ndarray:
    """float32 NumPy batch (batch, height, width, channels) from a batch or one image."""
    import keras

    if not isinstance(images, np.ndarray) and keras.ops.is_tensor(images):
        images = keras.ops.convert_to_numpy(images)
    array = validation.check_array("images", images, ndim=(3, 4)).astype(np.float32)
    if array.ndim == 3:
        array = array[np.newaxis]  # one image -> a batch of one
    if len(array) > MAX_BATCH:
        raise ValueError(
            f"Expected `images` to hold at most {MAX_BATCH:,} images. Received: images with shape {array.shape}"
        )
    return array


# --------------------------------------------------------------------------- feature maps


def feature_maps(model, images, layer_names: Sequence[str]) -> dict[str, np.ndarray]:
    """The outputs of chosen layers for a batch of images, as NumPy arrays.

    Introduced in: book/14_visualising.ipynb

    A second Keras model is built on the same layers, with the chosen layers'
    outputs as its outputs (as the keras.io example "Extract features from an
    arbitrary intermediate layer with VGG19" does), and run once.

    Args:
        model: a built Functional or Sequential ``keras.Model``.
        images: one image ``(height, width, channels)`` or a batch
            ``(batch, height, width, channels)`` of 1 to 10,000 finite images,
            already preprocessed the way the model expects (for ImageNet VGG16:
            ``keras.applications.vgg16.preprocess_input``).
        layer_names: names of layers that output feature maps, e.g.
            ``["block1_conv1", "block5_pool"]``.

    Returns:
        ``{layer_name: array}`` in the order asked, each float32 array of shape
        ``(batch, height, width, channels)`` (batch 1 for a single image).

    Raises:
        TypeError: a model that is not a ``keras.Model``, layer names that are
            not strings, images that are not real numbers.
        ValueError: a name that is not a layer of ``model`` (the message lists
            the model's layers), a layer whose output is not 4-D, an empty list,
            images of the wrong rank, empty, NaN or infinite, or more than 10,000 of them.

    Example:
        >>> maps = feature_maps(vgg, preprocessed_cat, ["block1_conv1", "block3_pool"])
        >>> maps["block3_pool"].shape
        (1, 28, 28, 256)
    """
    import keras

    model = _check_model(model)
    if not isinstance(layer_names, (list, tuple)):
        raise TypeError(
            "Expected `layer_names` to be a non-empty list of layer names. "
            f"Received: layer_names={layer_names!r}"
        )
    if not layer_names:
        raise ValueError("Expected `layer_names` to be a non-empty list of layer names. Received: layer_names=[]")
    layers = [_feature_layer(model, name, "layer_names") for name in layer_names]
    batch = _as_batch(images)
    extractor = keras.Model(_model_input(model), [layer.output for layer in layers])
    outputs = extractor(batch, training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return {
        name: np.asarray(keras.ops.convert_to_numpy(output), dtype=np.float32)
        for name, output in zip(layer_names, outputs, strict=True)
    }


def most_active_channels(maps, count: int) -> np.ndarray:
    """Indices of the channels with the largest mean activation, largest first.

    Introduced in: book/14_visualising.ipynb

    Many channels of a deep layer are zero for a given image (the ReLU cut them
    off); showing the most active ones shows what the layer responds to.

    Args:
        maps: feature maps ``(batch, height, width, channels)`` or
            ``(height, width, channels)``, finite; the mean is over everything but the
            channel axis.
        count: how many channels to return, 1 to 100,000 (at most the number
            of channels are returned).

    Returns:
        int64 array of ``min(count, channels)`` channel indices; ties keep the
        lower index first.
    """
    array = validation.check_array("maps", maps, ndim=(3, 4)).astype(np.float64)
    count = validation.check_int("count", count, low=1, high=MAX_CHANNELS)
    means = array.reshape(-1, array.shape[-1]).mean(axis=0)  # (channels,)
    order = np.argsort(-means, kind="stable")
    return order[: min(count, len(order))].astype(np.int64)


def plot_feature_maps(
    maps: Mapping[str, np.ndarray],
    channels: int | Sequence[int] = 8,
    order: str = "activation",
    image_index: int = 0,
    cmap: str = "viridis",
    cell_size: float = 1.25,
    title: str | None = None,
):
    """One row per layer, one small image per channel: what each layer computed.

    Introduced in: book/14_visualising.ipynb

    Each panel is scaled to its own range (bright: strong activation), so the
    shape of a response is visible even where a layer's values are small.
    A panel that is zero everywhere (a channel the ReLU switched off) is drawn
    dark, with "0" in its title.

    Args:
        maps: ``{layer_name: (batch, height, width, channels)}``, e.g. the
            output of :func:`feature_maps`: string names, finite real maps.
        channels: how many channels to show per layer (1 to 400), or the list
            of channel indices to show in every layer (each must exist in every layer).
        order: with a count, ``"activation"`` shows the most active channels
            of each layer (:func:`most_active_channels`), ``"index"`` the first ones.
        image_index: which image of the batch to show, in ``[0, batch)``.
        cmap: name of a matplotlib colour map.
        cell_size: width and height of one panel, in inches, in (0, 20].
        title: figure title, at most 1,000 characters.

    The figure holds at most 400 panels (layers times channels) and 200 inches a side.

    Returns:
        The Figure: one row of Axes per layer, the first of each row labelled
        with the layer's name and output size; each panel titled with its
        channel index.

    Raises:
        TypeError: arguments of the wrong type.
        ValueError: maps of the wrong shape, indices out of range, too many panels.

    Example:
        >>> fig = plot_feature_maps(feature_maps(vgg, cat, ["block1_conv1", "block5_pool"]))
    """
    import matplotlib.pyplot as plt

    arrays = _maps_of_one_image(maps, image_index)
    order = validation.check_choice("order", order, CHANNEL_ORDERS)
    chosen = _chosen_channels(arrays, channels, order)
    cmap = _check_cmap(cmap)
    cell_size = validation.check_float("cell_size", cell_size, 0.0, MAX_PANEL_INCHES, low_inclusive=False)
    title = _check_title(title)
    ncols = max(len(index) for index in chosen.values())
    nrows = len(arrays)
    width, height = cell_size * ncols + 1.2, cell_size * nrows + 0.4
    _check_figure(width, height, nrows * ncols, "`maps`, `channels` and `cell_size`")

    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
    for row, (name, array) in enumerate(arrays.items()):
        height, width, depth = array.shape
        for column, ax in enumerate(axes[row]):
            ax.set_xticks([])
            ax.set_yticks([])
            if column >= len(chosen[name]):
                ax.set_axis_off()
                continue
            channel = int(chosen[name][column])
            panel = array[:, :, channel]
            if np.ptp(panel) > 0:
                ax.imshow(panel, cmap=cmap)
            else:  # a constant map: draw it dark rather than as mid-range noise
                ax.imshow(np.zeros_like(panel), cmap=cmap, vmin=0.0, vmax=1.0)
            silent = " (0)" if not np.any(panel) else ""
            ax.set_title(f"#{channel}{silent}", fontsize="x-small", pad=2)
        axes[row, 0].set_ylabel(f"{name}\n{height}x{width}x{depth}", fontsize="small",
                                rotation=0, ha="right", va="center")  # fmt: skip
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _maps_of_one_image(maps, image_index) -> dict[str, np.ndarray]:
    """``{name: (height, width, channels)}``: image ``image_index`` of each layer's maps."""
    if not isinstance(maps, Mapping):
        raise TypeError(
            f"Expected `maps` to be a dict of layer name -> feature maps. Received: maps={maps!r:.200}"
        )
    if not 1 <= len(maps) <= MAX_PANELS:
        raise ValueError(
            f"Expected `maps` to hold 1 to {MAX_PANELS} layers. Received: maps with {len(maps)} layers"
        )
    arrays = {}
    for name, value in maps.items():
        array = validation.check_array("maps", value, ndim=(3, 4)).astype(np.float32)
        arrays[str(name)] = array if array.ndim == 4 else array[np.newaxis]
    smallest_batch = min(len(array) for array in arrays.values())
    image_index = validation.check_int("image_index", image_index, low=0, high=smallest_batch - 1)
    return {name: array[image_index] for name, array in arrays.items()}  # (height, width, channels)


def _chosen_channels(arrays: dict[str, np.ndarray], channels, order: str) -> dict[str, np.ndarray]:
    """The channel indices to draw for each layer, from a count or a list of indices."""
    if isinstance(channels, (list, tuple, np.ndarray)):
        smallest = min(array.shape[-1] for array in arrays.values())
        indices = validation.check_array("channels", channels, ndim=1, dtype="integer")
        if len(indices) > MAX_PANELS or indices.min() < 0 or indices.max() >= smallest:
            raise ValueError(
                f"Expected `channels` to be at most {MAX_PANELS} channel indices below {smallest} "
                f"(the fewest channels of the layers). Received: channels={channels!r:.200}"
            )
        return {name: indices for name in arrays}
    count = validation.check_int("channels", channels, low=1, high=MAX_PANELS)
    return {
        name: most_active_channels(array, count) if order == "activation"
        else np.arange(min(count, array.shape[-1]))
        for name, array in arrays.items()
    }  # fmt: skip


# --------------------------------------------------------------------------- first-layer filters


def plot_filters(
    kernel,
    count: int | None = None,
    ncols: int = 8,
    cell_size: float = 0.9,
    title: str | None = None,
):
    """The kernels of a first convolution layer as small colour (or grey) patches.

    Introduced in: book/14_visualising.ipynb

    Each filter is scaled on its own, symmetrically around zero: a zero weight
    is mid-grey, the filter's largest absolute weight is 0 or 1. In RGB,
    a filter that is reddish responds to red, one with a light and a dark band
    responds to an edge across the bands.

    Args:
        kernel: ``Conv2D`` kernel ``(kernel_height, kernel_width, in_channels,
            filters)`` with 1 (grey) or 3 (RGB) input channels, finite, e.g.
            ``model.get_layer("block1_conv1").get_weights()[0]``.
        count: how many filters to draw, 1 to 400 (default: all, when there are
            at most 400).
        ncols: patches per row, 1 to 400.
        cell_size: width and height of one patch, in inches, in (0, 20]; the
            figure may be at most 200 inches a side.
        title: figure title, at most 1,000 characters.

    Returns:
        The Figure, one Axes per filter, titled with its index; the image
        shown in each holds values in [0, 1].

    Raises:
        TypeError: arguments of the wrong type.
        ValueError: a kernel of the wrong shape, empty or not finite, sizes out of range.

    Example:
        >>> fig = plot_filters(vgg.get_layer("block1_conv1").get_weights()[0], count=32)
    """
    import matplotlib.pyplot as plt

    weights = validation.check_array("kernel", kernel).astype(np.float64)
    if weights.ndim != 4 or weights.shape[2] not in (1, 3):
        raise ValueError(
            "Expected `kernel` to be a first-layer Conv2D kernel (height, width, 1 or 3 "
            f"input channels, filters). Received: kernel with shape {weights.shape}"
        )
    total = weights.shape[-1]
    if count is None and total > MAX_PANELS:
        raise ValueError(
            f"Expected `count` (at most {MAX_PANELS}) for a kernel of {total} filters, "
            f"one panel each. Received: count=None"
        )
    count = total if count is None else min(validation.check_int("count", count, 1, MAX_PANELS), total)
    ncols = min(validation.check_int("ncols", ncols, 1, MAX_PANELS), count)
    cell_size = validation.check_float("cell_size", cell_size, 0.0, MAX_PANEL_INCHES, low_inclusive=False)
    title = _check_title(title)
    nrows = math.ceil(count / ncols)
    width, height = cell_size * ncols, cell_size * nrows + 0.4
    _check_figure(width, height, count, "`count`, `ncols` and `cell_size`")
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index >= count:
            continue
        patch = weights[..., index]  # (height, width, in_channels)
        limit = np.abs(patch).max()
        patch = 0.5 + 0.5 * patch / limit if limit > 0 else np.full_like(patch, 0.5)
        if patch.shape[-1] == 1:
            ax.imshow(patch[..., 0], cmap="gray", vmin=0.0, vmax=1.0)
        else:
            ax.imshow(patch)
        ax.set_title(f"#{index}", fontsize="x-small", pad=2)
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- gradient ascent


def normalise_gradient(gradient, epsilon: float = 1e-8) -> np.ndarray:
    """Divide a gradient by its root mean square, so that a step has a known size.

    Introduced in: book/14_visualising.ipynb

    The raw gradient of a deep filter's activation can be a million times
    smaller or larger than that of a shallow one; after normalisation every
    pixel moves by about ``step_size`` per step, whatever the layer.

    Args:
        gradient: a non-empty array of any shape, finite real numbers.
        epsilon: added to the root mean square, so that a zero gradient stays
            zero, in [0, 1].

    Returns:
        float32 array ``gradient / (sqrt(mean(gradient ** 2)) + epsilon)``.
    """
    array = validation.check_array("gradient", gradient).astype(np.float64)
    epsilon = validation.check_float("epsilon", epsilon, 0.0, 1.0)
    rms = np.sqrt(np.mean(array**2))
    return (array / (rms + epsilon)).astype(np.float32)


def deprocess_image(image, contrast: float = 0.15) -> np.ndarray:
    """Stretch an optimised image for display: mean 0.5, standard deviation ``contrast``, clipped to [0, 1].

    Introduced in: book/14_visualising.ipynb

    Args:
        image: array ``(height, width, channels)`` (or ``(height, width)``, or a batch),
            finite, any range.
        contrast: standard deviation of the result before clipping, in [0, 1].

    Returns:
        float32 array of the same shape, in [0, 1].
    """
    array = validation.check_array("image", image, ndim=(2, 3, 4)).astype(np.float64)
    contrast = validation.check_float("contrast", contrast, 0.0, 1.0)
    spread = array.std()
    centred = (array - array.mean()) / spread * contrast if spread > 0 else np.zeros_like(array)
    return np.clip(centred + 0.5, 0.0, 1.0).astype(np.float32)


def visualize_filter(
    model,
    layer_name: str,
    filter_index: int,
    image_size: tuple[int, int] | None = None,
    steps: int = 30,
    step_size: float = 0.03,
    jitter: int = 0,
    blur_sigma: float = 0.0,
    border: int = 0,
    preprocess: Callable | None = None,
    value_range: tuple[float, float] | None = (0.0, 1.0),
    start=None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The image that one filter responds to most, found by gradient ascent on the input.

    Introduced in: book/14_visualising.ipynb

    Reference:
        D. Erhan, Y. Bengio, A. Courville and P. Vincent, *Visualizing
        Higher-Layer Features of a Deep Network*, 2009; F. Chollet, *Deep
        Learning with Python*, 2nd ed., section 9.4.2.

    Starting from grey noise, each step computes the mean activation of filter
    ``filter_index`` of layer ``layer_name`` and its gradient with respect to
    the image (:func:`coursepkg.gradients.value_and_input_gradient`), divides the
    gradient by its root mean square (:func:`normalise_gradient`) and moves the
    image by ``step_size`` along it. Optional regularisers: a random shift of
    up to ``jitter`` pixels before each gradient, and a Gaussian blur of
    ``blur_sigma`` pixels after each step, both of which suppress the
    high-frequency noise that excites a filter without looking like anything.

    Args:
        model: a built ``keras.Model``.
        layer_name: a layer with feature maps ``(batch, height, width, channels)``.
        filter_index: the channel of that layer to maximise, in ``[0, channels)``.
        image_size: ``(height, width)`` of the image, each 1 to 4,096; default:
            the model's input size (required when the model accepts any size).
        steps: number of gradient-ascent steps, 1 to 100,000.
        step_size: how far each pixel moves per step, in image units (the
            gradient is normalised to a root mean square of 1), 0 to 1,000.
        jitter: largest random shift, in pixels, applied before each gradient
            (``np.roll``; 0 turns it off), 0 to 1,024.
        blur_sigma: standard deviation, in pixels, of the Gaussian blur applied
            after each step (0 turns it off), 0 to 100.
        border: pixels of the feature map ignored at each edge in the mean
            (their receptive fields hang over the zero padding), 0 to 1,024 and
            less than half the feature map's sides.
        preprocess: function applied to the image (a backend tensor, values in
            ``value_range``) before the model, written with ``keras.ops``, e.g.
            VGG16's ImageNet preprocessing. ``None``: the model reads the image as is.
        value_range: ``(low, high)`` the image is clipped to after each step,
            finite, within +-65,536; ``None`` leaves it unbounded.
        start: starting image ``(height, width, channels)``, finite; default grey
            (the middle of ``value_range``) plus uniform noise of +-0.1 of its width.
        seed: seed of the starting noise and the jitter, 0 to 2**32 - 1.

    Returns:
        ``(image, activations)``: the optimised image, float32 ``(height, width,
        channels)`` in model-input units before ``preprocess`` (show it with
        :func:`deprocess_image`), and the mean activation of the filter before
        each step (of the shifted image when ``jitter`` is on) and after the
        last one, ``(steps + 1,)``.

    Raises:
        TypeError: arguments of the wrong type (a model that is not a
            ``keras.Model``, a string for a number, a float for an integer...).
        ValueError: unknown layer (the message lists the model's layers), a
            layer without feature maps, a filter index out of range, or a setting
            out of its range. All are checked before the model runs.

    Example:
        >>> image, activations = visualize_filter(vgg, "block3_conv1", 7, image_size=(128, 128),
        ...                                       steps=40, preprocess=vgg_preprocess)
        >>> activations[-1] > activations[0]
        True
    """
    import keras

    model = _check_model(model)
    layer = _feature_layer(model, layer_name, "layer_name")
    filters = int(layer.output.shape[-1])
    filter_index = validation.check_int("filter_index", filter_index, low=0, high=filters - 1)
    steps = validation.check_int("steps", steps, low=1, high=MAX_STEPS)
    step_size = validation.check_float("step_size", step_size, 0.0, 1000.0)
    jitter = validation.check_int("jitter", jitter, low=0, high=MAX_SHIFT)
    blur_sigma = validation.check_float("blur_sigma", blur_sigma, 0.0, 100.0)
    border = _check_border(border, layer)
    preprocess = validation.optional(validation.check_callable, "preprocess", preprocess)
    if value_range is not None:
        value_range = validation.check_pixel_range("value_range", value_range)
    seed = validation.check_seed("seed", seed)
    input_shape = tuple(model.inputs[0].shape[1:])  # (height, width, channels), maybe with None
    image_size = _check_image_size(image_size, input_shape, model.name)
    shape = (int(image_size[0]), int(image_size[1]), int(input_shape[-1]))
    rng = np.random.default_rng(seed)
    low, high = value_range if value_range is not None else (0.0, 1.0)
    if start is None:
        middle, spread = 0.5 * (low + high), 0.1 * (high - low)
        image = (middle + rng.uniform(-spread, spread, size=shape)).astype(np.float32)
    else:
        image = validation.check_array("start", start, ndim=3).astype(np.float32)
        if image.shape != shape:
            raise ValueError(
                f"Expected `start` to have shape {shape}. Received: start with shape {image.shape}"
            )

    extractor = keras.Model(_model_input(model), layer.output)

    def mean_activation(batch):  # batch: (1, height, width, channels) backend tensor
        inputs = preprocess(batch) if preprocess is not None else batch
        activation = extractor(inputs, training=False)  # (1, h, w, filters)
        if border:
            activation = activation[:, border:-border, border:-border, :]
        return keras.ops.mean(activation[..., filter_index])

    activations = []
    for _ in range(steps):
        shift = tuple(rng.integers(-jitter, jitter + 1, size=2)) if jitter else (0, 0)
        shifted = np.roll(image, shift, axis=(0, 1))
        value, gradient = value_and_input_gradient(mean_activation, shifted[np.newaxis])
        activations.append(value)
        gradient = np.roll(gradient[0], (-shift[0], -shift[1]), axis=(0, 1))  # back in place
        image = image + step_size * normalise_gradient(gradient)
        if blur_sigma:
            from scipy.ndimage import gaussian_filter

            image = gaussian_filter(image, sigma=(blur_sigma, blur_sigma, 0)).astype(np.float32)
        if value_range is not None:
            image = np.clip(image, low, high)
    final = mean_activation(keras.ops.convert_to_tensor(image[np.newaxis]))
    activations.append(float(keras.ops.convert_to_numpy(final)))
    return image.astype(np.float32), np.asarray(activations, dtype=np.float64)


def _check_border(border, layer) -> int:
    """Pixels ignored at each edge: 0 to MAX_SHIFT, leaving at least one location of the layer."""
    border = validation.check_int("border", border, low=0, high=MAX_SHIFT)
    sides = [side for side in tuple(layer.output.shape)[1:3] if side is not None]
    if sides and 2 * border >= min(sides):
        raise ValueError(
            f"Expected `border` to leave part of the {sides} feature map of layer {layer.name!r}. "
            f"Received: border={border}"
        )
    return border


def _check_image_size(image_size, input_shape: tuple, model_name: str) -> tuple[int, int]:
    """``(height, width)``: the argument, or the model's input size when it has one."""
    if image_size is not None:
        return validation.check_shape("image_size", image_size, length=2, low=1, high=MAX_IMAGE_SIDE)
    if None in input_shape[:2]:
        raise ValueError(
            f"Expected `image_size=(height, width)`: model {model_name!r} accepts any size. "
            "Received: image_size=None"
        )
    return int(input_shape[0]), int(input_shape[1])
