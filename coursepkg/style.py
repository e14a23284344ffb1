"""Artistic style transfer (Gatys et al. 2015) and Deep Dream (Mordvintsev et al. 2015): changing pixels.

Introduced in: book/17_style_transfer.ipynb

Both methods keep a trained network fixed and change the *input image* by
gradient steps: style transfer minimises a loss that compares the image's
feature maps with those of a photograph (content) and the Gram matrices of its
feature maps with those of a painting (style); Deep Dream maximises the
activations of chosen layers. Everything here is written with ``keras.ops``;
the gradient with respect to the image comes from
:func:`coursepkg.gradients.compiled_value_and_gradient`, the course's one
module of backend-specific autodiff, compiled once per image shape.

**Three conventions, one loss up to constants.** With ``F`` the feature maps of
one layer (``N`` channels, ``M = height x width`` locations) of the generated
image and ``P``/``A`` those of the content/style image, the Gram matrix is
``G = F^T F`` (``N x N``: summed over the locations). The published
implementations scale the terms differently:

===================  ================  ==================================  =======================
``normalisation``    Gram matrix       style loss of one layer             content loss
===================  ================  ==================================  =======================
``"gatys"``          ``F^T F``         ``sum (G - A)^2 / (4 N^2 M^2)``     ``sum (F - P)^2 / 2``
``"tutorial"``       ``F^T F / M``     ``mean (G - A)^2`` (over N^2)       ``mean (F - P)^2``
``"keras_io"``       ``F^T F``         ``sum (G - A)^2 / (4 C^2 S^2)``     ``sum (F - P)^2``
===================  ================  ==================================  =======================

``"gatys"``: Gatys, Ecker and Bethge (2015), equations 1, 3 and 4 (5 and 7 for the totals).
``"tutorial"``: TensorFlow's tutorial *Neural style transfer*, whose style
loss is 4 times Gatys's (``sum ((G - A)/M)^2 / N^2``).
``"keras_io"``: F. Chollet's keras-io example *Neural style transfer*, where
``C = 3`` and ``S`` the number of *pixels of the image* (``img_nrows *
img_ncols``) for every layer, not the layer's ``N`` and ``M``: the style
layers are weighted by ``N^2 M^2 / (9 S^2)`` relative to Gatys's.
The totals are ``content_weight * mean over content layers + style_weight *
sum_l w_l * style loss_l (+ total_variation_weight * TV)``, ``w_l = 1 /
number of style layers`` by default, as in all three.

Reference:
    L. A. Gatys, A. S. Ecker and M. Bethge, [A Neural Algorithm of Artistic
    Style](https://arxiv.org/abs/1508.06576), 2015; A. Mordvintsev, C. Olah and
    M. Tyka, *Inceptionism: Going Deeper into Neural Networks*, Google Research
    blog, 2015, and their ``deepdream`` notebook.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

import numpy as np

from coursepkg import validation
from coursepkg.gradients import compiled_value_and_gradient

CONTENT_LAYERS = ("block5_conv2",)  # the lecture's choice (and TF's and keras-io's); Gatys: block4_conv2
STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
NORMALISATIONS = ("gatys", "tutorial", "keras_io")
TOTAL_VARIATIONS = ("anisotropic", "power")
KERAS_IO_CHANNELS = 3  # the `channels = 3` of keras-io's style_loss, for every layer
MIN_IMAGE_SIDE = 16  # four 2x2 poolings before block5: 16 pixels leave one location
MAX_IMAGE_SIDE = 4096
MAX_WEIGHT = 1e10  # a weight of a loss term
MAX_LOSS = 1e11  # a target loss (losses are non-negative; a target may be any number up to this)
MAX_STEPS = 100_000
MAX_LAYERS = 100  # layer names in one loss
MAX_JITTER = 1024


# --------------------------------------------------------------------------- checks


def _check_normalisation(normalisation: str) -> str:
    return validation.check_choice("normalisation", normalisation, NORMALISATIONS)


def _feature_maps(name: str, features):
    """A float32 backend tensor ``(batch, height, width, channels)``; the error names the argument.

    NumPy arrays and lists must hold finite real numbers (not complex, not booleans, not
    empty); a backend tensor (possibly symbolic, inside a compiled function) is checked for
    its rank and dtype only.
    """
    import keras

    if not isinstance(features, np.ndarray) and keras.ops.is_tensor(features):
        dtype = keras.backend.standardize_dtype(features.dtype)
        if not (dtype.startswith("float") or dtype.startswith("int") or dtype.startswith("uint")):
            raise TypeError(f"Expected `{name}` to hold real numbers. Received: {name} of dtype {dtype}")
        shape = tuple(keras.ops.shape(features))
        if len(shape) != 4 or 0 in shape:
            raise ValueError(
                f"Expected `{name}` to be non-empty feature maps of shape (batch, height, width, channels). "
                f"Received: {name} with shape {shape}"
            )
        return keras.ops.cast(features, "float32")
    array = validation.check_array(name, features, ndim=4)
    return keras.ops.convert_to_tensor(array.astype(np.float32))


def _locations(features):
    """``height * width`` of feature maps, as a float32 scalar (a tensor when the shape is dynamic)."""
    import keras

    shape = keras.ops.shape(features)
    return keras.ops.cast(shape[1] * shape[2], "float32")


def _image_array(name: str, image) -> np.ndarray:
    """An RGB image as float32 ``(height, width, 3)`` in [0, 1]: uint8 is divided by 255."""
    array = validation.check_array(name, image, ndim=(3, 4), dtype="number")
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 3 or array.shape[-1] != 3:
        raise ValueError(
            f"Expected `{name}` to be an RGB image of shape (height, width, 3). "
            f"Received: {name} with shape {array.shape}"
        )
    for side in array.shape[:2]:
        if not MIN_IMAGE_SIDE <= side <= MAX_IMAGE_SIDE:
            raise ValueError(
                f"Expected `{name}` to have sides of {MIN_IMAGE_SIDE} to {MAX_IMAGE_SIDE} pixels. "
                f"Received: {name} with shape {array.shape}"
            )
    if array.dtype == np.uint8:
        return array.astype(np.float32) / np.float32(255.0)
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(
            f"Expected `{name}` to be uint8 (0-255) or floating point (0-1). Received: {name} of dtype {array.dtype}"
        )
    array = array.astype(np.float32)
    if array.min() < 0.0 or array.max() > 1.0:
        raise ValueError(
            f"Expected `{name}` to hold values in [0, 1] (floating point) or to be uint8. "
            f"Received: {name} with values in [{array.min()}, {array.max()}]"
        )
    return array


def _layer_names(name: str, value, model) -> tuple[str, ...]:
    """Names of layers of ``model`` with 4-D outputs; one string counts as a list of one."""
    names = (value,) if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)):
        raise TypeError(f"Expected `{name}` to be a non-empty list of layer names. Received: {name}={value!r}")
    if not 1 <= len(names) <= MAX_LAYERS:
        raise ValueError(
            f"Expected `{name}` to be a list of 1 to {MAX_LAYERS} layer names. Received: {name}={value!r:.200}"
        )
    available = [layer.name for layer in model.layers]
    for layer_name in names:
        validation.check_str(name, layer_name, max_length=200)
        if layer_name not in available:
            listed = ", ".join(available[:40]) + (", ..." if len(available) > 40 else "")
            raise ValueError(
                f"Expected `{name}` to name layers of model {model.name!r} ({listed}). "
                f"Received: {name}={value!r}"
            )
        if len(model.get_layer(layer_name).output.shape) != 4:
            raise ValueError(
                f"Expected `{name}` to name layers with feature maps (batch, height, width, channels). "
                f"Received: {layer_name!r}, whose output has shape {model.get_layer(layer_name).output.shape}"
            )
    return tuple(names)


def _layer_weights(name: str, value, count: int) -> tuple[float, ...]:
    if value is None:
        return (1.0 / count,) * count
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise TypeError(
            f"Expected `{name}` to be None or a list of {count} weights, one per layer. Received: {name}={value!r}"
        )
    if len(value) != count:
        raise ValueError(
            f"Expected `{name}` to be None or a list of {count} weights, one per layer. Received: {name}={value!r}"
        )
    return tuple(validation.check_float(name, weight, 0.0, MAX_WEIGHT) for weight in value)


def _model_and_preprocess(model, preprocess):
    """``(keras.Model, function of [0, 1] images)``; a PretrainedNetwork brings its own preprocessing."""
    import keras

    from coursepkg.pretrained import PretrainedNetwork

    if preprocess is not None and not callable(preprocess):
        raise TypeError(f"Expected `preprocess` to be None or a function. Received: preprocess={preprocess!r}")
    if isinstance(model, PretrainedNetwork):
        network = model
        if preprocess is None:

            def preprocess(images):  # the network's own preprocessing reads RGB in [0, 255]
                return network.preprocess_input(images * 255.0)

        model = network.model
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"Expected `model` to be a keras.Model or a coursepkg.PretrainedNetwork. Received: model={model!r}"
        )
    return model, (preprocess if preprocess is not None else (lambda images: images))


def _check_jit_compile(jit_compile):
    if isinstance(jit_compile, str) and jit_compile == "auto":
        return jit_compile
    if isinstance(jit_compile, (bool, np.bool_)):
        return bool(jit_compile)
    error = ValueError if isinstance(jit_compile, str) else TypeError
    raise error(f'Expected `jit_compile` to be "auto", True or False. Received: jit_compile={jit_compile!r}')


# --------------------------------------------------------------------------- the losses


def gram_matrix(features, normalisation: str = "gatys"):
    """The Gram matrices of feature maps: which channels are active together, wherever they are.

    Introduced in: book/17_style_transfer.ipynb

    ``G[c, d] = sum over locations (i, j) of F[i, j, c] * F[i, j, d]``, i.e.
    ``F^T F`` with ``F`` reshaped to ``(locations, channels)``: the positions
    are summed away, so ``G`` keeps textures and colours, not the layout.

    Args:
        features: ``(batch, height, width, channels)`` feature maps (NumPy or a
            backend tensor), non-empty, finite real numbers.
        normalisation: ``"gatys"`` and ``"keras_io"``: the plain sum (both
            scale in the style loss instead); ``"tutorial"``: divided by the
            number of locations ``height * width`` (TensorFlow's tutorial).

    Returns:
        float32 backend tensor ``(batch, channels, channels)``.

    Example:
        >>> gram_matrix(np.ones((1, 4, 4, 2)), "tutorial")  # [[[1, 1], [1, 1]]]
    """

    normalisation = _check_normalisation(normalisation)
    return _gram(_feature_maps("features", features), normalisation)


def _gram(features, normalisation: str):
    """:func:`gram_matrix` of float32 feature maps already checked (also inside compiled functions)."""
    import keras

    gram = keras.ops.einsum("bijc,bijd->bcd", features, features)  # (batch, channels, channels)
    if normalisation == "tutorial":
        gram = gram / _locations(features)
    return gram


def _layer_style_loss(style_gram, style_locations, combination, normalisation, image_pixels):
    """One layer's style loss from the style image's Gram matrix (already normalised)."""
    import keras

    channels = keras.ops.cast(keras.ops.shape(combination)[-1], "float32")
    locations = _locations(combination)
    gram = _gram(combination, normalisation)
    if normalisation != "tutorial":
        # plain sums grow with the number of locations: compare at the combination's size
        style_gram = style_gram * (locations / style_locations)
    squared = keras.ops.square(gram - style_gram)
    if normalisation == "tutorial":
        return keras.ops.mean(squared)
    if normalisation == "gatys":
        return keras.ops.sum(squared) / (4.0 * channels**2 * locations**2)
    return keras.ops.sum(squared) / (4.0 * KERAS_IO_CHANNELS**2 * image_pixels**2)


def style_loss(style_features, combination_features, normalisation: str = "gatys", image_size=None):
    """How far the Gram matrices of one layer are from the style image's (one layer's term).

    Introduced in: book/17_style_transfer.ipynb

    See the module's table for the three conventions. When the two feature
    maps have different sizes, the plain-sum Gram matrix of the style image
    (``"gatys"``, ``"keras_io"``) is first scaled by the ratio of the numbers
    of locations, so that a style image of another size has the same target
    (``"tutorial"``'s Gram matrices are averages and need no scaling).

    Args:
        style_features: ``(1 or batch, height_s, width_s, channels)``, of the style image.
        combination_features: ``(batch, height, width, channels)``, of the generated image.
        normalisation: ``"gatys"``, ``"tutorial"`` or ``"keras_io"``.
        image_size: ``(height, width)`` of the generated *image* (not of the
            layer), each 1 to 4,096: required by ``"keras_io"``, checked but
            unused otherwise.

    Returns:
        float32 scalar backend tensor.

    Raises:
        ValueError: shapes that are not feature maps, different channel counts,
            an unknown ``normalisation``, or ``"keras_io"`` without ``image_size``.
    """
    import keras

    normalisation = _check_normalisation(normalisation)
    style_features = _feature_maps("style_features", style_features)
    combination_features = _feature_maps("combination_features", combination_features)
    if keras.ops.shape(style_features)[-1] != keras.ops.shape(combination_features)[-1]:
        raise ValueError(
            "Expected `style_features` and `combination_features` to have the same number of channels. "
            f"Received: {keras.ops.shape(style_features)[-1]} and {keras.ops.shape(combination_features)[-1]}"
        )
    image_size = validation.optional(validation.check_shape, "image_size", image_size, 2, 1, MAX_IMAGE_SIDE)
    image_pixels = None
    if normalisation == "keras_io":
        if image_size is None:
            raise ValueError(
                'Expected `image_size=(height, width)` of the generated image with normalisation="keras_io". '
                "Received: image_size=None"
            )
        image_pixels = float(image_size[0] * image_size[1])
    style_gram = _gram(style_features, normalisation)
    return _layer_style_loss(style_gram, _locations(style_features), combination_features, normalisation, image_pixels)


def content_loss(content_features, combination_features, normalisation: str = "gatys"):
    """Squared Euclidean distance between two images' feature maps: same content when it is small.

    Introduced in: book/17_style_transfer.ipynb

    Args:
        content_features: ``(batch, height, width, channels)``, of the content image.
        combination_features: the same shape, of the generated image.
        normalisation: ``"gatys"``: ``sum (F - P)^2 / 2``; ``"tutorial"``:
            ``mean (F - P)^2``; ``"keras_io"``: ``sum (F - P)^2``.

    Returns:
        float32 scalar backend tensor.

    Raises:
        ValueError: different shapes, or an unknown ``normalisation``.
    """
    import keras

    normalisation = _check_normalisation(normalisation)
    content_features = _feature_maps("content_features", content_features)
    combination_features = _feature_maps("combination_features", combination_features)
    if tuple(keras.ops.shape(content_features)) != tuple(keras.ops.shape(combination_features)):
        raise ValueError(
            "Expected `content_features` and `combination_features` to have the same shape. Received: "
            f"{tuple(keras.ops.shape(content_features))} and {tuple(keras.ops.shape(combination_features))}"
        )
    return _content(content_features, combination_features, normalisation)


def _content(content_features, combination_features, normalisation: str):
    """:func:`content_loss` of float32 feature maps already checked (also inside compiled functions)."""
    import keras

    squared = keras.ops.square(combination_features - content_features)
    if normalisation == "tutorial":
        return keras.ops.mean(squared)
    if normalisation == "gatys":
        return 0.5 * keras.ops.sum(squared)
    return keras.ops.sum(squared)


def total_variation_loss(images, kind: str = "anisotropic", beta: float = 2.5):
    """How much neighbouring pixels differ: a penalty that smooths the generated image.

    Introduced in: book/17_style_transfer.ipynb

    Reference:
        A. Mahendran and A. Vedaldi, *Understanding Deep Image Representations
        by Inverting Them*, CVPR 2015 (the ``"power"`` form, their beta).

    Args:
        images: ``(batch, height, width, channels)``.
        kind: ``"anisotropic"``: ``sum |x[i+1, j] - x[i, j]| + sum |x[i, j+1] - x[i, j]|``
            (``tf.image.total_variation`` summed over the batch, the TF
            tutorial's); ``"power"``: ``sum ((x[i+1, j] - x[i, j])^2 +
            (x[i, j+1] - x[i, j])^2) ** (beta / 2)`` over the pixels that have
            both neighbours (keras-io's, with ``beta = 2.5``).
        beta: exponent of ``"power"``, 2 to 4 (below 2 the gradient is
            infinite where the image is flat).

    Returns:
        float32 scalar backend tensor.
    """

    kind = validation.check_choice("kind", kind, TOTAL_VARIATIONS)
    beta = validation.check_float("beta", beta, 2.0, 4.0)
    return _total_variation(_feature_maps("images", images), kind, beta)


def _total_variation(images, kind: str, beta: float = 2.5):
    """:func:`total_variation_loss` of a float32 batch already checked (also inside compiled functions)."""
    import keras

    if kind == "anisotropic":
        down = keras.ops.abs(images[:, 1:, :, :] - images[:, :-1, :, :])
        right = keras.ops.abs(images[:, :, 1:, :] - images[:, :, :-1, :])
        return keras.ops.sum(down) + keras.ops.sum(right)
    down = keras.ops.square(images[:, 1:, :-1, :] - images[:, :-1, :-1, :])
    right = keras.ops.square(images[:, :-1, 1:, :] - images[:, :-1, :-1, :])
    return keras.ops.sum(keras.ops.power(down + right, beta / 2.0))


def adaptive_instance_normalisation(content_features, style_features, epsilon: float = 1e-5):
    """AdaIN: give the content's feature maps the mean and standard deviation of the style's, channel by channel.

    Introduced in: book/17_style_transfer.ipynb

    Reference:
        X. Huang and S. Belongie, [Arbitrary Style Transfer in Real-time with
        Adaptive Instance Normalization](https://arxiv.org/abs/1703.06868), ICCV 2017, equation 8.

    ``AdaIN(x, y) = sigma(y) * (x - mu(x)) / sigma(x) + mu(y)``, where ``mu`` and
    ``sigma`` are the mean and the standard deviation of each channel over the
    locations of one image, ``sigma = sqrt(variance + epsilon)``. Two numbers per
    channel summarise the style here, where Gatys's Gram matrix keeps all the
    correlations between channels; a decoder trained to invert the encoder
    turns the result into an image in one forward pass.

    Args:
        content_features: ``(batch, height, width, channels)``.
        style_features: ``(batch, height_s, width_s, channels)``: the same batch
            size and channels, any size.
        epsilon: added to the variances, 0 to 1 (0 only for maps that are
            nowhere constant).

    Returns:
        float32 backend tensor shaped like ``content_features``.
    """
    import keras

    epsilon = validation.check_float("epsilon", epsilon, 0.0, 1.0)
    content = _feature_maps("content_features", content_features)
    style = _feature_maps("style_features", style_features)
    content_shape, style_shape = tuple(keras.ops.shape(content)), tuple(keras.ops.shape(style))
    if content_shape[0] != style_shape[0] or content_shape[-1] != style_shape[-1]:
        raise ValueError(
            "Expected `content_features` and `style_features` to have the same batch size and channels. "
            f"Received: shapes {content_shape} and {style_shape}"
        )
    content_mean, content_variance = keras.ops.moments(content, axes=(1, 2), keepdims=True)
    style_mean, style_variance = keras.ops.moments(style, axes=(1, 2), keepdims=True)
    normalised = (content - content_mean) / keras.ops.sqrt(content_variance + epsilon)
    return normalised * keras.ops.sqrt(style_variance + epsilon) + style_mean


# --------------------------------------------------------------------------- style transfer


@dataclasses.dataclass(frozen=True)
class StyleTransferResult:
    """The image an optimiser reached, with the loss and the time of each of its iterates."""

    image: np.ndarray  # float32 (height, width, 3) in [0, 1]: the last iterate
    losses: np.ndarray  # (iterations + 1,) total loss of the start image and of each iterate
    seconds: np.ndarray  # (iterations + 1,) wall-clock seconds from the start at which each iterate existed
    evaluations: int  # loss-and-gradient evaluations (L-BFGS: about 1 to 2 per iteration)
    method: str  # "adam" or "lbfgs"

    def time_to_reach(self, loss: float) -> float | None:
        """Seconds until the first iterate whose loss is at most ``loss`` (a finite number within
        +-1e11); ``None`` if never."""
        loss = validation.check_float("loss", loss, -MAX_LOSS, MAX_LOSS)
        reached = np.flatnonzero(self.losses <= loss)
        return float(self.seconds[reached[0]]) if reached.size else None


class StyleTransfer:
    """Gatys's style transfer: one feature extractor, the weighted loss, and two optimisers of the pixels.

    Introduced in: book/17_style_transfer.ipynb

    Reference:
        L. A. Gatys, A. S. Ecker and M. Bethge, [A Neural Algorithm of Artistic
        Style](https://arxiv.org/abs/1508.06576), 2015.

    The constructor builds one Keras model that returns the feature maps of
    the content and style layers (a ``keras.Model`` on the network's input
    and those layers' outputs: the layers after the deepest one are left out),
    and computes the targets once: the content image's feature maps and the
    style image's Gram matrices. The loss of an image is then one forward
    pass; its gradient with respect to the pixels comes from
    :func:`coursepkg.gradients.compiled_value_and_gradient`, compiled at the
    first call (``tf.function`` under TensorFlow, ``jax.jit`` under JAX).

    Images are float RGB in [0, 1] (uint8 images are divided by 255); the
    optimisers keep the pixels in [0, 1].

    Args:
        model: a ``keras.Model`` holding the named layers (VGG16/VGG19 or the
            course's stand-in), or a :class:`coursepkg.PretrainedNetwork`, whose
            ``preprocess_input`` is then applied to ``255 * image``.
        content_image: ``(height, width, 3)``: the photograph; its size is the
            size of the generated image. Images are uint8, or floats in [0, 1],
            with sides of 16 to 4,096 pixels.
        style_image: ``(height_s, width_s, 3)``: the painting, any size in that range.
        content_layers: 1 to 100 layer names for the content loss (averaged).
        style_layers: 1 to 100 layer names for the style loss.
        content_weight: ``alpha`` of Gatys, 0 to 1e10.
        style_weight: ``beta`` of Gatys, 0 to 1e10.
        total_variation_weight: weight of :func:`total_variation_loss` of the
            image, 0 (off) to 1e10.
        normalisation: ``"tutorial"`` (default: the weights above are the TF
            tutorial's, tuned for Keras's VGG19), ``"gatys"`` or ``"keras_io"``;
            see the module's table.
        style_layer_weights: ``w_l`` of each style layer, each 0 to 1e10;
            ``None``: ``1 / number of layers``.
        total_variation: ``kind`` of :func:`total_variation_loss`.
        preprocess: function from the image tensor ``(1, height, width, 3)`` in
            [0, 1] to the model's input, with ``keras.ops``; ``None``: the
            PretrainedNetwork's preprocessing, or the image as it is.
        jit_compile: ``"auto"``, ``True`` or ``False``, see
            :func:`coursepkg.gradients.compiled_value_and_gradient`.

    Raises:
        TypeError: an argument of the wrong type.
        ValueError: unknown layers, images of the wrong shape or range, settings
            out of range. Every argument is checked before the feature extractor is built.

    Example:
        >>> network = coursepkg.pretrained("vgg19", include_top=False)
        >>> transfer = StyleTransfer(network, coursepkg.load_painting("tuebingen", max_side=256),
        ...                          coursepkg.load_painting("starry_night", max_side=256))
        >>> result = transfer.run_lbfgs(steps=50, start=transfer.initial_image(noise=0.1))
        >>> result.losses[-1] < result.losses[0]
        True
    """

    def __init__(
        self,
        model,
        content_image,
        style_image,
        content_layers: Sequence[str] = CONTENT_LAYERS,
        style_layers: Sequence[str] = STYLE_LAYERS,
        content_weight: float = 1e4,
        style_weight: float = 1e-2,
        total_variation_weight: float = 0.0,
        normalisation: str = "tutorial",
        style_layer_weights: Sequence[float] | None = None,
        total_variation: str = "anisotropic",
        preprocess: Callable | None = None,
        jit_compile: bool | str = "auto",
    ):
        import keras

        self.model, self.preprocess = _model_and_preprocess(model, preprocess)
        self.content_image = _image_array("content_image", content_image)  # (height, width, 3)
        self.style_image = _image_array("style_image", style_image)  # (height_s, width_s, 3)
        self.content_layers = _layer_names("content_layers", content_layers, self.model)
        self.style_layers = _layer_names("style_layers", style_layers, self.model)
        self.content_weight = validation.check_float("content_weight", content_weight, 0.0, MAX_WEIGHT)
        self.style_weight = validation.check_float("style_weight", style_weight, 0.0, MAX_WEIGHT)
        self.total_variation_weight = validation.check_float(
            "total_variation_weight", total_variation_weight, 0.0, MAX_WEIGHT
        )
        self.normalisation = _check_normalisation(normalisation)
        self.style_layer_weights = _layer_weights("style_layer_weights", style_layer_weights, len(self.style_layers))
        self.total_variation = validation.check_choice("total_variation", total_variation, TOTAL_VARIATIONS)
        self.jit_compile = _check_jit_compile(jit_compile)

        names = tuple(dict.fromkeys(self.content_layers + self.style_layers))  # each layer once
        self._index = {name: position for position, name in enumerate(names)}
        self.extractor = keras.Model(
            self.model.input, [self.model.get_layer(name).output for name in names], name="style_features"
        )
        content_maps = self._features(keras.ops.convert_to_tensor(self.content_image[np.newaxis]))
        style_maps = self._features(keras.ops.convert_to_tensor(self.style_image[np.newaxis]))
        self._content_targets = [content_maps[self._index[name]] for name in self.content_layers]
        self._style_targets = [
            (_gram(style_maps[self._index[name]], self.normalisation), _locations(style_maps[self._index[name]]))
            for name in self.style_layers
        ]
        self._image_pixels = float(self.content_image.shape[0] * self.content_image.shape[1])
        self._value_and_gradient = None  # compiled at the first call

    def _features(self, images) -> list:
        maps = self.extractor(self.preprocess(images), training=False)
        return list(maps) if isinstance(maps, (list, tuple)) else [maps]

    def _loss_terms(self, images):
        """Weighted (content, style, total variation) of a backend tensor ``(1, height, width, 3)``."""
        import keras

        maps = self._features(images)
        content = sum(
            _content(target, maps[self._index[name]], self.normalisation)
            for name, target in zip(self.content_layers, self._content_targets)
        ) / len(self.content_layers)
        style = sum(
            weight * _layer_style_loss(gram, locations, maps[self._index[name]], self.normalisation, self._image_pixels)
            for name, weight, (gram, locations) in zip(self.style_layers, self.style_layer_weights, self._style_targets)
        )
        variation = (
            _total_variation(images, self.total_variation)
            if self.total_variation_weight
            else keras.ops.zeros((), dtype="float32")
        )
        return (
            self.content_weight * content,
            self.style_weight * style,
            self.total_variation_weight * variation,
        )

    def _total_loss(self, images):
        content, style, variation = self._loss_terms(images)
        return content + style + variation

    def _batch(self, name: str, image) -> np.ndarray:
        array = _image_array(name, image)
        if array.shape != self.content_image.shape:
            raise ValueError(
                f"Expected `{name}` to have the content image's shape {self.content_image.shape}. "
                f"Received: {name} with shape {array.shape}"
            )
        return array[np.newaxis]  # (1, height, width, 3)

    def losses(self, image) -> dict[str, float]:
        """The weighted terms and the total of the loss of ``image``, as floats.

        Args:
            image: ``(height, width, 3)``, the content image's shape, in [0, 1] (or uint8).

        Returns:
            ``{"content": ..., "style": ..., "total_variation": ..., "total": ...}``.
        """
        import keras

        terms = self._loss_terms(keras.ops.convert_to_tensor(self._batch("image", image)))
        values = [float(keras.ops.convert_to_numpy(term)) for term in terms]
        return {"content": values[0], "style": values[1], "total_variation": values[2], "total": sum(values)}

    def loss(self, image) -> float:
        """The total loss of ``image`` (one forward pass, not compiled)."""
        return self.losses(image)["total"]

    def _compiled(self):
        if self._value_and_gradient is None:
            self._value_and_gradient = compiled_value_and_gradient(
                self._total_loss, variables=self.extractor.variables, jit_compile=self.jit_compile
            )
        return self._value_and_gradient

    def value_and_gradient(self, image) -> tuple[float, np.ndarray]:
        """The total loss of ``image`` and its gradient with respect to the pixels (compiled).

        Returns:
            ``(loss, gradient)``: a float and a float32 array ``(height, width, 3)``.
        """
        import keras

        batch = self._batch("image", image)  # checked before anything is compiled
        loss, gradient = self._compiled()(batch)
        return float(keras.ops.convert_to_numpy(loss)), keras.ops.convert_to_numpy(gradient)[0]

    def initial_image(self, noise: float = 0.0, seed: int = 0) -> np.ndarray:
        """The starting image: ``(1 - noise) * content + noise * uniform noise in [0, 1]``.

        Gatys et al. start from white noise (``noise=1``); starting from the
        content image (``noise=0``, the TF tutorial) or a mix (the lecture)
        reaches a low loss in fewer steps.

        Args:
            noise: the share of noise, in [0, 1].
            seed: seed of the noise, 0 to 2**32 - 1.

        Returns:
            float32 ``(height, width, 3)`` in [0, 1].
        """
        noise = validation.check_float("noise", noise, 0.0, 1.0)
        seed = validation.check_seed("seed", seed)
        random = np.random.default_rng(seed).random(self.content_image.shape, dtype=np.float32)
        return ((1.0 - noise) * self.content_image + noise * random).astype(np.float32)

    def _start(self, start) -> np.ndarray:
        return self.content_image.copy() if start is None else self._batch("start", start)[0]

    def run_adam(
        self,
        steps: int,
        start=None,
        learning_rate: float = 0.02,
        beta_1: float = 0.99,
        beta_2: float = 0.999,
        epsilon: float = 0.1,
        target_loss: float | None = None,
    ) -> StyleTransferResult:
        """Adam on the pixels: ``keras.optimizers.Adam`` applied to a ``keras.Variable`` image.

        Each step evaluates the compiled loss and gradient, lets Adam update
        the image, and clips it to [0, 1]. The defaults are the TF tutorial's
        (learning rate 0.02, ``beta_1`` 0.99, ``epsilon`` 0.1).

        Args:
            steps: number of updates, 1 to 100,000.
            start: starting image (default: the content image), see :meth:`initial_image`.
            learning_rate, beta_1, beta_2, epsilon: Adam's settings: a learning rate in
                (0, 1000], betas in [0, 1), epsilon in (0, 1000].
            target_loss: stop at the first iterate whose loss is at most this (within +-1e11);
                ``None``: run all steps.

        Returns:
            A :class:`StyleTransferResult` (``method="adam"``).
        """
        import keras

        steps = validation.check_int("steps", steps, low=1, high=MAX_STEPS)
        learning_rate = validation.check_float("learning_rate", learning_rate, 0.0, 1e3, low_inclusive=False)
        beta_1 = validation.check_float("beta_1", beta_1, 0.0, 1.0, high_inclusive=False)
        beta_2 = validation.check_float("beta_2", beta_2, 0.0, 1.0, high_inclusive=False)
        epsilon = validation.check_float("epsilon", epsilon, 0.0, 1e3, low_inclusive=False)
        if target_loss is not None:
            target_loss = validation.check_float("target_loss", target_loss, -MAX_LOSS, MAX_LOSS)
        start = self._start(start)
        step = self._compiled()
        image = keras.Variable(start[np.newaxis], dtype="float32", trainable=True, name="image")
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
        optimizer.build([image])
        losses, seconds = [], [0.0]
        began = time.perf_counter()
        for _ in range(steps + 1):
            loss, gradient = step(image.value)
            losses.append(float(keras.ops.convert_to_numpy(loss)))  # of the current iterate
            if len(losses) == steps + 1 or (target_loss is not None and losses[-1] <= target_loss):
                break
            optimizer.apply_gradients([(gradient, image)])
            image.assign(keras.ops.clip(image.value, 0.0, 1.0))
            seconds.append(time.perf_counter() - began)
        return StyleTransferResult(
            image=keras.ops.convert_to_numpy(image.value)[0].astype(np.float32),
            losses=np.asarray(losses, dtype=np.float64),
            seconds=np.asarray(seconds, dtype=np.float64),
            evaluations=len(losses),
            method="adam",
        )

    def run_lbfgs(
        self,
        steps: int,
        start=None,
        target_loss: float | None = None,
        max_evaluations: int | None = None,
        history_size: int = 10,
    ) -> StyleTransferResult:
        """L-BFGS on the pixels (the method of Gatys et al.): SciPy's L-BFGS-B, pixels bounded to [0, 1].

        ``scipy.optimize.minimize(method="L-BFGS-B")`` works on the flattened
        float64 pixels and calls the compiled loss and gradient; the bounds
        keep every pixel in [0, 1] without clipping. Each iteration builds a
        curvature estimate from the last ``history_size`` gradients and makes a
        line search, so it costs one or a few evaluations.

        Args:
            steps: maximum number of iterations, 1 to 100,000.
            start: starting image (default: the content image).
            target_loss: stop at the first iterate whose loss is at most this (within +-1e11).
            max_evaluations: maximum number of loss-and-gradient evaluations
                1 to 1,000,000 (default: SciPy's 15,000).
            history_size: number of gradient pairs kept (SciPy's ``maxcor``), 1 to 100.

        Returns:
            A :class:`StyleTransferResult` (``method="lbfgs"``).
        """
        import keras
        from scipy.optimize import Bounds, minimize

        steps = validation.check_int("steps", steps, low=1, high=MAX_STEPS)
        if target_loss is not None:
            target_loss = validation.check_float("target_loss", target_loss, -MAX_LOSS, MAX_LOSS)
        if max_evaluations is not None:
            max_evaluations = validation.check_int("max_evaluations", max_evaluations, low=1, high=10 * MAX_STEPS)
        history_size = validation.check_int("history_size", history_size, low=1, high=100)
        start = self._start(start)
        shape = (1,) + start.shape  # (1, height, width, 3)
        step = self._compiled()
        losses, seconds, evaluations = [], [], 0

        def loss_and_gradient(pixels: np.ndarray) -> tuple[float, np.ndarray]:
            nonlocal evaluations
            loss, gradient = step(pixels.reshape(shape).astype(np.float32))
            evaluations += 1
            loss = float(keras.ops.convert_to_numpy(loss))
            if evaluations == 1:  # SciPy starts at the start image
                losses.append(loss)
                seconds.append(0.0)
            return loss, keras.ops.convert_to_numpy(gradient).astype(np.float64).ravel()

        def callback(intermediate_result):  # after each iteration: the accepted iterate
            losses.append(float(intermediate_result.fun))
            seconds.append(time.perf_counter() - began)
            if target_loss is not None and losses[-1] <= target_loss:
                raise StopIteration

        options = {"maxiter": steps, "maxcor": history_size, "ftol": 0.0, "gtol": 0.0}
        if max_evaluations is not None:
            options["maxfun"] = max_evaluations
        began = time.perf_counter()
        pixels = start.astype(np.float64).ravel()
        result = minimize(
            loss_and_gradient,
            pixels,
            jac=True,
            method="L-BFGS-B",
            bounds=Bounds(np.zeros_like(pixels), np.ones_like(pixels)),
            callback=callback,
            options=options,
        )
        return StyleTransferResult(
            image=np.clip(result.x, 0.0, 1.0).reshape(start.shape).astype(np.float32),
            losses=np.asarray(losses, dtype=np.float64),
            seconds=np.asarray(seconds, dtype=np.float64),
            evaluations=evaluations,
            method="lbfgs",
        )


# --------------------------------------------------------------------------- Deep Dream


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of ``(height, width, 3)`` to ``size``, through ``keras.ops``."""
    import keras

    resized = keras.ops.image.resize(image[np.newaxis], size, interpolation="bilinear")
    return keras.ops.convert_to_numpy(resized)[0].astype(np.float32)


def octave_sizes(shape, octaves: int = 4, octave_scale: float = 1.4) -> list[tuple[int, int]]:
    """The image sizes at which :func:`deep_dream` works, smallest first.

    Introduced in: book/17_style_transfer.ipynb

    Octave ``k`` (counted from the last) has the size of the image divided by
    ``octave_scale ** k``, rounded to whole pixels; the last octave is the
    image's own size.

    Args:
        shape: ``(height, width)`` of the image, or ``(height, width, channels)``
            (the channels are ignored), each 1 to 4,096.
        octaves: number of scales, 1 to 10.
        octave_scale: ratio between two consecutive scales, 1 to 4.

    Returns:
        ``octaves`` pairs ``(height, width)``.

    Example:
        >>> octave_sizes((300, 400), octaves=3, octave_scale=2.0)
        [(75, 100), (150, 200), (300, 400)]
    """
    height, width = validation.check_shape("shape", shape, length=(2, 3), low=1, high=MAX_IMAGE_SIDE)[:2]
    octaves = validation.check_int("octaves", octaves, low=1, high=10)
    octave_scale = validation.check_float("octave_scale", octave_scale, 1.0, 4.0)
    return [
        (round(height / octave_scale**octave), round(width / octave_scale**octave))
        for octave in reversed(range(octaves))
    ]


def deep_dream(
    model,
    image,
    layer_names: Sequence[str] | str,
    steps: int = 10,
    step_size: float = 1.5 / 255,
    octaves: int = 4,
    octave_scale: float = 1.4,
    jitter: int = 32,
    layer_weights: Sequence[float] | None = None,
    preprocess: Callable | None = None,
    seed: int = 0,
    jit_compile: bool | str = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """Deep Dream: gradient ascent on an image to amplify what chosen layers already see in it.

    Introduced in: book/17_style_transfer.ipynb

    Reference:
        A. Mordvintsev, C. Olah and M. Tyka, *Inceptionism: Going Deeper into
        Neural Networks*, Google Research blog, 2015, and their ``deepdream``
        notebook (its defaults: 10 steps per octave, step 1.5 of 255, jitter 32
        pixels, 4 octaves of scale 1.4).

    The objective is ``sum_l w_l * mean(a_l ** 2) / 2`` over the chosen layers'
    activations ``a_l``; the gradient of ``a ** 2 / 2`` with respect to ``a``
    is ``a`` itself, the notebook's "set the gradient equal to the
    activation". Each step:

    1. **jitter**: rolls the image by a random shift of up to ``jitter``
       pixels (and the gradient back), so that no pixel grid is amplified;
    2. computes the gradient of the objective with respect to the pixels
       (compiled once per octave's size);
    3. **normalises** it by its mean absolute value, so that a step moves the
       pixels by ``step_size`` on average whatever the layer;
    4. adds it to the image and clips the image to [0, 1].

    **Octaves**: the image is processed from ``octave_scale ** (octaves - 1)``
    times smaller up to its own size; the details dreamt at one scale are
    enlarged and added to the next, which gives large patterns as well as fine ones.

    Args:
        model: a ``keras.Model`` or a :class:`coursepkg.PretrainedNetwork`.
        image: ``(height, width, 3)``, uint8 or float in [0, 1], sides of 16 to 4,096 pixels.
        layer_names: one layer name or a list of 1 to 100 (feature-map layers of ``model``).
        steps: gradient steps per octave, 1 to 100,000.
        step_size: mean change of a pixel per step, in [0, 1] units (0 to 1).
        octaves: number of scales, 1 to 10.
        octave_scale: ratio between two scales, 1 to 4.
        jitter: largest random shift in pixels, 0 (off) to 1,024.
        layer_weights: ``w_l`` of each layer, each 0 to 1e10; ``None``: 1 each.
        preprocess: function from ``(1, height, width, 3)`` in [0, 1] to the
            model's input (``None``: the PretrainedNetwork's, or none).
        seed: seed of the jitter, 0 to 2**32 - 1.
        jit_compile: ``"auto"``, ``True`` or ``False``.

    Returns:
        ``(dream, objectives)``: float32 ``(height, width, 3)`` in [0, 1], and
        the objective before each step (at that octave's size, of the shifted
        image) followed by the objective of the dream at full size,
        ``(octaves * steps + 1,)``.

    Raises:
        TypeError: arguments of the wrong type (checked before the model runs).
        ValueError: unknown layers, a setting out of its range, or an image too
            small for the octaves (the smallest scale must keep 16 pixels a side).

    Example:
        >>> dream, objectives = deep_dream(network, photo, ["block4_conv3", "block5_conv3"], steps=10)
    """
    import keras

    model, preprocess = _model_and_preprocess(model, preprocess)
    base = _image_array("image", image)  # (height, width, 3) in [0, 1]
    layer_names = _layer_names("layer_names", layer_names, model)
    steps = validation.check_int("steps", steps, low=1, high=MAX_STEPS)
    step_size = validation.check_float("step_size", step_size, 0.0, 1.0)
    octaves = validation.check_int("octaves", octaves, low=1, high=10)
    octave_scale = validation.check_float("octave_scale", octave_scale, 1.0, 4.0)
    jitter = validation.check_int("jitter", jitter, low=0, high=MAX_JITTER)
    seed = validation.check_seed("seed", seed)
    jit_compile = _check_jit_compile(jit_compile)
    if layer_weights is None:
        weights = (1.0,) * len(layer_names)
    else:
        weights = _layer_weights("layer_weights", layer_weights, len(layer_names))

    height, width = base.shape[:2]
    sizes = octave_sizes((height, width), octaves, octave_scale)  # smallest first, the image's own size last
    if min(sizes[0]) < MIN_IMAGE_SIDE:
        raise ValueError(
            f"Expected an image large enough for {octaves} octaves of scale {octave_scale}: the smallest "
            f"would be {sizes[0][0]}x{sizes[0][1]}, under {MIN_IMAGE_SIDE} pixels a side. "
            f"Received: octaves={octaves}, image with shape {base.shape}"
        )

    extractor = keras.Model(model.input, [model.get_layer(name).output for name in layer_names])

    def objective(images):  # (1, height, width, 3) in [0, 1] -> scalar
        maps = extractor(preprocess(images), training=False)
        maps = list(maps) if isinstance(maps, (list, tuple)) else [maps]
        return sum(weight * 0.5 * keras.ops.mean(keras.ops.square(keras.ops.cast(activation, "float32")))
                   for weight, activation in zip(weights, maps))  # fmt: skip

    ascent = compiled_value_and_gradient(objective, variables=extractor.variables, jit_compile=jit_compile)
    rng = np.random.default_rng(seed)
    objectives = []
    detail = np.zeros(sizes[0] + (3,), dtype=np.float32)
    dream = base
    for size in sizes:
        octave_base = _resize(base, size) if size != (height, width) else base
        if detail.shape[:2] != size:
            detail = _resize(detail, size)  # the details dreamt so far, enlarged
        dream = np.clip(octave_base + detail, 0.0, 1.0)
        for _ in range(steps):
            shift = tuple(int(value) for value in rng.integers(-jitter, jitter + 1, size=2)) if jitter else (0, 0)
            shifted = np.roll(dream, shift, axis=(0, 1))
            value, gradient = ascent(shifted[np.newaxis])
            objectives.append(float(keras.ops.convert_to_numpy(value)))
            gradient = np.roll(keras.ops.convert_to_numpy(gradient)[0], (-shift[0], -shift[1]), axis=(0, 1))
            scale = np.float32(step_size) / (np.abs(gradient).mean() + np.float32(1e-8))
            dream = np.clip(dream + scale * gradient, 0.0, 1.0).astype(np.float32)
        detail = dream - octave_base
    final, _ = ascent(dream[np.newaxis])
    objectives.append(float(keras.ops.convert_to_numpy(final)))
    return dream.astype(np.float32), np.asarray(objectives, dtype=np.float64)
