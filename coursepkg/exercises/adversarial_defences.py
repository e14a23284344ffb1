"""Exercises of book/20_adversarial_defences.ipynb.

Every expected answer is computed here by reference code: Goodfellow et al.'s
adversarial training loss from Keras's own cross-entropy
(``keras.losses.sparse_categorical_crossentropy``), the projection on the
L-infinity ball by :func:`coursepkg.attacks.project` and the clip the attacks
apply after it, robust accuracy and the detector's rates by NumPy. The
straight-through quantiser (BPDA) is checked by its forward values against
NumPy's rounding and by its gradient, computed by
:func:`coursepkg.gradients.value_and_input_gradient`, against the identity's.
``tests/test_exercises_adversarial_defences.py`` checks the references against
independent computations (a NumPy log-softmax, scikit-learn's confusion matrix,
loops over images).
"""

from __future__ import annotations

import numpy as np

from coursepkg.checking import (
    NotAnswered,
    as_number,
    compare_array,
    compare_function,
    compare_number,
    compare_scalar_function,
    describe,
    exercise,
    raise_if_not_answered,
)

CHAPTER = "book/20_adversarial_defences.ipynb"
LEVELS = 8  # grey levels of the chapter's bit-depth reduction (3 bits)


def _images(seed: int, count: int, side: int = 6) -> np.ndarray:
    """``(count, side, side, 1)`` float32 grey images in [0, 1], MNIST-like: mostly 0 or 1."""
    rng = np.random.default_rng(seed)
    images = rng.random((count, side, side, 1))
    images = np.where(images < 0.5, 0.0, np.where(images > 0.8, 1.0, images))
    return images.astype(np.float32)


# --------------------------------------------------------------------------- adversarial_defences.training_loss


def goodfellow_loss(clean_logits, adversarial_logits, labels, alpha) -> float:
    """``alpha J(x) + (1 - alpha) J(x_adv)``, each ``J`` the mean cross-entropy of the batch, by Keras."""
    import keras

    from coursepkg.training import precision_scope

    def mean_cross_entropy(logits):
        with precision_scope("float32"):
            losses = keras.losses.sparse_categorical_crossentropy(
                np.asarray(labels, dtype=np.int64), np.asarray(logits, dtype=np.float32), from_logits=True
            )
        return float(np.mean(keras.ops.convert_to_numpy(losses)))

    return float(alpha) * mean_cross_entropy(clean_logits) + (1.0 - float(alpha)) * mean_cross_entropy(
        adversarial_logits
    )


def _loss_cases():
    rng = np.random.default_rng(11)
    labels = rng.integers(0, 10, size=8)
    clean = rng.normal(scale=3.0, size=(8, 10))
    clean[np.arange(8), labels] += 4.0  # a network that is mostly right on clean images
    adversarial = clean + rng.normal(scale=3.0, size=(8, 10))
    adversarial[np.arange(8), labels] -= 5.0  # and mostly wrong on adversarial ones
    three = rng.normal(size=(5, 3))
    three_labels = np.array([0, 2, 1, 1, 0])
    return [
        ((clean, adversarial, labels, 0.5), "8 images of 10 classes with alpha = 0.5"),
        ((clean, adversarial, labels, 0.3), "the same images with alpha = 0.3"),
        ((three, 2.0 * three, three_labels, 0.8), "5 images of 3 classes with alpha = 0.8"),
        ((clean, adversarial, labels, 1.0), "alpha = 1 (the clean loss alone)"),
    ]


@exercise(
    "adversarial_defences.training_loss",
    CHAPTER,
    hint=(
        "For each image, the cross-entropy of logits z and label y is logsumexp(z) - z[y] "
        "(scipy.special.logsumexp(z, axis=1) for a batch). J is its mean over the batch; the loss "
        "is alpha * J(clean) + (1 - alpha) * J(adversarial): alpha weighs the clean images."
    ),
)
def _training_loss(answer):
    return compare_scalar_function(
        answer, goodfellow_loss, _loss_cases(), "your adversarial_loss", rel_tol=1e-4, abs_tol=1e-6
    )


# --------------------------------------------------------------------------- adversarial_defences.project_linf


def project_linf(originals, candidates, epsilon) -> np.ndarray:
    """The nearest images to ``candidates`` within ``epsilon`` (L-inf) of ``originals`` and within [0, 1]."""
    from coursepkg.attacks import project

    originals = np.asarray(originals, dtype=np.float32)
    candidates = np.asarray(candidates, dtype=np.float32)
    return np.clip(originals + project(candidates - originals, float(epsilon), "linf"), 0.0, 1.0)


def _projection_cases():
    rng = np.random.default_rng(12)
    originals = _images(13, 4)
    far = originals + rng.uniform(-0.6, 0.6, size=originals.shape).astype(np.float32)  # outside both
    near = originals + rng.uniform(-0.05, 0.05, size=originals.shape).astype(np.float32)
    return [
        ((originals, far, 0.3), "4 images, candidates up to 0.6 away, epsilon = 0.3"),
        ((originals, far, 0.1), "the same candidates, epsilon = 0.1"),
        ((originals, np.clip(near, 0.0, 1.0), 0.1), "candidates already inside the ball and the pixel range"),
        ((originals, far, 0.0), "epsilon = 0 (nothing may change)"),
    ]


@exercise(
    "adversarial_defences.project_linf",
    CHAPTER,
    hint=(
        "Two boxes, pixel by pixel: the perturbation candidates - originals must lie in "
        "[-epsilon, epsilon] (np.clip it), and the image originals + perturbation in [0, 1] "
        "(np.clip again). Clip the perturbation, not the candidate image itself."
    ),
)
def _project_linf(answer):
    return compare_function(answer, project_linf, _projection_cases(), "your project_linf", rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- adversarial_defences.robust_accuracy


def robust_accuracy(labels, predictions) -> float:
    """The fraction of images classified correctly in every row of ``predictions`` (clean, then each attack)."""
    predictions = np.asarray(predictions)
    return float(np.mean(np.all(predictions == np.asarray(labels)[np.newaxis, :], axis=0)))


def _robust_cases():
    rng = np.random.default_rng(14)
    labels = rng.integers(0, 10, size=40)

    def attacked(rate):  # predictions that are wrong on a random `rate` of the images
        wrong = rng.random(40) < rate
        return np.where(wrong, (labels + rng.integers(1, 10, size=40)) % 10, labels)

    rows = np.stack([attacked(0.05), attacked(0.4), attacked(0.5)])  # clean, FGSM, PGD
    return [
        ((labels, rows), "40 images, their clean predictions and those under two attacks"),
        ((labels, rows[:1]), "the clean predictions alone"),
        ((labels, np.stack([labels, labels])), "a model right on every image, clean and attacked"),
        ((labels[:6], np.array([labels[:6], [(label + 1) % 10 for label in labels[:6]]])), "an attack that fools all 6 images"),
    ]


@exercise(
    "adversarial_defences.robust_accuracy",
    CHAPTER,
    hint=(
        "Work per image, not per attack: an image counts only if its prediction equals its label "
        "in every row (np.all(predictions == labels, axis=0)); then take the fraction of such "
        "images. The worst attack's accuracy is only an upper bound on it."
    ),
)
def _robust_accuracy(answer):
    what = "your robust_accuracy"
    if not callable(answer):
        return [f"{what} should be a function; received {describe(answer)}"]
    for (labels, predictions), description in _robust_cases():
        try:
            result = answer(labels.copy(), predictions.copy())
        except Exception as error:
            return [f"{what} raised {type(error).__name__} on {description}: {error}"]
        raise_if_not_answered(result, what)
        problems = compare_number(as_number(result), robust_accuracy(labels, predictions), f"{what} on {description}")
        if problems:
            return problems
    return []


# --------------------------------------------------------------------------- adversarial_defences.detection_rates


def detection_rates(clean_scores, adversarial_scores, threshold) -> tuple[float, float]:
    """``(true-positive rate, false-positive rate)`` of a detector that flags scores above ``threshold``."""
    flagged_adversarial = np.asarray(adversarial_scores) > threshold
    flagged_clean = np.asarray(clean_scores) > threshold
    return float(np.mean(flagged_adversarial)), float(np.mean(flagged_clean))


def _detection_cases():
    rng = np.random.default_rng(15)
    clean = rng.beta(2.0, 8.0, size=50)  # mostly low scores
    adversarial = rng.beta(6.0, 2.0, size=30)  # mostly high scores, and fewer images
    return [
        ((clean, adversarial, 0.5), "50 clean and 30 adversarial scores, threshold 0.5"),
        ((clean, adversarial, 0.2), "the same scores, threshold 0.2"),
        ((clean, adversarial, 0.9), "the same scores, threshold 0.9"),
        ((clean[:7], adversarial[:3], 0.999), "a threshold above every score"),
    ]


@exercise(
    "adversarial_defences.detection_rates",
    CHAPTER,
    hint=(
        "An image is flagged when its score is above the threshold. The true-positive rate is "
        "the fraction of adversarial images flagged; the false-positive rate the fraction of "
        "clean images flagged. Return them in that order, as a pair."
    ),
)
def _detection_rates(answer):
    what = "your detection_rates"
    if not callable(answer):
        return [f"{what} should be a function; received {describe(answer)}"]
    for (clean, adversarial, threshold), description in _detection_cases():
        try:
            result = answer(clean.copy(), adversarial.copy(), threshold)
        except Exception as error:
            return [f"{what} raised {type(error).__name__} on {description}: {error}"]
        raise_if_not_answered(result, what)
        if isinstance(result, np.ndarray):
            result = result.tolist()
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return [
                f"{what} should return a pair (true_positive_rate, false_positive_rate); "
                f"received {describe(result)} on {description}"
            ]
        expected = detection_rates(clean, adversarial, threshold)
        names = ("the true-positive rate", "the false-positive rate")
        problems = []
        for name, received, correct in zip(names, result, expected):
            problems += compare_number(as_number(received), correct, f"{name} on {description}")
        if problems:
            return problems
    return []


# --------------------------------------------------------------------------- adversarial_defences.straight_through


def quantise(images, levels: int = LEVELS) -> np.ndarray:
    """Each pixel rounded to the nearest of ``levels`` grey levels 0, 1/(levels-1), ..., 1 (NumPy)."""
    return np.round(np.asarray(images, dtype=np.float64) * (levels - 1)) / (levels - 1)


def _straight_through_cases():
    rng = np.random.default_rng(16)
    return [
        (rng.random((3, 5, 5, 1)).astype(np.float32), "three random 5x5 grey images"),
        (_images(17, 2, side=7), "two MNIST-like 7x7 images (mostly 0 and 1)"),
    ]


@exercise(
    "adversarial_defences.straight_through",
    CHAPTER,
    hint=(
        "The forward value is the quantised image q(x) = round(7 x) / 7 (keras.ops.round); the "
        "gradient must be that of x itself. Start from x and add a correction that equals "
        "q(x) - x in the forward pass but that the backward pass does not see "
        "(keras.ops.stop_gradient). Use keras.ops only: NumPy cuts the backward pass."
    ),
)
def _straight_through(answer):
    import keras
    from keras import ops

    from coursepkg.gradients import value_and_input_gradient

    what = "your straight_through"
    if not callable(answer):
        return [f"{what} should be a function; received {describe(answer)}"]
    for images, description in _straight_through_cases():
        try:  # a symbolic call first: the function must be made of keras.ops (and the grader runs it in the kernel)
            inputs = keras.Input(images.shape[1:])
            outputs = answer(inputs)
            raise_if_not_answered(outputs, what)
            model = keras.Model(inputs, outputs)
            values = ops.convert_to_numpy(model(images))
        except NotAnswered:
            raise
        except Exception as error:
            return [
                f"{what} raised {type(error).__name__} on a symbolic Keras input ({description}): "
                f"{str(error).rstrip('.')}. "
                "Write it with keras.ops, which work on every kind of tensor"
            ]
        problems = compare_array(values, quantise(images), f"the values of {what} on {description}", rtol=0.0, atol=1e-5)
        if problems:
            return problems
        weights = np.random.default_rng(18).normal(size=images.shape).astype(np.float32)  # d(sum(w * f(x)))/dx = w
        try:
            _, gradient = value_and_input_gradient(
                lambda batch, model=model, weights=weights: ops.sum(weights * model(batch)), images
            )
        except Exception as error:
            return [f"differentiating {what} raised {type(error).__name__} on {description}: {error}"]
        if not np.any(gradient):
            return [
                f"the gradient of {what} is zero everywhere on {description}: the backward pass does not "
                "reach the input, which is exactly the masking BPDA undoes"
            ]
        problems = compare_array(
            gradient, weights, f"the gradient of {what} (should be the identity's) on {description}", rtol=1e-4, atol=1e-5
        )
        if problems:
            return problems
    return []
