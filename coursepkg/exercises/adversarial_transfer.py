"""Exercises of book/19_adversarial_transfer.ipynb.

The references are short NumPy functions, each checked in
``tests/test_exercises_adversarial_transfer.py`` against an independent
computation: the destruction rate against a loop over Kurakin et al.'s sums,
the number of oracle queries against the count of
:func:`coursepkg.blackbox.train_substitute`, the signal-to-noise ratio against
noise that :func:`coursepkg.audio_layers.add_noise` scales to a known ratio,
and the gradient of the SVM margin against finite differences and the
backend's own gradient.
"""

from __future__ import annotations

import numpy as np

from coursepkg.checking import (
    compare_function,
    compare_integer,
    compare_scalar_function,
    exercise,
)

CHAPTER = "book/19_adversarial_transfer.ipynb"


# --------------------------------------------------------------------------- adversarial_transfer.destruction_rate


def destruction_rate(labels, clean_predictions, adversarial_predictions, transformed_predictions) -> float:
    """Kurakin et al.'s destruction rate: among the images right when clean and wrong when attacked,
    the fraction that the transformation makes right again."""
    labels = np.asarray(labels)
    counted = (np.asarray(clean_predictions) == labels) & (np.asarray(adversarial_predictions) != labels)
    restored = counted & (np.asarray(transformed_predictions) == labels)
    return float(restored.sum() / counted.sum())


def _destruction_cases():
    rng = np.random.default_rng(19)
    labels = rng.integers(0, 10, size=60)

    def sometimes(right_share, size=60):  # predictions right with probability right_share, otherwise wrong
        wrong = (labels + rng.integers(1, 10, size=size)) % 10
        return np.where(rng.random(size) < right_share, labels, wrong)

    clean, adversarial, transformed = sometimes(0.8), sometimes(0.15), sometimes(0.5)
    small = np.array([3, 1, 4, 1, 5, 9])
    return [  # the small cases first: their descriptions name the condition a wrong answer misses
        # wrong when clean, right after the transformation: must not count
        ((small, np.array([3, 1, 0, 0, 5, 9]), np.array([0, 0, 0, 0, 0, 0]), np.array([3, 0, 4, 1, 0, 9])),
         "6 images, two of them misclassified when clean"),
        # the attack failed on some images: those must not count either
        ((small, small, np.array([0, 1, 0, 1, 0, 9]), np.array([3, 1, 0, 1, 5, 9])),
         "6 images, the attack failed on three"),
        ((labels, clean, adversarial, transformed), "60 random images of 10 classes"),
        ((small, small, np.zeros(6, dtype=int), small), "6 images, all restored"),
    ]


@exercise(
    "adversarial_transfer.destruction_rate",
    CHAPTER,
    hint=(
        "Only the images that are classified correctly when clean AND misclassified when adversarial "
        "count, in the numerator and the denominator alike. Among them, the rate is the share whose "
        "transformed version is classified correctly. Return a fraction, not a percentage."
    ),
)
def _destruction_rate(answer):
    return compare_scalar_function(answer, destruction_rate, _destruction_cases(), "your destruction_rate",
                                    rel_tol=1e-6, abs_tol=1e-9)  # fmt: skip


# --------------------------------------------------------------------------- adversarial_transfer.jacobian_queries

JACOBIAN_SEEDS = 150  # Papernot et al.'s seed images
JACOBIAN_ROUNDS = 6  # and their rounds of augmentation


def jacobian_queries(seeds: int = JACOBIAN_SEEDS, rounds: int = JACOBIAN_ROUNDS) -> int:
    """Oracle queries of Jacobian-based augmentation: the set doubles each round, each image labelled once."""
    return seeds * 2**rounds


@exercise(
    "adversarial_transfer.jacobian_queries",
    CHAPTER,
    hint=(
        "Count the training set's size after each round: the seeds are labelled first, and every round "
        "adds one new image per image already there, which the oracle labels. The total number of "
        "queries is the size of the final set."
    ),
)
def _jacobian_queries(answer):
    return compare_integer(answer, jacobian_queries(), "the number of queries")


# --------------------------------------------------------------------------- adversarial_transfer.snr_db


def snr_db(recording, perturbation) -> float:
    """``10 log10(sum x^2 / sum delta^2)``: the energy of the recording over that of the perturbation, in dB."""
    recording = np.asarray(recording, dtype=np.float64)
    perturbation = np.asarray(perturbation, dtype=np.float64)
    return float(10.0 * np.log10(np.sum(recording**2) / np.sum(perturbation**2)))


def _snr_cases():
    rng = np.random.default_rng(7)
    time = np.arange(8000) / 8000.0
    tone = 0.5 * np.sin(2 * np.pi * 440.0 * time)
    speech_like = rng.normal(size=4000) * np.hanning(4000) * 0.3  # loud in the middle, silent at the ends
    return [
        ((tone, 0.01 * rng.normal(size=8000)), "a 440 Hz tone and white noise"),
        ((speech_like, 0.002 * np.sign(rng.normal(size=4000))), "a burst of sound and a +-0.002 perturbation"),
        ((tone[:1000], tone[:1000] / 10.0), "a tone and itself divided by 10"),
        ((rng.normal(size=50), rng.normal(size=50)), "two random signals of 50 samples"),
    ]


@exercise(
    "adversarial_transfer.snr_db",
    CHAPTER,
    hint=(
        "Compare energies: the sum of the squared samples of the recording over the sum of the squared "
        "samples of the perturbation, then 10 log10 of that ratio (10, not 20: the squares are energies "
        "already). Use every sample, not the peaks."
    ),
)
def _snr_db(answer):
    return compare_scalar_function(answer, snr_db, _snr_cases(), "your snr_db", rel_tol=1e-5, abs_tol=1e-6)


# --------------------------------------------------------------------------- adversarial_transfer.svm_margin_gradient


def svm_margin_gradient(x, weights, bias, label) -> np.ndarray:
    """The gradient of ``s_j(x) - s_y(x)``, ``j`` the highest-scoring class other than ``y``: ``W_j - W_y``."""
    weights = np.asarray(weights, dtype=np.float64)
    scores = weights @ np.asarray(x, dtype=np.float64) + np.asarray(bias, dtype=np.float64)
    scores[int(label)] = -np.inf
    return weights[int(np.argmax(scores))] - weights[int(label)]


def _svm_cases():
    rng = np.random.default_rng(11)
    weights, bias, x = rng.normal(size=(10, 20)), rng.normal(size=10), rng.random(20)
    top = int(np.argmax(weights @ x + bias))
    other = (top + 3) % 10
    small = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 0.0], [-1.0, 1.0, 1.0]])
    return [
        ((x, weights, bias, top), "10 classes and 20 features, the true class scoring highest"),
        ((x, weights, bias, other), "the same model, a true class that does not score highest"),
        ((np.array([1.0, 2.0, 3.0]), small, np.array([0.0, 0.5, -1.0]), 1),
         "3 classes and 3 features"),
    ]


@exercise(
    "adversarial_transfer.svm_margin_gradient",
    CHAPTER,
    hint=(
        "Each score is linear in x, so the gradient of s_k is the k-th row of `weights`. Find j, the "
        "class with the highest score once the true class is left out (compute the scores at x), "
        "then subtract the gradients of the two scores."
    ),
)
def _svm_margin_gradient(answer):
    cases = [((x, weights, bias, np.int64(label)), description) for (x, weights, bias, label), description in _svm_cases()]
    return compare_function(answer, svm_margin_gradient, cases, "your svm_margin_gradient", rtol=1e-6, atol=1e-9)
