"""GoogLeNet / Inception v1 (Szegedy et al., 2014): Inception modules and auxiliary classifiers."""

import keras
from keras import layers

from ._common import (
    check_activation,
    check_bool,
    check_filters,
    check_head,
    check_input_shape,
    check_name,
    check_num_classes,
    check_rate,
    check_tensor,
    global_pooling,
)
from ._counts import conv_cost

# Filters of the nine Inception modules, from Table 1 of the paper:
# (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj).
INCEPTION_V1_FILTERS = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}
# The auxiliary classifiers pool 5x5 with stride 3 the 14x14 maps of modules
# 4a and 4d (input / 16). With "same" padding, an input of 65 pixels or more
# leaves at least 5x5 there.
AUX_MIN_SIZE = 65


def conv_multiplications(input_shape, filters, kernel_size, reduce_filters=None, strides=1):
    """Counts the multiplications of a convolution, optionally after a 1x1 reduction.

    The lecture's example: on a 28x28x192 input, 32 5x5 filters cost
    `28*28*32 * 5*5*192 = 120,422,400` multiplications. Reducing the depth to 16
    with 1x1 convolutions first costs `28*28*16 * 192 = 2,408,448`, after which
    the 5x5 convolution costs `28*28*32 * 5*5*16 = 10,035,200`: 12,443,648 in
    all, ten times fewer. This is why the Inception module puts 1x1
    convolutions before its 3x3 and 5x5 branches.

    Reference:
        [Going Deeper with Convolutions](https://arxiv.org/abs/1409.4842)
        (Szegedy et al., CVPR 2015), section 4.

    Args:
        input_shape: `(height, width, channels)` of the input: height and
            width in [1, 8192], channels in [1, 8192].
        filters: Number of filters of the convolution, in [1, 8192].
        kernel_size: Kernel height and width, in [1, 31].
        reduce_filters: If given, the number of 1x1 filters applied first,
            in [1, 8192].
        strides: Stride of the convolution ("same" padding), in [1, 8].

    Returns:
        The number of multiplications (bias additions not counted).

    Example:
        >>> conv_multiplications((28, 28, 192), 32, 5)
        120422400
        >>> conv_multiplications((28, 28, 192), 32, 5, reduce_filters=16)
        12443648

    Introduced in: book/08_nin_googlenet.ipynb
    """
    input_shape = check_input_shape(input_shape, min_size=1)
    if reduce_filters is not None:
        check_filters("reduce_filters", reduce_filters)
    # Every other argument is checked by conv_cost, before anything is counted.
    conv_cost(input_shape, filters, kernel_size, strides=strides)
    total = 0
    if reduce_filters is not None:
        reduction = conv_cost(input_shape, reduce_filters, 1)
        total += reduction.multiplications
        input_shape = (*input_shape[:2], reduce_filters)
    return total + conv_cost(input_shape, filters, kernel_size, strides=strides).multiplications


def inception_module_naive(x, filters_1x1, filters_3x3, filters_5x5, name="inception_naive"):
    """Applies the naive Inception module: 1x1, 3x3 and 5x5 convolutions and 3x3 max pooling.

    The four branches see the same input and their outputs are concatenated
    along the channels. The pooling branch keeps all input channels, so the
    output always has more channels than the input, and the 5x5 branch costs
    `h * w * filters_5x5 * 25 * channels` multiplications: stacking such
    modules quickly becomes too expensive (see `conv_multiplications`).

    Reference:
        [Going Deeper with Convolutions](https://arxiv.org/abs/1409.4842)
        (Szegedy et al., CVPR 2015), figure 2(a).

    Args:
        x: Input Keras tensor `(batch, height, width, channels)`.
        filters_1x1: Filters of the 1x1 branch, in [1, 8192] (as every
            number of filters below).
        filters_3x3: Filters of the 3x3 branch.
        filters_5x5: Filters of the 5x5 branch.
        name: Prefix of the layer names `{name}_1x1`, `{name}_3x3`,
            `{name}_5x5`, `{name}_pool`, `{name}_concat` (a non-empty string
            without `/`).

    Returns:
        Tensor `(batch, height, width, filters_1x1 + filters_3x3 + filters_5x5
        + channels)`.

    Example:
        >>> inputs = keras.Input((28, 28, 192))
        >>> inception_module_naive(inputs, 64, 128, 32).shape
        (None, 28, 28, 416)

    Introduced in: book/08_nin_googlenet.ipynb
    """
    check_tensor("x", x)
    for argument, value in [
        ("filters_1x1", filters_1x1),
        ("filters_3x3", filters_3x3),
        ("filters_5x5", filters_5x5),
    ]:
        check_filters(argument, value)
    check_name(name)
    branch_1x1 = layers.Conv2D(filters_1x1, 1, activation="relu", name=f"{name}_1x1")(x)
    branch_3x3 = layers.Conv2D(
        filters_3x3, 3, padding="same", activation="relu", name=f"{name}_3x3"
    )(x)
    branch_5x5 = layers.Conv2D(
        filters_5x5, 5, padding="same", activation="relu", name=f"{name}_5x5"
    )(x)
    branch_pool = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    return layers.Concatenate(name=f"{name}_concat")(
        [branch_1x1, branch_3x3, branch_5x5, branch_pool]
    )


def inception_module(
    x,
    filters_1x1,
    filters_3x3_reduce,
    filters_3x3,
    filters_5x5_reduce,
    filters_5x5,
    filters_pool_proj,
    name="inception",
):
    """Applies the Inception module with dimension reduction (the one GoogLeNet uses).

    Same four branches as `inception_module_naive`, but 1x1 convolutions
    reduce the depth before the 3x3 and 5x5 convolutions and after the
    pooling. All convolutions use ReLU.

    Reference:
        [Going Deeper with Convolutions](https://arxiv.org/abs/1409.4842)
        (Szegedy et al., CVPR 2015), figure 2(b) and table 1.

    Args:
        x: Input Keras tensor `(batch, height, width, channels)`.
        filters_1x1: Filters of the 1x1 branch ("#1x1" in table 1), in
            [1, 8192] (as every number of filters below).
        filters_3x3_reduce: 1x1 filters before the 3x3 convolution.
        filters_3x3: Filters of the 3x3 convolution.
        filters_5x5_reduce: 1x1 filters before the 5x5 convolution.
        filters_5x5: Filters of the 5x5 convolution.
        filters_pool_proj: 1x1 filters after the 3x3 max pooling.
        name: Prefix of the layer names `{name}_1x1`, `{name}_3x3_reduce`,
            `{name}_3x3`, `{name}_5x5_reduce`, `{name}_5x5`, `{name}_pool`,
            `{name}_pool_proj`, `{name}_concat` (a non-empty string without
            `/`).

    Returns:
        Tensor `(batch, height, width, filters_1x1 + filters_3x3 + filters_5x5
        + filters_pool_proj)`.

    Example:
        >>> inputs = keras.Input((28, 28, 192))
        >>> inception_module(inputs, 64, 96, 128, 16, 32, 32).shape  # 3a
        (None, 28, 28, 256)

    Introduced in: book/08_nin_googlenet.ipynb
    """
    check_tensor("x", x)
    for argument, value in [
        ("filters_1x1", filters_1x1),
        ("filters_3x3_reduce", filters_3x3_reduce),
        ("filters_3x3", filters_3x3),
        ("filters_5x5_reduce", filters_5x5_reduce),
        ("filters_5x5", filters_5x5),
        ("filters_pool_proj", filters_pool_proj),
    ]:
        check_filters(argument, value)
    check_name(name)

    def conv(tensor, filters, kernel_size, suffix):
        return layers.Conv2D(
            filters, kernel_size, padding="same", activation="relu", name=f"{name}_{suffix}"
        )(tensor)

    branch_1x1 = conv(x, filters_1x1, 1, "1x1")
    branch_3x3 = conv(conv(x, filters_3x3_reduce, 1, "3x3_reduce"), filters_3x3, 3, "3x3")
    branch_5x5 = conv(conv(x, filters_5x5_reduce, 1, "5x5_reduce"), filters_5x5, 5, "5x5")
    branch_pool = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    branch_pool = conv(branch_pool, filters_pool_proj, 1, "pool_proj")
    return layers.Concatenate(name=f"{name}_concat")(
        [branch_1x1, branch_3x3, branch_5x5, branch_pool]
    )


def auxiliary_classifier(
    x, num_classes, dropout_rate=0.7, classifier_activation="softmax", name="aux"
):
    """Applies an auxiliary classifier of GoogLeNet to the maps of module 4a or 4d.

    5x5 average pooling with stride 3 (14x14 -> 4x4), 128 1x1 filters and a
    1024-unit dense layer (both with ReLU), dropout and a classifier. During
    training its loss is added with weight 0.3 to inject gradient into the
    middle of the network; at inference it is dropped.

    Args:
        x: Input Keras tensor `(batch, 14, 14, channels)` (any known size of
            at least 5x5).
        num_classes: Number of output classes, an integer in [1, 100,000].
        dropout_rate: Dropout before the classifier (0.7 in the paper), a
            number in [0, 1).
        classifier_activation: Activation of the classifier (a Keras
            activation name or a function); `None` returns logits.
        name: Prefix of the layer names `{name}_pool`, `{name}_conv`,
            `{name}_flatten`, `{name}_fc`, `{name}_dropout`,
            `{name}_predictions` (a non-empty string without `/`).

    Returns:
        Tensor `(batch, num_classes)`.

    Introduced in: book/08_nin_googlenet.ipynb
    """
    check_tensor("x", x, min_size=5)
    if None in tuple(x.shape)[1:3]:  # the dense layer needs a known number of inputs
        raise ValueError(
            f"Expected `x` to have a known height and width. Received: x with shape {x.shape}"
        )
    num_classes = check_num_classes(num_classes)
    dropout_rate = check_rate("dropout_rate", dropout_rate)
    check_activation("classifier_activation", classifier_activation)
    check_name(name)
    x = layers.AveragePooling2D(5, strides=3, name=f"{name}_pool")(x)  # (batch, 4, 4, channels)
    x = layers.Conv2D(128, 1, activation="relu", name=f"{name}_conv")(x)  # (batch, 4, 4, 128)
    x = layers.Flatten(name=f"{name}_flatten")(x)  # (batch, 2048)
    x = layers.Dense(1024, activation="relu", name=f"{name}_fc")(x)
    x = layers.Dropout(dropout_rate, name=f"{name}_dropout")(x)
    outputs = layers.Dense(
        num_classes, activation=classifier_activation, name=f"{name}_predictions"
    )(x)
    return outputs


def googlenet(
    input_shape=(224, 224, 3),
    num_classes=1000,
    aux_classifiers=True,
    include_top=True,
    pooling=None,
    dropout_rate=0.4,
    aux_dropout_rate=0.7,
    classifier_activation="softmax",
    name="googlenet",
):
    """Builds GoogLeNet (Inception v1): 22 layers with weights, nine Inception modules.

    Reference:
        [Going Deeper with Convolutions](https://arxiv.org/abs/1409.4842)
        (Szegedy et al., CVPR 2015)

    The layout of the paper's table 1: 7x7/2 convolution, max pooling, 1x1
    and 3x3 convolutions, max pooling, modules 3a-3b, max pooling, modules
    4a-4e, max pooling, modules 5a-5b, global average pooling, 40% dropout and
    a dense classifier. Two simplifications: the local response normalisation
    layers are left out, and the final 7x7 average pooling is a global average
    pooling (the same on 224x224 images, and it also works on other sizes).

    With 1000 classes the main network has 6,998,552 parameters (the paper's
    table 1 sums to about 6.8 million, counting weights only) and each
    auxiliary classifier adds about 3.2 million, which are only used in
    training.

    Args:
        input_shape: `(height, width, channels)`; at least 65x65 with the
            auxiliary classifiers, 32x32 without (at most 8192x8192), and
            `None` height and width are allowed without them.
        num_classes: Number of output classes, an integer in [1, 100,000].
        aux_classifiers: Whether to add the two auxiliary classifiers after
            modules 4a and 4d; the model then has three outputs
            `[predictions, aux1_predictions, aux2_predictions]`. Train with
            `loss_weights=[1.0, 0.3, 0.3]` as in the paper. Needs
            `include_top=True`.
        include_top: Whether to add the classifier. Without it the model
            returns the `(batch, 7, 7, 1024)` maps of module 5b.
        pooling: With `include_top=False`: `None`, `"avg"` or `"max"`.
        dropout_rate: Dropout before the main classifier, in [0, 1).
        aux_dropout_rate: Dropout in the auxiliary classifiers, in [0, 1).
        classifier_activation: Activation of the classifiers (a Keras
            activation name or a function); `None` returns logits.
        name: Name of the model (a non-empty string without `/`).

    Returns:
        A `keras.Model`. Layers are named `conv1_7x7`, `pool1`,
        `conv2_3x3_reduce`, `conv2_3x3`, `pool2`, `inception_3a_1x1`, ...,
        `inception_5b_concat`, `avg_pool`, `dropout`, `predictions`, and
        `aux1_*`, `aux2_*`.

    Example:
        >>> model = googlenet(num_classes=10)
        >>> [output.shape for output in model.outputs]
        [(None, 10), (None, 10), (None, 10)]

    Introduced in: book/08_nin_googlenet.ipynb
    """
    num_classes = check_num_classes(num_classes)
    aux_classifiers = check_bool("aux_classifiers", aux_classifiers)
    include_top, pooling, classifier_activation = check_head(
        include_top, pooling, classifier_activation
    )
    if aux_classifiers and not include_top:
        raise ValueError(
            "Expected `aux_classifiers=False` when `include_top=False`, since the auxiliary "
            f"classifiers are part of the top. Received: aux_classifiers={aux_classifiers}"
        )
    input_shape = check_input_shape(
        input_shape,
        min_size=AUX_MIN_SIZE if aux_classifiers else 32,
        allow_unknown_size=not aux_classifiers,
    )
    dropout_rate = check_rate("dropout_rate", dropout_rate)
    aux_dropout_rate = check_rate("aux_dropout_rate", aux_dropout_rate)
    check_name(name)

    def conv(tensor, filters, kernel_size, layer_name, strides=1):
        return layers.Conv2D(
            filters,
            kernel_size,
            strides=strides,
            padding="same",
            activation="relu",
            name=layer_name,
        )(tensor)

    def max_pool(tensor, layer_name):
        return layers.MaxPooling2D(3, strides=2, padding="same", name=layer_name)(tensor)

    def module(tensor, module_name):
        return inception_module(
            tensor, *INCEPTION_V1_FILTERS[module_name], name=f"inception_{module_name}"
        )

    inputs = keras.Input(shape=input_shape, name="image")  # (batch, 224, 224, 3)
    x = conv(inputs, 64, 7, "conv1_7x7", strides=2)  # (batch, 112, 112, 64)
    x = max_pool(x, "pool1")  # (batch, 56, 56, 64)
    x = conv(x, 64, 1, "conv2_3x3_reduce")
    x = conv(x, 192, 3, "conv2_3x3")  # (batch, 56, 56, 192)
    x = max_pool(x, "pool2")  # (batch, 28, 28, 192)
    x = module(x, "3a")  # (batch, 28, 28, 256)
    x = module(x, "3b")  # (batch, 28, 28, 480)
    x = max_pool(x, "pool3")  # (batch, 14, 14, 480)
    x = module(x, "4a")  # (batch, 14, 14, 512)
    after_4a = x
    x = module(x, "4b")
    x = module(x, "4c")
    x = module(x, "4d")  # (batch, 14, 14, 528)
    after_4d = x
    x = module(x, "4e")  # (batch, 14, 14, 832)
    x = max_pool(x, "pool4")  # (batch, 7, 7, 832)
    x = module(x, "5a")
    x = module(x, "5b")  # (batch, 7, 7, 1024)

    if not include_top:
        return keras.Model(inputs, global_pooling(x, pooling), name=name)

    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)  # (batch, 1024)
    x = layers.Dropout(dropout_rate, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    if aux_classifiers:
        aux_arguments = dict(
            num_classes=num_classes,
            dropout_rate=aux_dropout_rate,
            classifier_activation=classifier_activation,
        )
        outputs = [
            outputs,
            auxiliary_classifier(after_4a, name="aux1", **aux_arguments),
            auxiliary_classifier(after_4d, name="aux2", **aux_arguments),
        ]
    return keras.Model(inputs, outputs, name=name)
