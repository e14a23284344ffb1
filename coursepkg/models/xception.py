"""Depthwise separable convolutions: Xception (Chollet, 2017) and MobileNet (Howard et al., 2017).

A depthwise separable convolution splits a standard convolution in two: a
depthwise convolution filters each channel on its own (spatial), then a 1x1
"pointwise" convolution mixes the channels. Both builders create the same
weights, in the same order, as `keras.applications.Xception` and
`keras.applications.MobileNet`, so their ImageNet weights load into them.
"""

import keras
from keras import layers

from coursepkg import validation
from coursepkg.convolution import conv_output_size

from ._common import (
    check_count,
    check_filters,
    check_head,
    check_imagenet_arguments,
    check_input_shape,
    check_kernel_size,
    check_name,
    check_num_classes,
    check_rate,
    check_tensor,
    global_pooling,
)
from ._counts import ConvCost, conv_cost
from ._weights import copy_weights, imagenet_reference

XCEPTION_SHAPE = (299, 299, 3)
# Two unpadded 3x3 convolutions (one with stride 2) and four "same" poolings:
# 71 is the smallest input that keras.applications.Xception accepts as well.
XCEPTION_MIN_SIZE = 71
MOBILENET_SHAPE = (224, 224, 3)
MAX_MIDDLE_BLOCKS = 64  # blocks of Xception's middle flow (8 in the paper)
MAX_ALPHA = 4.0  # MobileNet's width multiplier (0.25 to 1 in the paper)
MAX_DEPTH_MULTIPLIER = 8  # depthwise channels out per channel in (1 in the paper)
MAX_RELU_CAP = 1000.0  # the cap of a capped ReLU (6 in MobileNet)
# MobileNet v1 body: (pointwise filters, stride) of its 13 depthwise separable blocks.
MOBILENET_BLOCKS = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
)


def separable_conv_cost(
    input_shape, filters, kernel_size=3, strides=1, padding="same", use_bias=False
):
    """Compares a standard convolution with its depthwise separable version.

    For `k x k` kernels, `c` input and `f` output channels, and an
    `h x w` output:

    - standard: `k*k*c*f` weights and `h*w * k*k*c*f` multiplications;
    - depthwise then pointwise: `k*k*c + c*f` weights and
      `h*w * (k*k*c + c*f)` multiplications,

    a ratio of `1/f + 1/k^2`: about 8 to 9 times fewer for 3x3 kernels.

    Reference:
        [Xception: Deep Learning with Depthwise Separable Convolutions](
        https://arxiv.org/abs/1610.02357) (Chollet, CVPR 2017);
        [MobileNets](https://arxiv.org/abs/1704.04861) (Howard et al., 2017),
        section 3.1.

    Args:
        input_shape: `(height, width, channels)` of the input: height and
            width in [1, 8192], channels in [1, 8192].
        filters: Number of output channels, in [1, 8192].
        kernel_size: Kernel height and width, in [1, 31].
        strides: Stride of the (depthwise) convolution, in [1, 8].
        padding: `"same"` or `"valid"` (of the standard and the depthwise
            convolution).
        use_bias: Whether each convolution has biases (Xception and MobileNet
            have none, batch normalisation follows).

    Returns:
        A pair `(standard, separable)` of `ConvCost(parameters,
        multiplications)`.

    Example:
        >>> standard, separable = separable_conv_cost((112, 112, 64), 128)
        >>> standard.parameters, separable.parameters
        (73728, 8768)

    Introduced in: book/10_xception_mobilenet.ipynb
    """
    options = dict(strides=strides, padding=padding, use_bias=use_bias)
    standard = conv_cost(input_shape, filters, kernel_size, **options)  # checks every argument
    depthwise = conv_cost(input_shape, filters, kernel_size, depthwise=True, **options)
    height, width, channels = input_shape
    pointwise_input = (  # the depthwise convolution's output
        conv_output_size(height, kernel_size, strides, padding),
        conv_output_size(width, kernel_size, strides, padding),
        channels,
    )
    pointwise = conv_cost(pointwise_input, filters, 1, use_bias=use_bias)
    separable = ConvCost(
        parameters=depthwise.parameters + pointwise.parameters,
        multiplications=depthwise.multiplications + pointwise.multiplications,
    )
    return standard, separable


def depthwise_separable_conv(
    x, filters, kernel_size=3, strides=1, depth_multiplier=1, max_value=6.0, name="sepconv"
):
    """Applies a MobileNet block: depthwise conv, BN, ReLU6, pointwise 1x1 conv, BN, ReLU6.

    Reference:
        [MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
        Applications](https://arxiv.org/abs/1704.04861) (Howard et al., 2017),
        figure 3.

    With a stride of 2 the input is padded by one pixel at the bottom and
    right and the depthwise convolution is unpadded, as in
    `keras.applications.MobileNet` (and TensorFlow's original model). Xception
    uses the same two convolutions without batch normalisation and activation
    in between: that is Keras's `SeparableConv2D` layer.

    Args:
        x: Input Keras tensor `(batch, height, width, channels)`.
        filters: Number of output channels (filters of the 1x1 convolution),
            an integer in [1, 8192].
        kernel_size: Kernel size of the depthwise convolution, in [1, 31].
        strides: Stride of the depthwise convolution (1 or 2).
        depth_multiplier: Depthwise output channels per input channel, an
            integer in [1, 8].
        max_value: Cap of the ReLU (6 in MobileNet), a number in (0, 1000];
            `None` for a plain ReLU.
        name: Prefix of the layer names `{name}_pad`, `{name}_dw`,
            `{name}_dw_bn`, `{name}_dw_relu`, `{name}_pw`, `{name}_pw_bn`,
            `{name}_pw_relu` (a non-empty string without `/`).

    Returns:
        Tensor `(batch, height / strides, width / strides, filters)`.

    Example:
        >>> inputs = keras.Input((112, 112, 32))
        >>> depthwise_separable_conv(inputs, 64).shape
        (None, 112, 112, 64)

    Introduced in: book/10_xception_mobilenet.ipynb
    """
    check_tensor("x", x)
    filters = check_filters("filters", filters)
    kernel_size = check_kernel_size("kernel_size", kernel_size)
    strides = validation.check_int("strides", strides, 1, 2)
    depth_multiplier = check_count("depth_multiplier", depth_multiplier, MAX_DEPTH_MULTIPLIER)
    max_value = validation.optional(
        validation.check_float, "max_value", max_value, 0.0, MAX_RELU_CAP, low_inclusive=False
    )
    check_name(name)
    if strides == 1:
        padding = "same"
    else:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"{name}_pad")(x)
        padding = "valid"
    x = layers.DepthwiseConv2D(
        kernel_size,
        strides=strides,
        padding=padding,
        depth_multiplier=depth_multiplier,
        use_bias=False,
        name=f"{name}_dw",
    )(x)  # (batch, height / strides, width / strides, channels * depth_multiplier)
    x = layers.BatchNormalization(name=f"{name}_dw_bn")(x)
    x = layers.ReLU(max_value, name=f"{name}_dw_relu")(x)
    x = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_pw")(x)  # mixes the channels
    x = layers.BatchNormalization(name=f"{name}_pw_bn")(x)
    return layers.ReLU(max_value, name=f"{name}_pw_relu")(x)


def _xception_entry_block(x, filters, block_index, activate_first=True):
    """Two separable convolutions and a strided pooling, plus a strided 1x1 projection."""
    prefix = f"block{block_index}"
    residual = layers.Conv2D(
        filters, 1, strides=2, padding="same", use_bias=False, name=f"{prefix}_residual_conv"
    )(x)
    residual = layers.BatchNormalization(name=f"{prefix}_residual_bn")(residual)
    if activate_first:
        x = layers.Activation("relu", name=f"{prefix}_sepconv1_act")(x)
    x = layers.SeparableConv2D(
        filters, 3, padding="same", use_bias=False, name=f"{prefix}_sepconv1"
    )(x)
    x = layers.BatchNormalization(name=f"{prefix}_sepconv1_bn")(x)
    x = layers.Activation("relu", name=f"{prefix}_sepconv2_act")(x)
    x = layers.SeparableConv2D(
        filters, 3, padding="same", use_bias=False, name=f"{prefix}_sepconv2"
    )(x)
    x = layers.BatchNormalization(name=f"{prefix}_sepconv2_bn")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{prefix}_pool")(x)
    return layers.Add(name=f"{prefix}_add")([x, residual])


def xception(
    include_top=True,
    weights=None,
    input_shape=XCEPTION_SHAPE,
    num_classes=1000,
    pooling=None,
    middle_blocks=8,
    classifier_activation="softmax",
    name="xception",
):
    """Builds Xception: Inception modules pushed to the extreme, 22,910,480 parameters.

    Reference:
        [Xception: Deep Learning with Depthwise Separable Convolutions](
        https://arxiv.org/abs/1610.02357) (Chollet, CVPR 2017)

    Every Inception module is replaced by depthwise separable convolutions
    (one spatial filter per channel, then 1x1 convolutions across channels),
    with residual connections: an entry flow (two convolutions and three
    blocks with strided pooling), a middle flow of `middle_blocks` identical
    blocks of three separable convolutions on 19x19x728 maps, and an exit
    flow.

    Same layers and weight shapes, in the same order, as
    `keras.applications.Xception` (22,910,480 parameters, 22,855,952
    trainable); the residual 1x1 convolutions, unnamed in Keras, are named
    `block{i}_residual_conv` here.

    Args:
        include_top: Whether to add the pooling and classifier.
        weights: `None` (random initialisation) or `"imagenet"` (download the
            weights of `keras.applications.Xception` and copy them in; needs
            the defaults of `num_classes`, `input_shape` and `middle_blocks`).
        input_shape: `(height, width, channels)`, at least 71x71 (and at
            most 8192x8192); `None` height and width are allowed.
        num_classes: Number of output classes, an integer in [1, 100,000].
        pooling: With `include_top=False`: `None`, `"avg"` or `"max"`.
        middle_blocks: Number of blocks of the middle flow (8 in the
            paper), an integer in [1, 64].
        classifier_activation: Activation of `predictions` (a Keras
            activation name or a function); `None` returns logits.
        name: Name of the model (a non-empty string without `/`).

    Returns:
        A `keras.Model`.

    Raises:
        coursepkg.downloads.DownloadError: with `weights="imagenet"`, when the
            weight file cannot be downloaded (checked before building).

    Example:
        >>> xception().count_params()
        22910480

    Introduced in: book/10_xception_mobilenet.ipynb
    """
    include_top, pooling, classifier_activation = check_head(
        include_top, pooling, classifier_activation
    )
    input_shape = check_input_shape(
        input_shape, min_size=XCEPTION_MIN_SIZE, allow_unknown_size=True
    )
    num_classes = check_num_classes(num_classes)
    middle_blocks = check_count("middle_blocks", middle_blocks, MAX_MIDDLE_BLOCKS)
    check_name(name)
    check_imagenet_arguments(weights, include_top, num_classes, input_shape, XCEPTION_SHAPE)
    if weights == "imagenet" and middle_blocks != 8:
        raise ValueError(
            "Expected `middle_blocks=8` with `weights='imagenet'`. "
            f"Received: middle_blocks={middle_blocks}"
        )
    reference = None
    if weights == "imagenet":  # downloaded before building ours: offline, this fails at once
        reference = imagenet_reference(
            keras.applications.Xception,
            include_top=include_top,
            input_shape=input_shape,
            classifier_activation=None,
        )

    inputs = keras.Input(shape=input_shape, name="image")  # (batch, 299, 299, 3)
    # Entry flow.
    x = layers.Conv2D(32, 3, strides=2, use_bias=False, name="block1_conv1")(inputs)
    x = layers.BatchNormalization(name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)  # (batch, 149, 149, 32)
    x = layers.Conv2D(64, 3, use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)  # (batch, 147, 147, 64)
    x = _xception_entry_block(x, 128, 2, activate_first=False)  # (batch, 74, 74, 128)
    x = _xception_entry_block(x, 256, 3)  # (batch, 37, 37, 256)
    x = _xception_entry_block(x, 728, 4)  # (batch, 19, 19, 728)

    # Middle flow: residual blocks of three separable convolutions.
    for block_index in range(5, 5 + middle_blocks):
        prefix = f"block{block_index}"
        residual = x
        for conv_index in (1, 2, 3):
            x = layers.Activation("relu", name=f"{prefix}_sepconv{conv_index}_act")(x)
            x = layers.SeparableConv2D(
                728, 3, padding="same", use_bias=False, name=f"{prefix}_sepconv{conv_index}"
            )(x)
            x = layers.BatchNormalization(name=f"{prefix}_sepconv{conv_index}_bn")(x)
        x = layers.Add(name=f"{prefix}_add")([x, residual])

    # Exit flow.
    prefix = f"block{5 + middle_blocks}"
    residual = layers.Conv2D(
        1024, 1, strides=2, padding="same", use_bias=False, name=f"{prefix}_residual_conv"
    )(x)
    residual = layers.BatchNormalization(name=f"{prefix}_residual_bn")(residual)
    for conv_index, filters in ((1, 728), (2, 1024)):
        x = layers.Activation("relu", name=f"{prefix}_sepconv{conv_index}_act")(x)
        x = layers.SeparableConv2D(
            filters, 3, padding="same", use_bias=False, name=f"{prefix}_sepconv{conv_index}"
        )(x)
        x = layers.BatchNormalization(name=f"{prefix}_sepconv{conv_index}_bn")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{prefix}_pool")(x)
    x = layers.Add(name=f"{prefix}_add")([x, residual])  # (batch, 10, 10, 1024)

    prefix = f"block{6 + middle_blocks}"
    for conv_index, filters in ((1, 1536), (2, 2048)):
        x = layers.SeparableConv2D(
            filters, 3, padding="same", use_bias=False, name=f"{prefix}_sepconv{conv_index}"
        )(x)
        x = layers.BatchNormalization(name=f"{prefix}_sepconv{conv_index}_bn")(x)
        x = layers.Activation("relu", name=f"{prefix}_sepconv{conv_index}_act")(x)
    # (batch, 10, 10, 2048)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pooling(x, pooling)
    model = keras.Model(inputs, x, name=name)
    return model if reference is None else copy_weights(reference, model)


def mobilenet(
    include_top=True,
    weights=None,
    input_shape=MOBILENET_SHAPE,
    num_classes=1000,
    pooling=None,
    alpha=1.0,
    depth_multiplier=1,
    dropout_rate=1e-3,
    classifier_activation="softmax",
    name="mobilenet",
):
    """Builds MobileNet v1: 13 depthwise separable blocks, 4,253,864 parameters.

    Reference:
        [MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
        Applications](https://arxiv.org/abs/1704.04861) (Howard et al., 2017),
        table 1.

    A strided 3x3 convolution, then 13 `depthwise_separable_conv` blocks
    (64 to 1024 filters, five with stride 2), global average pooling, dropout
    and a 1x1 convolution as classifier. Same weights, in the same order, as
    `keras.applications.MobileNet` (4,253,864 parameters, 4,231,976
    trainable); the blocks are named `block1` to `block13` here rather than
    Keras's `conv_dw_1`/`conv_pw_1`.

    Args:
        include_top: Whether to add the pooling and classifier.
        weights: `None` (random initialisation) or `"imagenet"` (download the
            weights of `keras.applications.MobileNet` and copy them in; needs
            `alpha` in {0.25, 0.5, 0.75, 1.0}, `depth_multiplier=1`, and
            `num_classes=1000` with a 224x224x3 input when `include_top=True`).
        input_shape: `(height, width, channels)`, at least 32x32 (and at
            most 8192x8192); `None` height and width are allowed.
        num_classes: Number of output classes, an integer in [1, 100,000].
        pooling: With `include_top=False`: `None`, `"avg"` or `"max"`.
        alpha: Width multiplier, a number in (0, 4]: every layer has
            `int(filters * alpha)` filters, at least 1 (the paper's alpha).
        depth_multiplier: Resolution multiplier of the depthwise
            convolutions (channels out per channel in), an integer in [1, 8].
        dropout_rate: Dropout before the classifier, a number in [0, 1).
        classifier_activation: Activation of `predictions` (a Keras
            activation name or a function); `None` returns logits.
        name: Name of the model (a non-empty string without `/`).

    Returns:
        A `keras.Model`.

    Raises:
        coursepkg.downloads.DownloadError: with `weights="imagenet"`, when the
            weight file cannot be downloaded (checked before building).

    Example:
        >>> mobilenet().count_params()
        4253864

    Introduced in: book/10_xception_mobilenet.ipynb
    """
    include_top, pooling, classifier_activation = check_head(
        include_top, pooling, classifier_activation
    )
    input_shape = check_input_shape(input_shape, min_size=32, allow_unknown_size=True)
    num_classes = check_num_classes(num_classes)
    alpha = validation.check_float("alpha", alpha, 0.0, MAX_ALPHA, low_inclusive=False)
    depth_multiplier = check_count("depth_multiplier", depth_multiplier, MAX_DEPTH_MULTIPLIER)
    dropout_rate = check_rate("dropout_rate", dropout_rate)
    check_name(name)
    check_imagenet_arguments(weights, include_top, num_classes, input_shape, MOBILENET_SHAPE)
    if weights == "imagenet" and (alpha not in (0.25, 0.5, 0.75, 1.0) or depth_multiplier != 1):
        raise ValueError(
            "Expected `alpha` in (0.25, 0.5, 0.75, 1.0) and `depth_multiplier=1` with "
            f"`weights='imagenet'`. Received: alpha={alpha}, depth_multiplier={depth_multiplier}"
        )
    reference = None
    if weights == "imagenet":  # downloaded before building ours: offline, this fails at once
        reference = imagenet_reference(
            keras.applications.MobileNet,
            include_top=include_top,
            input_shape=input_shape,
            alpha=alpha,
            classifier_activation=None,
        )

    inputs = keras.Input(shape=input_shape, name="image")  # (batch, 224, 224, 3)
    x = layers.Conv2D(
        max(1, int(32 * alpha)), 3, strides=2, padding="same", use_bias=False, name="conv1"
    )(inputs)  # (batch, 112, 112, 32)
    x = layers.BatchNormalization(name="conv1_bn")(x)
    x = layers.ReLU(6.0, name="conv1_relu")(x)
    for block_index, (filters, strides) in enumerate(MOBILENET_BLOCKS, start=1):
        x = depthwise_separable_conv(
            x,
            max(1, int(filters * alpha)),
            strides=strides,
            depth_multiplier=depth_multiplier,
            name=f"block{block_index}",
        )
    # (batch, 7, 7, 1024)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True, name="avg_pool")(x)  # (batch, 1, 1, 1024)
        x = layers.Dropout(dropout_rate, name="dropout")(x)
        # A 1x1 convolution rather than a dense layer, as in Keras, so that weights load.
        x = layers.Conv2D(num_classes, 1, name="conv_preds")(x)
        x = layers.Reshape((num_classes,), name="reshape")(x)
        x = layers.Activation(classifier_activation, name="predictions")(x)
    else:
        x = global_pooling(x, pooling)
    model = keras.Model(inputs, x, name=name)
    return model if reference is None else copy_weights(reference, model)
