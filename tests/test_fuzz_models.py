"""Fuzzing (see tests/fuzzing.py): the architecture builders, blocks and counts of coursepkg.models.

Every bad argument must be refused before a single layer is built, so even the
ImageNet-sized builders (VGG16, ResNet-50, ...) cost milliseconds per bad call.
"""

from __future__ import annotations

import functools

import fuzzing
import numpy as np
import pytest
from fuzzing import Case
from hypothesis import strategies as st

from coursepkg import models
from coursepkg.models.efficientnet import MBConvStage, round_filters, round_repeats

# An activation: a Keras activation's name, a function, or None (logits) where allowed.
fuzzing.KINDS["models_activation"] = st.one_of(
    st.integers(), st.floats(), st.binary(max_size=3), st.just(["relu"]),
    st.sampled_from(["", "no-such-activation", "RELU"]),
)  # fmt: skip
# A Keras tensor (batch, height, width, channels), such as keras.Input((8, 8, 4)).
fuzzing.KINDS["models_tensor"] = st.one_of(
    st.text(max_size=4), st.none(), st.integers(), st.just([[1.0, 2.0]]),
    st.just(np.zeros((2, 8, 8, 4), dtype="float32")), st.builds(lambda: _symbolic((8,))),
    st.builds(lambda: _symbolic((8, 8))),
)  # fmt: skip
# Arguments whose None is meaningful though their default is not None.
fuzzing.KINDS["models_choice_or_none"] = fuzzing.KINDS["choice"].filter(lambda v: v is not None)
fuzzing.KINDS["models_float_or_none"] = fuzzing.KINDS["float"].filter(lambda v: v is not None)


@functools.cache
def _symbolic(shape):
    import keras

    return keras.Input(shape)


def _block_input():
    return _symbolic((8, 8, 4))  # (batch, 8, 8, 4)


HEAD = {"pooling": "choice", "classifier_activation": "models_activation", "name": "text"}
PUBLISHED = {"pooling": "choice", "classifier_activation": "models_activation", "weights": "choice"}


def _block(function, required, **kinds):
    return Case(function, lambda: {"x": _block_input(), **required},
                kinds={"x": "models_tensor", "name": "text", **kinds})  # fmt: skip


CASES = [
    # Counts
    Case(models.conv_cost, {"input_shape": (28, 28, 192), "filters": 96, "kernel_size": 5},
         kinds={"input_shape": "shape", "filters": "int", "kernel_size": "int"}),
    Case(models.conv_multiplications, {"input_shape": (28, 28, 192), "filters": 32, "kernel_size": 5},
         kinds={"input_shape": "shape", "filters": "int", "kernel_size": "int",
                "reduce_filters": "int"}),
    Case(models.separable_conv_cost, {"input_shape": (112, 112, 64), "filters": 128},
         kinds={"input_shape": "shape", "filters": "int"}),
    Case(models.compound_scaling, {"phi": 1.0}, kinds={"phi": "float"}),
    Case(round_filters, {"filters": 32, "width_coefficient": 1.1},
         kinds={"filters": "int", "width_coefficient": "float"}),
    Case(round_repeats, {"repeats": 3, "depth_coefficient": 1.1},
         kinds={"repeats": "int", "depth_coefficient": "float"}),
    Case(MBConvStage,
         {"kernel_size": 3, "repeats": 1, "filters_in": 16, "filters_out": 16, "expand_ratio": 1,
          "strides": 1},
         kinds={name: "int" for name in ("kernel_size", "repeats", "filters_in", "filters_out",
                                         "expand_ratio", "strides")}),
    Case(models.copy_weights,
         lambda: {"source": fuzzing.tiny_classifier(), "target": fuzzing.tiny_classifier()},
         kinds={"source": "callable", "target": "callable"}),
    # Custom layers
    Case(models.ChannelZeroPadding, {"extra_channels": 4}, kinds={"extra_channels": "int"}),
    Case(models.LayerScale, {"init_value": 1e-6, "dim": 4}, kinds={"init_value": "float", "dim": "int"}),
    # Blocks, applied to a small keras.Input
    _block(models.vgg_block, {"filters": 4, "num_convs": 1, "block_index": 1},
           filters="int", num_convs="int", block_index="int"),
    _block(models.nin_block, {"filters": (4, 4, 4), "kernel_size": 3}, filters="shape", kernel_size="int"),
    _block(models.inception_module_naive, {"filters_1x1": 2, "filters_3x3": 2, "filters_5x5": 2},
           filters_1x1="int", filters_3x3="int", filters_5x5="int"),
    _block(models.inception_module,
           {"filters_1x1": 2, "filters_3x3_reduce": 2, "filters_3x3": 2, "filters_5x5_reduce": 2,
            "filters_5x5": 2, "filters_pool_proj": 2},
           **{name: "int" for name in ("filters_1x1", "filters_3x3_reduce", "filters_3x3",
                                       "filters_5x5_reduce", "filters_5x5", "filters_pool_proj")}),
    _block(models.auxiliary_classifier, {"num_classes": 3}, num_classes="int",
           classifier_activation="models_activation"),
    _block(models.basic_block, {"filters": 8}, filters="int", shortcut="models_choice_or_none"),
    _block(models.bottleneck_block, {"filters": 2}, filters="int", shortcut="models_choice_or_none"),
    _block(models.depthwise_separable_conv, {"filters": 8}, filters="int",
           max_value="models_float_or_none"),
    _block(models.mbconv_block, {"filters_in": 4, "filters_out": 4}, filters_in="int",
           filters_out="int", activation="models_activation"),
    _block(models.convnext_block, {"dim": 4}, dim="int",
           layer_scale_init_value="models_float_or_none"),
    # Networks
    Case(models.lenet5, kinds=HEAD),
    Case(models.alexnet, kinds=HEAD),
    Case(models.vgg, kinds=HEAD),
    Case(models.vgg16, kinds=PUBLISHED),
    Case(models.vgg19, kinds=PUBLISHED),
    Case(models.network_in_network, kinds={**HEAD, "block_filters": "shape"}),
    Case(models.googlenet, kinds=HEAD),
    Case(models.resnet, kinds={**HEAD, "shortcut": "models_choice_or_none"}),
    Case(models.resnet18, kinds=HEAD),
    Case(models.resnet34, kinds=HEAD),
    Case(models.resnet50, kinds=PUBLISHED),
    Case(models.cifar_resnet, kinds=HEAD),
    Case(models.xception, kinds={**PUBLISHED, "name": "text"}),
    Case(models.mobilenet, kinds={**PUBLISHED, "name": "text"}),
    Case(models.efficientnet, kinds=HEAD),
    Case(models.efficientnet_b0, kinds=PUBLISHED),
    Case(models.convnext, kinds={**HEAD, "layer_scale_init_value": "models_float_or_none"}),
    Case(models.convnext_tiny, kinds=PUBLISHED),
]  # fmt: skip

EXEMPT = {
    "coursepkg.models._counts.ConvCost": "a result record (NamedTuple) that conv_cost fills in",
    "coursepkg.models.efficientnet.ScalingFactors": (
        "a result record (NamedTuple) that compound_scaling fills in"
    ),
}


@pytest.mark.parametrize("case", CASES, ids=fuzzing.case_ids(CASES))
def test_bad_arguments_are_refused_naming_them(case):
    fuzzing.fuzz(case)
