"""Fuzzing (see tests/fuzzing.py): convolution arithmetic, activations, optimisers, configuration,
input gradients and the exercise checks."""

from __future__ import annotations

import functools
import math

import fuzzing
import numpy as np
import pytest
from fuzzing import Case
from hypothesis import strategies as st

from coursepkg import activations, checking, config, convolution, gradients, optim

_texts = st.text(max_size=6)

# Kernel sizes: an integer or a pair of them.
fuzzing.KINDS["maths_size_or_pair"] = st.one_of(fuzzing.KINDS["int"], fuzzing.KINDS["shape"])
# Something that is not one of the package's NumPy update rules nor a Keras optimiser.
fuzzing.KINDS["maths_optimizer"] = st.one_of(
    _texts, st.integers(), st.none(), st.just(np.zeros(2)), st.just(optim.NumpySGD), st.just({"lr": 0.1})
)
# Not float32 or float64.
fuzzing.KINDS["maths_dtype"] = st.sampled_from(
    [None, 3, "float16", "int32", "no", np.int64, np.complex128, [np.float32], {"a": 1}]
)
# Not a list of keras.Variable.
fuzzing.KINDS["maths_variables"] = st.one_of(
    _texts, st.integers(), st.none(), st.just([None]), st.just([np.zeros(3)]), st.just({"w": 1})
)
# Not a list of (args tuple, description) pairs.
fuzzing.KINDS["maths_cases"] = st.one_of(
    _texts, st.integers(), st.none(), st.just([]), st.just([(1, "one")]), st.just([((1,), 2)]),
    st.just([((1,),)]), st.just([[(1,), "one", "two"]]),
)  # fmt: skip
# Not a chapter setting for config.scaled (a number, a boolean, a string, None, or a tuple of them).
fuzzing.KINDS["maths_setting"] = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 1j, (1, math.nan), [None], (1, {"a": 1}), "20"]),
    st.just({"epochs": 20}), st.just(np.zeros(3)), st.just(object()), st.just(((((1,),),),)),
)  # fmt: skip
# Not the state dict an update rule's `init` returns.
fuzzing.KINDS["maths_state"] = st.one_of(_texts, st.integers(), st.none(), st.just([1, 2]))

_IMAGE = {"image": [[1.0, 2.0], [3.0, 4.0]], "kernel": [[1.0]]}
_X = {"x": np.linspace(-3.0, 3.0, 7)}
_LOGITS = {"logits": np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])}
_PROBABILITIES = {"y_true": np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]]),
                  "y_pred": np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])}  # fmt: skip
_CASES_OF_ONE = [((np.ones(3),), "three ones")]


def _activation_case(function, **kinds) -> Case:
    return Case(function, _X, kinds={"x": "array", **kinds})


@functools.cache
def _keras_sgd_optimizer():
    import keras

    return keras.optimizers.SGD()  # every fuzzed call fails before it is used


def _keras_sgd() -> dict:
    return {"optimizer": _keras_sgd_optimizer(), "gradient_fn": lambda point: 2 * point,
            "start": [1.0, 2.0], "steps": 3}  # fmt: skip


def _sum_loss():
    import keras

    return keras.ops.sum


_RUN = {"optimizer": optim.NumpySGD(), "gradient_fn": lambda point: 2 * point,
        "start": [1.0, 2.0], "steps": 3}  # fmt: skip
_UPDATE = {"variable": np.zeros(2), "gradient": np.ones(2), "state": optim.NumpyAdam().init(np.zeros(2))}
_ANY = "the student's answer: anything at all is accepted (and reported on, never raised)"

CASES = [
    # convolution
    Case(convolution.correlate2d, _IMAGE, kinds={"image": "data", "kernel": "data"}),
    Case(convolution.convolve2d, _IMAGE, kinds={"image": "data", "kernel": "data"}),
    Case(convolution.conv_output_size, {"input_size": 32, "kernel_size": 5},
         kinds={"input_size": "int", "kernel_size": "int"}),
    Case(convolution.conv2d_params, {"in_channels": 3, "filters": 4, "kernel_size": 3},
         kinds={"in_channels": "int", "filters": "int", "kernel_size": "maths_size_or_pair"}),
    Case(convolution.receptive_field, {"kernel_sizes": [3, 3], "strides": [1, 2]},
         kinds={"kernel_sizes": "shape", "strides": "shape"}),
    Case(convolution.gaussian_kernel),
    Case(convolution.kirsch_kernels),
    Case(convolution.classic_filter, {"name": "sobel_x"}, kinds={"name": "choice"}),
    # activations
    *[_activation_case(function) for function in (
        activations.sigmoid, activations.sigmoid_derivative, activations.tanh,
        activations.tanh_derivative, activations.relu, activations.relu_derivative,
        activations.leaky_relu, activations.leaky_relu_derivative, activations.elu,
        activations.elu_derivative, activations.selu, activations.selu_derivative,
        activations.gelu, activations.gelu_derivative)],
    Case(activations.prelu, {**_X, "alpha": 0.25}, kinds={"x": "array", "alpha": "data"}),
    Case(activations.prelu_derivative, {**_X, "alpha": 0.25}, kinds={"x": "array", "alpha": "data"}),
    Case(activations.logsumexp, _LOGITS, kinds={"logits": "array"}),
    Case(activations.softmax, _LOGITS, kinds={"logits": "array"}),
    Case(activations.log_softmax, _LOGITS, kinds={"logits": "array"}),
    Case(activations.softmax_jacobian, {"logits": [1.0, 2.0, 3.0]}, kinds={"logits": "array"}),
    Case(activations.categorical_cross_entropy, _PROBABILITIES,
         kinds={"y_true": "array", "y_pred": "array"}),
    Case(activations.sparse_categorical_cross_entropy,
         {"labels": np.array([0, 1]), "y_pred": _PROBABILITIES["y_pred"]},
         kinds={"labels": "labels", "y_pred": "array"}),
    Case(activations.binary_cross_entropy, _PROBABILITIES, kinds={"y_true": "array", "y_pred": "array"}),
    Case(activations.softmax_cross_entropy_gradient,
         {"y_true": _PROBABILITIES["y_true"], **_LOGITS}, kinds={"y_true": "array", "logits": "array"}),
    Case(activations.activation, {"name": "relu"}, kinds={"name": "choice"}),
    # optimisers and surfaces
    Case(optim.NumpySGD),
    Case(optim.NumpyRMSprop),
    Case(optim.NumpyAdam),
    Case(optim.NumpyAdam().update, _UPDATE,
         kinds={"variable": "data", "gradient": "data", "state": "maths_state"}),
    Case(optim.NumpyRMSprop().init, {"variable": np.zeros(2)}, kinds={"variable": "data"}),
    Case(optim.run_optimizer, _RUN, kinds={"optimizer": "maths_optimizer", "gradient_fn": "callable",
                                           "start": "data", "steps": "int", "dtype": "maths_dtype"}),
    Case(optim.keras_trajectory, _keras_sgd, kinds={"optimizer": "maths_optimizer",
                                                    "gradient_fn": "callable", "start": "data",
                                                    "steps": "int"}),
    Case(optim.quadratic),
    Case(optim.rosenbrock),
    Case(optim.saddle),
    # configuration
    Case(config.is_fast),
    Case(config.env_flag, {"name": "COURSEPKG_FUZZING_FLAG"}, kinds={"name": "text"}),
    Case(config.scaled, {"full": 20, "fast": 1}, kinds={"full": "maths_setting", "fast": "maths_setting"}),
    Case(config.seed_everything, kinds={"seed": "seed"}),
    Case(config.device_summary),
    Case(config.mode_summary),
    Case(config.setup, kinds={"seed": "seed"}),
    # input gradients
    Case(gradients.value_and_input_gradient, lambda: {"loss_fn": _sum_loss(), "inputs": np.ones((2, 3))},
         kinds={"loss_fn": "callable", "inputs": "data"}),
    Case(gradients.compiled_value_and_gradient, lambda: {"loss_fn": _sum_loss()},
         kinds={"loss_fn": "callable", "variables": "maths_variables"}),
    Case(gradients.resolve_jit_compile),
    # exercise checks
    Case(checking.exercise, {"exercise_id": "fuzzing.example", "chapter": "tests/test_fuzz_maths.py",
                             "hint": "a hint"},
         kinds={"exercise_id": "text", "chapter": "text", "hint": "text"}),
    Case(checking.exercises),
    Case(checking.evaluate, {"exercise_id": "convolution.output_size", "answer": 15},
         kinds={"exercise_id": "choice"}, skip={"answer": _ANY}),
    Case(checking.check, {"exercise_id": "convolution.output_size", "answer": 15},
         kinds={"exercise_id": "choice"}, skip={"answer": _ANY}),
    Case(checking.strict_checks),
    Case(checking.describe, skip={"value": "any value can be described: it is a student's answer"}),
    Case(checking.compare_integer, {"received": 3, "expected": 3, "what": "the size"},
         kinds={"expected": "int", "what": "text"}, skip={"received": _ANY}),
    Case(checking.compare_number, {"received": 0.5, "expected": 0.5, "what": "the rate"},
         kinds={"expected": "float", "what": "text"}, skip={"received": _ANY}),
    Case(checking.compare_array, {"received": [1.0], "expected": np.array([1.0]), "what": "the output"},
         kinds={"expected": "array", "what": "text"}, skip={"received": _ANY}),
    Case(checking.compare_function,
         {"function": np.sum, "reference": np.sum, "cases": _CASES_OF_ONE, "what": "your sum"},
         kinds={"reference": "callable", "cases": "maths_cases", "what": "text"},
         skip={"function": _ANY}),
    Case(checking.raise_if_not_answered, {"result": 3, "what": "your sum"}, kinds={"what": "text"},
         skip={"result": _ANY}),
    Case(checking.as_number, skip={"result": "any value: what is not a one-element number is returned as is"}),
    Case(checking.compare_calls,
         {"function": np.sum, "reference": np.sum, "cases": _CASES_OF_ONE, "what": "your sum",
          "compare": checking.compare_number},
         kinds={"reference": "callable", "cases": "maths_cases", "what": "text", "compare": "callable"},
         skip={"function": _ANY}),
    Case(checking.compare_scalar_function,
         {"function": np.sum, "reference": np.sum, "cases": _CASES_OF_ONE, "what": "your sum"},
         kinds={"reference": "callable", "cases": "maths_cases", "what": "text"},
         skip={"function": _ANY}),
]  # fmt: skip

EXEMPT = {
    "coursepkg.optim.Surface": "a result record (the surfaces' builders, fuzzed, fill it in)",
    "coursepkg.config.DeviceInfo": "a result record (device_summary fills it in)",
    "coursepkg.checking.CheckResult": "a result record (evaluate fills it in)",
    "coursepkg.checking.Exercise": "a result record (the exercise decorator, fuzzed, fills it in)",
    "coursepkg.checking.NotAnswered": "an exception class",
    "coursepkg.checking.CheckFailed": "an exception class",
}


@pytest.mark.parametrize("case", CASES, ids=fuzzing.case_ids(CASES))
def test_bad_arguments_are_refused_naming_them(case):
    fuzzing.fuzz(case)
