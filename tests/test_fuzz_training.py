"""Fuzzing (see tests/fuzzing.py): training, pretrained networks and stand-ins, descriptors.

Every case calls its function with one bad argument; every check runs before a model is
built, a pipeline made or a file read, so the whole file takes a few seconds.
"""

from __future__ import annotations

import functools
import importlib
import math

import fuzzing
import numpy as np
import pytest
from fuzzing import ABSURD, Case
from hypothesis import strategies as st

from coursepkg import descriptors, training

pretrained = importlib.import_module("coursepkg.pretrained")  # `coursepkg.pretrained` is the function

_texts_but_auto = st.text(max_size=6).filter(lambda text: text != "auto")
_absurd_ints = st.one_of(st.integers(min_value=ABSURD), st.integers(max_value=-ABSURD))
_complex = st.just(1 + 2j)
_non_finite = st.sampled_from([math.nan, math.inf, -math.inf])

# The text of /proc/cpuinfo: a string (any, even empty) or None.
fuzzing.KINDS["training_cpuinfo"] = st.one_of(
    st.integers(), st.floats(), st.binary(max_size=3), st.just(["flags : avx512_bf16"]),
)  # fmt: skip
# "auto" or a positive factor.
fuzzing.KINDS["training_scale"] = st.one_of(
    _texts_but_auto, _non_finite, st.sampled_from([0, -1.0, 1e6, 1e300]), _complex, st.booleans(),
    st.none(), st.just([0.5]),
)  # fmt: skip
# "auto" or a positive integer.
fuzzing.KINDS["training_auto_int"] = st.one_of(
    _texts_but_auto, st.floats(), st.booleans(), _absurd_ints, st.sampled_from([0, -1]), _complex,
    st.none(), st.just([3]),
)  # fmt: skip
# "auto", 0, 1 or 2.
fuzzing.KINDS["training_verbose"] = st.one_of(
    _texts_but_auto, st.integers().filter(lambda value: value not in (0, 1, 2)), st.floats(),
    st.booleans(), st.none(), st.just([1]),
)  # fmt: skip
# None or a list of keras.callbacks.Callback.
fuzzing.KINDS["training_callbacks"] = st.one_of(
    st.integers(), st.text(max_size=6), st.just([1, 2]), st.just([None]), st.just(object()),
    st.just(print), st.just([print]),
)  # fmt: skip
# None, (x_val, y_val) like (x, y), or a dataset.
fuzzing.KINDS["training_validation_data"] = st.one_of(
    st.integers(), st.text(max_size=6), st.just((fuzzing.images(),)), st.just([1, 2, 3]),
    st.just({"x": 1}), st.just((np.array(["a", "b"]), np.array([0, 1]))),
    st.just((np.full((2, 8, 8, 3), np.nan), np.array([0, 1]))),
    st.just((fuzzing.images(2), np.array([0, 1, 2]))),
    st.just((fuzzing.images(2), np.array([0, 4]))),
    st.just((fuzzing.images(2, size=9), np.array([0, 1]))),
    st.just((fuzzing.images(2), None)),
)  # fmt: skip
# k: an integer, or a non-empty sequence of integers.
fuzzing.KINDS["training_ks"] = st.one_of(
    st.text(max_size=6), st.floats(), st.booleans(), _absurd_ints, _complex,
    st.sampled_from([(), [0], [ABSURD], [1.5], ["1"], (1, None), [True]]),
)  # fmt: skip


@functools.cache
def compiled_classifier():
    """fuzzing.tiny_classifier's shape (8x8x3 -> 4 classes), compiled; a model of its own."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(4, name="logits")]
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def fit_arguments() -> dict:
    return {"model": compiled_classifier(), "x": fuzzing.images(), "y": np.array([0, 1, 2, 3])}


NEIGHBOURS = np.array([[0, 1], [1, 0]])  # indices into a database of 2, or class labels
RETRIEVAL = {
    "query_images": np.zeros((2, 4, 4)),
    "database_images": np.zeros((2, 4, 4)),
    "indices": NEIGHBOURS,
    "query_labels": np.array([0, 1]),
    "database_labels": np.array([0, 1]),
}

CASES = [
    # training
    Case(training.detect_accelerator),
    Case(training.distribution_strategy),
    Case(training.cpu_has_native_bfloat16, kinds={"cpuinfo": "training_cpuinfo"}),
    Case(training.configure_precision),
    Case(training.precision_scope),
    Case(training.make_dataset, {"x": fuzzing.images(), "y": np.array([0, 1, 2, 3])},
         kinds={"x": "data", "y": "labels", "seed": "seed", "augment": "callable",
                "scale": "training_scale"}),
    Case(training.fit, fit_arguments,
         kinds={"model": "callable", "x": "data", "y": "labels", "seed": "seed",
                "augment": "callable", "scale": "training_scale",
                "validation_data": "training_validation_data", "jit_compile": "choice",
                "steps_per_execution": "training_auto_int", "callbacks": "training_callbacks",
                "verbose": "training_verbose"}),
    # pretrained networks and stand-ins
    Case(pretrained.pretrained, {"name": "vgg16"}, kinds={"name": "choice", "input_shape": "shape"}),
    Case(pretrained.install_imagenet_class_index),
    Case(pretrained.vgg_standin, nullable=("classifier_activation",)),
    Case(pretrained.resnet_standin, nullable=("classifier_activation",)),
    Case(pretrained.load_standin, {"key": "vgg"}, kinds={"key": "choice", "input_shape": "shape"}),
    Case(pretrained.scale_to_unit, {"images": fuzzing.images()}, kinds={"images": "data"}),
    # descriptors
    Case(descriptors.block_descriptors,
         lambda: {"model": fuzzing.tiny_classifier(), "images": fuzzing.images(), "layer_names": ["conv"]},
         kinds={"model": "callable", "images": "data", "layer_names": "names", "preprocess": "callable"}),
    Case(descriptors.nearest_neighbours, {"queries": np.eye(3), "database": np.eye(3), "k": 2},
         kinds={"queries": "data", "database": "data", "k": "int"}),
    Case(descriptors.precision_at_k, {"neighbours": NEIGHBOURS, "query_labels": np.array([0, 1])},
         kinds={"neighbours": "labels", "query_labels": "labels", "k": "training_ks",
                "database_labels": "labels"}),
    Case(descriptors.knn_predict, {"neighbours": NEIGHBOURS},
         kinds={"neighbours": "labels", "database_labels": "labels"}),
    Case(descriptors.knn_accuracy, {"neighbours": NEIGHBOURS, "query_labels": np.array([0, 1])},
         kinds={"neighbours": "labels", "query_labels": "labels", "k": "training_ks",
                "database_labels": "labels"}),
    Case(descriptors.plot_retrieval, RETRIEVAL,
         kinds={"query_images": "data", "database_images": "data", "indices": "labels",
                "query_labels": "labels", "database_labels": "labels", "class_names": "names",
                "title": "text"}),
]  # fmt: skip

EXEMPT = {
    "coursepkg.training.Accelerator": "a result record that detect_accelerator fills in",
    "coursepkg.training.KerasDistribution": "a result record that distribution_strategy fills in",
    "coursepkg.pretrained.PretrainedNetwork": "a result record that pretrained fills in",
    "coursepkg.pretrained.Standin": "a record of the shipped stand-in weights (pretrained.STANDINS)",
    "coursepkg.pretrained.WeightsFileError": "an exception class",
}


@pytest.mark.parametrize("case", CASES, ids=fuzzing.case_ids(CASES))
def test_bad_arguments_are_refused_naming_them(case):
    fuzzing.fuzz(case)
