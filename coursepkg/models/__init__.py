"""Architecture builders of the course, one module per family, in the order of the chapters.

Every builder uses the Keras Functional API, names its layers so that chapters
can pick them by name (`model.get_layer("block1_conv1")`), and checks its
arguments before building. Where `keras.applications` has the same network
(VGG16, VGG19, ResNet50, Xception, MobileNet, EfficientNetB0, ConvNeXtTiny),
ours holds the same weights in the same order, so `weights="imagenet"` or
`copy_weights` moves ImageNet weights into the course's own code.
"""

from ._counts import ConvCost, conv_cost
from ._weights import copy_weights
from .alexnet import alexnet
from .convnext import LayerScale, convnext, convnext_block, convnext_tiny
from .efficientnet import (
    ScalingFactors,
    compound_scaling,
    efficientnet,
    efficientnet_b0,
    mbconv_block,
)
from .googlenet import (
    auxiliary_classifier,
    conv_multiplications,
    googlenet,
    inception_module,
    inception_module_naive,
)
from .lenet import lenet5
from .nin import network_in_network, nin_block
from .resnet import (
    ChannelZeroPadding,
    basic_block,
    bottleneck_block,
    cifar_resnet,
    resnet,
    resnet18,
    resnet34,
    resnet50,
)
from .vgg import vgg, vgg16, vgg19, vgg_block
from .xception import depthwise_separable_conv, mobilenet, separable_conv_cost, xception

__all__ = [
    # 05 LeNet-5
    "lenet5",
    # 06 AlexNet
    "alexnet",
    # 07 VGG
    "vgg",
    "vgg16",
    "vgg19",
    "vgg_block",
    "copy_weights",
    # 08 Network in Network and GoogLeNet
    "nin_block",
    "network_in_network",
    "inception_module_naive",
    "inception_module",
    "auxiliary_classifier",
    "googlenet",
    "conv_multiplications",
    "conv_cost",
    "ConvCost",
    # 09 ResNet
    "basic_block",
    "bottleneck_block",
    "ChannelZeroPadding",
    "resnet",
    "resnet18",
    "resnet34",
    "resnet50",
    "cifar_resnet",
    # 10 Xception and MobileNet
    "depthwise_separable_conv",
    "separable_conv_cost",
    "xception",
    "mobilenet",
    # 11 EfficientNet
    "compound_scaling",
    "ScalingFactors",
    "mbconv_block",
    "efficientnet",
    "efficientnet_b0",
    # 12 ConvNeXt
    "LayerScale",
    "convnext_block",
    "convnext",
    "convnext_tiny",
]
