"""Network in Network (Lin, Chen and Yan, 2013): mlpconv blocks and global average pooling."""

import keras
from keras import layers

from ._common import (
    MAX_CHANNELS,
    MAX_KERNEL_SIZE,
    MAX_STAGES,
    check_activation,
    check_input_shape,
    check_kernel_size,
    check_name,
    check_num_classes,
    check_rate,
    check_sizes,
    check_strides,
    check_tensor,
)

# The CIFAR-10 network of the paper: three mlpconv blocks, the last of which
# ends with one map per class.
NIN_CIFAR_FILTERS = ((192, 160, 96), (192, 192, 192), (192, 192))
NIN_CIFAR_KERNEL_SIZES = (5, 5, 3)


def nin_block(x, filters, kernel_size, strides=1, name="mlpconv"):
    """Applies an mlpconv block: one convolution then two 1x1 convolutions, all with ReLU.

    A 1x1 convolution computes, at every pixel, a weighted sum of the input
    channels: `out[i, j, f] = sum_c in[i, j, c] * k[c, f]`. Two of them after
    an ordinary convolution act as a small multilayer perceptron slid over
    the image (hence "mlpconv").

    Args:
        x: Input Keras tensor `(batch, height, width, channels)`.
        filters: Three integers in [1, 8192]: filters of the `kernel_size`
            convolution and of the two 1x1 convolutions.
        kernel_size: Kernel size of the first convolution, in [1, 31].
        strides: Stride of the first convolution, in [1, 8].
        name: Prefix of the layer names `{name}_conv`, `{name}_mlp1`,
            `{name}_mlp2` (a non-empty string without `/`).

    Returns:
        Tensor `(batch, height / strides, width / strides, filters[2])`.

    Example:
        >>> inputs = keras.Input((32, 32, 3))
        >>> nin_block(inputs, (192, 160, 96), kernel_size=5).shape
        (None, 32, 32, 96)

    Introduced in: book/08_nin_googlenet.ipynb
    """
    check_tensor("x", x)
    first, second, third = check_sizes("filters", filters, MAX_CHANNELS, length=3)
    kernel_size = check_kernel_size("kernel_size", kernel_size)
    strides = check_strides("strides", strides)
    check_name(name)
    x = layers.Conv2D(
        first, kernel_size, strides=strides, padding="same", activation="relu", name=f"{name}_conv"
    )(x)
    x = layers.Conv2D(second, 1, activation="relu", name=f"{name}_mlp1")(x)
    return layers.Conv2D(third, 1, activation="relu", name=f"{name}_mlp2")(x)


def _check_block_filters(block_filters):
    """1 to 8 tuples of filters: three integers per block, two for the last one."""
    if not isinstance(block_filters, list | tuple) or not all(
        isinstance(filters, list | tuple) for filters in block_filters
    ):
        raise TypeError(
            "Expected `block_filters` to be a sequence of tuples of filters, one per block. "
            f"Received: block_filters={block_filters!r:.80}"
        )
    if not 1 <= len(block_filters) <= MAX_STAGES:
        raise ValueError(
            f"Expected `block_filters` to hold 1 to {MAX_STAGES} blocks. "
            f"Received: block_filters={block_filters!r:.80}"
        )
    *first_blocks, last_block = block_filters
    return tuple(
        [check_sizes("block_filters", filters, MAX_CHANNELS, length=3) for filters in first_blocks]
        + [check_sizes("block_filters", last_block, MAX_CHANNELS, length=2)]
    )


def network_in_network(
    input_shape=(32, 32, 3),
    num_classes=10,
    block_filters=NIN_CIFAR_FILTERS,
    kernel_sizes=NIN_CIFAR_KERNEL_SIZES,
    dropout_rate=0.5,
    classifier_activation="softmax",
    name="network_in_network",
):
    """Builds Network in Network: mlpconv blocks and no dense layer.

    Reference:
        [Network In Network](https://arxiv.org/abs/1312.4400) (Lin, Chen and
        Yan, ICLR 2014)

    The defaults are the paper's CIFAR-10 network: three mlpconv blocks
    (192-160-96 with 5x5, 192-192-192 with 5x5, 192-192-`num_classes` with
    3x3), 3x3 stride-2 max pooling and dropout after the first two, and a
    global average pooling that turns the last block's `num_classes` maps into
    class scores. Replacing the dense classifier with global average pooling
    is the paper's second idea: it has no parameters and so cannot overfit.
    (The paper uses average pooling after the second block; max pooling is
    used for both here, which changes no parameter count.)

    Args:
        input_shape: `(height, width, channels)`; at least 4x4 for the two
            poolings (at most 8192x8192), and `None` height and width are
            allowed.
        num_classes: Number of classes: filters of the last 1x1 convolution,
            an integer in [1, 8192].
        block_filters: For each of 1 to 8 blocks, the filters of its
            convolutions (integers in [1, 8192]): three per block, but the
            last block lists only two, its third is `num_classes`.
        kernel_sizes: Kernel size of the first convolution of each block, in
            [1, 31].
        dropout_rate: Dropout after the pooling of every block but the last,
            a number in [0, 1).
        classifier_activation: Activation applied to the pooled class maps
            (a Keras activation name or a function); `None` returns them as
            logits.
        name: Name of the model (a non-empty string without `/`).

    Returns:
        A `keras.Model` mapping images to `(batch, num_classes)` scores.
        Layers are named `block1_conv`, `block1_mlp1`, `block1_mlp2`,
        `block1_pool`, `block1_dropout`, ..., `global_avg_pool`,
        `predictions`.

    Example:
        >>> model = network_in_network()
        >>> model.output.shape
        (None, 10)

    Introduced in: book/08_nin_googlenet.ipynb
    """
    num_classes = check_num_classes(num_classes)
    if num_classes > MAX_CHANNELS:  # the last convolution has one filter per class
        raise ValueError(
            f"Expected `num_classes` to be an integer in [1, {MAX_CHANNELS}] (one map per class). "
            f"Received: num_classes={num_classes}"
        )
    block_filters = _check_block_filters(block_filters)
    num_blocks = len(block_filters)
    kernel_sizes = check_sizes("kernel_sizes", kernel_sizes, MAX_KERNEL_SIZE, length=num_blocks)
    dropout_rate = check_rate("dropout_rate", dropout_rate)
    input_shape = check_input_shape(
        input_shape, min_size=2 ** (num_blocks - 1), allow_unknown_size=True
    )
    check_activation("classifier_activation", classifier_activation)
    check_name(name)

    inputs = keras.Input(shape=input_shape, name="image")  # (batch, 32, 32, 3)
    x = inputs
    for block_index, (filters, kernel_size) in enumerate(zip(block_filters, kernel_sizes), 1):
        is_last = block_index == num_blocks
        if is_last:
            filters = (*filters, num_classes)
        x = nin_block(x, filters, kernel_size, name=f"block{block_index}")
        if not is_last:
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"block{block_index}_pool")(
                x
            )  # halves height and width: 32 -> 16 -> 8
            x = layers.Dropout(dropout_rate, name=f"block{block_index}_dropout")(x)
    x = layers.GlobalAveragePooling2D(name="global_avg_pool")(x)  # (batch, num_classes)
    outputs = layers.Activation(classifier_activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)
