"""Exercises of book/15_descriptors_transfer.ipynb.

Every expected answer is computed here by reference code: the descriptor
lengths and the heads' trainable parameters are read from Keras models built
on ``keras.applications.VGG16`` (without weights, so no download); precision at
k comes from :func:`coursepkg.descriptors.precision_at_k`; the cosine distance
from ``scipy.spatial.distance.cosine``; and which fine-tuning setups leave the
moving statistics of batch normalisation unchanged is *measured*, by training
a small model under each setup with the installed Keras
(:func:`bn_statistics_frozen`). ``tests/test_exercises_descriptors.py`` checks
the references against independent computations.
"""

from __future__ import annotations

import functools

import numpy as np

from coursepkg.checking import (
    compare_function,
    compare_integer,
    compare_number,
    describe,
    exercise,
)
from coursepkg.data import CIFAR10_CLASSES

CHAPTER = "book/15_descriptors_transfer.ipynb"


@functools.lru_cache(maxsize=4)
def vgg16_base(input_shape: tuple[int, int, int]):
    """``keras.applications.VGG16`` without its classifier and without weights (no download)."""
    import keras

    return keras.applications.VGG16(weights=None, include_top=False, input_shape=input_shape)


def _pair(answer, names: tuple[str, str], what: str) -> tuple[list, list[str]]:
    """The two entries of a pair answer, or the problem with its form."""
    if isinstance(answer, np.ndarray):
        answer = answer.tolist()
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return [], [
            f"the answer should be a pair ({names[0]}, {names[1]}) of {what}; received {describe(answer)}"
        ]
    return list(answer), []


# --------------------------------------------------------------------------- descriptors.descriptor_lengths

LENGTHS_INPUT = (200, 200, 3)  # (height, width, channels) of the image fed to VGG16
LENGTHS_LAYER = "block4_pool"  # the layer whose output becomes a descriptor


def descriptor_lengths(input_shape=LENGTHS_INPUT, layer_name=LENGTHS_LAYER) -> tuple[int, int]:
    """(flattened, globally pooled): lengths of the descriptor of a VGG16 layer, read from Keras."""
    height, width, channels = (
        int(size) for size in vgg16_base(tuple(input_shape)).get_layer(layer_name).output.shape[1:]
    )
    return height * width * channels, channels


@exercise(
    "descriptors.descriptor_lengths",
    CHAPTER,
    hint=(
        "Every convolution of VGG16 keeps the size ('same' padding); each 2x2 pooling of stride 2 "
        "halves it and drops a leftover row or column (25 -> 12). Flattening keeps every value of "
        "the height x width x channels map; global pooling keeps one value per channel."
    ),
)
def _descriptor_lengths(answer):
    values, problems = _pair(answer, ("flattened", "pooled"), "whole numbers")
    if problems:
        return problems
    names = ("the flattened length", "the pooled length")
    for name, received, correct in zip(names, values, descriptor_lengths()):
        problems += compare_integer(received, correct, name)
    return problems


# --------------------------------------------------------------------------- descriptors.precision_at_k

# Three queries and the classes of what they retrieved, nearest first (CIFAR-10 class names).
PRECISION_QUERIES = ("dog", "frog", "ship")
PRECISION_RETRIEVED = (
    ("dog", "cat", "dog", "dog", "horse"),
    ("deer", "frog", "bird", "bird", "cat"),
    ("ship", "ship", "airplane", "ship", "ship"),
)
PRECISION_KS = (1, 5)


def precision_reference(ks=PRECISION_KS) -> tuple[float, ...]:
    """Precision at each k of the retrieval above, by :func:`coursepkg.descriptors.precision_at_k`."""
    from coursepkg.descriptors import precision_at_k

    index = {name: label for label, name in enumerate(CIFAR10_CLASSES)}
    retrieved = np.array([[index[name] for name in row] for row in PRECISION_RETRIEVED])
    queries = np.array([index[name] for name in PRECISION_QUERIES])
    scores = precision_at_k(retrieved, queries, k=tuple(ks))
    return tuple(scores[k] for k in ks)


@exercise(
    "descriptors.precision_at_k",
    CHAPTER,
    hint=(
        "For each query, count the retrieved items among the first k that have the query's class "
        "and divide by k; then average over the three queries. Give fractions, not counts."
    ),
)
def _precision_at_k(answer):
    values, problems = _pair(answer, ("precision_at_1", "precision_at_5"), "numbers")
    if problems:
        return problems
    names = ("precision at 1", "precision at 5")
    for name, received, correct in zip(names, values, precision_reference()):
        problems += compare_number(received, correct, name, rel_tol=1e-3)
    return problems


# --------------------------------------------------------------------------- descriptors.cosine_distance


def cosine_distance(first, second) -> float:
    """1 - cos(angle) between two vectors, by ``scipy.spatial.distance.cosine``."""
    from scipy.spatial.distance import cosine

    return float(cosine(np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)))


def _cosine_cases(seed: int = 0):
    rng = np.random.default_rng(seed)
    vector = rng.normal(size=128)
    return [
        ((rng.normal(size=8), rng.normal(size=8)), "two random vectors of length 8"),
        ((vector, 3.5 * vector), "a vector and the same vector times 3.5"),
        ((vector, -vector), "a vector and its opposite"),
        ((np.array([1.0, 0.0, 2.0]), np.array([0.0, 5.0, 0.0])), "two orthogonal vectors"),
        (
            (
                rng.uniform(0, 4, size=512).astype(np.float32),
                rng.uniform(0, 4, size=512).astype(np.float32),
            ),
            "two float32 descriptors of length 512 with non-negative values (ReLU outputs)",
        ),
        ((np.array([3, 1, 4, 1, 5]), np.array([2, 7, 1, 8, 2])), "two integer vectors"),
    ]


@exercise(
    "descriptors.cosine_distance",
    CHAPTER,
    hint=(
        "Divide the dot product of the two vectors by the product of their Euclidean norms "
        "(np.linalg.norm), and subtract that cosine from 1. Work in float64: integer vectors "
        "must not be divided as integers."
    ),
)
def _cosine_distance(answer):
    return compare_function(
        answer, cosine_distance, _cosine_cases(), "your cosine distance", rtol=1e-5, atol=1e-6
    )


# --------------------------------------------------------------------------- descriptors.head_parameters

HEAD_INPUT = (224, 224, 3)  # the size VGG16's ImageNet weights were trained at
HEAD_UNITS = 256  # units of the hidden Dense layer of both heads (ReLU)
HEAD_CLASSES = 5  # classes of the new task


def head_trainable_parameters(pooling: str, input_shape=HEAD_INPUT) -> int:
    """Trainable parameters of a model: frozen VGG16 base, then ``pooling``, Dense(256), Dense(5).

    Built with Keras (the base without weights) and counted from the model's
    trainable weights.
    """
    import keras

    base = vgg16_base(tuple(input_shape))
    base.trainable = False
    inputs = keras.Input(shape=input_shape)
    x = base(inputs, training=False)
    x = (keras.layers.GlobalAveragePooling2D() if pooling == "gap" else keras.layers.Flatten())(x)
    x = keras.layers.Dense(HEAD_UNITS, activation="relu")(x)
    outputs = keras.layers.Dense(HEAD_CLASSES, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    return int(sum(np.prod(weight.shape) for weight in model.trainable_weights))


@exercise(
    "descriptors.head_parameters",
    CHAPTER,
    hint=(
        "A frozen base has no trainable parameters, so count only the head. A Dense layer from n "
        "inputs to m units has n x m weights and m biases. Global pooling of block5_pool gives "
        "512 values; flattening gives 7 x 7 x 512 at 224 x 224."
    ),
)
def _head_parameters(answer):
    values, problems = _pair(answer, ("with_pooling", "with_flatten"), "whole numbers")
    if problems:
        return problems
    names = (
        "the trainable parameters with global pooling",
        "the trainable parameters with Flatten",
    )
    for name, received, pooling in zip(names, values, ("gap", "flatten")):
        problems += compare_integer(received, head_trainable_parameters(pooling), name)
    return problems


# --------------------------------------------------------------------------- descriptors.frozen_statistics

# Five ways to set up a model for training (a base frozen first, as in transfer learning, then perhaps
# unfrozen for fine-tuning); does model.fit leave the base's moving statistics alone?
BN_CASES = {
    "A": "base.trainable = False; the model calls base(x, training=False)",
    "B": "base.trainable = False; the model calls base(x)",
    "C": "base.trainable = False, later base.trainable = True; the model calls base(x, training=False)",
    "D": "base.trainable = False, later base.trainable = True, then every BatchNormalization layer of "
    "the base gets trainable = False; the model calls base(x)",
    "E": "base.trainable = False and every BatchNormalization layer of the base gets trainable = False, "
    "later base.trainable = True; the model calls base(x, training=False)",
}


def _bn_case_model(case: str):
    """(model, base): a Dense + BatchNormalization base under a Dense head, set up as ``case`` says."""
    import keras

    inputs = keras.Input(shape=(4,))
    hidden = keras.layers.Dense(4, name="dense")(inputs)
    base = keras.Model(inputs, keras.layers.BatchNormalization(name="bn")(hidden), name="base")
    batch_norms = [
        layer for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization)
    ]
    outer = keras.Input(shape=(4,))
    features = base(outer) if case in ("B", "D") else base(outer, training=False)
    model = keras.Model(outer, keras.layers.Dense(1, name="head")(features))
    base.trainable = False  # every case starts from a frozen base
    if case == "E":
        for layer in batch_norms:
            layer.trainable = False
    if case in ("C", "D", "E"):
        base.trainable = True  # unfrozen for fine-tuning
    if case == "D":
        for layer in batch_norms:
            layer.trainable = False
    return model, base


@functools.lru_cache(maxsize=1)
def bn_statistics_frozen() -> dict[str, bool]:
    """For each case of :data:`BN_CASES`: whether one epoch of ``model.fit`` leaves the moving mean unchanged.

    Measured with the installed Keras on a small model: its base is a Dense
    layer and a BatchNormalization layer, fed data of mean 5, so that a layer in
    training mode visibly moves its moving mean away from 0.
    """
    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 2.0, size=(64, 4)).astype("float32")  # (batch, features)
    y = np.zeros((64, 1), dtype="float32")
    frozen = {}
    for case in BN_CASES:
        model, base = _bn_case_model(case)
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
        before = np.array(keras.ops.convert_to_numpy(base.get_layer("bn").moving_mean))
        model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
        after = np.array(keras.ops.convert_to_numpy(base.get_layer("bn").moving_mean))
        frozen[case] = bool(np.array_equal(before, after))
    return frozen


@exercise(
    "descriptors.frozen_statistics",
    CHAPTER,
    hint=(
        "A BatchNormalization layer whose trainable is False runs in inference mode whatever the "
        "training argument says. Setting trainable on a model sets it on every layer inside. And "
        "model.fit calls the model with training=True, which a functional model passes down to "
        "every layer it contains, over what was written when the model was built."
    ),
)
def _frozen_statistics(answer):
    if isinstance(answer, str):
        letters = [letter for letter in answer.upper() if not letter.isspace() and letter != ","]
    elif isinstance(answer, (list, tuple, set, frozenset, np.ndarray)):
        letters = [str(item).strip().upper() for item in answer]
    else:
        return [
            f"the answer should be a list of case letters such as ['A', 'E']; received {describe(answer)}"
        ]
    unknown = sorted(set(letters) - set(BN_CASES))
    if unknown:
        return [f"{unknown} are not cases; the cases are {sorted(BN_CASES)}"]
    chosen = set(letters)
    frozen = bn_statistics_frozen()
    problems = []
    wrongly_chosen = sum(1 for case in chosen if not frozen[case])
    missed = sum(1 for case in BN_CASES if frozen[case] and case not in chosen)
    if wrongly_chosen:
        problems.append(
            f"{wrongly_chosen} of the cases you chose let model.fit change the moving statistics"
        )
    if missed:
        problems.append(
            f"{missed} case(s) that keep the moving statistics fixed are missing from your list"
        )
    return problems
