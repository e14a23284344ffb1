"""Tests of coursepkg.models: parameter counts, shapes and weights against the references.

Where `keras.applications` has the same network, it is the reference: same
parameter count, same weight shapes in the same order, and the same outputs
once its (random) weights are copied into ours. Elsewhere the references are
the published tables (the lecture's AlexNet table, the papers' counts) or an
independent numpy computation.
"""

import importlib
import time

import keras
import numpy as np
import pytest

from coursepkg.downloads import DownloadError
from coursepkg.models import (
    ChannelZeroPadding,
    LayerScale,
    alexnet,
    basic_block,
    bottleneck_block,
    cifar_resnet,
    compound_scaling,
    conv_cost,
    conv_multiplications,
    convnext,
    convnext_block,
    convnext_tiny,
    copy_weights,
    depthwise_separable_conv,
    efficientnet,
    efficientnet_b0,
    googlenet,
    inception_module,
    inception_module_naive,
    lenet5,
    mbconv_block,
    mobilenet,
    network_in_network,
    nin_block,
    resnet,
    resnet18,
    resnet34,
    resnet50,
    separable_conv_cost,
    vgg,
    vgg16,
    vgg19,
    vgg_block,
    xception,
)
from coursepkg.models.efficientnet import MBConvStage, round_filters


@pytest.fixture(autouse=True)
def fresh_keras_session():
    """Fresh layer names for each test; the memory of the large models freed after them.

    A full garbage collection costs 0.3 to 0.8 s in a process that has loaded a backend, so it
    runs only after a test that took long enough to have built something big, not after the
    many argument checks that fail in microseconds.
    """
    keras.backend.clear_session(free_memory=False)
    start = time.perf_counter()
    yield
    keras.backend.clear_session(free_memory=time.perf_counter() - start > 0.25)


def trainable_count(model):
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def layer_types(model):
    return {type(layer).__name__ for layer in model.layers}


def randomize_weights(model, seed):
    """Gives every weight random values of its own scale (variances stay positive)."""
    rng = np.random.default_rng(seed)
    values = []
    for weight in model.weights:
        value = keras.ops.convert_to_numpy(weight)
        if not np.issubdtype(value.dtype, np.floating):
            values.append(value)  # e.g. the sample count of a Normalization layer
        elif "variance" in weight.path:
            values.append(rng.uniform(0.5, 1.5, value.shape).astype(value.dtype))
        elif value.std() > 0:
            values.append(rng.normal(0.0, value.std(), value.shape).astype(value.dtype))
        else:  # constants: biases, BN gamma and beta, layer scales
            values.append((value + rng.normal(0.0, 0.1, value.shape)).astype(value.dtype))
    model.set_weights(values)
    return model


def predict(model, images):
    return keras.ops.convert_to_numpy(model(images, training=False))


# --------------------------------------------------------------------------
# keras.applications as reference
# --------------------------------------------------------------------------

# name: (our builder, keras builder, published parameter count)
KERAS_TWINS = {
    "vgg16": (vgg16, keras.applications.VGG16, 138_357_544),
    "vgg19": (vgg19, keras.applications.VGG19, 143_667_240),
    "resnet50": (resnet50, keras.applications.ResNet50, 25_636_712),
    "xception": (xception, keras.applications.Xception, 22_910_480),
    "mobilenet": (mobilenet, keras.applications.MobileNet, 4_253_864),
    "efficientnet_b0": (efficientnet_b0, keras.applications.EfficientNetB0, 5_330_571),
    "convnext_tiny": (convnext_tiny, keras.applications.ConvNeXtTiny, 28_589_128),
}
# Models whose every layer also has the name of its Keras twin (so that Keras's
# ImageNet weight files would also load by name). The others differ only in
# names Keras leaves automatic or prefixes with the model name.
SAME_LAYER_NAMES = ("vgg16", "vgg19", "resnet50", "efficientnet_b0")


@pytest.mark.slow
@pytest.mark.parametrize("name", list(KERAS_TWINS))
def test_same_count_and_weight_shapes_as_keras_applications(name):
    ours_builder, keras_builder, published = KERAS_TWINS[name]
    ours = ours_builder()
    theirs = keras_builder(weights=None)

    assert ours.count_params() == theirs.count_params() == published
    assert trainable_count(ours) == trainable_count(theirs)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    theirs.set_weights(ours.get_weights())  # our weights load into theirs, in order
    if name in SAME_LAYER_NAMES:
        assert [layer.name for layer in ours.layers[1:]] == [
            layer.name for layer in theirs.layers[1:]
        ]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(KERAS_TWINS))
def test_keras_weights_copied_into_ours_give_the_same_outputs(name):
    # 96x96 images rather than the ImageNet size, to keep the test fast on a CPU.
    ours_builder, keras_builder, _ = KERAS_TWINS[name]
    arguments = dict(input_shape=(96, 96, 3), classifier_activation=None)
    theirs = randomize_weights(keras_builder(weights=None, **arguments), seed=1)
    ours = ours_builder(**arguments)
    images = np.random.default_rng(2).uniform(0, 255, (2, 96, 96, 3)).astype("float32")
    expected = predict(theirs, images)
    assert expected.std() > 1e-3  # the comparison below is not between two constants
    assert not np.allclose(predict(ours, images), expected, rtol=1e-3)

    copy_weights(theirs, ours)

    scale = np.abs(expected).max()
    np.testing.assert_allclose(predict(ours, images), expected, rtol=1e-4, atol=1e-4 * scale)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(KERAS_TWINS))
def test_imagenet_weights_argument_copies_the_keras_weights(name, monkeypatch):
    # Offline stand-in for the download: Keras's own model with random weights.
    ours_builder, keras_builder, _ = KERAS_TWINS[name]
    built = {}

    def fake_keras_builder(weights, **keras_arguments):
        assert weights == "imagenet"
        assert keras_arguments["include_top"] is False
        built["model"] = randomize_weights(keras_builder(weights=None, **keras_arguments), 3)
        return built["model"]

    monkeypatch.setattr(keras.applications, keras_builder.__name__, fake_keras_builder)
    ours = ours_builder(include_top=False, weights="imagenet", input_shape=(96, 96, 3))

    reference = built["model"].get_weights()
    copied = ours.get_weights()
    assert len(copied) == len(reference)
    for ours_value, reference_value in zip(copied, reference):
        np.testing.assert_array_equal(ours_value, reference_value)
    if name == "efficientnet_b0":  # Keras's correction of the stored ImageNet variance
        layer_names = [layer.name for layer in ours.layers]
        assert (
            layer_names.index("rescaling_imagenet_variance")
            == layer_names.index("normalization") + 1
        )


def test_vgg16_without_top_matches_the_lecture_summary():
    # Layer and parameter columns of the lecture's `VGG16(include_top=False).summary()`.
    lecture = [
        ("block1_conv1", 1792), ("block1_conv2", 36928), ("block1_pool", 0),
        ("block2_conv1", 73856), ("block2_conv2", 147584), ("block2_pool", 0),
        ("block3_conv1", 295168), ("block3_conv2", 590080), ("block3_conv3", 590080),
        ("block3_pool", 0),
        ("block4_conv1", 1180160), ("block4_conv2", 2359808), ("block4_conv3", 2359808),
        ("block4_pool", 0),
        ("block5_conv1", 2359808), ("block5_conv2", 2359808), ("block5_conv3", 2359808),
        ("block5_pool", 0),
    ]  # fmt: skip
    model = vgg16(include_top=False, input_shape=(None, None, 3))
    assert [(layer.name, layer.count_params()) for layer in model.layers[1:]] == lecture
    assert (
        model.count_params()
        == keras.applications.VGG16(weights=None, include_top=False).count_params()
        == 14_714_688
    )


def test_vgg19_without_top_matches_keras_applications():
    ours = vgg19(include_top=False, input_shape=(None, None, 3))
    theirs = keras.applications.VGG19(weights=None, include_top=False)
    assert ours.count_params() == theirs.count_params() == 20_024_384


@pytest.mark.slow
def test_efficientnet_b0_preprocessing_layers_hold_the_extra_weights():
    theirs = keras.applications.EfficientNetB0(weights=None)
    normalization = theirs.get_layer("normalization").count_params()
    assert normalization == 7  # mean (3), variance (3), count (1)
    without = efficientnet_b0(include_preprocessing=False)
    assert without.count_params() == theirs.count_params() - normalization
    assert trainable_count(without) == trainable_count(theirs) == 5_288_548  # the paper's 5.3M


@pytest.mark.slow
def test_efficientnet_scaled_by_b1_coefficients_matches_keras_b1():
    ours = efficientnet(width_coefficient=1.0, depth_coefficient=1.1, input_shape=(240, 240, 3))
    theirs = keras.applications.EfficientNetB1(weights=None)
    assert ours.count_params() == theirs.count_params()
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]


@pytest.mark.slow  # a large model built for its counts and shapes, the same on every backend
def test_convnext_tiny_without_top_matches_keras_applications():
    ours = convnext_tiny(include_top=False)
    theirs = keras.applications.ConvNeXtTiny(weights=None, include_top=False)
    assert ours.count_params() == theirs.count_params()
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]


@pytest.mark.slow
@pytest.mark.parametrize("alpha", [0.5, 0.75])
def test_mobilenet_width_multiplier_matches_keras_applications(alpha):
    ours = mobilenet(alpha=alpha)
    theirs = keras.applications.MobileNet(weights=None, alpha=alpha)
    assert ours.count_params() == theirs.count_params()


@pytest.mark.slow
def test_copy_weights_rejects_a_different_architecture():
    with pytest.raises(ValueError, match="same number of weights"):
        copy_weights(lenet5(), network_in_network())
    with pytest.raises(ValueError, match="weight 0 to have the same shape"):
        copy_weights(lenet5(num_classes=10), lenet5(input_shape=(32, 32, 3)))


# --------------------------------------------------------------------------
# LeNet-5 and AlexNet
# --------------------------------------------------------------------------


def test_lenet5_follows_the_1998_layout():
    model = lenet5()
    # Feature map sizes of figure 2 of LeCun et al. (1998).
    expected = {
        "c1_conv": (None, 28, 28, 6),
        "s2_pool": (None, 14, 14, 6),
        "c3_conv": (None, 10, 10, 16),
        "s4_pool": (None, 5, 5, 16),
        "c5_conv": (None, 1, 1, 120),
        "f6_dense": (None, 84),
        "predictions": (None, 10),
    }
    for name, shape in expected.items():
        assert tuple(model.get_layer(name).output.shape) == shape
    assert model.count_params() == 61_706
    assert abs(model.count_params() - 60_000) / 60_000 < 0.05  # the paper's "60,000"


def test_lenet5_refuses_unpadded_mnist_digits():
    with pytest.raises(ValueError, match=r"Expected `input_shape` to be at least 32x32"):
        lenet5(input_shape=(28, 28, 1))


# The lecture's "AlexNet: dimensions and params" table.
LECTURE_ALEXNET = [
    ("Conv2D", (None, 55, 55, 96), 34944),
    ("BatchNormalization", (None, 55, 55, 96), 384),
    ("MaxPooling2D", (None, 27, 27, 96), 0),
    ("Conv2D", (None, 27, 27, 256), 614656),
    ("BatchNormalization", (None, 27, 27, 256), 1024),
    ("MaxPooling2D", (None, 13, 13, 256), 0),
    ("Conv2D", (None, 13, 13, 384), 885120),
    ("BatchNormalization", (None, 13, 13, 384), 1536),
    ("Conv2D", (None, 13, 13, 384), 1327488),
    ("BatchNormalization", (None, 13, 13, 384), 1536),
    ("Conv2D", (None, 13, 13, 256), 884992),
    ("BatchNormalization", (None, 13, 13, 256), 1024),
    ("MaxPooling2D", (None, 6, 6, 256), 0),
    ("Flatten", (None, 9216), 0),
    ("Dense", (None, 4096), 37752832),
    ("Dropout", (None, 4096), 0),
    ("Dense", (None, 4096), 16781312),
    ("Dropout", (None, 4096), 0),
    ("Dense", (None, 10), 40970),
]


@pytest.mark.slow  # a large model built for its counts and shapes, the same on every backend
def test_alexnet_matches_the_lecture_table_layer_by_layer():
    model = alexnet()
    rows = [
        (type(layer).__name__, tuple(layer.output.shape), layer.count_params())
        for layer in model.layers[1:]
    ]
    assert rows == LECTURE_ALEXNET
    assert model.count_params() == 58_327_818
    assert trainable_count(model) == 58_325_066
    assert model.count_params() - trainable_count(model) == 2_752


def test_alexnet_without_batch_norm_drops_exactly_the_bn_parameters():
    bn_parameters = sum(p for kind, _, p in LECTURE_ALEXNET if kind == "BatchNormalization")
    assert alexnet(batch_norm=False).count_params() == 58_327_818 - bn_parameters
    assert alexnet(include_top=False).output.shape == (None, 6, 6, 256)


def test_alexnet_minimum_input_size():
    assert alexnet(input_shape=(67, 67, 3), include_top=False).output.shape == (None, 1, 1, 256)
    with pytest.raises(ValueError, match="at least 67x67"):
        alexnet(input_shape=(66, 66, 3))


# --------------------------------------------------------------------------
# VGG, NiN, GoogLeNet
# --------------------------------------------------------------------------


def test_vgg_general_builder_for_small_images():
    model = vgg((1, 1, 2, 2, 2), input_shape=(32, 32, 3), num_classes=10, dense_units=64,
                dropout_rate=0.5)  # fmt: skip
    assert model.output.shape == (None, 10)
    assert model.get_layer("block5_pool").output.shape == (None, 1, 1, 512)
    assert "Dropout" in layer_types(model)


def test_nin_block_is_a_per_pixel_mlp():
    inputs = keras.Input((6, 6, 3))
    block = keras.Model(inputs, nin_block(inputs, (4, 5, 2), kernel_size=1, name="mlpconv"))
    randomize_weights(block, seed=4)
    images = np.random.default_rng(5).normal(size=(2, 6, 6, 3)).astype("float32")

    hidden = images
    for suffix in ("conv", "mlp1", "mlp2"):
        kernel, bias = block.get_layer(f"mlpconv_{suffix}").get_weights()
        hidden = np.maximum(np.einsum("bhwc,cf->bhwf", hidden, kernel[0, 0]) + bias, 0)
    np.testing.assert_allclose(predict(block, images), hidden, rtol=1e-5, atol=1e-5)


def test_network_in_network_has_no_dense_layer():
    model = network_in_network(num_classes=10)
    assert model.output.shape == (None, 10)
    assert "Dense" not in layer_types(model)
    assert "GlobalAveragePooling2D" in layer_types(model)
    assert model.get_layer("block3_mlp2").output.shape == (None, 8, 8, 10)
    # (k*k*c_in + 1) * c_out summed over the paper's CIFAR-10 configuration.
    convs = [(5, 3, 192), (1, 192, 160), (1, 160, 96),
             (5, 96, 192), (1, 192, 192), (1, 192, 192),
             (3, 192, 192), (1, 192, 192), (1, 192, 10)]  # fmt: skip
    assert model.count_params() == sum((k * k * c_in + 1) * c_out for k, c_in, c_out in convs)


def test_inception_operation_counts_of_the_lecture():
    assert conv_multiplications((28, 28, 192), 32, 5) == 28 * 28 * 32 * 5 * 5 * 192 == 120_422_400
    reduced = conv_multiplications((28, 28, 192), 32, 5, reduce_filters=16)
    assert reduced == 28 * 28 * 16 * 192 + 28 * 28 * 32 * 5 * 5 * 16 == 12_443_648
    # The lecture's general form: w*h*96*25*ch, and w*h*(96*25*nb + nb*ch) with reduction.
    w, h, ch, nb = 14, 14, 480, 24
    assert conv_multiplications((h, w, ch), 96, 5) == w * h * 96 * 25 * ch
    assert conv_multiplications((h, w, ch), 96, 5, reduce_filters=nb) == w * h * (
        96 * 25 * nb + nb * ch
    )


def test_conv_cost_parameters_match_keras_layers():
    inputs = keras.Input((28, 28, 192))
    for layer, cost in [
        (keras.layers.Conv2D(96, 5), conv_cost((28, 28, 192), 96, 5)),
        (
            keras.layers.Conv2D(16, 1, use_bias=False),
            conv_cost((28, 28, 192), 16, 1, use_bias=False),
        ),
        (keras.layers.DepthwiseConv2D(3), conv_cost((28, 28, 192), 192, 3, depthwise=True)),
    ]:
        layer(inputs)
        assert layer.count_params() == cost.parameters
    assert conv_cost((28, 28, 192), 96, 5).parameters == (25 * 192 + 1) * 96  # the lecture's form


def test_inception_modules_output_channels():
    inputs = keras.Input((28, 28, 192))
    assert inception_module_naive(inputs, 64, 128, 32).shape == (None, 28, 28, 64 + 128 + 32 + 192)
    assert inception_module(inputs, 64, 96, 128, 16, 32, 32).shape == (None, 28, 28, 256)


@pytest.mark.slow
def test_googlenet_follows_table_1_of_the_paper():
    model = googlenet(num_classes=1000)
    assert len(model.outputs) == 3
    assert [tuple(output.shape) for output in model.outputs] == [(None, 1000)] * 3
    # Output size column of table 1 (Szegedy et al., 2015).
    expected = {"3a": (28, 256), "3b": (28, 480), "4a": (14, 512), "4b": (14, 512),
                "4c": (14, 512), "4d": (14, 528), "4e": (14, 832), "5a": (7, 832),
                "5b": (7, 1024)}  # fmt: skip
    for module, (size, channels) in expected.items():
        output_shape = model.get_layer(f"inception_{module}_concat").output.shape
        assert tuple(output_shape) == (None, size, size, channels)


@pytest.mark.slow  # a large model built for its counts and shapes, the same on every backend
def test_googlenet_parameter_count_without_auxiliary_classifiers():
    model = googlenet(aux_classifiers=False)
    assert len(model.outputs) == 1
    # Independent count from table 1: (k*k*c_in + 1) * c_out for every convolution.
    filters = {"3a": (192, 64, 96, 128, 16, 32, 32), "3b": (256, 128, 128, 192, 32, 96, 64),
               "4a": (480, 192, 96, 208, 16, 48, 64), "4b": (512, 160, 112, 224, 24, 64, 64),
               "4c": (512, 128, 128, 256, 24, 64, 64), "4d": (512, 112, 144, 288, 32, 64, 64),
               "4e": (528, 256, 160, 320, 32, 128, 128), "5a": (832, 256, 160, 320, 32, 128, 128),
               "5b": (832, 384, 192, 384, 48, 128, 128)}  # fmt: skip
    expected = (7 * 7 * 3 + 1) * 64 + (64 + 1) * 64 + (9 * 64 + 1) * 192 + (1024 + 1) * 1000
    for c_in, f1, r3, f3, r5, f5, pool in filters.values():
        expected += (c_in + 1) * (f1 + r3 + r5 + pool) + (9 * r3 + 1) * f3 + (25 * r5 + 1) * f5
    assert model.count_params() == expected
    assert abs(model.count_params() - 6.8e6) / 6.8e6 < 0.05  # the paper's ~6.8M
    assert model.count_params() * 8 < 58_327_818  # far fewer than AlexNet


def test_googlenet_argument_errors():
    with pytest.raises(ValueError, match="Expected `aux_classifiers=False`"):
        googlenet(include_top=False)
    with pytest.raises(ValueError, match="at least 65x65"):
        googlenet(input_shape=(32, 32, 3))
    small = googlenet(input_shape=(32, 32, 3), num_classes=10, aux_classifiers=False)
    assert small.output.shape == (None, 10)


# --------------------------------------------------------------------------
# ResNet
# --------------------------------------------------------------------------


def test_resnet18_and_34_match_the_published_counts():
    # torchvision's resnet18 and resnet34 (no convolution biases): 11,689,512 and 21,797,672.
    assert trainable_count(resnet18()) == 11_689_512
    assert trainable_count(resnet34()) == 21_797_672


@pytest.mark.parametrize(
    "depth, published_millions",
    [(20, 0.27), (32, 0.46), (44, 0.66), (56, 0.85), (110, 1.7)],  # table 6 of He et al.
)
def test_cifar_resnet_matches_table_6(depth, published_millions):
    model = cifar_resnet(depth)
    digits = 1 if published_millions >= 1 else 2
    assert round(trainable_count(model) / 1e6, digits) == published_millions
    assert model.output.shape == (None, 10)
    assert len([layer for layer in model.layers if isinstance(layer, keras.layers.Add)]) == (
        (depth - 2) // 2
    )


def test_plain_network_has_the_same_weights_and_no_shortcut():
    residual, plain = cifar_resnet(20), cifar_resnet(20, plain=True)
    assert plain.name == "plain20"
    assert plain.count_params() == residual.count_params()  # option A shortcuts are free
    assert "Add" not in layer_types(plain)
    assert cifar_resnet(20, shortcut="B").count_params() > cifar_resnet(20).count_params()


def test_option_a_shortcut_is_subsampled_zero_padded_identity():
    inputs = keras.Input((8, 8, 4))
    block = keras.Model(inputs, basic_block(inputs, 8, strides=2, shortcut="A", name="b"))
    randomize_weights(block, seed=6)
    gamma, beta, mean, variance = block.get_layer("b_2_bn").get_weights()
    # Silence the residual branch: the block must then return relu(shortcut(x)).
    block.get_layer("b_2_bn").set_weights([0 * gamma, 0 * beta, mean, variance])
    images = np.random.default_rng(7).normal(size=(2, 8, 8, 4)).astype("float32")
    shortcut = np.pad(images[:, ::2, ::2, :], [(0, 0), (0, 0), (0, 0), (2, 2)])
    np.testing.assert_allclose(predict(block, images), np.maximum(shortcut, 0), atol=1e-6)


def test_bottleneck_block_projects_only_when_the_shape_changes():
    inputs = keras.Input((56, 56, 256))
    same = keras.Model(inputs, bottleneck_block(inputs, 64, name="a"))
    assert "a_0_conv" not in [layer.name for layer in same.layers]
    assert same.count_params() == (256 * 64 + 64) + (9 * 64 * 64 + 64) + (64 * 256 + 256) + 4 * (
        64 + 64 + 256)  # fmt: skip
    down = keras.Model(inputs, bottleneck_block(inputs, 128, strides=2, name="b"))
    assert down.output.shape == (None, 28, 28, 512)
    assert down.get_layer("b_0_conv").output.shape == (None, 28, 28, 512)


def test_cifar_resnet_rejects_a_depth_that_is_not_6n_plus_2():
    with pytest.raises(ValueError, match=r"6n \+ 2.*Received: depth=21"):
        cifar_resnet(21)


def test_blocks_with_custom_layers_survive_saving(tmp_path):
    # ChannelZeroPadding (option A shortcut) and LayerScale (ConvNeXt) must deserialise.
    inputs = keras.Input((8, 8, 4))
    x = basic_block(inputs, 8, strides=2, shortcut="A", name="resnet")
    outputs = convnext_block(x, 8, name="convnext")
    model = randomize_weights(keras.Model(inputs, outputs), seed=9)
    path = tmp_path / "blocks.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)

    assert {"ChannelZeroPadding", "LayerScale"} <= layer_types(reloaded)
    images = np.random.default_rng(8).normal(size=(2, 8, 8, 4)).astype("float32")
    np.testing.assert_allclose(predict(reloaded, images), predict(model, images), rtol=1e-5)


# --------------------------------------------------------------------------
# Depthwise separable convolutions, EfficientNet, ConvNeXt
# --------------------------------------------------------------------------


def test_separable_conv_cost_against_keras_layers_and_the_ratio():
    input_shape, filters, kernel_size = (112, 112, 64), 128, 3
    standard, separable = separable_conv_cost(input_shape, filters, kernel_size)
    inputs = keras.Input(input_shape)
    conv = keras.layers.Conv2D(filters, kernel_size, padding="same", use_bias=False)
    sepconv = keras.layers.SeparableConv2D(filters, kernel_size, padding="same", use_bias=False)
    conv(inputs), sepconv(inputs)
    assert standard.parameters == conv.count_params()
    assert separable.parameters == sepconv.count_params()
    # The MobileNet paper's reduction: 1/N + 1/D_K^2.
    ratio = separable.multiplications / standard.multiplications
    assert ratio == pytest.approx(1 / filters + 1 / kernel_size**2)
    assert standard.multiplications == 112 * 112 * 3 * 3 * 64 * 128

    # Strided, unpadded: counts follow the output size Keras computes.
    standard, separable = separable_conv_cost((10, 10, 8), 16, 3, strides=2, padding="valid")
    height, width = keras.layers.Conv2D(16, 3, strides=2)(keras.Input((10, 10, 8))).shape[1:3]
    assert (height, width) == (4, 4)
    assert standard.multiplications == height * width * 16 * 3 * 3 * 8
    assert separable.multiplications == height * width * (3 * 3 * 8 + 8 * 16)


def test_depthwise_separable_conv_block():
    inputs = keras.Input((32, 32, 16))
    block = keras.Model(inputs, depthwise_separable_conv(inputs, 24, strides=2, name="sep"))
    assert block.output.shape == (None, 16, 16, 24)
    # depthwise 3*3*16, BN 4*16, pointwise 16*24, BN 4*24
    assert block.count_params() == 9 * 16 + 4 * 16 + 16 * 24 + 4 * 24


def test_compound_scaling_multipliers_and_constraint():
    factors = compound_scaling(1)
    assert (factors.depth, factors.width, factors.resolution) == pytest.approx((1.2, 1.1, 1.15))
    assert factors.flops == pytest.approx(1.2 * 1.1**2 * 1.15**2)
    assert factors.flops == pytest.approx(2, rel=0.05)  # alpha * beta^2 * gamma^2 ~= 2
    three = compound_scaling(3)
    assert three.depth == pytest.approx(1.2**3)
    assert three.flops == pytest.approx(factors.flops**3)
    assert tuple(compound_scaling(0)) == (1, 1, 1, 1)


def test_compound_scaling_refuses_bases_that_do_not_double_the_cost():
    with pytest.raises(ValueError, match=r"close to 2.*alpha=2"):
        compound_scaling(1, alpha=2.0)
    expected = r"Expected `beta` to be a finite number in \[1.0, 2.0\]. Received: beta=0.9"
    with pytest.raises(ValueError, match=expected):
        compound_scaling(1, beta=0.9)
    with pytest.raises(ValueError, match="Received: phi=-1"):
        compound_scaling(-1)


@pytest.mark.slow
def test_small_convnext_for_the_chapter():
    model = convnext((2, 2, 2, 2), (32, 64, 128, 256), input_shape=(64, 64, 3), num_classes=10,
                     drop_path_rate=0.1)  # fmt: skip
    assert model.output.shape == (None, 10)
    assert model.get_layer("stage4_block2_add").output.shape == (None, 2, 2, 256)


# --------------------------------------------------------------------------
# Errors on bad input
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: lenet5(num_classes=0),
         r"Expected `num_classes` to be an integer in \[1, 100000\]. Received: num_classes=0"),
        (lambda: alexnet(dropout_rate=1.5), r"`dropout_rate` to be a finite number in \[0.0, 1.0\)"),
        (lambda: vgg16(input_shape=(16, 16, 3)), r"at least 32x32.*input_shape=\(16, 16, 3\)"),
        (lambda: vgg16(input_shape=(None, None, 3)), r"Received: input_shape=\(None, None, 3\)"),
        (lambda: vgg16(weights="imagenet", num_classes=10), r"`num_classes=1000`.*num_classes=10"),
        (lambda: resnet50(weights="places365"), r"`weights`.*Received: weights='places365'"),
        (lambda: xception(input_shape=(64, 64, 3)), r"at least 71x71"),
        (lambda: mobilenet(alpha=0), r"`alpha` to be a finite number in \(0.0, 4.0\]. .*alpha=0"),
        (lambda: efficientnet_b0(weights="imagenet", include_preprocessing=False),
         r"`include_preprocessing=True`"),
        (lambda: convnext(depths=(3, 3, 9)), r"`depths` to be a tuple of 4 integers"),
        (lambda: network_in_network(kernel_sizes=(5, 5)), r"`kernel_sizes`"),
        (lambda: conv_multiplications((28, 28, 192), 0, 5), r"`filters`.*Received: filters=0"),
        (lambda: resnet18(input_shape=(224, 224)), r"Received: input_shape=\(224, 224\)"),
    ],
)  # fmt: skip
def test_bad_arguments_raise_value_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()


# --------------------------------------------------------------------------
# Issue 16: bad arguments are refused up front, naming the argument
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, argument",
    [
        (lambda: alexnet(batch_norm="no"), "batch_norm"),
        (lambda: vgg16(include_top="no"), "include_top"),
        (lambda: efficientnet_b0(include_preprocessing="no"), "include_preprocessing"),
        (lambda: cifar_resnet(20, plain="no"), "plain"),
        (lambda: convnext_tiny(include_top=0), "include_top"),
        (lambda: googlenet(aux_classifiers=1), "aux_classifiers"),
        (lambda: conv_cost((28, 28, 3), 8, 3, use_bias="False"), "use_bias"),
    ],
)  # fmt: skip
def test_string_or_number_flags_are_refused_not_read_as_true(build, argument):
    # "no" is truthy: before issue 16 these built the opposite of what was asked.
    with pytest.raises(TypeError, match=rf"Expected `{argument}` to be a boolean"):
        build()


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    "build, argument",
    [
        (lambda: alexnet(dropout_rate=NAN), "dropout_rate"),
        (lambda: vgg(dropout_rate=INF), "dropout_rate"),
        (lambda: googlenet(aux_dropout_rate=NAN), "aux_dropout_rate"),
        (lambda: convnext(drop_path_rate=NAN), "drop_path_rate"),
        (lambda: convnext(layer_scale_init_value=NAN), "layer_scale_init_value"),
        (lambda: LayerScale(INF, 4), "init_value"),
        (lambda: efficientnet(width_coefficient=NAN), "width_coefficient"),
        (lambda: efficientnet(depth_coefficient=INF), "depth_coefficient"),
        (lambda: efficientnet(drop_connect_rate=NAN), "drop_connect_rate"),
        (lambda: mobilenet(alpha=NAN), "alpha"),
        (lambda: compound_scaling(1, alpha=NAN), "alpha"),
        (lambda: compound_scaling(NAN), "phi"),
        (lambda: compound_scaling(1, tolerance=INF), "tolerance"),
        (lambda: round_filters(32, INF), "width_coefficient"),
    ],
)  # fmt: skip
def test_nan_and_infinite_rates_and_scales_are_refused(build, argument):
    with pytest.raises(ValueError, match=rf"Expected `{argument}` to be a finite number"):
        build()


@pytest.mark.parametrize(
    "build, argument",
    [
        (lambda: cifar_resnet(6 * 10**6 + 2), "depth"),
        (lambda: cifar_resnet(1208), "depth"),  # one stage of blocks beyond ResNet-1202
        (lambda: mobilenet(alpha=1e6), "alpha"),
        (lambda: efficientnet(width_coefficient=1e6), "width_coefficient"),
        (lambda: efficientnet(depth_coefficient=100.0), "depth_coefficient"),
        (lambda: convnext(depths=(3, 3, 10**6, 3)), "depths"),
        (lambda: convnext(dims=(96, 192, 384, 10**6)), "dims"),
        (lambda: vgg(block_filters=(64, 128, 256, 512, 10**6)), "block_filters"),
        (lambda: vgg(dense_units=10**7), "dense_units"),
        (lambda: resnet(stage_depths=(2, 2, 10**6, 2)), "stage_depths"),
        (lambda: xception(middle_blocks=10**6), "middle_blocks"),
        (lambda: lenet5(num_classes=10**9), "num_classes"),
        (lambda: alexnet(input_shape=(10**6, 10**6, 3)), "input_shape"),
        (lambda: compound_scaling(1000), "phi"),
    ],
)  # fmt: skip
def test_absurd_sizes_are_refused_before_building(build, argument):
    with pytest.raises(ValueError, match=rf"`{argument}`"):
        build()


class _ChecksPassed(Exception):
    """Raised in place of building the first layer, once every argument was accepted."""


@pytest.mark.parametrize(
    "build",
    [
        lambda: cifar_resnet(1202),  # He et al., section 4.2
        lambda: resnet("bottleneck", (3, 8, 36, 3), use_bias=True),  # ResNet-152
        lambda: efficientnet(2.0, 3.1, input_shape=(600, 600, 3)),  # EfficientNet-B7
        lambda: efficientnet(4.3, 5.3, input_shape=(800, 800, 3)),  # EfficientNet-L2
        lambda: convnext((3, 3, 27, 3), (256, 512, 1024, 2048)),  # ConvNeXt-XL
        lambda: vgg((2, 2, 4, 4, 4), dropout_rate=0.5),  # VGG19 as trained in the paper
        lambda: googlenet(num_classes=21_843),  # ImageNet-21k classes
        lambda: xception(middle_blocks=8),
        lambda: mobilenet(alpha=0.25),
    ],
)  # fmt: skip
def test_the_bounds_admit_the_largest_published_configurations(build, monkeypatch):
    def stop(*args, **kwargs):
        raise _ChecksPassed

    monkeypatch.setattr(keras, "Input", stop)
    with pytest.raises(_ChecksPassed):
        build()
    assert compound_scaling(7).resolution * 224 == pytest.approx(596, abs=1)  # B7's 600 pixels


@pytest.mark.parametrize(
    "build, error, argument",
    [
        (lambda: lenet5(classifier_activation="no-such-activation"), ValueError,
         "classifier_activation"),
        (lambda: lenet5(classifier_activation=3), TypeError, "classifier_activation"),
        (lambda: lenet5(name="a/b"), ValueError, "name"),
        (lambda: lenet5(name=""), ValueError, "name"),
        (lambda: lenet5(input_shape="32x32"), TypeError, "input_shape"),
        (lambda: lenet5(input_shape=(32.0, 32, 1)), TypeError, "input_shape"),
        (lambda: lenet5(num_classes=10.0), TypeError, "num_classes"),
        (lambda: resnet(shortcut="C"), ValueError, "shortcut"),
        (lambda: vgg(pooling="mean", include_top=False), ValueError, "pooling"),
        (lambda: MBConvStage(3, 1, 16, 16, 1.5, 1), TypeError, "expand_ratio"),
        (lambda: ChannelZeroPadding(-1), ValueError, "extra_channels"),
        (lambda: copy_weights("lenet5", lenet5()), TypeError, "source"),
    ],
)  # fmt: skip
def test_wrong_types_and_values_name_the_argument(build, error, argument):
    with pytest.raises(error, match=rf"`{argument}`.*Received: {argument}"):
        build()


def test_numpy_integers_and_numpy_shapes_are_accepted():
    images = np.zeros((2, 32, 32, 1))
    model = lenet5(input_shape=images.shape[1:], num_classes=np.int64(10))
    assert model.output.shape == (None, 10)
    assert conv_cost((np.int64(28), 28, 192), np.int32(96), 5).parameters == (25 * 192 + 1) * 96


@pytest.mark.parametrize(
    "apply, error, argument",
    [
        (lambda x: vgg_block(np.zeros((1, 8, 8, 4)), 4, 1, 1), TypeError, "x"),
        (lambda x: vgg_block(keras.Input((8,)), 4, 1, 1), ValueError, "x"),
        (lambda x: convnext_block(x, 8), ValueError, "dim"),  # x has 4 channels
        (lambda x: mbconv_block(x, 8, 8), ValueError, "filters_in"),
        (lambda x: basic_block(x, 2, strides=2, shortcut="A"), ValueError, "filters"),
        (lambda x: basic_block(x, 8, shortcut=False), ValueError, "shortcut"),
        (lambda x: depthwise_separable_conv(x, 8, max_value=NAN), ValueError, "max_value"),
        (lambda x: inception_module(x, 2, 2, 2, 2, 2, 2, name=3), TypeError, "name"),
    ],
)  # fmt: skip
def test_blocks_check_their_input_tensor_and_arguments(apply, error, argument):
    with pytest.raises(error, match=rf"`{argument}`"):
        apply(keras.Input((8, 8, 4)))


def test_imagenet_weights_offline_raise_the_packages_download_error(monkeypatch, tmp_path):
    # No network: Keras's get_file fails as it does offline, with a bare Exception; the builder
    # must turn it into coursepkg's DownloadError, before building its own model.
    import urllib.error

    import keras.src.backend.config as keras_config
    import keras.src.utils.file_utils as keras_file_utils

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras_file_utils, "urlretrieve", offline)
    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path))  # an empty Keras cache
    built = []
    vgg_module = importlib.import_module("coursepkg.models.vgg")  # the name vgg is the builder
    monkeypatch.setattr(vgg_module, "_build_vgg", lambda **arguments: built.append(arguments))
    with pytest.raises(
        DownloadError, match=r"ImageNet weights of keras.applications.VGG16.*https://"
    ):
        vgg16(include_top=False, weights="imagenet", input_shape=(32, 32, 3))
    assert not built  # the download was tried first
