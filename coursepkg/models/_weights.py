"""Moving weights between the course's builders and `keras.applications`.

The builders in this package create the same weight tensors, in the same
order, as their `keras.applications` counterparts. Copying is therefore a
plain `set_weights`, once the shapes have been checked one by one.
"""

import keras

from coursepkg.downloads import DownloadError, cache_dir


def _check_model(name, value):
    """Raises `TypeError` unless `value` is a Keras model (or layer) holding weights."""
    if not isinstance(value, keras.layers.Layer):
        raise TypeError(
            f"Expected `{name}` to be a built Keras model. Received: {name}={value!r:.80}"
        )
    return value


def copy_weights(source, target):
    """Copies every weight of `source` into `target`, in order.

    Reference:
        Keras 3 `Model.get_weights` / `Model.set_weights`.

    Args:
        source: A built Keras model, for example
            `keras.applications.VGG16(weights=None)`.
        target: A built Keras model with the same architecture, for example
            `coursepkg.models.vgg16()`.

    Returns:
        `target`, now holding a copy of the weights of `source`.

    Raises:
        TypeError: if `source` or `target` is not a Keras model.
        ValueError: if the two models do not hold the same number of weights
            or if two weights at the same position differ in shape; the message
            names the first mismatch.

    Example:
        >>> import keras
        >>> from coursepkg.models import copy_weights, vgg16
        >>> theirs = keras.applications.VGG16(weights=None)
        >>> ours = copy_weights(theirs, vgg16())

    Introduced in: book/07_vgg.ipynb
    """
    _check_model("source", source)
    _check_model("target", target)
    source_weights = source.weights
    target_weights = target.weights
    if len(source_weights) != len(target_weights):
        raise ValueError(
            "Expected `source` and `target` to hold the same number of weights. "
            f"Received: {len(source_weights)} weights in source={source.name!r} "
            f"and {len(target_weights)} in target={target.name!r}"
        )
    for index, (from_weight, to_weight) in enumerate(zip(source_weights, target_weights)):
        if tuple(from_weight.shape) != tuple(to_weight.shape):
            raise ValueError(
                f"Expected weight {index} to have the same shape in both models. "
                f"Received: {from_weight.path} {tuple(from_weight.shape)} in source, "
                f"{to_weight.path} {tuple(to_weight.shape)} in target"
            )
    target.set_weights(source.get_weights())
    return target


def _is_download_failure(error):
    """Whether an error of `keras.applications` comes from fetching the weight file."""
    # keras.utils.get_file raises a bare `Exception` ("URL fetch failure on ...") without a
    # network, an OSError when the cache cannot be written, and a ValueError mentioning a
    # corrupted file when the checksum does not match.
    return type(error) is Exception or isinstance(error, OSError) or "corrupted file" in str(error)


def imagenet_reference(keras_builder, **keras_arguments):
    """Builds a `keras.applications` model with its ImageNet weights (downloaded once, cached).

    The download is done by `keras_builder` (for example
    `keras.applications.VGG16`), which fetches the file with
    `keras.utils.get_file` into the Keras cache and checks its hash. The
    builders call this before building their own model, so that without a
    network the call fails before the long part.

    Args:
        keras_builder: The `keras.applications` function.
        **keras_arguments: Passed to `keras_builder` (`include_top`,
            `input_shape`, ...), with `weights="imagenet"` added.

    Returns:
        The Keras model holding the ImageNet weights.

    Raises:
        DownloadError: the weight file could not be downloaded (no network,
            a damaged file); the message gives the URL and what to do.
    """
    try:
        return keras_builder(weights="imagenet", **keras_arguments)
    except Exception as error:
        if not _is_download_failure(error):
            raise
        raise DownloadError(
            f"Could not download the ImageNet weights of keras.applications."
            f"{keras_builder.__name__}: {error}. Check the network connection (Colab has one), "
            f"or place the weight file (name and URL above) in {cache_dir() / 'models'}, "
            "or build the model with weights=None."
        ) from error
