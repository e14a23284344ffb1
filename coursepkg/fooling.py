"""Fooling images from noise and universal perturbations: attacks that need no particular image.

Introduced in: book/18_adversarial_attacks.ipynb

* :func:`fooling_image` grows images from uniform noise until the model sees
  a chosen class in them with high confidence (Nguyen et al. 2015).
* :func:`universal_perturbation` finds one small perturbation that changes
  the class of most images (Moosavi-Dezfooli et al. 2017), and
  :func:`fooling_rate` measures it on other images.

Pixel scale, ``epsilon``, ``output`` and the kinds of model accepted are those
of :mod:`coursepkg.attacks`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from coursepkg import validation
from coursepkg.attacks import (
    MAX_BATCH_SIZE,
    MAX_CLASSES,
    MAX_STEPS,
    as_classifier,
    check_attack,
    epsilon_text,
    one_hot,
    project,
)

# The most pixel values the images of one call to fooling_image may hold in all (400 MB in float32).
MAX_FOOLING_VALUES = 10**8


@dataclasses.dataclass(frozen=True)
class FoolingImageResult:
    """Images grown from noise until the model sees a chosen class in them."""

    images: np.ndarray  # (n, *shape) float32 within pixel_range
    targets: np.ndarray  # (n,) the class each image was grown for
    probabilities: np.ndarray  # (n,) the model's probability of the target class at the end
    success: np.ndarray  # (n,) bool: probability >= confidence
    steps: np.ndarray  # (n,) gradient steps taken until the confidence was reached (or all of them)
    confidence: float  # the probability asked for
    pixel_range: tuple[float, float]  # (low, high): the pixel scale of the images the model is given

    def __str__(self) -> str:
        return (
            f"Fooling images: {int(np.sum(self.success))} of {len(self.success)} reached probability "
            f">= {self.confidence:g} for their class (lowest {float(np.min(self.probabilities)):.4f}), "
            f"in at most {int(np.max(self.steps))} steps"
        )


@dataclasses.dataclass(frozen=True)
class UniversalPerturbationResult:
    """One perturbation for all images (Moosavi-Dezfooli et al. 2017)."""

    perturbation: np.ndarray  # the image-shaped perturbation, float32, norm <= epsilon
    fooling_rate: float  # fraction of the images whose class it changes (pixels clipped to the range)
    fooling_rates: tuple[float, ...]  # the fooling rate after each pass over the images
    epsilon: float  # the budget, in pixel_range units
    pixel_range: tuple[float, float]  # (low, high): the pixel scale of the images the model is given
    norm: str  # "linf" or "l2"

    def __str__(self) -> str:
        return (
            f"Universal perturbation: fooling rate {self.fooling_rate:.1%} after "
            f"{len(self.fooling_rates)} passes; {epsilon_text(self.epsilon, self.pixel_range, self.norm)}"
        )


# --------------------------------------------------------------------------- images from noise


def fooling_image(
    model,
    target_class,
    shape: Sequence[int],
    confidence: float = 0.99,
    steps: int = 500,
    step_size: float | None = None,
    seed: int = 0,
    *,
    output: str = "logits",
    pixel_range: tuple[float, float] = (0.0, 1.0),
    batch_size: int = 128,
) -> FoolingImageResult:
    """Images that the model takes for a class with high confidence, grown from uniform noise.

    Introduced in: book/18_adversarial_attacks.ipynb

    Reference:
        A. Nguyen, J. Yosinski and J. Clune, [Deep Neural Networks are Easily
        Fooled: High Confidence Predictions for Unrecognizable
        Images](https://arxiv.org/abs/1412.1897), CVPR 2015 (their gradient-ascent
        fooling images; the others are evolved).

    From uniform noise over ``pixel_range``, signed gradient steps up
    ``log p(target | image)``, clipped to the range, until the probability
    reaches ``confidence`` (each image stops on its own) or ``steps`` have been taken.

    Args:
        model, output, pixel_range, batch_size: as for :func:`fgsm`.
        target_class: one class, or a list of 1 to 65,536 classes (one image each), integers
            from 0 to the number of classes - 1.
        shape: the shape of one image, e.g. ``(28, 28, 1)``: 1 to 4 sides, each 1 to 4,096,
            with at most 100,000,000 pixel values in all the images together.
        confidence: the probability to reach, in (0, 1).
        steps: the most gradient steps, 1 to 10,000.
        step_size: in ``pixel_range`` units, 0 to ``high - low`` (``None``: 2/255 of the range).
        seed: seed of the noise, 0 to 2**32 - 1.

    Returns:
        A :class:`FoolingImageResult`.

    Example:
        >>> fooled = fooling_image(model, list(range(10)), (28, 28, 1))
    """
    classifier = as_classifier(model, output, pixel_range, batch_size)
    pixel_range = classifier.pixel_range
    targets = _check_targets(target_class)
    shape = validation.check_shape("shape", shape, length=(1, 2, 3, 4), low=1, high=4096)
    if len(targets) * math.prod(shape) > MAX_FOOLING_VALUES:
        raise ValueError(
            f"Expected `shape` to give at most {MAX_FOOLING_VALUES:,} pixel values for the "
            f"{len(targets):,} images. Received: shape={shape}"
        )
    confidence = validation.check_float(
        "confidence", confidence, 0.0, 1.0, low_inclusive=False, high_inclusive=False
    )
    steps = validation.check_int("steps", steps, low=1, high=MAX_STEPS)
    width = pixel_range[1] - pixel_range[0]
    step_size = 2 * width / 255 if step_size is None else step_size
    step_size = validation.check_float("step_size", step_size, 0.0, width)
    seed = validation.check_seed("seed", seed)
    images = np.random.default_rng(seed).uniform(*pixel_range, size=(len(targets), *shape)).astype(np.float32)
    classifier._log_probabilities(images[:1])  # the declaration checked, the classes counted
    targets = validation.check_labels("target_class", targets, len(targets), classifier.classes)

    weights = one_hot(targets, classifier.classes)
    taken = np.zeros(len(targets), dtype=np.int64)
    rows = np.arange(len(targets))
    probabilities = np.exp(classifier._log_probabilities(images)[rows, targets])
    for _ in range(steps):
        active = probabilities < confidence
        if not np.any(active):
            break
        _, gradient = classifier._gradient(images[active], weights[active])
        images[active] = np.clip(images[active] + step_size * np.sign(gradient), *pixel_range)
        taken[active] += 1
        probabilities = np.exp(classifier._log_probabilities(images)[rows, targets])
    return FoolingImageResult(
        images=images,
        targets=targets,
        probabilities=probabilities,
        success=probabilities >= confidence,
        steps=taken,
        confidence=confidence,
        pixel_range=pixel_range,
    )


def _check_targets(target_class) -> np.ndarray:
    """One class or a list of 1 to 65,536 classes, as ``(n,)`` int64 in [0, 100,000)."""
    targets = validation.check_array("target_class", target_class, ndim=(0, 1), dtype="integer")
    targets = np.atleast_1d(targets)
    if len(targets) > MAX_BATCH_SIZE:
        raise ValueError(
            f"Expected `target_class` to hold 1 to {MAX_BATCH_SIZE:,} classes. "
            f"Received: target_class with {len(targets):,} values"
        )
    return validation.check_labels("target_class", targets, len(targets), MAX_CLASSES)


# --------------------------------------------------------------------------- universal perturbations


def fooling_rate(
    model,
    images,
    perturbation,
    *,
    output: str = "logits",
    pixel_range: tuple[float, float] = (0.0, 1.0),
    batch_size: int = 128,
) -> float:
    """The fraction of images whose predicted class changes when ``perturbation`` is added (and clipped).

    Introduced in: book/18_adversarial_attacks.ipynb

    Reference:
        S.-M. Moosavi-Dezfooli, A. Fawzi, O. Fawzi and P. Frossard, [Universal
        adversarial perturbations](https://arxiv.org/abs/1610.08401), CVPR 2017:
        the fooling rate compares with the model's own predictions, not the true labels.

    Args:
        model, images, output, pixel_range, batch_size: as for :func:`fgsm`.
        perturbation: one image-shaped perturbation, or one per image, with real, finite
            values in ``[-(high - low), high - low]``.

    Returns:
        A float in [0, 1].
    """
    classifier, images, _, _ = check_attack(model, images, output, pixel_range, batch_size)
    pixel_range = classifier.pixel_range
    width = pixel_range[1] - pixel_range[0]
    perturbation = validation.check_array("perturbation", perturbation, allow_empty=True)
    if perturbation.shape not in (images.shape, images.shape[1:]):
        raise ValueError(
            f"Expected `perturbation` to have the shape of one image {images.shape[1:]} or of the images "
            f"{images.shape}. Received: perturbation with shape {perturbation.shape}"
        )
    perturbation = validation.check_images(
        "perturbation", perturbation, (-width, width), rank=perturbation.ndim
    )
    return _fooling_rate(classifier, images, perturbation, pixel_range)


def _fooling_rate(classifier, images, perturbation, pixel_range) -> float:
    clean = np.argmax(classifier._log_probabilities(images), axis=1)
    perturbed_images = np.clip(images + perturbation, *pixel_range)
    perturbed = np.argmax(classifier._log_probabilities(perturbed_images), axis=1)
    return float(np.mean(clean != perturbed))


def _deepfool(classifier, image, original, candidates, norm, steps, overshoot, pixel_range) -> np.ndarray:
    """DeepFool's perturbation of one image towards the nearest of the candidate classes' boundaries.

    Reference: S.-M. Moosavi-Dezfooli, A. Fawzi and P. Frossard, DeepFool, CVPR 2016, Algorithm 2.
    Differences of log-probabilities are differences of logits, so the log-softmax serves.
    """
    copies = np.repeat(image[np.newaxis], len(candidates), axis=0)
    weights = one_hot(candidates, classifier.classes)  # one candidate class per copy
    total = np.zeros_like(image)
    for _ in range(steps):
        current = np.clip(image + (1 + overshoot) * total, *pixel_range)
        copies[:] = current
        log_probabilities, gradients = classifier._gradient(copies, weights)
        if np.argmax(log_probabilities[0]) != original:
            break
        gaps = log_probabilities[0, candidates] - log_probabilities[0, original]  # (candidates,) <= 0
        normals = (gradients - gradients[candidates == original]).reshape(len(candidates), -1)
        sizes = np.abs(normals).sum(axis=1) if norm == "linf" else np.sqrt(np.sum(normals**2, axis=1))
        distances = np.where(candidates == original, np.inf, np.abs(gaps) / np.maximum(sizes, 1e-12))
        nearest = int(np.argmin(distances))
        normal = normals[nearest].reshape(image.shape)
        if norm == "linf":
            total = total + (distances[nearest] + 1e-4) * np.sign(normal)
        else:
            total = total + (distances[nearest] + 1e-4) * normal / max(float(sizes[nearest]), 1e-12)
    return ((1 + overshoot) * total).astype(np.float32)


def universal_perturbation(
    model,
    images,
    epsilon: float,
    norm: str = "linf",
    *,
    target_fooling_rate: float = 0.8,
    max_passes: int = 5,
    deepfool_steps: int = 10,
    candidates: int = 10,
    overshoot: float = 0.02,
    seed: int = 0,
    output: str = "logits",
    pixel_range: tuple[float, float] = (0.0, 1.0),
    batch_size: int = 128,
) -> UniversalPerturbationResult:
    """One small perturbation that changes the class of most images (Moosavi-Dezfooli et al. 2017).

    Introduced in: book/18_adversarial_attacks.ipynb

    Reference:
        S.-M. Moosavi-Dezfooli, A. Fawzi, O. Fawzi and P. Frossard, [Universal
        adversarial perturbations](https://arxiv.org/abs/1610.08401), CVPR 2017, Algorithm 1.

    Algorithm 1 of the paper: ``v = 0``; pass over the images in a random
    order; for each image whose class ``v`` does not change yet, find the
    smallest extra perturbation that does, by **DeepFool** (at most
    ``deepfool_steps`` linearisations towards the nearest of the ``candidates``
    most likely classes, with ``overshoot``), add it to ``v`` and project ``v``
    on the ball of radius ``epsilon``; stop when the fooling rate on
    ``images`` reaches ``target_fooling_rate`` or after ``max_passes`` passes.

    Args:
        model, images, output, pixel_range, batch_size: as for :func:`fgsm`.
        epsilon: the budget of ``v`` in ``pixel_range`` units, 0 to ``high - low`` (L-inf)
            or ``(high - low) * sqrt(pixels)`` (L2) (the paper: L2 2,000 and L-inf 10 on
            ImageNet's [0, 255]).
        norm: ``"linf"`` or ``"l2"``.
        target_fooling_rate: ``1 - delta`` of the paper, in (0, 1].
        max_passes: 1 to 100.
        deepfool_steps: 1 to 1,000.
        candidates: the classes DeepFool considers, 2 to 1,000 (capped at the number of classes).
        overshoot: DeepFool's overshoot, 0 to 1.
        seed: seed of the order of the images, 0 to 2**32 - 1.

    Returns:
        A :class:`UniversalPerturbationResult`.

    Example:
        >>> universal = universal_perturbation(model, x_train[:500], epsilon=0.1)
        >>> fooling_rate(model, x_test, universal.perturbation)  # on images it never saw
    """
    classifier, images, norm, epsilon = check_attack(
        model, images, output, pixel_range, batch_size, norm, epsilon
    )
    pixel_range = classifier.pixel_range
    target = validation.check_float("target_fooling_rate", target_fooling_rate, 0.0, 1.0, low_inclusive=False)
    max_passes = validation.check_int("max_passes", max_passes, low=1, high=100)
    deepfool_steps = validation.check_int("deepfool_steps", deepfool_steps, low=1, high=1000)
    candidates = validation.check_int("candidates", candidates, low=2, high=1000)
    overshoot = validation.check_float("overshoot", overshoot, 0.0, 1.0)
    seed = validation.check_seed("seed", seed)

    clean = classifier._log_probabilities(images)  # (n, classes)
    ranked = np.argsort(-clean, axis=1)[:, : min(candidates, classifier.classes)]
    rng = np.random.default_rng(seed)
    perturbation = np.zeros(images.shape[1:], dtype=np.float32)
    rates: list[float] = []
    while len(rates) < max_passes and (not rates or rates[-1] < target):
        for index in rng.permutation(len(images)):
            extra = _deepfool(classifier, np.clip(images[index] + perturbation, *pixel_range), ranked[index, 0],
                              ranked[index], norm, deepfool_steps, overshoot, pixel_range)  # fmt: skip
            if np.any(extra):
                perturbation = project((perturbation + extra)[np.newaxis], epsilon, norm)[0]
        rates.append(_fooling_rate(classifier, images, perturbation, pixel_range))
    return UniversalPerturbationResult(
        perturbation=perturbation,
        fooling_rate=rates[-1],
        fooling_rates=tuple(rates),
        epsilon=epsilon,
        pixel_range=pixel_range,
        norm=norm,
    )
