"""LeNet-5 (LeCun et al., 1998), the network that read the digits on cheques."""

import keras
from keras import layers

from ._common import (
    check_activation,
    check_choice,
    check_input_shape,
    check_name,
    check_num_classes,
)

ACTIVATION_CHOICES = ("tanh", "relu", "sigmoid")
POOLING_CHOICES = ("average", "max")


def lenet5(
    input_shape=(32, 32, 1),
    num_classes=10,
    activation="tanh",
    pooling="average",
    classifier_activation="softmax",
    name="lenet5",
):
    """Builds LeNet-5 in its 1998 layout: C1, S2, C3, S4, C5, F6, output.

    Reference:
        [Gradient-Based Learning Applied to Document Recognition](
        http://yann.lecun.com/exdb/publis/pdf/lecun-01a.pdf) (LeCun et al.,
        Proceedings of the IEEE, 1998)

    With the defaults the model has 61,706 parameters:

    | layer | output   | parameters               |
    |-------|----------|--------------------------|
    | C1    | 28x28x6  | (5*5*1 + 1) * 6 = 156    |
    | S2    | 14x14x6  | 0                        |
    | C3    | 10x10x16 | (5*5*6 + 1) * 16 = 2,416 |
    | S4    | 5x5x16   | 0                        |
    | C5    | 1x1x120  | (5*5*16 + 1) * 120 = 48,120 |
    | F6    | 84       | (120 + 1) * 84 = 10,164  |
    | output| 10       | (84 + 1) * 10 = 850      |

    The paper counts about 60,000 because it differs in three places, which
    this builder simplifies on purpose (they make no difference to accuracy
    on MNIST, and the simplified layers are the ones Keras provides):

    - C3 in the paper connects each of its 16 maps to only some of the 6 maps
      of S2 (its Table I), giving 1,516 parameters instead of 2,416; here every
      map sees all 6 inputs.
    - S2 and S4 in the paper multiply the pooled sum by a trainable
      coefficient and add a trainable bias (12 and 32 parameters); here they
      are plain average pooling with no parameters.
    - The paper's output layer is made of 10 Euclidean radial basis function
      units with fixed weights; here it is a dense softmax layer.

    C5 is a 5x5 convolution, as in the paper; on a 32x32 input it sees a
    5x5 map and is therefore equivalent to a dense layer.

    Args:
        input_shape: `(height, width, channels)`. LeNet-5 needs at least
            32x32 (and at most 8192x8192): pad 28x28 MNIST digits by 2 pixels
            on each side, as LeCun et al. did.
        num_classes: Number of output classes, an integer in [1, 100,000].
        activation: Activation of C1, C3, C5 and F6: `"tanh"` (close to the
            paper's scaled tanh), `"relu"` or `"sigmoid"`.
        pooling: `"average"` (the paper's subsampling) or `"max"`.
        classifier_activation: Activation of the output layer (a Keras
            activation name or a function); `None` returns logits.
        name: Name of the model (a non-empty string without `/`).

    Returns:
        A `keras.Model` mapping `(batch, 32, 32, 1)` images to
        `(batch, num_classes)` scores. Layers are named `c1_conv`, `s2_pool`,
        `c3_conv`, `s4_pool`, `c5_conv`, `flatten`, `f6_dense`, `predictions`.

    Example:
        >>> model = lenet5()
        >>> model.count_params()
        61706

    Introduced in: book/05_lenet5.ipynb
    """
    input_shape = check_input_shape(input_shape, min_size=32)
    num_classes = check_num_classes(num_classes)
    check_choice("activation", activation, ACTIVATION_CHOICES)
    check_choice("pooling", pooling, POOLING_CHOICES)
    check_activation("classifier_activation", classifier_activation)
    check_name(name)
    pooling_layer = layers.AveragePooling2D if pooling == "average" else layers.MaxPooling2D

    inputs = keras.Input(shape=input_shape, name="image")  # (batch, 32, 32, 1)
    x = layers.Conv2D(6, 5, activation=activation, name="c1_conv")(inputs)  # (batch, 28, 28, 6)
    x = pooling_layer(2, name="s2_pool")(x)  # (batch, 14, 14, 6)
    x = layers.Conv2D(16, 5, activation=activation, name="c3_conv")(x)  # (batch, 10, 10, 16)
    x = pooling_layer(2, name="s4_pool")(x)  # (batch, 5, 5, 16)
    x = layers.Conv2D(120, 5, activation=activation, name="c5_conv")(x)  # (batch, 1, 1, 120)
    x = layers.Flatten(name="flatten")(x)  # (batch, 120)
    x = layers.Dense(84, activation=activation, name="f6_dense")(x)  # (batch, 84)
    outputs = layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)
