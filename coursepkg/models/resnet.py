"""Residual networks (He et al., 2015): ImageNet ResNet-18/34/50 and the CIFAR-10 ResNets.

The ImageNet networks follow the layout and layer names of
`keras.applications.ResNet50` (`conv1_conv`, `conv2_block1_1_conv`, ...), so
its ImageNet weights load into `resnet50`. The CIFAR-10 networks (ResNet-20,
32, 44, 56, 110) follow section 4.2 of the paper, with a `plain` switch that
removes every shortcut for the paper's plain-versus-residual comparison.
"""

import keras
from keras import layers

from coursepkg import validation

from ._common import (
    MAX_BLOCKS,
    MAX_CHANNELS,
    check_activation,
    check_bool,
    check_choice,
    check_count,
    check_filters,
    check_head,
    check_imagenet_arguments,
    check_input_shape,
    check_name,
    check_num_classes,
    check_sizes,
    check_strides,
    check_tensor,
    global_pooling,
)
from ._weights import copy_weights, imagenet_reference

IMAGENET_SHAPE = (224, 224, 3)
IMAGENET_FILTERS = (64, 128, 256, 512)
BN_EPSILON = 1.001e-5  # the value of keras.applications, so that its weights give its outputs
# "A": parameter-free shortcut (identity, zero-padded channels when the shape changes);
# "B": 1x1 convolution and batch normalisation when the shape changes, identity otherwise;
# None: no shortcut at all (a "plain" network).
SHORTCUT_CHOICES = ("A", "B", None)
BLOCK_CHOICES = ("basic", "bottleneck")
# CIFAR ResNets: 6n + 2 layers, from ResNet-8 to the paper's ResNet-1202 (n = 200).
CIFAR_MIN_DEPTH = 8
CIFAR_MAX_DEPTH = 1202


@keras.saving.register_keras_serializable(package="coursepkg")
class ChannelZeroPadding(layers.Layer):
    """Appends zero-valued channels: the parameter-free shortcut of option A.

    Args:
        extra_channels: Number of zero channels to add, split between the
            front and the back of the channel axis; an integer in [1, 8192].
        **kwargs: Passed to `keras.layers.Layer` (`name`, ...).

    Introduced in: book/09_resnet.ipynb
    """

    def __init__(self, extra_channels, **kwargs):
        extra_channels = check_filters("extra_channels", extra_channels)
        super().__init__(**kwargs)
        self.extra_channels = extra_channels

    def call(self, inputs):  # (batch, height, width, channels)
        before = self.extra_channels // 2
        after = self.extra_channels - before
        return keras.ops.pad(inputs, [[0, 0], [0, 0], [0, 0], [before, after]])

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.extra_channels)

    def get_config(self):
        return {**super().get_config(), "extra_channels": self.extra_channels}


def _shortcut(x, filters_out, strides, shortcut, use_bias, name):
    """Returns the shortcut branch of a residual block (`None` for a plain block)."""
    channels_in = x.shape[-1]
    if shortcut is None:
        return None
    if strides == 1 and channels_in == filters_out:
        return x
    if shortcut == "B":
        x = layers.Conv2D(
            filters_out, 1, strides=strides, use_bias=use_bias, name=f"{name}_0_conv"
        )(x)
        return layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_0_bn")(x)
    if strides > 1:  # option A: keep every `strides`-th pixel, as x[:, ::2, ::2, :]
        x = layers.MaxPooling2D(1, strides=strides, name=f"{name}_0_subsample")(x)
    if filters_out > channels_in:
        x = ChannelZeroPadding(filters_out - channels_in, name=f"{name}_0_pad")(x)
    return x


def _merge(x, shortcut, name):
    """Adds the shortcut (if any) to the residual branch and applies the final ReLU."""
    if shortcut is not None:
        x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def _check_block_arguments(x, filters, strides, shortcut, use_bias, name, expansion):
    """Checks the arguments of a residual block; `expansion` multiplies `filters` at the output."""
    check_tensor("x", x)
    filters = check_count("filters", filters, MAX_CHANNELS // expansion)
    strides = check_strides("strides", strides)
    check_choice("shortcut", shortcut, SHORTCUT_CHOICES)
    use_bias = check_bool("use_bias", use_bias)
    check_name(name)
    channels_in, filters_out = x.shape[-1], expansion * filters
    changes_shape = strides > 1 or channels_in != filters_out
    if shortcut == "A" and changes_shape and channels_in is not None and filters_out < channels_in:
        raise ValueError(
            f"Expected `filters` to give at least the {channels_in} input channels at the output "
            "with shortcut='A' (zero-padding cannot remove channels; use shortcut='B'). "
            f"Received: filters={filters}"
        )
    return filters, strides, use_bias


def basic_block(x, filters, strides=1, shortcut="B", use_bias=False, name="block"):
    """Applies a basic residual block: two 3x3 convolutions and a shortcut.

    `out = relu(F(x) + shortcut(x))` with `F = conv3x3-BN-ReLU-conv3x3-BN`.
    If the block can at least learn `F = 0`, a deeper network does no worse
    than a shallower one: the identity is easy to represent.

    Reference:
        [Deep Residual Learning for Image Recognition](
        https://arxiv.org/abs/1512.03385) (He et al., CVPR 2016), figure 2.

    Args:
        x: Input Keras tensor `(batch, height, width, channels)`.
        filters: Filters of both convolutions (and channels of the output),
            an integer in [1, 8192].
        strides: Stride of the first convolution (2 halves height and
            width), an integer in [1, 8].
        shortcut: `"B"` (1x1 convolution where the shape changes, identity
            elsewhere), `"A"` (identity everywhere, zero-padded channels and
            subsampling where the shape changes; no parameters) or `None` (no
            shortcut: a block of a plain network).
        use_bias: Whether the convolutions have biases (useless before batch
            normalisation; the paper has none).
        name: Prefix of the layer names `{name}_1_conv`, `{name}_1_bn`,
            `{name}_1_relu`, `{name}_2_conv`, `{name}_2_bn`, `{name}_0_conv`
            (shortcut), `{name}_add`, `{name}_out` (a non-empty string
            without `/`).

    Returns:
        Tensor `(batch, height / strides, width / strides, filters)`.

    Example:
        >>> inputs = keras.Input((32, 32, 16))
        >>> basic_block(inputs, 32, strides=2, shortcut="A").shape
        (None, 16, 16, 32)

    Introduced in: book/09_resnet.ipynb
    """
    filters, strides, use_bias = _check_block_arguments(
        x, filters, strides, shortcut, use_bias, name, expansion=1
    )
    residual = _shortcut(x, filters, strides, shortcut, use_bias, name)
    x = layers.Conv2D(
        filters, 3, strides=strides, padding="same", use_bias=use_bias, name=f"{name}_1_conv"
    )(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=use_bias, name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_2_bn")(x)
    return _merge(x, residual, name)


def bottleneck_block(x, filters, strides=1, shortcut="B", use_bias=True, name="block"):
    """Applies a bottleneck residual block: 1x1 reduce, 3x3, 1x1 expand to `4 * filters`.

    The 1x1 convolutions shrink the channels before the expensive 3x3
    convolution and restore them after it, which is what makes ResNet-50 and
    deeper affordable. The stride is on the first 1x1 convolution, as in the
    original Caffe model and `keras.applications.ResNet50` (torchvision's
    "ResNet v1.5" puts it on the 3x3 convolution instead).

    Reference:
        [Deep Residual Learning for Image Recognition](
        https://arxiv.org/abs/1512.03385) (He et al., CVPR 2016), figure 5.

    Args:
        x: Input Keras tensor `(batch, height, width, channels)`.
        filters: Filters of the two first convolutions, an integer in
            [1, 2048]; the block outputs `4 * filters` channels.
        strides: Stride of the first convolution, an integer in [1, 8].
        shortcut: `"B"`, `"A"` or `None`, as in `basic_block`.
        use_bias: Whether the convolutions have biases (`True` in
            `keras.applications.ResNet50`).
        name: Prefix of the layer names `{name}_0_conv` (shortcut),
            `{name}_1_conv`, ..., `{name}_3_bn`, `{name}_add`, `{name}_out`
            (a non-empty string without `/`).

    Returns:
        Tensor `(batch, height / strides, width / strides, 4 * filters)`.

    Example:
        >>> inputs = keras.Input((56, 56, 64))
        >>> bottleneck_block(inputs, 64, name="conv2_block1").shape
        (None, 56, 56, 256)

    Introduced in: book/09_resnet.ipynb
    """
    filters, strides, use_bias = _check_block_arguments(
        x, filters, strides, shortcut, use_bias, name, expansion=4
    )
    residual = _shortcut(x, 4 * filters, strides, shortcut, use_bias, name)
    x = layers.Conv2D(filters, 1, strides=strides, use_bias=use_bias, name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=use_bias, name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, use_bias=use_bias, name=f"{name}_3_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_3_bn")(x)
    return _merge(x, residual, name)


def resnet(
    block="basic",
    stage_depths=(2, 2, 2, 2),
    stage_filters=IMAGENET_FILTERS,
    input_shape=IMAGENET_SHAPE,
    num_classes=1000,
    include_top=True,
    pooling=None,
    shortcut="B",
    use_bias=False,
    classifier_activation="softmax",
    name="resnet",
):
    """Builds an ImageNet-style ResNet from its block type and the number of blocks per stage.

    Reference:
        [Deep Residual Learning for Image Recognition](
        https://arxiv.org/abs/1512.03385) (He et al., CVPR 2016), table 1.

    A 7x7/2 convolution and a 3x3/2 max pooling (stem `conv1`), four stages
    `conv2`-`conv5` of residual blocks (the first block of stages 3 to 5
    halves the size), global average pooling and one dense classifier.

    Args:
        block: `"basic"` (two 3x3 convolutions: ResNet-18/34) or
            `"bottleneck"` (1x1-3x3-1x1: ResNet-50/101/152).
        stage_depths: Number of blocks in each of 1 to 8 stages, each in
            [1, 200]: `(2, 2, 2, 2)` is ResNet-18, `(3, 4, 6, 3)` ResNet-34
            or ResNet-50.
        stage_filters: Filters of each stage, each in [1, 8192] (and at
            most 2048 for bottleneck blocks, which output 4 times as many).
        input_shape: `(height, width, channels)`, at least 32x32 (and at
            most 8192x8192); `None` height and width are allowed.
        num_classes: Number of output classes, an integer in [1, 100,000].
        include_top: Whether to add the pooling and classifier.
        pooling: With `include_top=False`: `None`, `"avg"` or `"max"`.
        shortcut: `"B"` (projection where the shape changes), `"A"`
            (zero-padding) or `None` (plain network).
        use_bias: Whether the convolutions have biases.
        classifier_activation: Activation of `predictions` (a Keras
            activation name or a function); `None` returns logits.
        name: Name of the model (a non-empty string without `/`).

    Returns:
        A `keras.Model`.

    Example:
        >>> model = resnet("bottleneck", (3, 4, 23, 3), use_bias=True, name="resnet101")
        >>> round(model.count_params() / 1e6, 1)
        44.7

    Introduced in: book/09_resnet.ipynb
    """
    arguments = _check_resnet_arguments(
        block,
        stage_depths,
        stage_filters,
        input_shape=input_shape,
        num_classes=num_classes,
        include_top=include_top,
        pooling=pooling,
        shortcut=shortcut,
        use_bias=use_bias,
        classifier_activation=classifier_activation,
        name=name,
    )
    return _build_resnet(**arguments)


def _check_resnet_arguments(
    block,
    stage_depths,
    stage_filters,
    input_shape,
    num_classes,
    include_top,
    pooling,
    shortcut,
    use_bias,
    classifier_activation,
    name,
):
    """Checks every argument of `resnet` and returns them cleaned, as a dict."""
    check_choice("block", block, BLOCK_CHOICES)
    stage_depths = check_sizes("stage_depths", stage_depths, MAX_BLOCKS)
    expansion = 1 if block == "basic" else 4
    stage_filters = check_sizes(
        "stage_filters", stage_filters, MAX_CHANNELS // expansion, length=len(stage_depths)
    )
    include_top, pooling, classifier_activation = check_head(
        include_top, pooling, classifier_activation
    )
    return dict(
        block=block,
        stage_depths=stage_depths,
        stage_filters=stage_filters,
        input_shape=check_input_shape(input_shape, min_size=32, allow_unknown_size=True),
        num_classes=check_num_classes(num_classes),
        include_top=include_top,
        pooling=pooling,
        shortcut=check_choice("shortcut", shortcut, SHORTCUT_CHOICES),
        use_bias=check_bool("use_bias", use_bias),
        classifier_activation=classifier_activation,
        name=check_name(name),
    )


def _build_resnet(
    block,
    stage_depths,
    stage_filters,
    input_shape,
    num_classes,
    include_top,
    pooling,
    shortcut,
    use_bias,
    classifier_activation,
    name,
):
    """Builds the network of `resnet` from checked arguments."""
    block_function = basic_block if block == "basic" else bottleneck_block

    inputs = keras.Input(shape=input_shape, name="image")  # (batch, 224, 224, 3)
    x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)  # 112x112
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)  # (batch, 56, 56, 64)
    for stage_index, (depth, filters) in enumerate(zip(stage_depths, stage_filters)):
        for block_index in range(depth):
            # The first block of every stage but the first halves height and width.
            strides = 2 if block_index == 0 and stage_index > 0 else 1
            x = block_function(
                x,
                filters,
                strides=strides,
                shortcut=shortcut,
                use_bias=use_bias,
                name=f"conv{stage_index + 2}_block{block_index + 1}",
            )
    # (batch, 7, 7, 512) for basic blocks, (batch, 7, 7, 2048) for bottlenecks
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pooling(x, pooling)
    return keras.Model(inputs, x, name=name)


def resnet18(
    input_shape=IMAGENET_SHAPE,
    num_classes=1000,
    include_top=True,
    pooling=None,
    use_bias=False,
    classifier_activation="softmax",
):
    """Builds ResNet-18: basic blocks, (2, 2, 2, 2) per stage, 11.7M parameters.

    Reference:
        [Deep Residual Learning for Image Recognition](
        https://arxiv.org/abs/1512.03385) (He et al., CVPR 2016), table 1.

    With the defaults (no convolution biases, as in the paper) the model has
    11,699,112 parameters, 11,689,512 of them trainable: the count published
    for torchvision's `resnet18`. `keras.applications` has no ResNet-18.

    Args:
        input_shape: `(height, width, channels)`, at least 32x32 (and at
            most 8192x8192).
        num_classes: Number of output classes, an integer in [1, 100,000].
        include_top: Whether to add the pooling and classifier.
        pooling: With `include_top=False`: `None`, `"avg"` or `"max"`.
        use_bias: Whether the convolutions have biases.
        classifier_activation: Activation of `predictions` (a Keras
            activation name or a function); `None` returns logits.

    Returns:
        A `keras.Model` named `"resnet18"`.

    Example:
        >>> resnet18(num_classes=10).output.shape
        (None, 10)

    Introduced in: book/09_resnet.ipynb
    """
    return resnet(
        "basic",
        (2, 2, 2, 2),
        input_shape=input_shape,
        num_classes=num_classes,
        include_top=include_top,
        pooling=pooling,
        use_bias=use_bias,
        classifier_activation=classifier_activation,
        name="resnet18",
    )


def resnet34(
    input_shape=IMAGENET_SHAPE,
    num_classes=1000,
    include_top=True,
    pooling=None,
    use_bias=False,
    classifier_activation="softmax",
):
    """Builds ResNet-34: basic blocks, (3, 4, 6, 3) per stage, 21.8M parameters.

    Reference:
        [Deep Residual Learning for Image Recognition](
        https://arxiv.org/abs/1512.03385) (He et al., CVPR 2016), table 1.

    With the defaults (no convolution biases) the model has 21,797,672
    trainable parameters, the count published for torchvision's `resnet34`.
    `keras.applications` has no ResNet-34.

    Args:
        input_shape: `(height, width, channels)`, at least 32x32 (and at
            most 8192x8192).
        num_classes: Number of output classes, an integer in [1, 100,000].
        include_top: Whether to add the pooling and classifier.
        pooling: With `include_top=False`: `None`, `"avg"` or `"max"`.
        use_bias: Whether the convolutions have biases.
        classifier_activation: Activation of `predictions` (a Keras
            activation name or a function); `None` returns logits.

    Returns:
        A `keras.Model` named `"resnet34"`.

    Example:
        >>> resnet34(include_top=False, pooling="avg").output.shape
        (None, 512)

    Introduced in: book/09_resnet.ipynb
    """
    return resnet(
        "basic",
        (3, 4, 6, 3),
        input_shape=input_shape,
        num_classes=num_classes,
        include_top=include_top,
        pooling=pooling,
        use_bias=use_bias,
        classifier_activation=classifier_activation,
        name="resnet34",
    )


def resnet50(
    include_top=True,
    weights=None,
    input_shape=IMAGENET_SHAPE,
    num_classes=1000,
    pooling=None,
    classifier_activation="softmax",
):
    """Builds ResNet-50: bottleneck blocks, (3, 4, 6, 3) per stage, 25,636,712 parameters.

    Reference:
        [Deep Residual Learning for Image Recognition](
        https://arxiv.org/abs/1512.03385) (He et al., CVPR 2016), table 1.

    Same layers, names and weight shapes as `keras.applications.ResNet50`
    (convolutions with biases, projection shortcuts at the first block of
    each stage): 25,636,712 parameters, 25,583,592 trainable. torchvision's
    count, 25,557,032, is lower by the 79,680 convolution biases it omits.

    Args:
        include_top: Whether to add the pooling and classifier.
        weights: `None` (random initialisation) or `"imagenet"` (download the
            weights of `keras.applications.ResNet50` and copy them in; needs
            `num_classes=1000` and a 224x224x3 input when `include_top=True`).
        input_shape: `(height, width, channels)`, at least 32x32 (and at
            most 8192x8192); `None` height and width are allowed.
        num_classes: Number of output classes, an integer in [1, 100,000].
        pooling: With `include_top=False`: `None`, `"avg"` or `"max"`.
        classifier_activation: Activation of `predictions` (a Keras
            activation name or a function); `None` returns logits.

    Returns:
        A `keras.Model` named `"resnet50"`.

    Raises:
        coursepkg.downloads.DownloadError: with `weights="imagenet"`, when the
            weight file cannot be downloaded (checked before building).

    Example:
        >>> resnet50().count_params()
        25636712

    Introduced in: book/09_resnet.ipynb
    """
    arguments = _check_resnet_arguments(
        "bottleneck",
        (3, 4, 6, 3),
        IMAGENET_FILTERS,
        input_shape=input_shape,
        num_classes=num_classes,
        include_top=include_top,
        pooling=pooling,
        shortcut="B",
        use_bias=True,
        classifier_activation=classifier_activation,
        name="resnet50",
    )
    check_imagenet_arguments(
        weights,
        arguments["include_top"],
        arguments["num_classes"],
        arguments["input_shape"],
        IMAGENET_SHAPE,
    )
    reference = None
    if weights == "imagenet":  # downloaded before building ours: offline, this fails at once
        reference = imagenet_reference(
            keras.applications.ResNet50,
            include_top=arguments["include_top"],
            input_shape=arguments["input_shape"],
            classifier_activation=None,
        )
    model = _build_resnet(**arguments)
    return model if reference is None else copy_weights(reference, model)


def cifar_resnet(
    depth=20,
    input_shape=(32, 32, 3),
    num_classes=10,
    plain=False,
    shortcut="A",
    base_filters=16,
    classifier_activation="softmax",
):
    """Builds a CIFAR-10 ResNet of depth `6n + 2` (20, 32, 44, 56, 110, ...).

    Reference:
        [Deep Residual Learning for Image Recognition](
        https://arxiv.org/abs/1512.03385) (He et al., CVPR 2016), section 4.2.

    A 3x3 convolution with 16 filters, three stages of `n` basic blocks with
    16, 32 and 64 filters on 32x32, 16x16 and 8x8 maps, global average
    pooling and a dense classifier: `6n + 2` layers with weights. The paper
    uses option A shortcuts (zero-padding, no parameters), the default here;
    its table 6 lists 0.27M, 0.46M, 0.66M, 0.85M and 1.7M parameters for
    ResNet-20, 32, 44, 56 and 110, which these models reproduce in trainable
    parameters (269,722 for ResNet-20 and 853,018 for ResNet-56; Keras also
    counts the batch normalisation statistics, giving 271,098 and 857,082).

    With `plain=True` the shortcuts are removed, giving the "plain" networks
    of the paper's figure 6, whose training error grows with depth (plain-56
    is worse than plain-20) while the residual networks' shrinks.

    Args:
        depth: Number of layers with weights, an integer in [8, 1202] (the
            paper's deepest, ResNet-1202); `(depth - 2)` must be a multiple
            of 6.
        input_shape: `(height, width, channels)`, at least 8x8 (and at most
            8192x8192); `None` height and width are allowed.
        num_classes: Number of output classes, an integer in [1, 100,000].
        plain: Whether to remove every shortcut (`True` or `False`).
        shortcut: `"A"` (zero-padding, as in the paper) or `"B"` (1x1
            projections where the shape changes). Ignored when `plain=True`.
        base_filters: Filters of the first stage (doubled at each stage), an
            integer in [1, 2048].
        classifier_activation: Activation of `predictions` (a Keras
            activation name or a function); `None` returns logits.

    Returns:
        A `keras.Model` named `"resnet{depth}"` or `"plain{depth}"`.

    Example:
        >>> cifar_resnet(56).count_params()
        857082

    Introduced in: book/09_resnet.ipynb
    """
    depth = validation.check_int("depth", depth, CIFAR_MIN_DEPTH, CIFAR_MAX_DEPTH)
    if (depth - 2) % 6 != 0:
        raise ValueError(
            "Expected `depth` to be 6n + 2 for a positive integer n (20, 32, 44, 56, 110). "
            f"Received: depth={depth}"
        )
    input_shape = check_input_shape(input_shape, min_size=8, allow_unknown_size=True)
    num_classes = check_num_classes(num_classes)
    plain = check_bool("plain", plain)
    check_choice("shortcut", shortcut, ("A", "B"))
    base_filters = check_count("base_filters", base_filters, MAX_CHANNELS // 4)
    check_activation("classifier_activation", classifier_activation)
    blocks_per_stage = (depth - 2) // 6
    block_shortcut = None if plain else shortcut

    inputs = keras.Input(shape=input_shape, name="image")  # (batch, 32, 32, 3)
    x = layers.Conv2D(base_filters, 3, padding="same", use_bias=False, name="conv1_conv")(inputs)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    for stage_index in range(3):  # 32x32x16 -> 16x16x32 -> 8x8x64
        filters = base_filters * 2**stage_index
        for block_index in range(blocks_per_stage):
            strides = 2 if block_index == 0 and stage_index > 0 else 1
            x = basic_block(
                x,
                filters,
                strides=strides,
                shortcut=block_shortcut,
                name=f"conv{stage_index + 2}_block{block_index + 1}",
            )
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)  # (batch, 64)
    outputs = layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    prefix = "plain" if plain else "resnet"
    return keras.Model(inputs, outputs, name=f"{prefix}{depth}")
