"""EfficientNet (Tan and Le, 2019): compound scaling of depth, width and resolution.

`efficientnet_b0` creates the same layers, names and weights, in the same
order, as `keras.applications.EfficientNetB0`, so its ImageNet weights load
into it.
"""

import math
from typing import NamedTuple

import keras
from keras import layers

from coursepkg import validation

from ._common import (
    MAX_BLOCKS,
    check_activation,
    check_bool,
    check_count,
    check_filters,
    check_head,
    check_imagenet_arguments,
    check_input_shape,
    check_kernel_size,
    check_name,
    check_num_classes,
    check_rate,
    check_strides,
    check_tensor,
    check_tensor_channels,
    global_pooling,
)
from ._weights import copy_weights, imagenet_reference

B0_SHAPE = (224, 224, 3)
# Bounds of the scaling arguments: B7 is phi = 7 (width 2.0, depth 3.1), the noisy-student
# L2 width 4.3 and depth 5.3; a little beyond, and never a width of a million.
MAX_COEFFICIENT = 6.0  # width_coefficient and depth_coefficient
MAX_PHI = 16.0  # compound coefficient
MAX_BASE = 2.0  # alpha, beta and gamma (their product alpha * beta**2 * gamma**2 is about 2)
MAX_EXPAND_RATIO = 8  # channels inside an MBConv block per channel in (1 or 6 in B0)
MAX_DIVISOR = 1024  # channel counts are rounded to a multiple of this
IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)
# The initialisers of keras.applications (and of the paper's TensorFlow code).
CONV_KERNEL_INITIALIZER = keras.initializers.VarianceScaling(
    scale=2.0, mode="fan_out", distribution="truncated_normal"
)
DENSE_KERNEL_INITIALIZER = keras.initializers.VarianceScaling(
    scale=1.0 / 3.0, mode="fan_out", distribution="uniform"
)


class ScalingFactors(NamedTuple):
    """Multipliers of compound scaling for one value of phi."""

    depth: float  # alpha ** phi: multiplies the number of layers of each stage
    width: float  # beta ** phi: multiplies the number of channels of each layer
    resolution: float  # gamma ** phi: multiplies the input height and width
    flops: float  # (alpha * beta**2 * gamma**2) ** phi: multiplies the cost, about 2 ** phi


class _MBConvStageFields(NamedTuple):
    kernel_size: int  # of the depthwise convolution
    repeats: int  # number of blocks, before depth scaling
    filters_in: int  # channels entering the stage, before width scaling
    filters_out: int  # channels of every block's output, before width scaling
    expand_ratio: int  # MBConv1 or MBConv6: channels are multiplied by this inside a block
    strides: int  # of the first block of the stage


class MBConvStage(_MBConvStageFields):
    """One row of table 1 of the EfficientNet paper, checked when it is made.

    Args:
        kernel_size: Kernel of the depthwise convolutions, in [1, 31].
        repeats: Number of blocks before depth scaling, in [1, 200].
        filters_in: Channels entering the stage before width scaling, in [1, 8192].
        filters_out: Channels of every block's output before width scaling, in [1, 8192].
        expand_ratio: Expansion of the channels inside a block, in [1, 8].
        strides: Stride of the first block of the stage, in [1, 8].

    Introduced in: book/11_efficientnet.ipynb
    """

    __slots__ = ()

    def __new__(cls, kernel_size, repeats, filters_in, filters_out, expand_ratio, strides):
        return super().__new__(
            cls,
            check_kernel_size("kernel_size", kernel_size),
            check_count("repeats", repeats, MAX_BLOCKS),
            check_filters("filters_in", filters_in),
            check_filters("filters_out", filters_out),
            check_count("expand_ratio", expand_ratio, MAX_EXPAND_RATIO),
            check_strides("strides", strides),
        )


# EfficientNet-B0, stages 2 to 8 of table 1; every block has squeeze-and-excitation 0.25.
B0_STAGES = (
    MBConvStage(3, 1, 32, 16, 1, 1),
    MBConvStage(3, 2, 16, 24, 6, 2),
    MBConvStage(5, 2, 24, 40, 6, 2),
    MBConvStage(3, 3, 40, 80, 6, 2),
    MBConvStage(5, 3, 80, 112, 6, 1),
    MBConvStage(5, 4, 112, 192, 6, 2),
    MBConvStage(3, 1, 192, 320, 6, 1),
)


def compound_scaling(phi, alpha=1.2, beta=1.1, gamma=1.15, tolerance=0.05):
    """Returns the depth, width and resolution multipliers of compound scaling.

    Depth is multiplied by `alpha ** phi`, width by `beta ** phi` and
    resolution by `gamma ** phi`. The cost of a convolutional network grows
    like depth, width squared and resolution squared, so under the constraint
    `alpha * beta**2 * gamma**2 ~= 2` each step of `phi` doubles it. The
    defaults are the values the paper found by grid search at `phi = 1`, for
    which `alpha * beta**2 * gamma**2 = 1.92`.

    The released EfficientNet-B1 to B7 use rounded, hand-tuned multipliers
    rather than these formulas (B1 is width 1.0, depth 1.1, 240 pixels).

    Reference:
        [EfficientNet: Rethinking Model Scaling for Convolutional Neural
        Networks](https://arxiv.org/abs/1905.11946) (Tan and Le, ICML 2019),
        equation 3.

    Args:
        phi: Compound coefficient (the resources available), a number in
            [0, 16] (B7 is 7).
        alpha: Depth base, a number in [1, 2].
        beta: Width base, a number in [1, 2].
        gamma: Resolution base, a number in [1, 2].
        tolerance: Largest accepted relative distance between
            `alpha * beta**2 * gamma**2` and 2, a number in [0, 1].

    Returns:
        `ScalingFactors(depth, width, resolution, flops)`.

    Raises:
        TypeError: if an argument is not a real number.
        ValueError: if an argument is outside its range (or not finite), or
            if `alpha * beta**2 * gamma**2` is further than `tolerance`
            (relative) from 2. The constraint is
            enforced rather than warned about so that a notebook cannot
            silently continue with bases that do not double the cost.

    Example:
        >>> factors = compound_scaling(1)
        >>> round(factors.resolution * 224)
        258

    Introduced in: book/11_efficientnet.ipynb
    """
    phi = validation.check_float("phi", phi, 0.0, MAX_PHI)
    alpha = validation.check_float("alpha", alpha, 1.0, MAX_BASE)
    beta = validation.check_float("beta", beta, 1.0, MAX_BASE)
    gamma = validation.check_float("gamma", gamma, 1.0, MAX_BASE)
    tolerance = validation.check_float("tolerance", tolerance, 0.0, 1.0)
    flops_base = alpha * beta**2 * gamma**2
    if abs(flops_base - 2) > tolerance * 2:
        raise ValueError(
            "Expected `alpha * beta**2 * gamma**2` to be close to 2 (within "
            f"tolerance={tolerance}). Received: alpha={alpha}, beta={beta}, gamma={gamma}, "
            f"giving {flops_base:.4f}"
        )
    return ScalingFactors(
        depth=alpha**phi, width=beta**phi, resolution=gamma**phi, flops=flops_base**phi
    )


def round_filters(filters, width_coefficient, divisor=8):
    """Scales a number of channels by `width_coefficient`, rounded to a multiple of `divisor`.

    Rounding never goes down by more than 10%, nor below `divisor`.

    Args:
        filters: Channels before scaling, an integer in [1, 8192].
        width_coefficient: Multiplier, a number in (0, 6].
        divisor: The result is a multiple of it, an integer in [1, 1024].

    Returns:
        The scaled number of channels, an `int`.

    Example:
        >>> round_filters(32, 1.1)
        32

    Introduced in: book/11_efficientnet.ipynb
    """
    filters = check_filters("filters", filters)
    width_coefficient = _check_coefficient("width_coefficient", width_coefficient)
    divisor = check_count("divisor", divisor, MAX_DIVISOR)
    scaled = filters * width_coefficient
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * scaled:
        rounded += divisor
    return int(rounded)


def round_repeats(repeats, depth_coefficient):
    """Scales a number of blocks by `depth_coefficient`, rounded up.

    Args:
        repeats: Blocks before scaling, an integer in [1, 200].
        depth_coefficient: Multiplier, a number in (0, 6].

    Returns:
        The scaled number of blocks, an `int` (at least 1).

    Example:
        >>> round_repeats(3, 1.1)
        4

    Introduced in: book/11_efficientnet.ipynb
    """
    repeats = check_count("repeats", repeats, MAX_BLOCKS)
    depth_coefficient = _check_coefficient("depth_coefficient", depth_coefficient)
    return int(math.ceil(depth_coefficient * repeats))


def _check_coefficient(name, value):
    """A width or depth multiplier: a finite number in (0, MAX_COEFFICIENT]."""
    return validation.check_float(name, value, 0.0, MAX_COEFFICIENT, low_inclusive=False)


def _correct_pad(x, kernel_size):
    """Zero padding that makes a stride-2 "valid" convolution match TensorFlow's "same"."""
    height = x.shape[1]
    adjust = 1 if height is None else 1 - height % 2
    half = kernel_size // 2
    return ((half - adjust, half), (half - adjust, half))


def mbconv_block(
    x,
    filters_in,
    filters_out,
    kernel_size=3,
    strides=1,
    expand_ratio=6,
    se_ratio=0.25,
    drop_rate=0.0,
    activation="swish",
    name="block",
):
    """Applies an MBConv block: expand 1x1, depthwise, squeeze-and-excitation, project 1x1.

    The inverted residual block of MobileNetV2 with squeeze-and-excitation:
    a 1x1 convolution multiplies the channels by `expand_ratio`, a depthwise
    convolution filters each of them, a squeeze-and-excitation branch
    reweights the channels from their global averages, and a 1x1 convolution
    projects back to `filters_out` channels, without activation. When the
    shape is unchanged the input is added back, after stochastic depth
    (dropping the whole residual branch of a sample with probability
    `drop_rate` during training).

    Reference:
        [EfficientNet](https://arxiv.org/abs/1905.11946) (Tan and Le, 2019);
        [MobileNetV2](https://arxiv.org/abs/1801.04381) (Sandler et al., 2018).

    Args:
        x: Input Keras tensor `(batch, height, width, filters_in)`.
        filters_in: Channels of `x`, an integer in [1, 8192].
        filters_out: Channels of the output, an integer in [1, 8192].
        kernel_size: Kernel of the depthwise convolution (3 or 5 in B0), in
            [1, 31].
        strides: Stride of the depthwise convolution, in [1, 8].
        expand_ratio: Expansion of the channels (1 or 6 in B0), in [1, 8].
        se_ratio: Squeeze-and-excitation bottleneck, as a fraction of
            `filters_in`, a number in [0, 1]; 0 disables it.
        drop_rate: Stochastic depth rate of the residual branch, in [0, 1).
        activation: Activation, a Keras activation name or a function
            (swish in EfficientNet).
        name: Prefix of the layer names (`block1a` gives `block1a_dwconv`,
            `block1a_se_squeeze`, `block1a_project_conv`, ... as in Keras), a
            non-empty string without `/`.

    Returns:
        Tensor `(batch, height / strides, width / strides, filters_out)`.

    Example:
        >>> inputs = keras.Input((112, 112, 32))
        >>> mbconv_block(inputs, 32, 16, expand_ratio=1, name="block1a").shape
        (None, 112, 112, 16)

    Introduced in: book/11_efficientnet.ipynb
    """
    check_tensor("x", x)
    filters_in = check_filters("filters_in", filters_in)
    check_tensor_channels("filters_in", x, filters_in)
    filters_out = check_filters("filters_out", filters_out)
    kernel_size = check_kernel_size("kernel_size", kernel_size)
    strides = check_strides("strides", strides)
    expand_ratio = check_count("expand_ratio", expand_ratio, MAX_EXPAND_RATIO)
    se_ratio = validation.check_float("se_ratio", se_ratio, 0.0, 1.0)
    drop_rate = check_rate("drop_rate", drop_rate)
    check_activation("activation", activation, allow_none=False)
    check_name(name)
    inputs = x

    # Expansion: 1x1 convolution to filters_in * expand_ratio channels.
    filters = filters_in * expand_ratio
    if expand_ratio != 1:
        x = layers.Conv2D(
            filters,
            1,
            padding="same",
            use_bias=False,
            kernel_initializer=CONV_KERNEL_INITIALIZER,
            name=f"{name}_expand_conv",
        )(x)
        x = layers.BatchNormalization(name=f"{name}_expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}_expand_activation")(x)

    # Depthwise convolution.
    if strides == 2:
        x = layers.ZeroPadding2D(_correct_pad(x, kernel_size), name=f"{name}_dwconv_pad")(x)
        padding = "valid"
    else:
        padding = "same"
    x = layers.DepthwiseConv2D(
        kernel_size,
        strides=strides,
        padding=padding,
        use_bias=False,
        depthwise_initializer=CONV_KERNEL_INITIALIZER,
        name=f"{name}_dwconv",
    )(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    x = layers.Activation(activation, name=f"{name}_activation")(x)

    # Squeeze and excitation: one weight in (0, 1) per channel, from its global average.
    if se_ratio > 0:
        filters_se = max(1, int(filters_in * se_ratio))
        se = layers.GlobalAveragePooling2D(name=f"{name}_se_squeeze")(x)  # (batch, filters)
        se = layers.Reshape((1, 1, filters), name=f"{name}_se_reshape")(se)
        se = layers.Conv2D(
            filters_se,
            1,
            padding="same",
            activation=activation,
            kernel_initializer=CONV_KERNEL_INITIALIZER,
            name=f"{name}_se_reduce",
        )(se)
        se = layers.Conv2D(
            filters,
            1,
            padding="same",
            activation="sigmoid",
            kernel_initializer=CONV_KERNEL_INITIALIZER,
            name=f"{name}_se_expand",
        )(se)
        x = layers.Multiply(name=f"{name}_se_excite")([x, se])

    # Projection: 1x1 convolution to filters_out channels, no activation.
    x = layers.Conv2D(
        filters_out,
        1,
        padding="same",
        use_bias=False,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name=f"{name}_project_conv",
    )(x)
    x = layers.BatchNormalization(name=f"{name}_project_bn")(x)
    if strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}_drop")(x)
        x = layers.Add(name=f"{name}_add")([x, inputs])
    return x


def efficientnet(
    width_coefficient=1.0,
    depth_coefficient=1.0,
    input_shape=B0_SHAPE,
    num_classes=1000,
    include_top=True,
    pooling=None,
    include_preprocessing=True,
    dropout_rate=0.2,
    drop_connect_rate=0.2,
    classifier_activation="softmax",
    name="efficientnet",
):
    """Builds an EfficientNet from its width and depth multipliers.

    Reference:
        [EfficientNet: Rethinking Model Scaling for Convolutional Neural
        Networks](https://arxiv.org/abs/1905.11946) (Tan and Le, ICML 2019)

    A 3x3/2 stem convolution, seven stages of `mbconv_block`s (table 1 of
    the paper, `B0_STAGES`), a 1x1 convolution to 1280 channels, global
    average pooling, dropout and a dense classifier. Channels are scaled by
    `width_coefficient` and the number of blocks by `depth_coefficient`; the
    resolution is `input_shape`. With `compound_scaling(phi)`:

        factors = compound_scaling(1)
        size = round(224 * factors.resolution)
        model = efficientnet(factors.width, factors.depth, (size, size, 3))

    Args:
        width_coefficient: Multiplier of the channels, a number in (0, 6]
            (B7: 2.0).
        depth_coefficient: Multiplier of the number of blocks per stage, a
            number in (0, 6] (B7: 3.1).
        input_shape: `(height, width, channels)`, at least 32x32 (and at
            most 8192x8192); `None` height and width are allowed.
        num_classes: Number of output classes, an integer in [1, 100,000].
        include_top: Whether to add the pooling and classifier.
        pooling: With `include_top=False`: `None`, `"avg"` or `"max"`.
        include_preprocessing: Whether the model starts, like
            `keras.applications`' EfficientNets, with a `Rescaling(1/255)`
            layer and a `Normalization` layer, so that it takes pixels in
            [0, 255]. The `Normalization` layer holds 7 weights (mean and
            variance per channel, and a count); with random initialisation it
            is the identity until adapted (`model.get_layer("normalization")
            .adapt(images)`) or loaded with ImageNet weights.
        dropout_rate: Dropout before the classifier, a number in [0, 1).
        drop_connect_rate: Stochastic depth rate of the last block, a number
            in [0, 1); it grows linearly from 0 at the first block.
        classifier_activation: Activation of `predictions` (a Keras
            activation name or a function); `None` returns logits.
        name: Name of the model (a non-empty string without `/`).

    Returns:
        A `keras.Model`.

    Example:
        >>> model = efficientnet(1.0, 1.1, input_shape=(240, 240, 3), name="b1")
        >>> model.count_params()
        7856239

    Introduced in: book/11_efficientnet.ipynb
    """
    arguments = _check_efficientnet_arguments(
        width_coefficient,
        depth_coefficient,
        input_shape=input_shape,
        num_classes=num_classes,
        include_top=include_top,
        pooling=pooling,
        include_preprocessing=include_preprocessing,
        dropout_rate=dropout_rate,
        drop_connect_rate=drop_connect_rate,
        classifier_activation=classifier_activation,
        name=name,
    )
    return _build_efficientnet(**arguments, imagenet_rescaling=False)


def efficientnet_b0(
    include_top=True,
    weights=None,
    input_shape=B0_SHAPE,
    num_classes=1000,
    pooling=None,
    include_preprocessing=True,
    dropout_rate=0.2,
    drop_connect_rate=0.2,
    classifier_activation="softmax",
):
    """Builds EfficientNet-B0, the network found by architecture search: 5,330,571 parameters.

    Reference:
        [EfficientNet: Rethinking Model Scaling for Convolutional Neural
        Networks](https://arxiv.org/abs/1905.11946) (Tan and Le, ICML 2019),
        table 1.

    Same layers, names and weights, in the same order, as
    `keras.applications.EfficientNetB0`: 5,330,571 parameters, of which
    5,288,548 are trainable (the paper's 5.3M) and 42,023 are not (batch
    normalisation statistics, and the 7 weights of the input `Normalization`
    layer). With `include_preprocessing=False` the two preprocessing layers
    are left out and the count is 5,330,564.

    With `weights="imagenet"` the model also gets, as in Keras, a third
    preprocessing layer (`Rescaling` by `1 / sqrt(std)` per channel) that
    corrects the variance stored in the ImageNet weight file (TensorFlow
    issue 49930); it has no weights.

    Args:
        include_top: Whether to add the pooling and classifier.
        weights: `None` (random initialisation) or `"imagenet"` (download the
            weights of `keras.applications.EfficientNetB0` and copy them in;
            needs `include_preprocessing=True`, and `num_classes=1000` with a
            224x224x3 input when `include_top=True`).
        input_shape: `(height, width, channels)`, at least 32x32 (and at
            most 8192x8192); `None` height and width are allowed.
        num_classes: Number of output classes, an integer in [1, 100,000].
        pooling: With `include_top=False`: `None`, `"avg"` or `"max"`.
        include_preprocessing: Whether to start with the `Rescaling` and
            `Normalization` layers (inputs are then pixels in [0, 255]).
        dropout_rate: Dropout before the classifier, a number in [0, 1).
        drop_connect_rate: Stochastic depth rate of the last block, a number
            in [0, 1).
        classifier_activation: Activation of `predictions` (a Keras
            activation name or a function); `None` returns logits.

    Returns:
        A `keras.Model` named `"efficientnetb0"`.

    Raises:
        coursepkg.downloads.DownloadError: with `weights="imagenet"`, when the
            weight file cannot be downloaded (checked before building).

    Example:
        >>> efficientnet_b0().count_params()
        5330571

    Introduced in: book/11_efficientnet.ipynb
    """
    arguments = _check_efficientnet_arguments(
        1.0,
        1.0,
        input_shape=input_shape,
        num_classes=num_classes,
        include_top=include_top,
        pooling=pooling,
        include_preprocessing=include_preprocessing,
        dropout_rate=dropout_rate,
        drop_connect_rate=drop_connect_rate,
        classifier_activation=classifier_activation,
        name="efficientnetb0",
    )
    check_imagenet_arguments(
        weights,
        arguments["include_top"],
        arguments["num_classes"],
        arguments["input_shape"],
        B0_SHAPE,
    )
    if weights == "imagenet" and not arguments["include_preprocessing"]:
        raise ValueError(
            "Expected `include_preprocessing=True` with `weights='imagenet'`, since the "
            "weights include those of the Normalization layer. "
            f"Received: include_preprocessing={include_preprocessing}"
        )
    reference = None
    if weights == "imagenet":  # downloaded before building ours: offline, this fails at once
        reference = imagenet_reference(
            keras.applications.EfficientNetB0,
            include_top=arguments["include_top"],
            input_shape=arguments["input_shape"],
            classifier_activation=None,
        )
    model = _build_efficientnet(**arguments, imagenet_rescaling=reference is not None)
    return model if reference is None else copy_weights(reference, model)


def _check_efficientnet_arguments(
    width_coefficient,
    depth_coefficient,
    input_shape,
    num_classes,
    include_top,
    pooling,
    include_preprocessing,
    dropout_rate,
    drop_connect_rate,
    classifier_activation,
    name,
):
    """Checks every argument of `efficientnet` and returns them cleaned, as a dict."""
    include_top, pooling, classifier_activation = check_head(
        include_top, pooling, classifier_activation
    )
    return dict(
        width_coefficient=_check_coefficient("width_coefficient", width_coefficient),
        depth_coefficient=_check_coefficient("depth_coefficient", depth_coefficient),
        input_shape=check_input_shape(input_shape, min_size=32, allow_unknown_size=True),
        num_classes=check_num_classes(num_classes),
        include_top=include_top,
        pooling=pooling,
        include_preprocessing=check_bool("include_preprocessing", include_preprocessing),
        dropout_rate=check_rate("dropout_rate", dropout_rate),
        drop_connect_rate=check_rate("drop_connect_rate", drop_connect_rate),
        classifier_activation=classifier_activation,
        name=check_name(name),
    )


def _build_efficientnet(
    width_coefficient,
    depth_coefficient,
    input_shape,
    num_classes,
    include_top,
    pooling,
    include_preprocessing,
    dropout_rate,
    drop_connect_rate,
    classifier_activation,
    name,
    imagenet_rescaling,
):
    """Builds the network of `efficientnet` from checked arguments.

    `imagenet_rescaling` adds Keras's correction of the variance of ImageNet weights.
    """
    inputs = keras.Input(shape=input_shape, name="image")  # (batch, 224, 224, 3), pixels 0-255
    x = inputs
    if include_preprocessing:
        x = layers.Rescaling(1.0 / 255.0, name="rescaling")(x)
        x = layers.Normalization(axis=-1, name="normalization")(x)
        if imagenet_rescaling:
            x = layers.Rescaling(
                [1.0 / math.sqrt(stddev) for stddev in IMAGENET_STDDEV_RGB],
                name="rescaling_imagenet_variance",
            )(x)

    # Stem.
    x = layers.ZeroPadding2D(_correct_pad(x, 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(
        round_filters(32, width_coefficient),
        3,
        strides=2,
        padding="valid",
        use_bias=False,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name="stem_conv",
    )(x)  # (batch, 112, 112, 32)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation("swish", name="stem_activation")(x)

    # Stages of MBConv blocks, named block1a, block2a, block2b, ...
    total_blocks = sum(round_repeats(stage.repeats, depth_coefficient) for stage in B0_STAGES)
    block_number = 0
    for stage_index, stage in enumerate(B0_STAGES, start=1):
        filters_in = round_filters(stage.filters_in, width_coefficient)
        filters_out = round_filters(stage.filters_out, width_coefficient)
        for repeat in range(round_repeats(stage.repeats, depth_coefficient)):
            x = mbconv_block(
                x,
                filters_in if repeat == 0 else filters_out,
                filters_out,
                kernel_size=stage.kernel_size,
                strides=stage.strides if repeat == 0 else 1,
                expand_ratio=stage.expand_ratio,
                se_ratio=0.25,
                drop_rate=drop_connect_rate * block_number / total_blocks,
                name=f"block{stage_index}{chr(ord('a') + repeat)}",
            )
            block_number += 1
    # (batch, 7, 7, 320) for B0

    # Head.
    x = layers.Conv2D(
        round_filters(1280, width_coefficient),
        1,
        padding="same",
        use_bias=False,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name="top_conv",
    )(x)
    x = layers.BatchNormalization(name="top_bn")(x)
    x = layers.Activation("swish", name="top_activation")(x)  # (batch, 7, 7, 1280)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        x = layers.Dense(
            num_classes,
            activation=classifier_activation,
            kernel_initializer=DENSE_KERNEL_INITIALIZER,
            name="predictions",
        )(x)
    else:
        x = global_pooling(x, pooling)
    return keras.Model(inputs, x, name=name)
