"""Argument checks and small pieces shared by the architecture builders.

Every builder checks its arguments before creating a single layer, so that a
wrong value fails with a message naming the argument and showing what arrived,
instead of an obscure shape error deep inside Keras.
"""

import numbers

from keras import layers

POOLING_CHOICES = (None, "avg", "max")
WEIGHTS_CHOICES = (None, "imagenet")


def check_positive_int(name, value):
    """Raises `ValueError` unless `value` is an integer greater than zero."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"Expected `{name}` to be a positive integer. Received: {name}={value!r}")


def check_positive_ints(name, values, length=None):
    """Raises `ValueError` unless `values` is a sequence of positive integers."""
    valid = isinstance(values, list | tuple) and len(values) > 0
    if valid:
        valid = all(
            isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0
            for value in values
        )
    if valid and length is not None:
        valid = len(values) == length
    if not valid:
        what = "a non-empty sequence" if length is None else f"a sequence of {length}"
        raise ValueError(
            f"Expected `{name}` to be {what} positive integers. Received: {name}={values!r}"
        )


def check_rate(name, value):
    """Raises `ValueError` unless `value` is a number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"Expected `{name}` to be a number in [0, 1). Received: {name}={value!r}")


def check_choice(name, value, choices):
    """Raises `ValueError` unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(f"Expected `{name}` to be one of {choices}. Received: {name}={value!r}")


def check_input_shape(input_shape, min_size, allow_unknown_size=False, channels=None):
    """Raises `ValueError` unless `input_shape` is a valid `(height, width, channels)`.

    Args:
        input_shape: The value to check.
        min_size: Smallest height and width the architecture can take (the
            size at which the last downsampling still leaves one pixel).
        allow_unknown_size: Whether height and width may be `None` (any size),
            which only works for networks that end with global pooling.
        channels: If given, the number of channels the architecture requires.

    Returns:
        The shape as a tuple.
    """
    problem = None
    if not isinstance(input_shape, list | tuple) or len(input_shape) != 3:
        problem = "a tuple (height, width, channels)"
    else:
        height, width, depth = input_shape
        for size in (height, width):
            if size is None and allow_unknown_size:
                continue
            if isinstance(size, bool) or not isinstance(size, numbers.Integral):
                problem = "a tuple of integers (height, width, channels)"
            elif size < min_size:
                problem = f"at least {min_size}x{min_size} pixels for this architecture"
        if isinstance(depth, bool) or not isinstance(depth, numbers.Integral) or depth <= 0:
            problem = "a tuple whose last entry (channels) is a positive integer"
        elif channels is not None and depth != channels:
            problem = f"a tuple with {channels} channels"
    if problem is not None:
        raise ValueError(
            f"Expected `input_shape` to be {problem}. Received: input_shape={input_shape!r}"
        )
    return tuple(input_shape)


def check_imagenet_arguments(weights, include_top, num_classes, input_shape, default_shape):
    """Checks the arguments that ImageNet weights constrain.

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
