"""Moving weights between the course's builders and `keras.applications`.

The builders in this package create the same weight tensors, in the same
order, as their `keras.applications` counterparts. Copying is therefore a
plain `set_weights`, once the shapes have been checked one by one.
"""


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


def load_imagenet_weights(model, keras_builder, **keras_arguments):
    """Downloads ImageNet weights through `keras.applications` and copies them into `model`.

    The download itself is done by `keras_builder` (for example
    `keras.applications.VGG16`), which fetches the file with
    `keras.utils.get_file` and checks its hash.

    Args:
        model: One of this package's models, built with `weights=None`.
        keras_builder: The matching `keras.applications` function.
        **keras_arguments: Passed to `keras_builder` (`include_top`,
            `input_shape`, ...), with `weights="imagenet"` added.

    Returns:
        `model`, holding the ImageNet weights.
    """
    reference = keras_builder(weights="imagenet", **keras_arguments)
    return copy_weights(reference, model)
