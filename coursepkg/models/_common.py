"""Argument checks and small pieces shared by the architecture builders.

Every builder checks its arguments before creating a single layer, so that a
wrong value fails in milliseconds with a message naming the argument and
showing what arrived, instead of an obscure shape error deep inside Keras, or
a process that builds a network of a million layers until it runs out of
memory. The checks are those of `coursepkg.validation`, with the bounds below,
so the same mistake gets the same message in every module of the package.
"""

import numbers

import keras
from keras import layers

from coursepkg import validation
from coursepkg.validation import check_bool, check_choice  # noqa: F401 (the builders import them from here)

POOLING_CHOICES = (None, "avg", "max")
WEIGHTS_CHOICES = (None, "imagenet")

# Upper bounds of the builders' arguments. Each admits every configuration of the
# chapters and of the papers, with room, and refuses a typo before a layer is built.
MAX_CHANNELS = 8192  # filters, channels, units: VGG's 4096-unit layers, EfficientNet-B7's 2560
MAX_CLASSES = 100_000  # ImageNet-21k has 21,843 classes
MAX_IMAGE_SIZE = 8192  # height and width of an input, in pixels
MAX_KERNEL_SIZE = 31  # AlexNet's 11x11, ConvNeXt's 7x7
MAX_STRIDES = 8  # AlexNet's and ConvNeXt's stems use 4
MAX_BLOCKS = 200  # blocks (or convolutions) per stage: ResNet-1202 has 200 per stage
MAX_STAGES = 8  # stages (or blocks) of a network, each halving the size
MAX_NAME_LENGTH = 200  # characters of a model name or a layer-name prefix


def check_count(name, value, high):
    """An integer in `[1, high]`, returned as a Python `int`."""
    return validation.check_int(name, value, 1, high)


def check_filters(name, value):
    """A number of filters, channels or units: an integer in `[1, MAX_CHANNELS]`."""
    return validation.check_int(name, value, 1, MAX_CHANNELS)


def check_num_classes(value):
    """A number of classes: an integer in `[1, MAX_CLASSES]`."""
    return validation.check_int("num_classes", value, 1, MAX_CLASSES)


def check_kernel_size(name, value):
    """A kernel height and width: an integer in `[1, MAX_KERNEL_SIZE]`."""
    return validation.check_int(name, value, 1, MAX_KERNEL_SIZE)


def check_strides(name, value):
    """A stride: an integer in `[1, MAX_STRIDES]`."""
    return validation.check_int(name, value, 1, MAX_STRIDES)


def check_rate(name, value):
    """A dropout or stochastic-depth rate: a finite number in `[0, 1)`."""
    return validation.check_float(name, value, 0.0, 1.0, high_inclusive=False)


def check_sizes(name, values, high, length=None):
    """A tuple of 1 to `MAX_STAGES` integers in `[1, high]` (exactly `length` if given)."""
    lengths = range(1, MAX_STAGES + 1) if length is None else length
    return validation.check_shape(name, values, length=lengths, low=1, high=high)


def check_name(value, argument="name"):
    """A model name or layer-name prefix: a non-empty string without `/`, at most 200 characters."""
    validation.check_str(argument, value, max_length=MAX_NAME_LENGTH)
    if "/" in value:
        raise ValueError(
            f"Expected `{argument}` to be a name without '/' (Keras refuses it). "
            f"Received: {argument}={value!r}"
        )
    return value


def check_activation(name, value, allow_none=True):
    """An activation Keras knows by name (`"relu"`, `"softmax"`, ...) or a function.

    Args:
        name: The argument's name, for the message.
        value: What arrived.
        allow_none: Whether `None` (no activation: logits) is accepted.

    Returns:
        `value`, unchanged.

    Raises:
        TypeError: neither a string nor a function (nor an accepted `None`).
        ValueError: a string that names no Keras activation.
    """
    if value is None and allow_none:
        return None
    if callable(value) and not isinstance(value, type):
        return value
    expected = f"Expected `{name}` to be the name of a Keras activation or a function"
    if allow_none:
        expected += " (or None for logits)"
    if not isinstance(value, str):
        raise TypeError(f"{expected}. Received: {name}={value!r:.80}")
    try:
        keras.activations.get(value)
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(f"{expected}. Received: {name}={value!r:.80}") from error
    return value


def check_tensor(name, value, min_size=1):
    """A symbolic or eager Keras tensor `(batch, height, width, channels)`.

    Args:
        name: The argument's name, for the message.
        value: What arrived, for example `keras.Input((32, 32, 3))`.
        min_size: Smallest height and width (where they are known).

    Returns:
        `value`, unchanged.
    """
    is_tensor = keras.backend.is_keras_tensor(value) or keras.ops.is_tensor(value)
    if not is_tensor:
        raise TypeError(
            f"Expected `{name}` to be a Keras tensor (batch, height, width, channels), "
            f"such as keras.Input((32, 32, 3)). Received: {name}={value!r:.80}"
        )
    shape = tuple(value.shape)
    if len(shape) != 4:
        raise ValueError(
            f"Expected `{name}` to have 4 axes (batch, height, width, channels). "
            f"Received: {name} with shape {shape}"
        )
    if any(size is not None and size < min_size for size in shape[1:3]):
        raise ValueError(
            f"Expected `{name}` to be at least {min_size}x{min_size} pixels. "
            f"Received: {name} with shape {shape}"
        )
    return value


def check_tensor_channels(argument, tensor, channels):
    """Raises unless `tensor` has `channels` channels, naming the argument that set them."""
    if tensor.shape[-1] is not None and tensor.shape[-1] != channels:
        raise ValueError(
            f"Expected `{argument}` to equal the channels of `x`, {tensor.shape[-1]}. "
            f"Received: {argument}={channels}"
        )


def check_input_shape(input_shape, min_size, allow_unknown_size=False, channels=None):
    """Checks an input shape `(height, width, channels)` and returns it as a tuple of ints.

    Args:
        input_shape: The value to check.
        min_size: Smallest height and width the architecture can take (the
            size at which the last downsampling still leaves one pixel).
        allow_unknown_size: Whether height and width may be `None` (any size),
            which only works for networks that end with global pooling.
        channels: If given, the number of channels the architecture requires.

    Returns:
        The shape as a tuple of Python ints (and `None` where allowed).

    Raises:
        TypeError: not a tuple or list of three integers.
        ValueError: a height or width outside `[min_size, MAX_IMAGE_SIZE]`,
            or channels outside `[1, MAX_CHANNELS]` (or not `channels`).
    """
    received = f"Received: input_shape={input_shape!r:.80}"
    if not isinstance(input_shape, list | tuple):
        raise TypeError(
            f"Expected `input_shape` to be a tuple (height, width, channels). {received}"
        )
    if len(input_shape) != 3:
        raise ValueError(
            f"Expected `input_shape` to be a tuple of 3 entries (height, width, channels). "
            f"{received}"
        )
    for index, size in enumerate(input_shape):
        if size is None and index < 2:
            if allow_unknown_size:
                continue
            raise ValueError(
                "Expected `input_shape` to have a known height and width for this architecture "
                f"(`None` is allowed only where the network ends with global pooling). {received}"
            )
        if isinstance(size, bool) or not isinstance(size, numbers.Integral):
            raise TypeError(
                f"Expected `input_shape` to be a tuple of integers (height, width, channels). "
                f"{received}"
            )
    height, width, depth = input_shape
    for size in (height, width):
        if size is not None and not min_size <= size <= MAX_IMAGE_SIZE:
            raise ValueError(
                f"Expected `input_shape` to be at least {min_size}x{min_size} pixels for this "
                f"architecture (and at most {MAX_IMAGE_SIZE}x{MAX_IMAGE_SIZE}). {received}"
            )
    if not 1 <= depth <= MAX_CHANNELS:
        raise ValueError(
            f"Expected `input_shape` to end with a number of channels in [1, {MAX_CHANNELS}]. "
            f"{received}"
        )
    if channels is not None and depth != channels:
        raise ValueError(
            f"Expected `input_shape` to be a tuple with {channels} channels. {received}"
        )
    return tuple(None if size is None else int(size) for size in input_shape)


def check_imagenet_arguments(weights, include_top, num_classes, input_shape, default_shape):
    """Checks the arguments that ImageNet weights constrain (after each was checked alone).

    ImageNet weights come with a 1000-way classifier trained on
    `default_shape` images, so with `include_top=True` both are fixed.
    """
    check_choice("weights", weights, WEIGHTS_CHOICES)
    if weights != "imagenet" or not include_top:
        return
    if num_classes != 1000:
        raise ValueError(
            "Expected `num_classes=1000` with `weights='imagenet'` and "
            f"`include_top=True`. Received: num_classes={num_classes!r}"
        )
    if tuple(input_shape) != tuple(default_shape):
        raise ValueError(
            f"Expected `input_shape={tuple(default_shape)}` with `weights='imagenet'` and "
            f"`include_top=True`. Received: input_shape={input_shape!r}"
        )


def check_head(include_top, pooling, classifier_activation):
    """Checks the three arguments of a classifier head; returns them cleaned."""
    return (
        check_bool("include_top", include_top),
        check_choice("pooling", pooling, POOLING_CHOICES),
        check_activation("classifier_activation", classifier_activation),
    )


def global_pooling(x, pooling):
    """Applies the optional global pooling of a headless (`include_top=False`) model.

    Args:
        x: Feature maps, shape `(batch, height, width, channels)`.
        pooling: `None` (return the maps), `"avg"` or `"max"`.

    Returns:
        The pooled tensor `(batch, channels)`, or `x` when `pooling` is `None`.
    """
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x
