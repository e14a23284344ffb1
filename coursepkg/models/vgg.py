"""VGG16 and VGG19 (Simonyan and Zisserman, 2014): stacks of 3x3 convolutions.

Layer names and weight shapes are those of `keras.applications.VGG16` and
`keras.applications.VGG19`, so their ImageNet weights load into these models.
"""

import keras
from keras import layers

from ._common import (
    POOLING_CHOICES,
    check_choice,
    check_imagenet_arguments,
    check_input_shape,
    check_positive_int,
    check_positive_ints,
    check_rate,
    global_pooling,
)
from ._weights import load_imagenet_weights

VGG_FILTERS = (64, 128, 256, 512, 512)
VGG16_DEPTHS = (2, 2, 3, 3, 3)  # configuration D of the paper's Table 1
VGG19_DEPTHS = (2, 2, 4, 4, 4)  # configuration E
IMAGENET_SHAPE = (224, 224, 3)


def vgg_block(x, filters, num_convs, block_index):
    """Applies `num_convs` 3x3 convolutions with ReLU, then a 2x2 max pooling.

    Three stacked 3x3 convolutions see a 7x7 window, like one 7x7 convolution,
    but with three non-linearities and `3 * 3*3*c*c = 27 c^2` weights instead
    of `49 c^2` (for `c` channels in and out).

    Args:
        x: Input tensor `(batch, height, width, channels)`.
        filters: Number of filters of every convolution in the block.
        num_convs: Number of convolutions.
        block_index: Position of the block, used in the layer names
            `block{block_index}_conv{i}` and `block{block_index}_pool`.

    Returns:
        Tensor `(batch, height // 2, width // 2, filters)`.
    """
    check_positive_int("filters", filters)
    check_positive_int("num_convs", num_convs)
    for conv_index in range(1, num_convs + 1):
        x = layers.Conv2D(
            filters,
            3,
            padding="same",
            activation="relu",
            name=f"block{block_index}_conv{conv_index}",
        )(x)
    return layers.MaxPooling2D(2, strides=2, name=f"block{block_index}_pool")(x)


def vgg(
    block_depths=VGG16_DEPTHS,
    block_filters=VGG_FILTERS,
    input_shape=IMAGENET_SHAPE,
    num_classes=1000,
    include_top=True,
    pooling=None,
    dense_units=4096,
    dropout_rate=0.0,
    classifier_activation="softmax",
    name="vgg",
):
    """Builds a VGG network from the number of convolutions in each block.

    Reference:
        [Very Deep Convolutional Networks for Large-Scale Image Recognition](
        https://arxiv.org/abs/1409.1556) (Simonyan and Zisserman, ICLR 2015)

    Args:
        block_depths: Number of 3x3 convolutions in each block; `(2, 2, 3, 3,
            3)` is VGG16, `(2, 2, 4, 4, 4)` is VGG19, `(1, 1, 2, 2, 2)` is
            VGG11.
        block_filters: Number of filters in each block (same length as
            `block_depths`).
        input_shape: `(height, width, channels)`; each block halves the size,
            so five blocks need at least 32x32. Height and width may be `None`
            when `include_top=False`.
        num_classes: Number of output classes.
        include_top: Whether to add the classifier: `flatten`, `fc1`, `fc2`
            (`dense_units` each, ReLU) and `predictions`.
        pooling: With `include_top=False`: `None` returns the last feature
            maps, `"avg"` or `"max"` applies global pooling.
        dense_units: Width of `fc1` and `fc2` (4096 in the paper).
        dropout_rate: Dropout after `fc1` and `fc2`. The paper used 0.5;
            `keras.applications` has no dropout, hence the default of 0.
        classifier_activation: Activation of `predictions`; `None` returns
            logits.
        name: Name of the model.

    Returns:
        A `keras.Model`.

    Example:
        >>> model = vgg(block_depths=(1, 1, 2, 2, 2), input_shape=(32, 32, 3),
        ...             num_classes=10, dense_units=512)
        >>> model.output.shape
        (None, 10)

    Introduced in: book/07_vgg.ipynb
    """
    check_positive_ints("block_depths", block_depths)
    check_positive_ints("block_filters", block_filters, length=len(block_depths))
    check_input_shape(
        input_shape, min_size=2 ** len(block_depths), allow_unknown_size=not include_top
    )
    check_positive_int("num_classes", num_classes)
    check_choice("pooling", pooling, POOLING_CHOICES)
    check_positive_int("dense_units", dense_units)
    check_rate("dropout_rate", dropout_rate)

    inputs = keras.Input(shape=input_shape, name="image")  # (batch, 224, 224, 3)
    x = inputs
    for block_index, (depth, filters) in enumerate(zip(block_depths, block_filters), start=1):
        x = vgg_block(x, filters, depth, block_index)  # 224 -> 112 -> 56 -> 28 -> 14 -> 7
    if include_top:
        x = layers.Flatten(name="flatten")(x)  # (batch, 7 * 7 * 512)
        for dense_index in (1, 2):
            x = layers.Dense(dense_units, activation="relu", name=f"fc{dense_index}")(x)
            if dropout_rate > 0:
                x = layers.Dropout(dropout_rate, name=f"fc{dense_index}_dropout")(x)
        x = layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pooling(x, pooling)
    return keras.Model(inputs, x, name=name)


def vgg16(
    include_top=True,
    weights=None,
    input_shape=IMAGENET_SHAPE,
    num_classes=1000,
    pooling=None,
    dropout_rate=0.0,
    classifier_activation="softmax",
):
    """Builds VGG16: 13 convolutions and 3 dense layers, 138,357,544 parameters.

    Reference:
        [Very Deep Convolutional Networks for Large-Scale Image Recognition](
        https://arxiv.org/abs/1409.1556) (Simonyan and Zisserman, ICLR 2015)

    Identical in layer names and weight shapes to
    `keras.applications.VGG16`: 138,357,544 parameters with the classifier,
    14,714,688 without.

    Args:
        include_top: Whether to add the three dense layers.
        weights: `None` (random initialisation) or `"imagenet"` (download the
            weights of `keras.applications.VGG16` and copy them in; needs
            `num_classes=1000` and a 224x224x3 input when `include_top=True`).
        input_shape: `(height, width, channels)`, at least 32x32; `None`
            height and width are allowed when `include_top=False`.
        num_classes: Number of output classes.
        pooling: With `include_top=False`: `None`, `"avg"` or `"max"`.
        dropout_rate: Dropout after `fc1` and `fc2` (0.5 in the paper).
        classifier_activation: Activation of `predictions`; `None` returns
            logits.

    Returns:
        A `keras.Model` named `"vgg16"`.

    Example:
        >>> features = vgg16(include_top=False, input_shape=(None, None, 3))
        >>> features.count_params()
        14714688

    Introduced in: book/07_vgg.ipynb
    """
    return _published_vgg(
        VGG16_DEPTHS,
        "vgg16",
        keras.applications.VGG16,
        include_top=include_top,
        weights=weights,
        input_shape=input_shape,
        num_classes=num_classes,
        pooling=pooling,
        dropout_rate=dropout_rate,
        classifier_activation=classifier_activation,
    )


def vgg19(
    include_top=True,
    weights=None,
    input_shape=IMAGENET_SHAPE,
    num_classes=1000,
    pooling=None,
    dropout_rate=0.0,
    classifier_activation="softmax",
):
    """Builds VGG19: 16 convolutions and 3 dense layers, 143,667,240 parameters.

    Reference:
        [Very Deep Convolutional Networks for Large-Scale Image Recognition](
        https://arxiv.org/abs/1409.1556) (Simonyan and Zisserman, ICLR 2015)

    Identical in layer names and weight shapes to
    `keras.applications.VGG19`: 143,667,240 parameters with the classifier,
    20,024,384 without.

    Args:
        include_top: Whether to add the three dense layers.
        weights: `None` (random initialisation) or `"imagenet"` (download the
            weights of `keras.applications.VGG19` and copy them in; needs
            `num_classes=1000` and a 224x224x3 input when `include_top=True`).
        input_shape: `(height, width, channels)`, at least 32x32; `None`
            height and width are allowed when `include_top=False`.
        num_classes: Number of output classes.
        pooling: With `include_top=False`: `None`, `"avg"` or `"max"`.
        dropout_rate: Dropout after `fc1` and `fc2` (0.5 in the paper).
        classifier_activation: Activation of `predictions`; `None` returns
            logits.

    Returns:
        A `keras.Model` named `"vgg19"`.

    Example:
        >>> vgg19().count_params()
        143667240

    Introduced in: book/07_vgg.ipynb
    """
    return _published_vgg(
        VGG19_DEPTHS,
        "vgg19",
        keras.applications.VGG19,
        include_top=include_top,
        weights=weights,
        input_shape=input_shape,
        num_classes=num_classes,
        pooling=pooling,
        dropout_rate=dropout_rate,
        classifier_activation=classifier_activation,
    )


def _published_vgg(block_depths, name, keras_builder, weights, **vgg_arguments):
    """Builds VGG16 or VGG19 and, if asked, copies in the ImageNet weights of Keras."""
    check_imagenet_arguments(
        weights,
        vgg_arguments["include_top"],
        vgg_arguments["num_classes"],
        vgg_arguments["input_shape"],
        IMAGENET_SHAPE,
    )
    model = vgg(block_depths, VGG_FILTERS, name=name, **vgg_arguments)
    if weights == "imagenet":
        load_imagenet_weights(
            model,
            keras_builder,
            include_top=vgg_arguments["include_top"],
            input_shape=vgg_arguments["input_shape"],
            classifier_activation=None,
        )
    return model
