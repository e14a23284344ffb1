"""AlexNet (Krizhevsky, Sutskever and Hinton, 2012), as tabulated in the lecture."""

import keras
from keras import layers

from ._common import (
    check_activation,
    check_bool,
    check_input_shape,
    check_name,
    check_num_classes,
    check_rate,
)

# The smallest input for which the last max pooling still has a 3x3 window:
# 67 -> conv1 (11x11, stride 4) 15 -> pool1 7 -> pool2 3 -> pool5 1.
ALEXNET_MIN_SIZE = 67


def alexnet(
    input_shape=(227, 227, 3),
    num_classes=10,
    batch_norm=True,
    dropout_rate=0.5,
    include_top=True,
    classifier_activation="softmax",
    name="alexnet",
):
    """Builds the single-GPU AlexNet of the lecture, with batch normalisation.

    Reference:
        [ImageNet Classification with Deep Convolutional Neural Networks](
        https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks)
        (Krizhevsky, Sutskever and Hinton, NeurIPS 2012)

    Five convolutions (96 11x11 stride 4, 256 5x5, 384 3x3, 384 3x3, 256 3x3,
    each with ReLU), overlapping 3x3 stride-2 max pooling after the first,
    second and fifth, then two dense layers of 4096 units with dropout.
    Compared with the paper, the local response normalisation is replaced by
    batch normalisation after each convolution, the two-GPU split is dropped
    (every kernel sees every channel of the previous layer) and the input is
    227x227, the size at which the paper's arithmetic works out.

    With the defaults (227x227x3 input, 10 classes) the model reproduces the
    lecture's table layer by layer: 58,327,818 parameters, of which 58,325,066
    are trainable and 2,752 are the batch normalisation running statistics.

    Args:
        input_shape: `(height, width, channels)`, at least 67x67 (and at
            most 8192x8192).
        num_classes: Number of output classes, an integer in [1, 100,000]
            (1000 in the paper, 10 in the lecture).
        batch_norm: Whether to add batch normalisation after each
            convolution. Without it the model has 5,504 fewer parameters.
        dropout_rate: Dropout after each of the two 4096-unit layers, a
            number in [0, 1).
        include_top: Whether to add the flatten and dense layers. Without
            them the model returns the `(batch, 6, 6, 256)` maps of `pool5`.
        classifier_activation: Activation of the output layer (a Keras
            activation name or a function); `None` returns logits.
        name: Name of the model (a non-empty string without `/`).

    Returns:
        A `keras.Model`. Layers are named `conv1`, `conv1_bn`, `pool1`, ...,
        `conv5_bn`, `pool5`, `flatten`, `fc6`, `fc6_dropout`, `fc7`,
        `fc7_dropout`, `predictions`.

    Example:
        >>> model = alexnet()
        >>> model.get_layer("pool5").output.shape
        (None, 6, 6, 256)

    Introduced in: book/06_alexnet.ipynb
    """
    input_shape = check_input_shape(input_shape, min_size=ALEXNET_MIN_SIZE)
    num_classes = check_num_classes(num_classes)
    batch_norm = check_bool("batch_norm", batch_norm)
    dropout_rate = check_rate("dropout_rate", dropout_rate)
    include_top = check_bool("include_top", include_top)
    check_activation("classifier_activation", classifier_activation)
    check_name(name)

    def conv(x, filters, kernel_size, strides, padding, layer_name):
        x = layers.Conv2D(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            activation="relu",
            name=layer_name,
        )(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"{layer_name}_bn")(x)
        return x

    inputs = keras.Input(shape=input_shape, name="image")  # (batch, 227, 227, 3)
    x = conv(inputs, 96, 11, 4, "valid", "conv1")  # (batch, 55, 55, 96)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)  # (batch, 27, 27, 96)
    x = conv(x, 256, 5, 1, "same", "conv2")  # (batch, 27, 27, 256)
    x = layers.MaxPooling2D(3, strides=2, name="pool2")(x)  # (batch, 13, 13, 256)
    x = conv(x, 384, 3, 1, "same", "conv3")  # (batch, 13, 13, 384)
    x = conv(x, 384, 3, 1, "same", "conv4")  # (batch, 13, 13, 384)
    x = conv(x, 256, 3, 1, "same", "conv5")  # (batch, 13, 13, 256)
    x = layers.MaxPooling2D(3, strides=2, name="pool5")(x)  # (batch, 6, 6, 256)
    if include_top:
        x = layers.Flatten(name="flatten")(x)  # (batch, 9216)
        x = layers.Dense(4096, activation="relu", name="fc6")(x)
        x = layers.Dropout(dropout_rate, name="fc6_dropout")(x)
        x = layers.Dense(4096, activation="relu", name="fc7")(x)
        x = layers.Dropout(dropout_rate, name="fc7_dropout")(x)
        x = layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    return keras.Model(inputs, x, name=name)
