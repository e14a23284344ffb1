"""ConvNeXt (Liu et al., 2022): a ResNet modernised step by step towards a vision Transformer.

`convnext_tiny` creates the same weights, in the same order, as
`keras.applications.ConvNeXtTiny`, so its ImageNet weights load into it.
Layer names drop Keras's model-name prefix (`stage1_block1_depthwise_conv`
here, `convnext_tiny_stage_0_block_0_depthwise_conv` there).
"""

import keras
import numpy as np
from keras import layers

from coursepkg import validation

from ._common import (
    MAX_BLOCKS,
    MAX_CHANNELS,
    check_bool,
    check_filters,
    check_head,
    check_imagenet_arguments,
    check_input_shape,
    check_name,
    check_num_classes,
    check_rate,
    check_sizes,
    check_tensor,
    check_tensor_channels,
    global_pooling,
)
from ._weights import copy_weights, imagenet_reference

IMAGENET_SHAPE = (224, 224, 3)
TINY_DEPTHS = (3, 3, 9, 3)
TINY_DIMS = (96, 192, 384, 768)
# ImageNet statistics of pixels in [0, 255], used by the first layer.
IMAGENET_MEAN_255 = (0.485 * 255, 0.456 * 255, 0.406 * 255)
IMAGENET_VARIANCE_255 = ((0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2)
LAYER_NORM_EPSILON = 1e-6
MAX_LAYER_SCALE = 1.0  # initial value of a layer scale (1e-6 in ConvNeXt, up to 0.1 in CaiT)


def _check_layer_scale(name, value):
    """An initial layer scale: a finite number in [0, MAX_LAYER_SCALE]."""
    return validation.check_float(name, value, 0.0, MAX_LAYER_SCALE)


@keras.saving.register_keras_serializable(package="coursepkg")
class LayerScale(layers.Layer):
    """Multiplies each channel by a learned scale, initialised small.

    Starting every residual branch near zero (1e-6) lets a deep network
    begin as almost the identity.

    Reference:
        [Going deeper with Image Transformers](https://arxiv.org/abs/2103.17239)
        (Touvron et al., ICCV 2021)

    Args:
        init_value: Initial value of every scale, a number in [0, 1].
        dim: Number of channels, an integer in [1, 8192].
        **kwargs: Passed to `keras.layers.Layer` (`name`, ...).

    Introduced in: book/12_convnext.ipynb
    """

    def __init__(self, init_value, dim, **kwargs):
        init_value = _check_layer_scale("init_value", init_value)
        dim = check_filters("dim", dim)
        super().__init__(**kwargs)
        self.init_value = init_value
        self.dim = dim

    def build(self, input_shape):
        self.gamma = self.add_weight(
            shape=(self.dim,),
            initializer=keras.initializers.Constant(self.init_value),
            trainable=True,
            name="gamma",
        )

    def call(self, inputs):  # (batch, height, width, dim)
        return inputs * self.gamma

    def get_config(self):
        return {**super().get_config(), "init_value": self.init_value, "dim": self.dim}


def convnext_block(x, dim, drop_path_rate=0.0, layer_scale_init_value=1e-6, name="block"):
    """Applies a ConvNeXt block: 7x7 depthwise conv, LayerNorm, 1x1 to 4*dim, GELU, 1x1 back.

    An inverted bottleneck like a Transformer's MLP, with a large depthwise
    convolution in place of attention, one normalisation and one activation
    per block, and a residual connection. The 1x1 convolutions are `Dense`
    layers acting on the channel axis, as in the reference code and in
    Keras.

    Reference:
        [A ConvNet for the 2020s](https://arxiv.org/abs/2201.03545) (Liu et
        al., CVPR 2022), figure 4.

    Args:
        x: Input Keras tensor `(batch, height, width, dim)`.
        dim: Number of channels (those of `x`), an integer in [1, 8192].
        drop_path_rate: Probability of dropping the residual branch of a
            sample during training (stochastic depth), a number in [0, 1).
        layer_scale_init_value: Initial value of the per-channel scale of the
            branch, a number in [0, 1]; `None` or 0 leaves the scale out.
        name: Prefix of the layer names `{name}_depthwise_conv`,
            `{name}_layernorm`, `{name}_pointwise_conv_1`, `{name}_gelu`,
            `{name}_pointwise_conv_2`, `{name}_layer_scale`, `{name}_add`
            (a non-empty string without `/`).

    Returns:
        Tensor `(batch, height, width, dim)`.

    Example:
        >>> inputs = keras.Input((56, 56, 96))
        >>> convnext_block(inputs, 96).shape
        (None, 56, 56, 96)

    Introduced in: book/12_convnext.ipynb
    """
    check_tensor("x", x)
    dim = check_filters("dim", dim)
    check_tensor_channels("dim", x, dim)
    drop_path_rate = check_rate("drop_path_rate", drop_path_rate)
    layer_scale_init_value = validation.optional(
        _check_layer_scale, "layer_scale_init_value", layer_scale_init_value
    )
    check_name(name)
    inputs = x
    # A grouped convolution with one group per channel is a depthwise convolution;
    # Keras's ConvNeXt uses this form, whose kernel is (7, 7, 1, dim).
    x = layers.Conv2D(dim, 7, padding="same", groups=dim, name=f"{name}_depthwise_conv")(x)
    x = layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name=f"{name}_layernorm")(x)
    x = layers.Dense(4 * dim, name=f"{name}_pointwise_conv_1")(x)  # (batch, height, width, 4*dim)
    x = layers.Activation("gelu", name=f"{name}_gelu")(x)
    x = layers.Dense(dim, name=f"{name}_pointwise_conv_2")(x)  # (batch, height, width, dim)
    if layer_scale_init_value:
        x = LayerScale(layer_scale_init_value, dim, name=f"{name}_layer_scale")(x)
    if drop_path_rate > 0:
        x = layers.Dropout(
            drop_path_rate, noise_shape=(None, 1, 1, 1), name=f"{name}_stochastic_depth"
        )(x)
    return layers.Add(name=f"{name}_add")([inputs, x])


def convnext(
    depths=TINY_DEPTHS,
    dims=TINY_DIMS,
    input_shape=IMAGENET_SHAPE,
    num_classes=1000,
    include_top=True,
    pooling=None,
    include_preprocessing=True,
    drop_path_rate=0.0,
    layer_scale_init_value=1e-6,
    classifier_activation="softmax",
    name="convnext",
):
    """Builds a ConvNeXt from its number of blocks and channels per stage.

    Reference:
        [A ConvNet for the 2020s](https://arxiv.org/abs/2201.03545) (Liu et
        al., CVPR 2022)

    A "patchify" stem (4x4 convolution with stride 4 and LayerNorm), four
    stages of `convnext_block`s separated by downsampling layers (LayerNorm
    and 2x2 convolution with stride 2), then global average pooling,
    LayerNorm and a dense classifier. As in Keras, a headless model
    (`include_top=False`) still ends with that LayerNorm, after the optional
    pooling.

    Args:
        depths: Number of blocks of each of the four stages, each in
            [1, 200]: `(3, 3, 9, 3)` is ConvNeXt-T, `(3, 3, 27, 3)` ConvNeXt-S.
        dims: Channels of each stage, each in [1, 8192]: `(96, 192, 384,
            768)` for T and S.
        input_shape: `(height, width, channels)`, at least 32x32 (and at
            most 8192x8192); `None` height and width are allowed.
        num_classes: Number of output classes, an integer in [1, 100,000].
        include_top: Whether to add the pooling, LayerNorm and classifier.
        pooling: With `include_top=False`: `None`, `"avg"` or `"max"`.
        include_preprocessing: Whether the model starts with a
            `Normalization` layer holding the ImageNet mean and variance of
            pixels in [0, 255] (it has no weights).
        drop_path_rate: Stochastic depth rate of the last block, a number in
            [0, 1), growing linearly from 0 at the first.
        layer_scale_init_value: Initial value of the layer scales, a number
            in [0, 1]; `None` or 0 leaves them out (and the weights of
            `keras.applications` no longer fit).
        classifier_activation: Activation of `head_dense` (a Keras
            activation name or a function); `None` returns logits.
        name: Name of the model (a non-empty string without `/`).

    Returns:
        A `keras.Model`.

    Example:
        >>> model = convnext(depths=(2, 2, 2, 2), dims=(32, 64, 128, 256),
        ...                  input_shape=(64, 64, 3), num_classes=10)
        >>> model.output.shape
        (None, 10)

    Introduced in: book/12_convnext.ipynb
    """
    arguments = _check_convnext_arguments(
        depths,
        dims,
        input_shape=input_shape,
        num_classes=num_classes,
        include_top=include_top,
        pooling=pooling,
        include_preprocessing=include_preprocessing,
        drop_path_rate=drop_path_rate,
        layer_scale_init_value=layer_scale_init_value,
        classifier_activation=classifier_activation,
        name=name,
    )
    return _build_convnext(**arguments)


def _check_convnext_arguments(
    depths,
    dims,
    input_shape,
    num_classes,
    include_top,
    pooling,
    include_preprocessing,
    drop_path_rate,
    layer_scale_init_value,
    classifier_activation,
    name,
):
    """Checks every argument of `convnext` and returns them cleaned, as a dict."""
    include_top, pooling, classifier_activation = check_head(
        include_top, pooling, classifier_activation
    )
    return dict(
        depths=check_sizes("depths", depths, MAX_BLOCKS, length=4),
        dims=check_sizes("dims", dims, MAX_CHANNELS, length=4),
        input_shape=check_input_shape(input_shape, min_size=32, allow_unknown_size=True),
        num_classes=check_num_classes(num_classes),
        include_top=include_top,
        pooling=pooling,
        include_preprocessing=check_bool("include_preprocessing", include_preprocessing),
        drop_path_rate=check_rate("drop_path_rate", drop_path_rate),
        layer_scale_init_value=validation.optional(
            _check_layer_scale, "layer_scale_init_value", layer_scale_init_value
        ),
        classifier_activation=classifier_activation,
        name=check_name(name),
    )


def _build_convnext(
    depths,
    dims,
    input_shape,
    num_classes,
    include_top,
    pooling,
    include_preprocessing,
    drop_path_rate,
    layer_scale_init_value,
    classifier_activation,
    name,
):
    """Builds the network of `convnext` from checked arguments."""
    inputs = keras.Input(shape=input_shape, name="image")  # (batch, 224, 224, 3), pixels 0-255
    x = inputs
    if include_preprocessing:
        x = layers.Normalization(
            mean=IMAGENET_MEAN_255, variance=IMAGENET_VARIANCE_255, name="normalization"
        )(x)

    # Stochastic depth grows linearly over all the blocks of the network.
    drop_rates = np.linspace(0.0, drop_path_rate, sum(depths)).tolist()
    block_number = 0
    for stage_index, (depth, dim) in enumerate(zip(depths, dims), start=1):
        if stage_index == 1:  # stem: non-overlapping 4x4 patches
            x = layers.Conv2D(dim, 4, strides=4, name="stem_conv")(x)  # (batch, 56, 56, 96)
            x = layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="stem_layernorm")(x)
        else:  # downsampling: halves height and width, changes the channels
            prefix = f"downsampling{stage_index - 1}"
            x = layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name=f"{prefix}_layernorm")(x)
            x = layers.Conv2D(dim, 2, strides=2, name=f"{prefix}_conv")(x)
        for block_index in range(1, depth + 1):
            x = convnext_block(
                x,
                dim,
                drop_path_rate=drop_rates[block_number],
                layer_scale_init_value=layer_scale_init_value,
                name=f"stage{stage_index}_block{block_index}",
            )
            block_number += 1
    # (batch, 7, 7, 768) for ConvNeXt-T
    if include_top:
        x = layers.GlobalAveragePooling2D(name="head_gap")(x)
        x = layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="head_layernorm")(x)
        x = layers.Dense(num_classes, activation=classifier_activation, name="head_dense")(x)
    else:
        x = global_pooling(x, pooling)
        x = layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="head_layernorm")(x)
    return keras.Model(inputs, x, name=name)


def convnext_tiny(
    include_top=True,
    weights=None,
    input_shape=IMAGENET_SHAPE,
    num_classes=1000,
    pooling=None,
    include_preprocessing=True,
    drop_path_rate=0.0,
    classifier_activation="softmax",
):
    """Builds ConvNeXt-T: 3, 3, 9 and 3 blocks of 96 to 768 channels, 28,589,128 parameters.

    Reference:
        [A ConvNet for the 2020s](https://arxiv.org/abs/2201.03545) (Liu et
        al., CVPR 2022), section 3 (the paper's 28M).

    Same weights, in the same order, as `keras.applications.ConvNeXtTiny`:
    28,589,128 parameters, all trainable (ConvNeXt has no batch
    normalisation; its 18 layer scales hold 6,624 of them). The input
    `Normalization` layer has fixed statistics and no weights, so the count
    is the same with `include_preprocessing=False`.

    Args:
        include_top: Whether to add the pooling and classifier.
        weights: `None` (random initialisation) or `"imagenet"` (download the
            weights of `keras.applications.ConvNeXtTiny` and copy them in;
            needs `num_classes=1000` and a 224x224x3 input when
            `include_top=True`).
        input_shape: `(height, width, channels)`, at least 32x32 (and at
            most 8192x8192); `None` height and width are allowed.
        num_classes: Number of output classes, an integer in [1, 100,000].
        pooling: With `include_top=False`: `None`, `"avg"` or `"max"`.
        include_preprocessing: Whether to normalise pixels in [0, 255] with
            the ImageNet statistics in the first layer.
        drop_path_rate: Stochastic depth rate of the last block (0.1 in the
            paper's ImageNet training of ConvNeXt-T), a number in [0, 1).
        classifier_activation: Activation of `head_dense` (a Keras
            activation name or a function); `None` returns logits.

    Returns:
        A `keras.Model` named `"convnext_tiny"`.

    Raises:
        coursepkg.downloads.DownloadError: with `weights="imagenet"`, when the
            weight file cannot be downloaded (checked before building).

    Example:
        >>> convnext_tiny().count_params()
        28589128

    Introduced in: book/12_convnext.ipynb
    """
    arguments = _check_convnext_arguments(
        TINY_DEPTHS,
        TINY_DIMS,
        input_shape=input_shape,
        num_classes=num_classes,
        include_top=include_top,
        pooling=pooling,
        include_preprocessing=include_preprocessing,
        drop_path_rate=drop_path_rate,
        layer_scale_init_value=1e-6,
        classifier_activation=classifier_activation,
        name="convnext_tiny",
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
            keras.applications.ConvNeXtTiny,
            include_top=arguments["include_top"],
            input_shape=arguments["input_shape"],
            include_preprocessing=arguments["include_preprocessing"],
            classifier_activation=None,
        )
    model = _build_convnext(**arguments)
    return model if reference is None else copy_weights(reference, model)
