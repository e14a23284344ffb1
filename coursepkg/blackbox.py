"""Attacks that never see the attacked model's gradient: one-pixel attacks and substitute models.

Introduced in: book/18_adversarial_attacks.ipynb (the one-pixel attack); the
substitute attack serves the chapter on transfer and black boxes that follows it.

* :func:`one_pixel` changes ``pixels`` pixels of one image, chosen with their
  colours by differential evolution (SciPy's ``differential_evolution``) from
  the model's probabilities alone (Su et al. 2019).
* :func:`train_substitute` trains a substitute network from a model seen only
  through its top label (the *oracle*), growing its training set by
  Jacobian-based dataset augmentation under a stated query budget, and
  :func:`substitute_attack` crafts FGSM images on the substitute and measures
  on the oracle how many transfer (Papernot et al. 2017).

Pixel scale, ``epsilon``, ``output`` and the kinds of model accepted are those
of :mod:`coursepkg.attacks`.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable

import numpy as np

from coursepkg import validation
from coursepkg.attacks import (
    MAX_BATCH_SIZE,
    MAX_CLASSES,
    OUTPUTS,
    AttackResult,
    _check_labels,
    as_classifier,
    check_attack,
    fgsm,
)

MAX_QUERIES = 10_000_000


# --------------------------------------------------------------------------- one pixel


@dataclasses.dataclass(frozen=True)
class OnePixelResult:
    """One image with a few pixels changed, and what the model made of it."""

    image: np.ndarray  # (height, width, channels) float32: the original with the pixels changed
    coordinates: np.ndarray  # (pixels, 2) int: the (row, column) of each changed pixel
    colours: np.ndarray  # (pixels, channels) float32: their new values, in pixel_range units
    label: int  # the class to leave (untargeted) or, when targeted, the model's class of the original
    target: int | None  # the class to reach; None for an untargeted attack
    prediction: int  # the model's class for `image`
    probability: float  # the model's probability of `prediction`
    success: bool  # the class changed (untargeted) or is the target (targeted)
    queries: int  # images the model was asked about, the original included
    generations: int  # generations of differential evolution run
    pixel_range: tuple[float, float]  # (low, high): the pixel scale of the images the model is given

    def __str__(self) -> str:
        places = ", ".join(f"({row}, {column})" for row, column in self.coordinates)
        goal = f"class {self.label} -> {self.prediction}"
        goal += f" (target {self.target})" if self.target is not None else ""
        return (
            f"One-pixel attack, {len(self.coordinates)} pixel(s) at {places}: {goal}, probability "
            f"{self.probability:.3f}, {'success' if self.success else 'failure'}; {self.queries:,} queries "
            f"in {self.generations} generations"
        )


def _paint(image: np.ndarray, candidates: np.ndarray, pixel_range) -> np.ndarray:
    """Copies of ``image``, each with the pixels of one candidate ``(row, column, colour...) * pixels`` set."""
    height, width, channels = image.shape
    count = len(candidates)
    genes = candidates.reshape(count, -1, 2 + channels)  # (candidates, pixels, 2 + channels)
    rows = np.clip(np.floor(genes[..., 0]).astype(np.int64), 0, height - 1)
    columns = np.clip(np.floor(genes[..., 1]).astype(np.int64), 0, width - 1)
    painted = np.repeat(image[np.newaxis], count, axis=0)
    for pixel in range(genes.shape[1]):  # later pixels win where two land on the same place
        painted[np.arange(count), rows[:, pixel], columns[:, pixel]] = genes[:, pixel, 2:]
    return np.clip(painted, *pixel_range).astype(np.float32)


def one_pixel(
    model,
    image,
    label: int | None = None,
    pixels: int = 1,
    target: int | None = None,
    maxiter: int = 100,
    popsize: int = 400,
    seed: int = 0,
    *,
    output: str = "logits",
    pixel_range: tuple[float, float] = (0.0, 1.0),
    batch_size: int = 512,
) -> OnePixelResult:
    """The one-pixel attack: a few pixels and their colours, chosen by differential evolution.

    Introduced in: book/18_adversarial_attacks.ipynb

    Reference:
        J. Su, D. V. Vargas and K. Sakurai, [One Pixel Attack for Fooling Deep
        Neural Networks](https://arxiv.org/abs/1710.08864), IEEE Transactions
        on Evolutionary Computation, 2019 (population 400, at most 100
        generations, mutation factor 0.5, no crossover).

    Each candidate holds ``(row, column, colour...)`` for each of ``pixels``
    pixels. SciPy's ``differential_evolution`` (``strategy="rand1bin"``,
    ``mutation=0.5``, ``recombination=1``: every coordinate from the mutant,
    no polishing) minimises the probability of ``label`` (untargeted) or
    maximises that of ``target``, evaluating each generation's whole population
    in batched model calls (``vectorized=True``). It stops at the first
    generation that holds a successful candidate, which is returned; otherwise
    the best candidate found is returned.

    Args:
        model, output, pixel_range: as for :func:`coursepkg.attacks.fgsm`.
        image: one image ``(height, width, channels)`` within ``pixel_range``.
        label: the class to leave, an integer from 0 to the number of classes - 1
            (``None``: the model's prediction).
        pixels: how many pixels may change, 1 to 100.
        target: the class to reach, an integer like ``label`` (``None``: untargeted).
        maxiter: the most generations, 1 to 10,000.
        popsize: candidates per generation, 10 to 100,000 (rounded up to a
            multiple of the number of genes, ``pixels * (2 + channels)``,
            SciPy's unit of population).
        seed: seed of the evolution, 0 to 2**32 - 1.
        batch_size: candidates per model call, 1 to 65,536.

    Returns:
        A :class:`OnePixelResult`.

    Example:
        >>> attack = one_pixel(network, x_test[0], y_test[0], seed=0)
        >>> print(attack)
    """
    from scipy.optimize import differential_evolution

    classifier = as_classifier(model, output, pixel_range, batch_size)
    pixel_range = classifier.pixel_range
    image = validation.check_images("image", image, pixel_range, rank=3)
    pixels = validation.check_int("pixels", pixels, low=1, high=100)
    maxiter = validation.check_int("maxiter", maxiter, low=1, high=10_000)
    popsize = validation.check_int("popsize", popsize, low=10, high=100_000)
    seed = validation.check_seed("seed", seed)
    label = validation.optional(validation.check_int, "label", label, 0, MAX_CLASSES - 1)
    target = validation.optional(validation.check_int, "target", target, 0, MAX_CLASSES - 1)

    original = classifier._log_probabilities(image[np.newaxis])[0]
    classes = classifier.classes
    if label is not None:
        label = int(validation.check_labels("label", [label], 1, classes)[0])
    label = int(np.argmax(original)) if label is None else label
    if target is not None:
        target = int(validation.check_labels("target", [target], 1, classes)[0])
    height, width, channels = image.shape
    genes = pixels * (2 + channels)
    bounds = [(0, height), (0, width)] + [pixel_range] * channels
    queries = 1
    best: dict = {}  # the best successful candidate seen: {"loss": ..., "candidate": ...}

    def loss(population: np.ndarray) -> np.ndarray:  # (genes, candidates) -> (candidates,)
        nonlocal queries
        candidates = population.T
        painted = _paint(image, candidates, pixel_range)
        probabilities = np.exp(classifier._log_probabilities(painted))
        queries += len(candidates)
        predictions = np.argmax(probabilities, axis=1)
        if target is None:
            values, success = probabilities[:, label], predictions != label
        else:
            values, success = 1.0 - probabilities[:, target], predictions == target
        if np.any(success):
            index = int(np.flatnonzero(success)[np.argmin(values[success])])
            if not best or values[index] < best["loss"]:
                best.update(loss=values[index], candidate=candidates[index].copy())
        return values

    generations = 0

    def stop(xk, convergence):  # after each generation
        nonlocal generations
        generations += 1
        return bool(best)

    seeding = {"rng": seed} if "rng" in inspect.signature(differential_evolution).parameters else {"seed": seed}
    found = differential_evolution(
        loss, bounds * pixels, strategy="rand1bin", maxiter=maxiter, popsize=math.ceil(popsize / genes),
        mutation=0.5, recombination=1.0, callback=stop, polish=False, tol=0.0, init="random",
        updating="deferred", vectorized=True, **seeding,
    )  # fmt: skip
    candidate = best["candidate"] if best else found.x
    adversarial = _paint(image, candidate[np.newaxis], pixel_range)[0]
    probabilities = np.exp(classifier._log_probabilities(adversarial[np.newaxis])[0])
    queries += 1
    prediction = int(np.argmax(probabilities))
    genes_per_pixel = candidate.reshape(pixels, 2 + channels)
    rows = np.clip(np.floor(genes_per_pixel[:, 0]), 0, height - 1)
    columns = np.clip(np.floor(genes_per_pixel[:, 1]), 0, width - 1)
    coordinates = np.stack([rows, columns], axis=1).astype(np.int64)
    return OnePixelResult(
        image=adversarial,
        coordinates=coordinates,
        colours=adversarial[coordinates[:, 0], coordinates[:, 1]],
        label=label,
        target=target,
        prediction=prediction,
        probability=float(probabilities[prediction]),
        success=prediction != label if target is None else prediction == target,
        queries=queries,
        generations=generations,
        pixel_range=pixel_range,
    )


# --------------------------------------------------------------------------- substitute models


class QueryBudgetExceeded(RuntimeError):
    """The oracle was asked about more images than the stated budget allows."""


class _Oracle:
    """A label-only model that counts the images it is asked about and refuses to exceed its budget."""

    def __init__(self, function: Callable, budget: int, classes: int):
        validation.check_callable("oracle", function)
        self.function, self.budget, self.classes, self.queries = function, budget, classes, 0

    def __call__(self, images: np.ndarray) -> np.ndarray:
        if self.queries + len(images) > self.budget:
            raise QueryBudgetExceeded(
                f"Expected at most query_budget={self.budget:,} oracle queries. Received: a request for "
                f"{len(images):,} more after {self.queries:,}"
            )
        self.queries += len(images)
        return validation.check_labels("oracle(images)", self.function(images), len(images), self.classes)


@dataclasses.dataclass(frozen=True)
class SubstituteResult:
    """A substitute trained on an oracle's labels, and what it cost."""

    model: object  # the trained keras.Model
    images: np.ndarray  # the substitute's last training set: the seed images and their augmentations
    labels: np.ndarray  # the oracle's labels of `images`
    dataset_sizes: tuple[int, ...]  # the size of the training set at each round of training
    queries: int  # images the oracle was asked about
    query_budget: int  # the most it could be asked about
    lambda_: float  # the augmentation step, in pixel_range units
    pixel_range: tuple[float, float]  # (low, high): the pixel scale of the images the oracle is given

    def __str__(self) -> str:
        return (
            f"Substitute {getattr(self.model, 'name', 'model')}: trained {len(self.dataset_sizes)} times on "
            f"{' -> '.join(f'{size:,}' for size in self.dataset_sizes)} images; "
            f"{self.queries:,} oracle queries "
            f"of a budget of {self.query_budget:,}; lambda = {self.lambda_:.4g} "
            f"({self.lambda_ * 255 / (self.pixel_range[1] - self.pixel_range[0]):.3g}/255 of the range)"
        )


def train_substitute(
    oracle: Callable,
    seed_images,
    substitute,
    *,
    query_budget: int,
    augmentation_rounds: int = 4,
    lambda_: float = 0.1,
    epochs: int = 10,
    learning_rate: float = 1e-3,
    seed: int | None = None,
    output: str = "logits",
    pixel_range: tuple[float, float] = (0.0, 1.0),
    batch_size: int = 128,
) -> SubstituteResult:
    """Train a substitute of a label-only model, growing its data by Jacobian-based augmentation.

    Introduced in: book/19_adversarial_transfer.ipynb.

    Reference:
        N. Papernot, P. McDaniel, I. Goodfellow, S. Jha, Z. B. Celik and A.
        Swami, [Practical Black-Box Attacks against Machine
        Learning](https://arxiv.org/abs/1602.02697), AsiaCCS 2017, Algorithm 1
        (MNIST: 150 seed images, lambda 0.1, 6 rounds).

    Round ``rho`` (0 to ``augmentation_rounds``): the oracle labels the images
    added since the last round (at first the seed images), the substitute is
    trained ``epochs`` more epochs on all of them, and, except after the last
    round, each image ``x`` gets a new neighbour ``clip(x + lambda_ *
    sign(dF_O(x)(x)/dx))``: a step along the sign of the gradient of the
    substitute's output for the oracle's label ``O(x)``, the direction in which
    that output varies most, to explore the oracle's decision boundaries with
    few queries. The training set doubles each round, so the oracle answers
    ``len(seed_images) * 2 ** augmentation_rounds`` queries in all; that count
    is checked against ``query_budget`` before anything runs.

    Args:
        oracle: a function from a batch of images (NumPy, within ``pixel_range``)
            to their labels ``(n,)``, integers: all the attacker sees.
        seed_images: the attacker's few images, ``(n, ...)`` within ``pixel_range``.
        substitute: a ``keras.Model``, or a function without arguments that builds one;
            it is compiled here (Adam, sparse cross-entropy).
        query_budget: the most images the oracle may be asked about, 1 to 10,000,000.
        augmentation_rounds: 0 to 20.
        lambda_: the augmentation step in ``pixel_range`` units, 0 to ``high - low``.
        epochs: training epochs per round, 1 to 1,000.
        learning_rate: Adam's, in (0, 1].
        seed: ``None``: the substitute's initial weights and the order of its
            training images follow the global seeds as they stand; an integer from 0 to 2**32 - 1:
            ``keras.utils.set_random_seed(seed)`` first (Python's, NumPy's and the
            backend's global seeds), before ``substitute`` is built.
        output: ``"logits"`` or ``"probabilities"``: what the substitute returns.
        pixel_range: ``(low, high)``.
        batch_size: 1 to 65,536.

    Returns:
        A :class:`SubstituteResult`.

    Raises:
        ValueError: a budget smaller than the planned number of queries (the
            message says how many), or another bad argument.

    Example:
        >>> trained = train_substitute(lambda x: np.argmax(victim.predict(x, verbose=0), axis=1),
        ...                            x_test[:150], build_substitute, query_budget=2400)
    """
    import keras

    validation.check_callable("oracle", oracle)
    validation.check_callable("substitute", substitute)
    output = validation.check_choice("output", output, OUTPUTS)
    pixel_range = validation.check_pixel_range("pixel_range", pixel_range)
    images = validation.check_images("seed_images", seed_images, pixel_range)
    query_budget = validation.check_int("query_budget", query_budget, low=1, high=MAX_QUERIES)
    rounds = validation.check_int("augmentation_rounds", augmentation_rounds, low=0, high=20)
    lambda_ = validation.check_float("lambda_", lambda_, 0.0, pixel_range[1] - pixel_range[0])
    epochs = validation.check_int("epochs", epochs, low=1, high=1000)
    learning_rate = validation.check_float("learning_rate", learning_rate, 0.0, 1.0, low_inclusive=False)
    batch_size = validation.check_int("batch_size", batch_size, low=1, high=MAX_BATCH_SIZE)
    seed = validation.optional(validation.check_seed, "seed", seed)
    planned = len(images) * 2**rounds
    if planned > query_budget:
        raise ValueError(
            f"Expected `query_budget` to cover the {len(images):,} seed images times 2 ** {rounds} rounds = "
            f"{planned:,} oracle queries. Received: query_budget={query_budget:,}; "
            "use fewer seed images or rounds"
        )
    if seed is not None:
        keras.utils.set_random_seed(seed)
    if not isinstance(substitute, keras.Model):
        substitute = substitute()
        if not isinstance(substitute, keras.Model):
            raise TypeError(
                "Expected `substitute` to be a keras.Model or a function that builds one. "
                f"Received: substitute={substitute!r}"
            )
    substitute.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=output == "logits"),
    )
    classifier = as_classifier(substitute, output, pixel_range, batch_size)
    classes = classifier._log_probabilities(images[:1]).shape[1]
    ask = _Oracle(oracle, query_budget, classes)
    labels = ask(images)
    sizes = []
    for round_ in range(rounds + 1):
        substitute.fit(images, labels, epochs=epochs, batch_size=batch_size, verbose=0)
        sizes.append(len(images))
        if round_ == rounds:
            break
        _, jacobian_row = classifier._gradient(images, np.eye(classes, dtype=np.float32)[labels])
        new_images = np.clip(images + np.float32(lambda_) * np.sign(jacobian_row), *pixel_range)
        new_images = new_images.astype(np.float32)
        images = np.concatenate([images, new_images])
        labels = np.concatenate([labels, ask(new_images)])
    return SubstituteResult(
        model=substitute,
        images=images,
        labels=labels,
        dataset_sizes=tuple(sizes),
        queries=ask.queries,
        query_budget=query_budget,
        lambda_=lambda_,
        pixel_range=pixel_range,
    )


def substitute_attack(
    oracle: Callable,
    substitute,
    images,
    labels,
    epsilon: float,
    *,
    norm: str = "linf",
    output: str = "logits",
    pixel_range: tuple[float, float] = (0.0, 1.0),
    batch_size: int = 128,
) -> AttackResult:
    """FGSM images crafted on a substitute, and how many of them fool the oracle (the transfer rate).

    Introduced in: book/19_adversarial_transfer.ipynb.

    Reference:
        N. Papernot et al., [Practical Black-Box Attacks against Machine
        Learning](https://arxiv.org/abs/1602.02697), AsiaCCS 2017 (MetaMind's
        MNIST classifier misclassified 84.24% of their adversarial examples).

    Args:
        oracle: as for :func:`train_substitute`: images -> labels ``(n,)``.
        substitute: the substitute (a ``keras.Model``, e.g. ``train_substitute(...).model``,
            or a function of a batch written with ``keras.ops``).
        images: ``(n, ...)`` within ``pixel_range``.
        labels: ``(n,)`` true classes, integers from 0 to the number of classes - 1, to
            leave (``None``: the oracle's labels).
        epsilon, norm, output, pixel_range, batch_size: as for
            :func:`coursepkg.attacks.fgsm`, ``output`` describing the substitute.

    Returns:
        An :class:`coursepkg.attacks.AttackResult` whose predictions and success
        are the **oracle's** (its ``success_rate`` is the transfer rate), without
        confidences (the oracle gives labels only) and with the number of oracle
        queries (``2 n``: the originals and the adversarial images).
    """
    validation.check_callable("oracle", oracle)
    validation.check_callable("substitute", substitute)
    classifier, images, norm, _ = check_attack(
        substitute, images, output, pixel_range, batch_size, norm, epsilon
    )
    labels = _check_labels("labels", labels, len(images))
    classes = classifier._log_probabilities(images[:1]).shape[1]
    if labels is not None:
        labels = validation.check_labels("labels", labels, len(images), classes)
    ask = _Oracle(oracle, MAX_QUERIES, classes)
    original_predictions = ask(images)
    labels = original_predictions if labels is None else labels
    crafted = fgsm(substitute, images, labels, epsilon, norm=norm, output=output, pixel_range=pixel_range,
                   batch_size=batch_size)  # fmt: skip
    predictions = ask(crafted.images)
    return dataclasses.replace(
        crafted,
        attack="FGSM crafted on a substitute, measured on the oracle",
        original_predictions=original_predictions,
        original_confidence=None,
        predictions=predictions,
        confidence=None,
        success=predictions != labels,
        queries=ask.queries,
    )
