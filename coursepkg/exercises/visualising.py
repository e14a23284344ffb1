"""Exercises of book/14_visualising.ipynb.

Every expected answer is computed here by reference code: the output shape and
the layer stack are read from ``keras.applications.VGG16`` itself (built without
weights, so no download), the receptive field comes from
:func:`coursepkg.convolution.receptive_field` over that stack, and the gradient
normalisation from :func:`coursepkg.visualize.normalise_gradient`.
``tests/test_exercises_architectures_extra.py`` checks the references.
"""

from __future__ import annotations

import functools

import numpy as np

from coursepkg.checking import compare_function, compare_integer, describe, exercise
from coursepkg.convolution import receptive_field
from coursepkg.visualize import normalise_gradient

CHAPTER = "book/14_visualising.ipynb"


@functools.lru_cache(maxsize=4)
def vgg16_features(input_shape: tuple[int, int, int]):
    """``keras.applications.VGG16`` without its classifier and without weights (no download)."""
    import keras

    return keras.applications.VGG16(weights=None, include_top=False, input_shape=input_shape)


# --------------------------------------------------------------------------- visualising.feature_map_shape

SHAPE_INPUT = (160, 160, 3)  # (height, width, channels) of the image fed to VGG16
SHAPE_LAYER = "block4_pool"  # the layer whose output shape is asked


def feature_map_shape(input_shape=SHAPE_INPUT, layer_name=SHAPE_LAYER) -> tuple[int, int, int]:
    """(height, width, channels) of a VGG16 layer's output, read from Keras's VGG16."""
    return tuple(
        int(size)
        for size in vgg16_features(tuple(input_shape)).get_layer(layer_name).output.shape[1:]
    )


@exercise(
    "visualising.feature_map_shape",
    CHAPTER,
    hint=(
        "Every convolution of VGG16 uses padding='same' (the size stays) and every block ends "
        "with a 2x2 max pooling of stride 2 (the size halves); the channels are those of the "
        "block's convolutions: 64, 128, 256, 512, 512."
    ),
)
def _feature_map_shape(answer):
    expected = feature_map_shape()
    if isinstance(answer, np.ndarray):
        answer = answer.tolist()
    if not isinstance(answer, (tuple, list)):
        return [
            f"the shape should be a tuple (height, width, channels); received {describe(answer)}"
        ]
    answer = tuple(answer)
    if len(answer) == 4 and answer[0] in (None, 1):  # Keras's (None, h, w, c) or a batch of one
        answer = answer[1:]
    if len(answer) != 3:
        return [
            "the shape should have 3 entries (height, width, channels), without the batch "
            f"dimension; received {len(answer)} entries"
        ]
    problems = []
    for name, received, correct in zip(("height", "width", "channels"), answer, expected):
        problems += compare_integer(received, correct, f"the {name}")
    return problems


# --------------------------------------------------------------------------- visualising.receptive_field

FIELD_LAYER = "block4_conv1"  # the layer whose receptive field is asked


def vgg16_receptive_field(layer_name=FIELD_LAYER) -> int:
    """Receptive field (pixels along one side) of a unit of a VGG16 layer.

    The kernel sizes and strides of every convolution and pooling layer up to
    ``layer_name`` are read from the layers of ``keras.applications.VGG16``.
    """
    import keras

    kernels, strides = [], []
    for layer in vgg16_features(SHAPE_INPUT).layers:
        if isinstance(layer, keras.layers.Conv2D):
            kernels.append(int(layer.kernel_size[0]))
            strides.append(int(layer.strides[0]))
        elif isinstance(layer, keras.layers.MaxPooling2D):
            kernels.append(int(layer.pool_size[0]))
            strides.append(int(layer.strides[0]))
        if layer.name == layer_name:
            return receptive_field(kernels, strides)
    raise ValueError(
        f"Expected `layer_name` to be a layer of VGG16. Received: layer_name={layer_name!r}"
    )


@exercise(
    "visualising.receptive_field",
    CHAPTER,
    hint=(
        "Walk through the layers up to block4_conv1 with r = 1 + sum (k - 1) x (product of the "
        "strides of the layers before): a 3x3 convolution adds 2 x jump, a 2x2 pooling adds "
        "1 x jump and then doubles the jump."
    ),
)
def _receptive_field(answer):
    return compare_integer(
        answer, vgg16_receptive_field(), "the receptive field (pixels along one side)"
    )


# --------------------------------------------------------------------------- visualising.normalise_gradient


def _gradient_cases(seed: int = 0):
    rng = np.random.default_rng(seed)
    return [
        ((rng.normal(size=(1, 8, 8, 3)),), "a (1, 8, 8, 3) gradient of standard deviation 1"),
        (
            (rng.normal(scale=1e-3, size=(2, 5, 7, 3)),),
            "a small (2, 5, 7, 3) gradient (about 1e-3)",
        ),
        ((rng.normal(scale=50.0, size=(6, 4)),), "a large (6, 4) gradient (about 50)"),
        ((np.full((3, 3), 2.0),), "a constant 3x3 gradient"),
        ((np.zeros((4, 4, 3)),), "a gradient that is zero everywhere (a silent filter)"),
    ]


@exercise(
    "visualising.normalise_gradient",
    CHAPTER,
    hint=(
        "Divide the gradient by its root mean square plus 1e-8: "
        "sqrt of the mean of the squared entries, over all entries; the 1e-8 keeps a zero "
        "gradient from giving 0 / 0."
    ),
)
def _normalise_gradient(answer):
    return compare_function(
        answer, normalise_gradient, _gradient_cases(), "your normalise", rtol=1e-4, atol=1e-6
    )
