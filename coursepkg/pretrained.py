"""Pretrained networks, one way in: ImageNet weights where they can be had, stand-ins where not.

Introduced in: book/14_visualising.ipynb

:func:`pretrained` returns a :class:`PretrainedNetwork`: a Keras model together
with the preprocessing its weights expect and the function that turns its
outputs into class names. For the ImageNet networks of ``keras.applications``
(VGG16, VGG19, ResNet50, MobileNetV2, InceptionV3) it tries, in order:

1. **A staged folder.** When ``$COURSEPKG_WEIGHTS_DIR`` names a folder that
   holds Keras's weight file for the network, under the exact name Keras
   downloads (``vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5``, ...), the
   file's hash is compared with the hash Keras itself checks
   (:data:`KERAS_WEIGHT_FILES`) and the file is loaded with
   ``keras.applications.VGG16(weights=path)``. A file with another hash is
   refused, never loaded. This is how an instructor runs the course with the
   real weights on machines without a network: copy the files from
   ``~/.keras/models/`` of a machine that has downloaded them.
2. **Keras's cache, or a download** through :func:`coursepkg.downloads.fetch`
   (``keras.utils.get_file`` into ``~/.keras/models/``, the file Keras's own
   ``weights="imagenet"`` uses, with the same hash check), then the same
   ``weights=path`` load.
3. **A stand-in**, when both fail (no network, nothing staged: CI and the
   course's own machines). One printed line says what stands in for what, and
   why. The stand-ins are small networks the course trained on the real
   CIFAR-10 (``scripts/train_standins.py``, log in
   ``coursepkg/standins/TRAINING_LOG.md``); their weights ship with the package
   and are checked against the sha256 recorded in :data:`STANDINS`. They are
   never random weights:

   * ``"vgg16"`` and ``"vgg19"``: :func:`vgg_standin`, VGG16's 13 convolutions
     with VGG16's layer names (``block1_conv1`` ... ``block5_pool``), narrower
     (16-32-64-128-128 filters) and with a batch normalisation after each
     convolution, trained on CIFAR-10's classes 0-4 only (airplane,
     automobile, bird, cat, deer), so that the classes 5-9 stay unseen for
     transfer-learning experiments;
   * ``"resnet50"``, ``"mobilenet_v2"``, ``"inception_v3"``: the CIFAR-10
     ResNet-20 of ``coursepkg.models.cifar_resnet`` (He et al. 2016, section
     4.2), trained on all 10 classes.

   Both read 32x32 RGB images scaled to [0, 1] (``preprocess_input`` divides by
   255); their ``decode_predictions`` returns CIFAR-10 class names in Keras's
   format.

The ImageNet class names (for ``decode_predictions`` and ``class_names``) come
from Keras's ``imagenet_class_index.json``. Offline, point
``$COURSEPKG_IMAGENET_CLASS_INDEX`` at a copy of it (or put it in the staged
folder): its MD5 is checked against Keras's and it is copied into Keras's cache
(``$KERAS_HOME/models/``), where Keras's own ``decode_predictions`` finds it
without a download.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import numbers
import os
import pathlib
import tempfile
from collections.abc import Callable

import numpy as np

from coursepkg import downloads, validation
from coursepkg.data import CIFAR10_CLASSES

WEIGHTS_DIR_ENV_VAR = "COURSEPKG_WEIGHTS_DIR"
CLASS_INDEX_ENV_VAR = "COURSEPKG_IMAGENET_CLASS_INDEX"
STANDIN_DIR = pathlib.Path(__file__).resolve().parent / "standins"

# --------------------------------------------------------------------------- Keras's files

# Keras's weight files: {file name: (URL, hash Keras checks after the download)}, copied from
# the installed Keras 3.15.1, keras/src/applications/{vgg16,vgg19,resnet,mobilenet_v2,
# inception_v3}.py (the `file_hash` arguments of `file_utils.get_file`, and resnet.py's
# WEIGHTS_HASHES). They are MD5 hashes. Keras gives no hash for MobileNetV2's files (its
# `get_file` calls have none), hence None: such a file is loaded after Keras's own checks of
# the weights' shapes only, and the printed line says so. tests/test_pretrained.py compares
# this table with the installed Keras source, so that a change in Keras is caught.
_KERAS_STORAGE = "https://storage.googleapis.com/tensorflow/keras-applications/"
KERAS_WEIGHT_FILES = {
    "vgg16_weights_tf_dim_ordering_tf_kernels.h5": (
        _KERAS_STORAGE + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5",
        "64373286793e3c8b2b4e3219cbf3544b",
    ),
    "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5": (
        _KERAS_STORAGE + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "6d6bbae143d832006294945121d1f1fc",
    ),
    "vgg19_weights_tf_dim_ordering_tf_kernels.h5": (
        _KERAS_STORAGE + "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels.h5",
        "cbe5617147190e668d6c5d5026f83318",
    ),
    "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5": (
        _KERAS_STORAGE + "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "253f8cb515780f3b799900260a226db6",
    ),
    "resnet50_weights_tf_dim_ordering_tf_kernels.h5": (
        _KERAS_STORAGE + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5",
        "2cb95161c43110f7111970584f804107",
    ),
    "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5": (
        _KERAS_STORAGE + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "4d473c1dd8becc155b73f8504c6f6626",
    ),
    "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5": (
        _KERAS_STORAGE + "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5",
        None,
    ),
    "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5": (
        _KERAS_STORAGE
        + "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
        None,
    ),
    "inception_v3_weights_tf_dim_ordering_tf_kernels.h5": (
        _KERAS_STORAGE + "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
        "9a0d58056eeedaa3f26cb7ebd46da564",
    ),
    "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5": (
        _KERAS_STORAGE + "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "bcbd6486424b2319ff4ef7d526e38f63",
    ),
}

# The ImageNet class index of keras/src/applications/imagenet_utils.py (CLASS_INDEX_PATH and
# the MD5 of its `get_file` call), also checked against the installed Keras by the tests.
CLASS_INDEX_FILE = "imagenet_class_index.json"
CLASS_INDEX_URL = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"


@dataclasses.dataclass(frozen=True)
class _ImageNetNetwork:
    """One network of ``keras.applications`` that :func:`pretrained` offers."""

    application: str  # its builder in keras.applications, e.g. "VGG16"
    module: str  # the keras.applications submodule with its preprocess_input and decode_predictions
    weight_files: tuple[str, str]  # Keras's file names (with the classifier, without it)
    input_size: int  # side of the images its ImageNet weights were trained on
    min_size: int  # smallest side keras.applications accepts without the classifier
    standin: str  # key of STANDINS: what stands in for it offline


NETWORKS = {
    "vgg16": _ImageNetNetwork(
        "VGG16", "vgg16",
        ("vgg16_weights_tf_dim_ordering_tf_kernels.h5",
         "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"),
        224, 32, "vgg",
    ),
    "vgg19": _ImageNetNetwork(
        "VGG19", "vgg19",
        ("vgg19_weights_tf_dim_ordering_tf_kernels.h5",
         "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"),
        224, 32, "vgg",
    ),
    "resnet50": _ImageNetNetwork(
        "ResNet50", "resnet50",
        ("resnet50_weights_tf_dim_ordering_tf_kernels.h5",
         "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"),
        224, 32, "resnet",
    ),
    # Width multiplier alpha=1.0; Keras's 224-pixel files, whatever the input size (Keras itself
    # falls back to them for sizes it has no file for: the convolutions' shapes do not change).
    "mobilenet_v2": _ImageNetNetwork(
        "MobileNetV2", "mobilenet_v2",
        ("mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5",
         "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"),
        224, 32, "resnet",
    ),
    "inception_v3": _ImageNetNetwork(
        "InceptionV3", "inception_v3",
        ("inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
         "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"),
        299, 75, "resnet",
    ),
}  # fmt: skip

POOLING_CHOICES = (None, "avg", "max")
MAX_INPUT_SIZE = 4096  # largest height or width accepted: a typo should fail, not fill the memory
IMAGENET_CLASSES = 1000  # outputs of the ImageNet classifiers

# --------------------------------------------------------------------------- stand-ins

VGG_STANDIN_FILTERS = (16, 32, 64, 128, 128)  # VGG16's (64, 128, 256, 512, 512), divided by 4
VGG_STANDIN_DEPTHS = (2, 2, 3, 3, 3)  # VGG16's convolutions per block (configuration D)
STANDIN_INPUT_SIZE = 32  # CIFAR-10's side: the size the stand-ins were trained at
STANDIN_MIN_SIZES = {"vgg": 32, "resnet": 8}  # smallest side: 5 poolings of 2, or cifar_resnet's 8
STANDIN_ACTIVATIONS = (None, "softmax", "sigmoid", "linear")  # of the `predictions` layer
MAX_STANDIN_CLASSES = 100_000
CHECK_IMAGES = 500  # test images on which `check_accuracy` was measured (see Standin)


@dataclasses.dataclass(frozen=True)
class Standin:
    """A network the course trained on real CIFAR-10, shipped as a weights file in the package."""

    model_name: str  # name of the Keras model, and stem of its weights file in coursepkg/standins/
    description: str  # what it is, for the printed line and `PretrainedNetwork.source`
    classes: tuple[int, ...]  # the CIFAR-10 labels it was trained on, in the order of its outputs
    weights_sha256: str  # sha256 of coursepkg/standins/<model_name>.weights.h5, checked at load
    test_accuracy: float  # on all real CIFAR-10 test images of `classes` (weights as stored)
    check_accuracy: float  # on the first CHECK_IMAGES test images of `classes`, load_cifar10's order

    @property
    def weights_file(self) -> str:
        return f"{self.model_name}.weights.h5"

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(CIFAR10_CLASSES[label] for label in self.classes)


# Filled in from the run recorded in coursepkg/standins/TRAINING_LOG.md (scripts/train_standins.py
# prints these lines at its end).
STANDINS = {
    "vgg": Standin(
        model_name="vgg16_standin",
        description=(
            "a VGG16-shaped network (VGG16's 13 convolutions and layer names, 16 to 128 filters, "
            "batch normalisation) trained by the course on CIFAR-10 classes 0-4 (airplane, "
            "automobile, bird, cat, deer) at 32x32"
        ),
        classes=(0, 1, 2, 3, 4),
        weights_sha256="e9b411625d58f8c2d353687b6b89bba0eb898484def8d1e4c7110874a9e140ae",
        test_accuracy=0.7862,  # 5,000 test images; 8 epochs, 5.4 min on 2 CPU cores
        check_accuracy=0.8060,
    ),
    "resnet": Standin(
        model_name="resnet20_standin",
        description="a CIFAR-10 ResNet-20 (He et al. 2016) trained by the course on all 10 classes at 32x32",
        classes=tuple(range(10)),
        weights_sha256="8ae692a4182d111f048bc11f7a1a0e864c37df4af929477fd7638dbc56e0d0af",
        test_accuracy=0.7770,  # 10,000 test images; 4 epochs, 13.5 min on 2 CPU cores
        check_accuracy=0.7620,
    ),
}


class WeightsFileError(ValueError):
    """A weights or class-index file whose hash is not the expected one: refused, never used."""


@dataclasses.dataclass(frozen=True)
class PretrainedNetwork:
    """A trained network with what it takes to feed it and to read its outputs."""

    name: str  # the name asked for, e.g. "vgg16"
    model: object  # the keras.Model
    preprocess_input: Callable  # RGB images (batch, height, width, 3) in [0, 255] -> the model's input
    decode_predictions: Callable  # (batch, classes) scores -> per image, top [(class_id, name, score)]
    class_names: tuple[str, ...] | None  # name of each output class; None: ImageNet names unavailable
    input_size: int  # side of the images the weights were trained on: 224, 299, or 32 for a stand-in
    is_standin: bool  # True: a CIFAR-10 stand-in, not the ImageNet weights asked for
    source: str  # where the weights came from, in one sentence

    def __str__(self) -> str:
        kind = "STAND-IN, not the ImageNet weights" if self.is_standin else "ImageNet weights"
        return (
            f"{self.name}: {self.model.name}, {self.model.count_params():,} parameters, "
            f"input {self.model.input_shape}, native size {self.input_size} [{kind}]; {self.source}"
        )


# --------------------------------------------------------------------------- the function


def pretrained(
    name: str,
    include_top: bool = True,
    input_shape: tuple | None = None,
    pooling: str | None = None,
    fallback: bool = True,
) -> PretrainedNetwork:
    """A pretrained network of ``keras.applications``, or its CIFAR-10 stand-in offline.

    Reference:
        ``keras.applications`` (the networks, their weights, their preprocessing);
        the stand-ins: Simonyan and Zisserman 2015 (VGG), He et al. 2016 (ResNet-20).

    Order of attempts: the staged file in ``$COURSEPKG_WEIGHTS_DIR`` (hash
    checked against Keras's), Keras's cache or a download (same check), then,
    with ``fallback=True``, the stand-in (see the module's docstring). One line
    saying what was loaded is printed.

    Args:
        name: one of ``"vgg16"``, ``"vgg19"``, ``"resnet50"``, ``"mobilenet_v2"``,
            ``"inception_v3"``.
        include_top: whether to keep the classifier. Without it the model
            returns the last feature maps (VGG: ``block5_pool``), or their
            global pooling with ``pooling``.
        input_shape: ``(height, width, 3)``. With ``include_top=True``: ``None``
            or the network's ImageNet shape (``(224, 224, 3)``, or
            ``(299, 299, 3)`` for InceptionV3); ``None`` gives the ImageNet
            shape, or ``(32, 32, 3)`` for a stand-in (whose classifier pools
            globally, so that it also reads the ImageNet shape, at a scale it
            was not trained on). With ``include_top=False``:
            ``None`` gives ``(None, None, 3)`` (any size), or sides of at least
            32 pixels (75 for InceptionV3), ``None`` allowed.
        pooling: with ``include_top=False``: ``None`` (feature maps), ``"avg"``
            or ``"max"`` (global pooling).
        fallback: when ``False``, raise instead of returning a stand-in.

    Returns:
        A :class:`PretrainedNetwork`; ``is_standin`` says whether it is a stand-in.

    Raises:
        ValueError: an unknown ``name``, or an impossible ``input_shape`` or
            ``pooling``; the message names the argument and what is accepted.
        TypeError: ``include_top`` or ``fallback`` is not a boolean.
        WeightsFileError: a staged file, or a stand-in's weights file, whose
            hash is not the expected one (the message gives both hashes).
        DownloadError: ``fallback=False`` and the ImageNet weights could be
            neither found nor downloaded.

    Example:
        >>> network = coursepkg.pretrained("vgg16", include_top=False)
        >>> features = network.model(network.preprocess_input(images_0_255))
        >>> network = coursepkg.pretrained("resnet50")
        >>> scores = network.model(network.preprocess_input(images_0_255))
        >>> network.decode_predictions(scores, top=3)[0]  # [(class_id, class_name, score), ...]
    """
    validation.check_str("name", name, max_length=100)
    validation.check_choice("name", name, tuple(NETWORKS))
    include_top = validation.check_bool("include_top", include_top)
    fallback = validation.check_bool("fallback", fallback)
    spec = NETWORKS[name]
    input_shape = _check_input_shape(input_shape, include_top, spec)
    validation.check_choice("pooling", pooling, POOLING_CHOICES)
    if include_top and pooling is not None:
        raise ValueError(
            "Expected `pooling=None` with `include_top=True` (pooling replaces the classifier). "
            f"Received: pooling={pooling!r}"
        )

    weights_file = spec.weight_files[0 if include_top else 1]
    url, expected_hash = KERAS_WEIGHT_FILES[weights_file]
    staged = _staged_file(weights_file, expected_hash)
    if staged is not None:
        path, where = staged, f"staged in ${WEIGHTS_DIR_ENV_VAR} ({staged})"
    else:
        try:
            path = downloads.fetch(weights_file, url, file_hash=expected_hash, cache_subdir="models")
        except downloads.DownloadError as error:
            if not fallback:
                raise
            # Keras's message ends in the cause, e.g. "... -- [Errno -2] Name or service not known".
            cause = str(error.__cause__ or error).rsplit(" -- ", 1)[-1][:100]
            reason = (
                f"{weights_file} is neither staged in ${WEIGHTS_DIR_ENV_VAR} nor in Keras's cache, "
                f"and its download failed: {cause}"
            )
            return _standin_network(name, spec, include_top, input_shape, pooling, reason)
        where = f"in Keras's cache ({path})"
    return _imagenet_network(name, spec, path, where, expected_hash, include_top, input_shape, pooling)


def _check_input_shape(input_shape, include_top: bool, spec: _ImageNetNetwork):
    """``input_shape`` checked against what the network accepts (``None`` stays ``None``)."""
    if input_shape is None:
        return None
    native = (spec.input_size, spec.input_size, 3)
    if include_top:
        if isinstance(input_shape, (tuple, list)) and tuple(input_shape) == native:
            return native
        error = ValueError if isinstance(input_shape, (tuple, list)) else TypeError
        raise error(
            f"Expected `input_shape` to be None or {native} with `include_top=True` (the shape "
            f"the {spec.application} classifier was trained on). "
            f"Received: input_shape={input_shape!r:.80}"
        )
    return _image_shape(input_shape, spec.min_size)


def _image_shape(input_shape, min_size: int) -> tuple:
    """``(height, width, 3)``, each side None (any size) or an integer in ``[min_size, 4096]``."""
    expected = "Expected `input_shape` to be None or a tuple (height, width, 3)."
    if not isinstance(input_shape, (tuple, list)):
        raise TypeError(f"{expected} Received: input_shape={input_shape!r:.80}")
    if len(input_shape) != 3:
        raise ValueError(f"{expected} Received: input_shape={input_shape!r:.80}")
    if any(
        isinstance(size, (bool, np.bool_)) or not isinstance(size, (numbers.Integral, type(None)))
        for size in input_shape
    ):
        raise TypeError(f"{expected} Received: input_shape={input_shape!r:.80}")
    height, width, channels = input_shape
    if channels != 3:
        raise ValueError(
            f"Expected `input_shape` to have 3 channels (RGB). Received: input_shape={input_shape!r}"
        )
    for index, side in enumerate((height, width)):
        if side is not None and not min_size <= side <= MAX_INPUT_SIZE:
            raise ValueError(
                f"Expected `input_shape[{index}]` ({('height', 'width')[index]}) to be None or an "
                f"integer in [{min_size}, {MAX_INPUT_SIZE}]. Received: input_shape={input_shape!r}"
            )
    return (None if height is None else int(height), None if width is None else int(width), 3)


# --------------------------------------------------------------------------- ImageNet weights


def _check_hash(path: pathlib.Path, expected: str, what: str) -> None:
    algorithm = downloads.hash_algorithm(expected)
    found = downloads.file_hash(path, algorithm)
    if found != expected:
        raise WeightsFileError(
            f"Refused {what} {path}: its {algorithm} is {found}, expected {expected} "
            "(the hash Keras checks). It is damaged, or it is another file under this name; "
            "replace it with the file Keras downloads."
        )


def _staged_file(file_name: str, expected_hash: str | None) -> pathlib.Path | None:
    """The verified file ``file_name`` of ``$COURSEPKG_WEIGHTS_DIR``, or None when not staged."""
    folder = os.environ.get(WEIGHTS_DIR_ENV_VAR)
    if not folder:
        return None
    if not pathlib.Path(folder).is_dir():
        print(f"[coursepkg] ${WEIGHTS_DIR_ENV_VAR}={folder} is not a folder; ignored.")
        return None
    path = pathlib.Path(folder) / file_name
    if not path.is_file():
        return None
    if expected_hash is not None:
        _check_hash(path, expected_hash, "the staged weights file")
    return path


def _keras_application(spec: _ImageNetNetwork):
    import keras

    return getattr(keras.applications, spec.application), getattr(keras.applications, spec.module)


def _imagenet_network(name, spec, path, where, expected_hash, include_top, input_shape, pooling):
    """``keras.applications.<X>(weights=path)`` with its preprocessing and decoding."""
    builder, module = _keras_application(spec)
    arguments = {"include_top": include_top, "weights": str(path), "pooling": pooling}
    if input_shape is not None:
        arguments["input_shape"] = input_shape
    model = builder(**arguments)
    class_names = _imagenet_class_names()
    check = "hash checked" if expected_hash else "Keras publishes no hash for this file: unverified"
    source = (
        f"keras.applications.{spec.application} with its ImageNet weights, "
        f"{path.name} {where}, {check}."
    )
    print(f"[coursepkg] {name}: {source}")
    if class_names is None:
        print(
            f"[coursepkg] {name}: the ImageNet class names are unavailable (no network); set "
            f"${CLASS_INDEX_ENV_VAR} to a copy of {CLASS_INDEX_FILE} for decode_predictions."
        )
    return PretrainedNetwork(
        name=name,
        model=model,
        preprocess_input=_without_side_effects(module.preprocess_input),
        decode_predictions=_imagenet_decoder(module.decode_predictions),
        class_names=class_names,
        input_size=spec.input_size,
        is_standin=False,
        source=source,
    )


def _without_side_effects(preprocess: Callable) -> Callable:
    """Keras's ``preprocess_input``, working on a copy of a NumPy input.

    Keras's version changes a float NumPy array in place (the "caffe" mode of
    VGG and ResNet subtracts the mean from the caller's array), so calling it
    twice on the same images would subtract the mean twice.
    """

    def preprocess_input(images, data_format=None):
        if not _is_tensor(images):  # NumPy or lists: checked, and copied
            images = validation.check_array("images", images, dtype="number")
            images = images.copy()
        return preprocess(images, data_format=data_format)

    preprocess_input.__doc__ = preprocess.__doc__
    preprocess_input.__name__ = getattr(preprocess, "__name__", "preprocess_input")
    return preprocess_input


def _imagenet_decoder(decode: Callable) -> Callable:
    """Keras's ImageNet ``decode_predictions``, arguments checked, class index installed first."""

    def decode_predictions(preds, top: int = 5):
        """Top classes of each image: ``[[(wordnet_id, class_name, score), ...], ...]``.

        Args:
            preds: scores of shape ``(batch, 1000)``.
            top: how many classes to return per image, an integer in [1, 1000].

        Raises:
            coursepkg.downloads.DownloadError: the ImageNet class names are neither
                staged, nor in Keras's cache, nor downloadable.
        """
        scores = _predictions(preds, IMAGENET_CLASSES)
        top = validation.check_int("top", top, low=1, high=IMAGENET_CLASSES)
        if install_imagenet_class_index() is None:
            raise downloads.DownloadError(
                f"The ImageNet class names ({CLASS_INDEX_FILE}) are neither staged nor in Keras's "
                f"cache, and could not be downloaded: set ${CLASS_INDEX_ENV_VAR} to a copy of the "
                "file, or connect to the network."
            )
        return decode(scores, top=top)

    return decode_predictions


def _predictions(preds, classes: int) -> np.ndarray:
    """Scores ``(batch, classes)`` as a finite NumPy array."""
    import keras

    scores = keras.ops.convert_to_numpy(preds) if _is_tensor(preds) else preds
    scores = validation.check_array("preds", scores, dtype="number")
    if scores.ndim != 2 or scores.shape[1] != classes:
        raise ValueError(
            f"Expected `preds` to be a batch of predictions of shape (samples, {classes}). "
            f"Received: preds with shape {scores.shape}"
        )
    return scores


def _is_tensor(value) -> bool:
    """A tensor of a Keras backend (eager or traced) or a symbolic ``keras.KerasTensor``."""
    if isinstance(value, (np.ndarray, list, tuple, numbers.Number, str, bytes)):
        return False
    import keras

    return bool(keras.ops.is_tensor(value)) or isinstance(value, keras.KerasTensor)


# --------------------------------------------------------------------------- ImageNet class index


def _keras_home() -> pathlib.Path:
    """The cache folder Keras's own ``get_file`` uses (fixed when Keras was imported)."""
    try:
        from keras.src.backend.config import keras_home

        return pathlib.Path(keras_home())
    except ImportError:  # a private module: if it moves, use $KERAS_HOME or ~/.keras
        return downloads.cache_dir()


def _copy_atomically(source: pathlib.Path, target: pathlib.Path) -> None:
    """Copy under a temporary name in the target's folder, then rename: never half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(source.read_bytes())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _local_class_index() -> pathlib.Path | None:
    """The class index named by ``$COURSEPKG_IMAGENET_CLASS_INDEX``, or in the staged folder."""
    named = os.environ.get(CLASS_INDEX_ENV_VAR)
    if named:
        if not pathlib.Path(named).is_file():
            print(f"[coursepkg] ${CLASS_INDEX_ENV_VAR}={named} is not a file; ignored.")
        else:
            return pathlib.Path(named)
    folder = os.environ.get(WEIGHTS_DIR_ENV_VAR)
    if folder and (pathlib.Path(folder) / CLASS_INDEX_FILE).is_file():
        return pathlib.Path(folder) / CLASS_INDEX_FILE
    return None


def install_imagenet_class_index() -> pathlib.Path | None:
    """Put Keras's ImageNet class index in Keras's cache, from a local copy or a download.

    Introduced in: book/14_visualising.ipynb

    A local copy (``$COURSEPKG_IMAGENET_CLASS_INDEX``, or ``imagenet_class_index.json``
    in ``$COURSEPKG_WEIGHTS_DIR``) must have Keras's MD5; it is then copied
    (atomically) to ``$KERAS_HOME/models/imagenet_class_index.json``, where
    ``keras.applications.*.decode_predictions`` finds it and does not download.
    Without a local copy the file is downloaded there once, with the same check.

    Returns:
        The path of the verified file in Keras's cache, or ``None`` when there is
        no local copy and the download failed.

    Raises:
        WeightsFileError: the local copy's MD5 is not Keras's.
    """
    cached = _keras_home() / "models" / CLASS_INDEX_FILE
    local = _local_class_index()
    if local is not None:
        _check_hash(local, CLASS_INDEX_MD5, "the ImageNet class index")
        if not (cached.is_file() and downloads.file_hash(cached, "md5") == CLASS_INDEX_MD5):
            _copy_atomically(local, cached)
        return cached
    if cached.is_file() and downloads.file_hash(cached, "md5") == CLASS_INDEX_MD5:
        return cached
    try:
        return downloads.fetch(CLASS_INDEX_FILE, CLASS_INDEX_URL, CLASS_INDEX_MD5, cache_subdir="models")
    except downloads.DownloadError:
        return None


def _imagenet_class_names() -> tuple[str, ...] | None:
    path = install_imagenet_class_index()
    if path is None:
        return None
    index = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))  # {"0": ["n01440764", "tench"]}
    return tuple(index[str(label)][1] for label in range(len(index)))


# --------------------------------------------------------------------------- stand-ins


def vgg_standin(
    input_shape=(STANDIN_INPUT_SIZE, STANDIN_INPUT_SIZE, 3),
    num_classes: int = 5,
    classifier_activation: str | None = "softmax",
):
    """Builds the VGG16-shaped stand-in: VGG16's 13 convolutions and layer names, 4 times narrower.

    Reference:
        [Very Deep Convolutional Networks for Large-Scale Image Recognition](
        https://arxiv.org/abs/1409.1556) (Simonyan and Zisserman, ICLR 2015),
        configuration D, with batch normalisation (Ioffe and Szegedy 2015).

    Five blocks of 2, 2, 3, 3, 3 convolutions of 3x3 (:data:`VGG_STANDIN_FILTERS`
    filters, ReLU), each convolution followed by a batch normalisation
    ``block{b}_bn{c}`` (which makes a short training run converge) and each
    block closed by a 2x2 max pooling. The convolutions and poolings carry
    VGG16's names (``block1_conv1`` ... ``block5_conv3``, ``block1_pool`` ...
    ``block5_pool``) and their outputs are ReLU outputs, as in VGG16, so code
    that picks VGG16's layers by name works unchanged. The classifier is a
    global average pooling (``avg_pool``) and one dense layer
    (``predictions``), so the model reads any size of at least 32x32.

    Args:
        input_shape: ``(height, width, 3)``, sides ``None`` (any size) or
            integers in [32, 4096].
        num_classes: outputs of ``predictions``, an integer in [1, 100,000].
        classifier_activation: activation of ``predictions``: ``"softmax"``,
            ``"sigmoid"``, ``"linear"``, or ``None`` for logits.

    Returns:
        A ``keras.Model`` named ``"vgg16_standin"``.

    Raises:
        TypeError, ValueError: an argument of the wrong type or outside its range.

    Example:
        >>> vgg_standin().count_params()  # VGG16 without its classifier: 14,714,688
        925653
    """
    import keras
    from keras import layers

    input_shape, num_classes, classifier_activation = _check_standin_arguments(
        "vgg", input_shape, num_classes, classifier_activation
    )
    inputs = keras.Input(shape=input_shape, name="image")  # (batch, 32, 32, 3)
    x = inputs
    for block, (depth, filters) in enumerate(zip(VGG_STANDIN_DEPTHS, VGG_STANDIN_FILTERS), start=1):
        for conv in range(1, depth + 1):
            x = layers.Conv2D(
                filters, 3, padding="same", activation="relu", name=f"block{block}_conv{conv}"
            )(x)
            x = layers.BatchNormalization(name=f"block{block}_bn{conv}")(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)  # 32 -> 16 -> 8 -> 4 -> 2 -> 1
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)  # (batch, 128)
    outputs = layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name="vgg16_standin")


def resnet_standin(
    input_shape=(STANDIN_INPUT_SIZE, STANDIN_INPUT_SIZE, 3),
    num_classes: int = 10,
    classifier_activation: str | None = "softmax",
):
    """Builds the ResNet stand-in: ``coursepkg.models.cifar_resnet(20)``, named ``"resnet20_standin"``.

    Reference:
        [Deep Residual Learning for Image Recognition](
        https://arxiv.org/abs/1512.03385) (He et al., CVPR 2016), section 4.2.

    Args:
        input_shape: ``(height, width, 3)``, sides ``None`` (any size) or
            integers in [8, 4096].
        num_classes: outputs of ``predictions``, an integer in [1, 100,000].
        classifier_activation: activation of ``predictions``: ``"softmax"``,
            ``"sigmoid"``, ``"linear"``, or ``None`` for logits.

    Returns:
        A ``keras.Model`` (same layers as ``cifar_resnet(20)``).

    Raises:
        TypeError, ValueError: an argument of the wrong type or outside its range.
    """
    import keras

    from coursepkg.models import cifar_resnet

    input_shape, num_classes, classifier_activation = _check_standin_arguments(
        "resnet", input_shape, num_classes, classifier_activation
    )
    base = cifar_resnet(
        20, input_shape=input_shape, num_classes=num_classes, classifier_activation=classifier_activation
    )
    return keras.Model(base.input, base.output, name="resnet20_standin")


def _check_standin_arguments(key: str, input_shape, num_classes, classifier_activation) -> tuple:
    return (
        _image_shape(input_shape, STANDIN_MIN_SIZES[key]),
        validation.check_int("num_classes", num_classes, low=1, high=MAX_STANDIN_CLASSES),
        validation.check_choice(
            "classifier_activation", classifier_activation, STANDIN_ACTIVATIONS
        ),
    )


STANDIN_BUILDERS = {"vgg": vgg_standin, "resnet": resnet_standin}
STANDIN_FEATURES = {"vgg": "block5_pool", "resnet": "conv4_block3_out"}  # last layer without the top


def load_standin(key: str, input_shape=None, include_top: bool = True, pooling: str | None = None):
    """Builds a stand-in and loads its shipped weights, after checking their sha256.

    Args:
        key: ``"vgg"`` or ``"resnet"`` (a key of :data:`STANDINS`).
        input_shape: ``(height, width, 3)``, sides ``None`` or integers in
            [32, 4096] ([8, 4096] for ``"resnet"``); ``None`` gives
            ``(32, 32, 3)`` with the classifier, ``(None, None, 3)`` without.
        include_top: whether to keep ``avg_pool`` and ``predictions`` (a boolean).
        pooling: with ``include_top=False``: ``None``, ``"avg"`` or ``"max"``;
            with ``include_top=True``: ``None``.

    Returns:
        The ``keras.Model``.

    Raises:
        TypeError, ValueError: an argument of the wrong type or outside its range.
        WeightsFileError: the weights file is missing or its sha256 is not the recorded one.
    """
    import keras
    from keras import layers

    validation.check_choice("key", key, tuple(STANDINS))
    include_top = validation.check_bool("include_top", include_top)
    if input_shape is not None:
        input_shape = _image_shape(input_shape, STANDIN_MIN_SIZES[key])
    validation.check_choice("pooling", pooling, POOLING_CHOICES)
    if include_top and pooling is not None:
        raise ValueError(
            "Expected `pooling=None` with `include_top=True` (pooling replaces the classifier). "
            f"Received: pooling={pooling!r}"
        )
    standin = STANDINS[key]
    path = STANDIN_DIR / standin.weights_file
    if not path.is_file():
        raise WeightsFileError(
            f"The stand-in weights {path} are missing: reinstall coursepkg, or run "
            "scripts/train_standins.py to train them again."
        )
    found = downloads.file_hash(path, "sha256")
    if found != standin.weights_sha256:
        raise WeightsFileError(
            f"Refused the stand-in weights {path}: their sha256 is {found}, expected "
            f"{standin.weights_sha256} (recorded in coursepkg/pretrained.py). The file is damaged "
            "or was retrained without updating STANDINS; reinstall coursepkg."
        )
    if input_shape is None:
        input_shape = (STANDIN_INPUT_SIZE, STANDIN_INPUT_SIZE, 3) if include_top else (None, None, 3)
    model = STANDIN_BUILDERS[key](input_shape=input_shape, num_classes=len(standin.classes))
    model.load_weights(path)
    if include_top:
        return model
    x = model.get_layer(STANDIN_FEATURES[key]).output
    if pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    return keras.Model(model.input, x, name=model.name)


def scale_to_unit(images):
    """The stand-ins' preprocessing: RGB in [0, 255] divided by 255, as float32.

    The stand-ins were trained on CIFAR-10's uint8 images divided by 255
    (``coursepkg.make_dataset``'s default), so this is all they expect: no
    channel flip, no mean subtraction. NumPy in, NumPy out; a backend tensor
    gives a backend tensor.

    Args:
        images: RGB values in [0, 255]: a non-empty NumPy array (or nested
            lists) of integers or finite floats, or a backend tensor of an
            integer or float dtype (inside a gradient computation too).

    Returns:
        ``images / 255`` as float32.

    Raises:
        TypeError: strings, booleans, complex numbers, objects.
        ValueError: an empty array, NaN or infinite values.
    """
    if not _is_tensor(images):
        array = validation.check_array("images", images, dtype="number")
        return array.astype(np.float32) / np.float32(255.0)
    import keras

    dtype = keras.backend.standardize_dtype(images.dtype)
    if dtype == "bool" or not dtype.startswith(("float", "bfloat", "int", "uint")):
        raise TypeError(
            f"Expected `images` to be of a real dtype. Received: images of dtype {dtype}"
        )
    return keras.ops.divide(keras.ops.cast(images, "float32"), 255.0)


def _cifar_decoder(class_names: tuple[str, ...], classes: tuple[int, ...]) -> Callable:
    """A ``decode_predictions`` for CIFAR-10 classes, in the format of Keras's ImageNet one."""

    def decode_predictions(preds, top: int = 5):
        """Top classes of each image: ``[[(class_id, class_name, score), ...], ...]``.

        ``class_id`` is the CIFAR-10 label as a string (``"3"`` for cat), as
        ImageNet's decoder gives the WordNet id; ``score`` is the model's output.

        Args:
            preds: scores of shape ``(batch, number of classes)``, finite.
            top: how many classes to return per image, an integer in [1, number of classes].
        """
        scores = _predictions(preds, len(class_names))
        top = validation.check_int("top", top, low=1, high=len(class_names))
        results = []
        for row in scores:
            best = np.argsort(row, kind="stable")[::-1][:top]
            results.append([(str(classes[index]), class_names[index], row[index]) for index in best])
        return results

    return decode_predictions


def _standin_network(name, spec, include_top, input_shape, pooling, reason) -> PretrainedNetwork:
    standin = STANDINS[spec.standin]
    model = load_standin(spec.standin, input_shape=input_shape, include_top=include_top, pooling=pooling)
    source = (
        f"stand-in for {spec.application}: {standin.description}, "
        f"{standin.test_accuracy:.1%} accuracy on the real CIFAR-10 test images of those classes "
        f"(ImageNet weights unavailable: {reason})."
    )
    print(f"[coursepkg] {name}: {source}")
    return PretrainedNetwork(
        name=name,
        model=model,
        preprocess_input=scale_to_unit,
        decode_predictions=_cifar_decoder(standin.class_names, standin.classes),
        class_names=standin.class_names,
        input_size=STANDIN_INPUT_SIZE,
        is_standin=True,
        source=source,
    )
