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
import numbers
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from coursepkg.gradients import value_and_input_gradient

CHANNEL_ORDERS = ("activation", "index")


# --------------------------------------------------------------------------- checks


def _positive_int(value, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(
            f"Expected `{argument}` to be a positive integer. Received: {argument}={value!r}"
        )
    return int(value)


def _non_negative_number(value, argument: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(
            f"Expected `{argument}` to be a non-negative number. Received: {argument}={value!r}"
        )
    return float(value)


def _layer(model, layer_name: str, argument: str):
    """The layer called ``layer_name``; the error lists the names that exist."""
    names = [layer.name for layer in model.layers]
    if not isinstance(layer_name, str) or layer_name not in names:
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
            f"Expected layer {layer_name!r} to output feature maps (batch, height, width, "
            f"channels). Received: output shape {shape}; layers with feature maps: {four_d}"
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

    array = np.asarray(keras.ops.convert_to_numpy(images), dtype=np.float32)
    if array.ndim == 3:
        array = array[np.newaxis]  # one image -> a batch of one
    if array.ndim != 4 or array.shape[0] == 0:
        raise ValueError(
            "Expected `images` to be one image (height, width, channels) or a batch "
            f"(batch, height, width, channels). Received: images with shape {array.shape}"
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
            ``(batch, height, width, channels)``, already preprocessed the way
            the model expects (for ImageNet VGG16:
            ``keras.applications.vgg16.preprocess_input``).
        layer_names: names of layers that output feature maps, e.g.
            ``["block1_conv1", "block5_pool"]``.

    Returns:
        ``{layer_name: array}`` in the order asked, each float32 array of shape
        ``(batch, height, width, channels)`` (batch 1 for a single image).

    Raises:
        ValueError: a name that is not a layer of ``model`` (the message lists
            the model's layers), a layer whose output is not 4-D, an empty list,
            or images of the wrong rank.

    Example:
        >>> maps = feature_maps(vgg, preprocessed_cat, ["block1_conv1", "block3_pool"])
        >>> maps["block3_pool"].shape
        (1, 28, 28, 256)
    """
    import keras

    if isinstance(layer_names, str) or not isinstance(layer_names, Sequence) or not layer_names:
        raise ValueError(
            "Expected `layer_names` to be a non-empty list of layer names. "
            f"Received: layer_names={layer_names!r}"
        )
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
            ``(height, width, channels)``; the mean is over everything but the
            channel axis.
        count: how many channels to return (at most the number of channels).

    Returns:
        int64 array of ``min(count, channels)`` channel indices; ties keep the
        lower index first.
    """
    array = np.asarray(maps, dtype=np.float64)
    if array.ndim not in (3, 4):
        raise ValueError(
            "Expected `maps` to be (batch, height, width, channels) or (height, width, "
            f"channels). Received: maps with shape {array.shape}"
        )
    count = _positive_int(count, "count")
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
            output of :func:`feature_maps`.
        channels: how many channels to show per layer, or the list of channel
            indices to show in every layer (each must exist in every layer).
        order: with a count, ``"activation"`` shows the most active channels
            of each layer (:func:`most_active_channels`), ``"index"`` the first ones.
        image_index: which image of the batch to show.
        cmap: matplotlib colour map.
        cell_size: width and height of one panel, in inches.
        title: figure title.

    Returns:
        The Figure: one row of Axes per layer, the first of each row labelled
        with the layer's name and output size; each panel titled with its
        channel index.

    Example:
        >>> fig = plot_feature_maps(feature_maps(vgg, cat, ["block1_conv1", "block5_pool"]))
    """
    import matplotlib.pyplot as plt

    if not isinstance(maps, Mapping) or not maps:
        raise ValueError(
            f"Expected `maps` to be a non-empty dict of layer name -> feature maps. Received: {maps!r}"
        )
    if order not in CHANNEL_ORDERS:
        raise ValueError(
            f"Expected `order` to be one of {CHANNEL_ORDERS}. Received: order={order!r}"
        )
    arrays = {}
    for name, value in maps.items():
        array = np.asarray(value, dtype=np.float32)
        if array.ndim == 3:
            array = array[np.newaxis]
        if array.ndim != 4:
            raise ValueError(
                f"Expected each entry of `maps` to be (batch, height, width, channels). "
                f"Received: maps[{name!r}] with shape {array.shape}"
            )
        if not isinstance(image_index, numbers.Integral) or not 0 <= image_index < len(array):
            raise ValueError(
                f"Expected `image_index` to be in [0, {len(array)}). Received: image_index={image_index!r}"
            )
        arrays[str(name)] = array[image_index]  # (height, width, channels)

    if isinstance(channels, numbers.Integral) and not isinstance(channels, bool):
        count = _positive_int(channels, "channels")
        chosen = {
            name: most_active_channels(array, count) if order == "activation"
            else np.arange(min(count, array.shape[-1]))
            for name, array in arrays.items()
        }  # fmt: skip
    else:
        indices = list(channels) if isinstance(channels, Sequence) else None
        smallest = min(array.shape[-1] for array in arrays.values())
        if not indices or not all(
            isinstance(index, numbers.Integral) and 0 <= index < smallest for index in indices
        ):
            raise ValueError(
                "Expected `channels` to be a positive count or a list of channel indices below "
                f"{smallest} (the fewest channels of the layers). Received: channels={channels!r}"
            )
        chosen = {name: np.asarray(indices, dtype=np.int64) for name in arrays}

    ncols = max(len(index) for index in chosen.values())
    nrows = len(arrays)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(cell_size * ncols + 1.2, cell_size * nrows + 0.4), squeeze=False
    )
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
            filters)`` with 1 (grey) or 3 (RGB) input channels, e.g.
            ``model.get_layer("block1_conv1").get_weights()[0]``.
        count: how many filters to draw (default: all).
        ncols: patches per row.
        cell_size: width and height of one patch, in inches.
        title: figure title.

    Returns:
        The Figure, one Axes per filter, titled with its index; the image
        shown in each holds values in [0, 1].

    Example:
        >>> fig = plot_filters(vgg.get_layer("block1_conv1").get_weights()[0], count=32)
    """
    import matplotlib.pyplot as plt

    weights = np.asarray(kernel, dtype=np.float64)
    if weights.ndim != 4 or weights.shape[2] not in (1, 3):
        raise ValueError(
            "Expected `kernel` to be a first-layer Conv2D kernel (height, width, 1 or 3 "
            f"input channels, filters). Received: kernel with shape {weights.shape}"
        )
    total = weights.shape[-1]
    count = total if count is None else min(_positive_int(count, "count"), total)
    ncols = min(_positive_int(ncols, "ncols"), count)
    nrows = math.ceil(count / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(cell_size * ncols, cell_size * nrows + 0.4), squeeze=False
    )
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
        gradient: array of any shape.
        epsilon: added to the root mean square, so that a zero gradient stays zero.

    Returns:
        float32 array ``gradient / (sqrt(mean(gradient ** 2)) + epsilon)``.
    """
    epsilon = _non_negative_number(epsilon, "epsilon")
    array = np.asarray(gradient, dtype=np.float64)
    rms = np.sqrt(np.mean(array**2)) if array.size else 0.0
    return (array / (rms + epsilon)).astype(np.float32)


def deprocess_image(image, contrast: float = 0.15) -> np.ndarray:
    """Stretch an optimised image for display: mean 0.5, standard deviation ``contrast``, clipped to [0, 1].

    Introduced in: book/14_visualising.ipynb

    Args:
        image: array ``(height, width, channels)`` (any range).
        contrast: standard deviation of the result before clipping.

    Returns:
        float32 array of the same shape, in [0, 1].
    """
    contrast = _non_negative_number(contrast, "contrast")
    array = np.asarray(image, dtype=np.float64)
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
        filter_index: the channel of that layer to maximise.
        image_size: ``(height, width)`` of the image; default: the model's
            input size (required when the model accepts any size).
        steps: number of gradient-ascent steps.
        step_size: how far each pixel moves per step, in image units (the
            gradient is normalised to a root mean square of 1).
        jitter: largest random shift, in pixels, applied before each gradient
            (``np.roll``; 0 turns it off).
        blur_sigma: standard deviation, in pixels, of the Gaussian blur applied
            after each step (0 turns it off).
        border: pixels of the feature map ignored at each edge in the mean
            (their receptive fields hang over the zero padding).
        preprocess: function applied to the image (a backend tensor, values in
            ``value_range``) before the model, written with ``keras.ops``, e.g.
            VGG16's ImageNet preprocessing. ``None``: the model reads the image as is.
        value_range: ``(low, high)`` the image is clipped to after each step;
            ``None`` leaves it unbounded.
        start: starting image ``(height, width, channels)``; default grey
            (the middle of ``value_range``) plus uniform noise of +-0.1 of its width.
        seed: seed of the starting noise and the jitter.

    Returns:
        ``(image, activations)``: the optimised image, float32 ``(height, width,
        channels)`` in model-input units before ``preprocess`` (show it with
        :func:`deprocess_image`), and the mean activation of the filter before
        each step (of the shifted image when ``jitter`` is on) and after the
        last one, ``(steps + 1,)``.

    Raises:
        ValueError: unknown layer (the message lists the model's layers), a
            layer without feature maps, a filter index out of range, or a bad
            setting.

    Example:
        >>> image, activations = visualize_filter(vgg, "block3_conv1", 7, image_size=(128, 128),
        ...                                       steps=40, preprocess=vgg_preprocess)
        >>> activations[-1] > activations[0]
        True
    """
    import keras

    layer = _feature_layer(model, layer_name, "layer_name")
    filters = int(layer.output.shape[-1])
    if (
        isinstance(filter_index, bool)
        or not isinstance(filter_index, numbers.Integral)
        or not 0 <= filter_index < filters
    ):
        raise ValueError(
            f"Expected `filter_index` to be in [0, {filters}) for layer {layer_name!r}. "
            f"Received: filter_index={filter_index!r}"
        )
    steps = _positive_int(steps, "steps")
    step_size = _non_negative_number(step_size, "step_size")
    blur_sigma = _non_negative_number(blur_sigma, "blur_sigma")
    if isinstance(jitter, bool) or not isinstance(jitter, numbers.Integral) or jitter < 0:
        raise ValueError(
            f"Expected `jitter` to be a non-negative integer. Received: jitter={jitter!r}"
        )
    if isinstance(border, bool) or not isinstance(border, numbers.Integral) or border < 0:
        raise ValueError(
            f"Expected `border` to be a non-negative integer. Received: border={border!r}"
        )
    if preprocess is not None and not callable(preprocess):
        raise ValueError(
            f"Expected `preprocess` to be None or a function. Received: preprocess={preprocess!r}"
        )
    if value_range is not None and (len(value_range) != 2 or not value_range[0] < value_range[1]):
        raise ValueError(
            f"Expected `value_range` to be None or (low, high) with low < high. Received: value_range={value_range!r}"
        )

    input_shape = tuple(model.inputs[0].shape[1:])  # (height, width, channels), maybe with None
    if image_size is None:
        if None in input_shape[:2]:
            raise ValueError(
                f"Expected `image_size=(height, width)`: model {model.name!r} accepts any size. "
                "Received: image_size=None"
            )
        image_size = input_shape[:2]
    if (
        not isinstance(image_size, (tuple, list))
        or len(image_size) != 2
        or not all(isinstance(size, numbers.Integral) and size > 0 for size in image_size)
    ):
        raise ValueError(
            f"Expected `image_size` to be (height, width), two positive integers. Received: image_size={image_size!r}"
        )
    shape = (int(image_size[0]), int(image_size[1]), int(input_shape[-1]))
    rng = np.random.default_rng(seed)
    low, high = value_range if value_range is not None else (0.0, 1.0)
    if start is None:
        middle, spread = 0.5 * (low + high), 0.1 * (high - low)
        image = (middle + rng.uniform(-spread, spread, size=shape)).astype(np.float32)
    else:
        image = np.array(start, dtype=np.float32)
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
