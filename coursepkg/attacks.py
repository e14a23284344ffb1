"""Adversarial attacks by gradients: FGSM, the iterative methods, PGD and the smallest epsilon.

Introduced in: book/18_adversarial_attacks.ipynb

**One pixel scale.** Every attack takes ``pixel_range=(low, high)``, the range
of the images *as the model is given them*: ``(0, 1)`` (the default),
``(-1, 1)`` (TensorFlow's FGSM tutorial) or ``(0, 255)``. ``epsilon`` is in
those same units, is checked against them (``0 <= epsilon <= high - low`` for
the L-infinity norm) and every result prints it twice: in those units and in
units of 1/255 of the range, the papers' convention (Goodfellow et al.'s
MNIST epsilon 0.25 is 63.75/255; Madry et al.'s CIFAR-10 epsilon is 8/255).

**Models.** ``model`` is a ``keras.Model``, a function of a backend tensor
written with ``keras.ops``, or a :class:`coursepkg.PretrainedNetwork`; it maps
a batch of images to one row of scores per image, which ``output`` declares:
``"logits"`` (no final softmax) or ``"probabilities"`` (rows summing to 1,
checked at every call; the networks of ``keras.applications`` and of
:func:`coursepkg.pretrained` end with a softmax and need it). A model that expects preprocessed images is wrapped so
that the attack sees pixels: ``lambda images: model(preprocess(images))`` with
a ``preprocess`` written in ``keras.ops``. A ``PretrainedNetwork`` is wrapped
that way by the attacks themselves: the images, in ``pixel_range``, are mapped
linearly onto [0, 255] and passed through its own ``preprocess_input``.

**Gradients.** Every attack maximises or minimises ``log p(class | image)``
through :func:`coursepkg.gradients.compiled_value_and_gradient` (compiled once
per image shape and kept for the last few models, so that adversarial
training calls the attacks batch after batch without recompiling). Pixels
move by ``sign(gradient)`` (L-infinity) or ``gradient / ||gradient||_2`` (L2)
and are projected back into the epsilon ball around the originals and into
``pixel_range`` after each step. Fooling images and universal
perturbations are in :mod:`coursepkg.fooling`; the single-pixel and
substitute-model attacks, which need no gradient of the attacked model, in
:mod:`coursepkg.blackbox`.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from coursepkg import validation
from coursepkg.gradients import compiled_value_and_gradient

OUTPUTS = ("logits", "probabilities")
NORMS = ("linf", "l2")
NORM_NAMES = {"linf": "L-inf", "l2": "L2"}
METHODS = ("fgsm", "basic_iterative", "pgd")
PROBABILITY_TOLERANCE = 1e-3  # how far a row of declared probabilities may sum from 1
MAX_STEPS = 10_000
MAX_BATCH_SIZE = 65_536
MAX_CLASSES = 100_000  # the most classes a label may name (ImageNet-21k has 21,843)
MAX_EPSILONS = 1000  # the most budgets of one accuracy curve
# The largest L2 norm of a perturbation relative to the pixel range: that of one of at most
# validation.MAX_ARRAY_SIZE pixels, each moved across the whole range.
MAX_L2_FACTOR = math.sqrt(validation.MAX_ARRAY_SIZE)
# The widest pixel range the package accepts, (-65,536, 65,536): the bound of `project`'s epsilon.
MAX_PIXEL_WIDTH = 2 * validation.MAX_PIXEL_VALUE
_CACHED_MODELS = 4  # compiled gradients kept for the last four models attacked


# --------------------------------------------------------------------------- results


def epsilon_text(epsilon: float, pixel_range: tuple[float, float], norm: str = "linf") -> str:
    """``epsilon`` in the model's pixel units and in units of 1/255 of the range, in words.

    Introduced in: book/18_adversarial_attacks.ipynb

    Args:
        epsilon: the budget in ``pixel_range`` units: 0 to ``high - low`` (L-inf), or
            to ``(high - low) * 31,623`` (L2: the norm of a change of 10**9 pixels).
        pixel_range: ``(low, high)``, two finite numbers within +-65,536, ``low < high``.
        norm: ``"linf"`` or ``"l2"``.

    Returns:
        One line of text.

    Example:
        >>> epsilon_text(8 / 255, (0.0, 1.0))
        'epsilon = 0.03137 (L-inf) in the pixel units of [0, 1] = 8/255 of that range'
    """
    low, high = validation.check_pixel_range("pixel_range", pixel_range)
    norm = validation.check_choice("norm", norm, NORMS)
    factor = 1.0 if norm == "linf" else MAX_L2_FACTOR
    epsilon = validation.check_float("epsilon", epsilon, 0.0, (high - low) * factor)
    return (
        f"epsilon = {epsilon:.4g} ({NORM_NAMES[norm]}) in the pixel units of [{low:g}, {high:g}] "
        f"= {epsilon * 255.0 / (high - low):.3g}/255 of that range"
    )


@dataclasses.dataclass(frozen=True)
class AttackResult:
    """Adversarial images and what they did to the model; ``print`` it to see the budget in both units."""

    attack: str  # which attack made them, e.g. "PGD (10 steps of 0.00784, random start)"
    images: np.ndarray  # the adversarial images, float32, within pixel_range
    perturbation: np.ndarray  # images minus the original images
    labels: np.ndarray  # (n,) the classes attacked: to leave (untargeted) or to reach (targeted)
    targeted: bool  # whether success means reaching `labels` (True) or leaving them (False)
    original_predictions: np.ndarray  # (n,) the model's class for each original image
    original_confidence: np.ndarray | None  # (n,) its probability; None for a label-only oracle
    predictions: np.ndarray  # (n,) the model's class for each adversarial image
    confidence: np.ndarray | None  # (n,) its probability; None for a label-only oracle
    success: np.ndarray  # (n,) bool: the attack reached its goal on this image
    epsilon: float  # the budget: the largest norm of the perturbation, in pixel_range units
    pixel_range: tuple[float, float]  # (low, high): the pixel scale of the images the model is given
    norm: str  # "linf" or "l2": the norm that epsilon bounds
    queries: int | None = None  # label-only oracles: the number of images they were asked about

    @property
    def success_rate(self) -> float:
        """The fraction of images on which the attack reached its goal."""
        return float(np.mean(self.success))

    def __str__(self) -> str:
        goal = "reached their target class" if self.targeted else "changed class"
        largest = float(np.max(_norms(self.perturbation, self.norm)))
        text = (
            f"{self.attack}: {epsilon_text(self.epsilon, self.pixel_range, self.norm)}; "
            f"{int(np.sum(self.success))} of {len(self.success)} images {goal} ({self.success_rate:.1%}); "
            f"largest perturbation {largest:.4g}"
        )
        return text + (f"; {self.queries:,} queries" if self.queries is not None else "")


@dataclasses.dataclass(frozen=True)
class SmallestEpsilonResult:
    """The smallest epsilon that changes each image's class, found by bisection."""

    method: str  # the attack searched over: "fgsm", "basic_iterative" or "pgd"
    epsilons: np.ndarray  # (n,) the smallest epsilon found (within tolerance); max_epsilon where not found
    found: np.ndarray  # (n,) bool: whether max_epsilon changed the class at all
    images: np.ndarray  # the adversarial images at `epsilons` (the originals where not found)
    labels: np.ndarray  # (n,) the classes the images had to leave
    predictions: np.ndarray  # (n,) the model's class for each image of `images`
    max_epsilon: float  # the largest epsilon tried
    tolerance: float  # the width of the final bisection interval
    pixel_range: tuple[float, float]  # (low, high): the pixel scale of the images the model is given
    norm: str  # "linf" or "l2"

    def __str__(self) -> str:
        count = int(np.sum(self.found))
        text = (
            f"Smallest epsilon ({self.method}, {NORM_NAMES[self.norm]}): found for {count} of "
            f"{len(self.found)} images up to max_epsilon {self.max_epsilon:.4g}"
        )
        if count:
            median = float(np.median(self.epsilons[self.found]))
            text += f"; median {epsilon_text(median, self.pixel_range, self.norm)}"
        return text


def perturbation_norms(perturbation, norm: str = "linf") -> np.ndarray:
    """The L-infinity or L2 norm of each perturbation of a batch, ``(n,)``.

    Args:
        perturbation: ``(n, ...)`` real, finite values, 2 to 5 axes.
        norm: ``"linf"`` or ``"l2"``.

    Returns:
        ``(n,)`` float64 norms.
    """
    perturbation = validation.check_array("perturbation", perturbation, ndim=(2, 3, 4, 5))
    norm = validation.check_choice("norm", norm, NORMS)
    return _norms(perturbation, norm)


def _norms(perturbation: np.ndarray, norm: str) -> np.ndarray:
    """:func:`perturbation_norms` of arguments known to be valid."""
    flat = np.asarray(perturbation, dtype=np.float64).reshape(len(perturbation), -1)
    return np.abs(flat).max(axis=1) if norm == "linf" else np.sqrt(np.sum(flat**2, axis=1))


# --------------------------------------------------------------------------- the model as attacks see it


class Classifier:
    """A model seen as the log-probabilities of its classes and their gradients.

    Attacks build it through :func:`as_classifier`, which keeps it with its compiled gradients.

    Args:
        model: a ``keras.Model``, a function of a batch written with ``keras.ops``, or a
            :class:`coursepkg.PretrainedNetwork` (see the module's docstring).
        output: ``"logits"`` or ``"probabilities"``: what the model returns.
        pixel_range: ``(low, high)``, the pixel scale of the images the model is given.
    """

    def __init__(self, model, output: str, pixel_range: tuple[float, float]):
        import keras

        from coursepkg.pretrained import PretrainedNetwork

        output = validation.check_choice("output", output, OUTPUTS)
        pixel_range = validation.check_pixel_range("pixel_range", pixel_range)
        if not isinstance(model, PretrainedNetwork):
            validation.check_callable("model", model)
        self.model = model
        self.output = output
        self.pixel_range = pixel_range
        self.batch_size = 128
        self.classes: int | None = None  # known after the first call
        self._compiled: dict[tuple, Callable] = {}  # one compiled gradient per image shape
        if isinstance(model, PretrainedNetwork):
            network, low = model, pixel_range[0]
            scale = 255.0 / (pixel_range[1] - pixel_range[0])
            self._variables = lambda: network.model.variables
            self.forward = lambda images: network.model(
                network.preprocess_input((images - low) * scale), training=False
            )
            self._predict = lambda images: network.model.predict_on_batch(
                network.preprocess_input((images - low) * scale)
            )
        elif isinstance(model, keras.Model):
            self._variables = lambda: model.variables
            self.forward = lambda images: model(images, training=False)
            self._predict = model.predict_on_batch
        else:
            self._variables = tuple
            self.forward = model
            self._predict = lambda images: model(keras.ops.convert_to_tensor(images))

    def _check_outputs(self, outputs: np.ndarray) -> None:
        if outputs.ndim != 2 or outputs.shape[1] < 2:
            raise ValueError(
                "Expected `model` to return one row of class scores per image, (batch, classes) with at "
                f"least 2 classes. Received: outputs of shape {outputs.shape}"
            )
        if not np.all(np.isfinite(outputs)):
            raise ValueError("Expected `model` to return finite scores. Received: NaN or infinite outputs")
        sums = outputs.sum(axis=1)
        probabilities = outputs.min() >= -PROBABILITY_TOLERANCE and np.max(np.abs(sums - 1.0)) <= PROBABILITY_TOLERANCE
        if self.output == "probabilities" and not probabilities:
            raise ValueError(
                "Expected the model to return probabilities (non-negative rows summing to 1), as "
                "declared by `output`. Received: output='probabilities', and rows with values in "
                f"[{outputs.min():.4g}, {outputs.max():.4g}] summing to [{sums.min():.4g}, "
                f"{sums.max():.4g}]; declare output='logits' for a model without a final softmax"
            )
        if self.output == "logits" and probabilities and self.classes is None:  # allowed, but said once
            warnings.warn(
                "The model's outputs look like probabilities (non-negative rows summing to 1) but "
                "output='logits' was declared: its softmax would be taken twice, which flattens the "
                "probabilities the attacks report and weakens their gradients. Pass output='probabilities' "
                "for a model ending with a softmax (keras.applications networks and coursepkg.pretrained's).",
                stacklevel=2,
            )
        if self.classes is None:
            self.classes = outputs.shape[1]
        elif outputs.shape[1] != self.classes:
            raise ValueError(
                f"Expected `model` to return {self.classes} class scores per image, as at its first call. "
                f"Received: outputs of shape {outputs.shape}"
            )

    def log_probabilities(self, images) -> np.ndarray:
        """``log p(class | image)`` for a batch, ``(n, classes)`` float32, the declaration checked.

        Args:
            images: ``(n, ...)`` images within ``pixel_range``, 2 to 5 axes.
        """
        return self._log_probabilities(validation.check_images("images", images, self.pixel_range))

    def _log_probabilities(self, images: np.ndarray) -> np.ndarray:
        """:meth:`log_probabilities` of float32 images known to be valid (inner loops)."""
        from keras import ops
        from scipy.special import log_softmax

        rows = []
        for start in range(0, len(images), self.batch_size):
            batch = images[start : start + self.batch_size]
            outputs = ops.convert_to_numpy(self._predict(self._padded(batch)))[: len(batch)]
            outputs = np.asarray(outputs, dtype=np.float32)
            self._check_outputs(outputs)
            if self.output == "logits":
                rows.append(log_softmax(outputs.astype(np.float64), axis=1).astype(np.float32))
            else:
                rows.append(np.log(np.maximum(outputs, np.finfo(np.float32).tiny)))
        return np.concatenate(rows)

    def _padded(self, batch: np.ndarray) -> np.ndarray:
        """``batch`` with zero rows appended up to the next power of two (at most ``batch_size``).

        Compiled functions are traced once per input shape: padding keeps the
        shapes of a whole attack to a handful (the last batch of a test set, a
        set of 10 DeepFool copies...) instead of one per batch length.
        """
        size = min(self.batch_size, 1 << max(len(batch) - 1, 0).bit_length())
        if size <= len(batch):
            return batch
        return np.concatenate([batch, np.zeros((size - len(batch), *batch.shape[1:]), dtype=batch.dtype)])

    def _objective(self, image_shape: tuple) -> Callable:
        """``sum(weights * log p)`` and its gradient, compiled for images of one shape."""
        if image_shape not in self._compiled:
            from keras import ops

            pixels = int(np.prod(image_shape))

            def objective(packed):  # (batch, pixels + classes): each image, flattened, then its class weights
                images = ops.reshape(packed[:, :pixels], (-1, *image_shape))
                scores = ops.cast(self.forward(images), "float32")
                if self.output == "logits":
                    log_probabilities = ops.log_softmax(scores, axis=-1)
                else:
                    log_probabilities = ops.log(ops.maximum(scores, np.finfo(np.float32).tiny))
                return ops.sum(packed[:, pixels:] * log_probabilities)

            self._compiled[image_shape] = compiled_value_and_gradient(
                objective, variables=self._variables(), jit_compile="auto"
            )
        return self._compiled[image_shape]

    def gradient(self, images, weights) -> tuple[np.ndarray, np.ndarray]:
        """The gradient of ``sum_c weights[i, c] * log p(c | images[i])`` with respect to each image.

        The images and their weights travel as one packed input, so the
        gradient with respect to the weights part is ``log p`` itself: one
        call gives the log-probabilities at ``images`` too, at no extra cost.

        Args:
            images: ``(n, ...)`` images within ``pixel_range``, 2 to 5 axes.
            weights: ``(n, classes)`` finite real weights (e.g. ``-one_hot(labels, classes)``).

        Returns:
            ``(log_probabilities (n, classes), gradient shaped like images)``, float32.
        """
        images = validation.check_images("images", images, self.pixel_range)
        weights = validation.check_array("weights", weights, ndim=2)
        if len(weights) != len(images):
            raise ValueError(
                f"Expected `weights` to have one row per image, {len(images)}. "
                f"Received: weights with shape {weights.shape}"
            )
        if self.classes is None:
            self._log_probabilities(images[:1])
        if weights.shape[1] != self.classes:
            raise ValueError(
                f"Expected `weights` to have one column per class, {self.classes}. "
                f"Received: weights with shape {weights.shape}"
            )
        return self._gradient(images, weights)

    def _gradient(self, images: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`gradient` of arguments known to be valid (the attacks' inner loops)."""
        from keras import ops

        if self.classes is None:
            self._log_probabilities(images[:1])
        objective = self._objective(tuple(images.shape[1:]))
        pixels = int(np.prod(images.shape[1:]))
        log_probabilities = np.empty((len(images), self.classes), dtype=np.float32)
        gradient = np.empty_like(images, dtype=np.float32)
        for start in range(0, len(images), self.batch_size):
            stop = min(start + self.batch_size, len(images))
            packed = np.concatenate(
                [images[start:stop].reshape(stop - start, pixels), weights[start:stop]], axis=1
            ).astype(np.float32)
            # padded rows have zero weights: they add nothing to the objective, and are dropped
            packed_gradient = ops.convert_to_numpy(objective(self._padded(packed))[1])[: stop - start]
            gradient[start:stop] = packed_gradient[:, :pixels].reshape(images[start:stop].shape)
            log_probabilities[start:stop] = packed_gradient[:, pixels:]
        return log_probabilities, gradient


_CLASSIFIERS: collections.OrderedDict = collections.OrderedDict()


def as_classifier(model, output: str = "logits", pixel_range=(0.0, 1.0), batch_size: int = 128) -> Classifier:
    """The :class:`Classifier` view of ``model`` that every attack uses, arguments checked.

    The views of the last four models are kept with their compiled gradients,
    so that repeated attacks on one model (adversarial training) compile once.

    Args:
        model, output, pixel_range: as for :class:`Classifier`.
        batch_size: images per model call, 1 to 65,536.

    Returns:
        A :class:`Classifier`.
    """
    output = validation.check_choice("output", output, OUTPUTS)
    pixel_range = validation.check_pixel_range("pixel_range", pixel_range)
    batch_size = validation.check_int("batch_size", batch_size, low=1, high=MAX_BATCH_SIZE)
    key = (id(model), output, pixel_range)
    classifier = _CLASSIFIERS.get(key)
    if classifier is None or classifier.model is not model:
        classifier = Classifier(model, output, pixel_range)
        _CLASSIFIERS[key] = classifier
        while len(_CLASSIFIERS) > _CACHED_MODELS:
            _CLASSIFIERS.popitem(last=False)
    _CLASSIFIERS.move_to_end(key)
    classifier.batch_size = batch_size
    return classifier


def check_attack(model, images, output, pixel_range, batch_size, norm="linf", epsilon=0.0):
    """The arguments every attack takes, checked: ``(classifier, float32 images, norm, epsilon)``.

    Args:
        model, output, pixel_range, batch_size: as for :func:`as_classifier`.
        images: ``(n, ...)`` images within ``pixel_range``, 2 to 5 axes.
        norm: ``"linf"`` or ``"l2"``.
        epsilon: a budget, as checked by :func:`check_epsilon`.

    Returns:
        ``(classifier, images, norm, epsilon)``.
    """
    classifier = as_classifier(model, output, pixel_range, batch_size)
    images = validation.check_images("images", images, classifier.pixel_range)
    norm = validation.check_choice("norm", norm, NORMS)
    epsilon = check_epsilon("epsilon", epsilon, classifier.pixel_range, norm, images.shape[1:])
    return classifier, images, norm, epsilon


# --------------------------------------------------------------------------- steps and projections


def check_epsilon(name: str, value, pixel_range, norm: str, image_shape: tuple) -> float:
    """A budget in [0, high - low] (L-inf), or [0, (high - low) * sqrt(pixels)] (L2: the whole image).

    Args:
        name: the name of the budget's argument, for the message (1 to 100 characters).
        value: the budget.
        pixel_range: ``(low, high)``, the pixel scale of the images the model is given.
        norm: ``"linf"`` or ``"l2"``.
        image_shape: the shape of one image, 1 to 4 sides of at least 1.

    Returns:
        ``float(value)``.
    """
    name = validation.check_str("name", name, max_length=100)
    low, high = validation.check_pixel_range("pixel_range", pixel_range)
    norm = validation.check_choice("norm", norm, NORMS)
    image_shape = validation.check_shape(
        "image_shape", image_shape, length=(1, 2, 3, 4), high=validation.MAX_ARRAY_SIZE
    )
    factor = 1.0 if norm == "linf" else math.sqrt(math.prod(image_shape))
    return validation.check_float(name, value, 0.0, (high - low) * factor)


def _per_image(values, count: int, ndim: int) -> np.ndarray:
    """A scalar or ``(n,)`` values, shaped ``(n, 1, ..., 1)`` to scale a batch of ``ndim`` axes."""
    return np.broadcast_to(np.asarray(values, dtype=np.float32), (count,)).reshape((count,) + (1,) * (ndim - 1))


def _direction(gradient: np.ndarray, norm: str) -> np.ndarray:
    """The steepest-ascent step of unit norm: ``sign(g)`` (L-inf) or ``g / ||g||_2`` (L2)."""
    if norm == "linf":
        return np.sign(gradient).astype(np.float32)
    lengths = _per_image(_norms(gradient, "l2"), len(gradient), gradient.ndim)
    return np.where(lengths > 0, gradient / np.where(lengths > 0, lengths, 1.0), 0.0).astype(np.float32)


def project(delta, epsilon, norm: str) -> np.ndarray:
    """The nearest perturbation of norm <= epsilon, per image (L-inf: clipping; L2: rescaling).

    Args:
        delta: ``(n, ...)`` perturbations, real and finite, 2 to 5 axes.
        epsilon: one budget, or ``(n,)`` budgets (one per image), each from 0 to
            131,072 (L-inf: the widest pixel range, +-65,536) or to 131,072 * sqrt(pixels) (L2).
        norm: ``"linf"`` or ``"l2"``.

    Returns:
        The projected perturbations, shaped like ``delta``.
    """
    delta = validation.check_array("delta", delta, ndim=(2, 3, 4, 5))
    norm = validation.check_choice("norm", norm, NORMS)
    factor = 1.0 if norm == "linf" else math.sqrt(math.prod(delta.shape[1:]))
    high = MAX_PIXEL_WIDTH * factor
    if isinstance(epsilon, np.ndarray) and epsilon.ndim == 0:
        epsilon = epsilon[()]
    if not isinstance(epsilon, (list, tuple, np.ndarray)):
        return _project(delta, validation.check_float("epsilon", epsilon, 0.0, high), norm)
    budgets = validation.check_array("epsilon", epsilon, ndim=1)
    if budgets.shape != (len(delta),):
        raise ValueError(
            f"Expected `epsilon` to be one number or one per image, ({len(delta)},). "
            f"Received: epsilon with shape {budgets.shape}"
        )
    if budgets.min() < 0.0 or budgets.max() > high:
        raise ValueError(
            f"Expected `epsilon` to hold budgets in [0, {high:g}]. "
            f"Received: epsilon with values in [{budgets.min():g}, {budgets.max():g}]"
        )
    return _project(delta, budgets, norm)


def _project(delta: np.ndarray, epsilon, norm: str) -> np.ndarray:
    """:func:`project` of arguments known to be valid (the attacks' inner loops)."""
    epsilon = _per_image(epsilon, len(delta), delta.ndim)
    if norm == "linf":
        return np.clip(delta, -epsilon, epsilon)
    lengths = _per_image(_norms(delta, "l2"), len(delta), delta.ndim)
    scale = np.where(lengths > epsilon, epsilon / np.where(lengths > 0, lengths, 1.0), 1.0)
    return (delta * scale).astype(np.float32)


def _step(originals, current, direction, step_size, epsilon, norm, pixel_range) -> np.ndarray:
    """One step: move, clip to the pixel range, project on the epsilon ball (ART's order)."""
    low, high = pixel_range
    moved = np.clip(current + _per_image(step_size, len(current), current.ndim) * direction, low, high)
    projected = originals + _project(moved - originals, epsilon, norm)
    return np.clip(projected, low, high).astype(np.float32)


def _ascend(classifier, originals, start, weights, epsilon, step_size, steps, norm, pixel_range):
    """``steps`` projected steps up ``sum(weights * log p)``, from ``start``."""
    adversarial = start
    for _ in range(steps):
        _, gradient = classifier._gradient(adversarial, weights)
        direction = _direction(gradient, norm)
        adversarial = _step(originals, adversarial, direction, step_size, epsilon, norm, pixel_range)
    return adversarial


def _random_start(images, epsilon, norm, pixel_range, seed) -> np.ndarray:
    """A uniform point of the epsilon ball around each image (Madry et al.'s random start), clipped."""
    rng = np.random.default_rng(seed)
    epsilon = _per_image(epsilon, len(images), images.ndim)
    if norm == "linf":
        delta = rng.uniform(-1.0, 1.0, size=images.shape) * epsilon
    else:  # uniform in the L2 ball: a uniform direction, and a radius distributed as u ** (1 / dimension)
        direction = rng.normal(size=images.shape)
        dimension = int(np.prod(images.shape[1:]))
        radius = _per_image(rng.uniform(size=len(images)) ** (1.0 / dimension), len(images), images.ndim)
        delta = direction / _per_image(_norms(direction, "l2"), len(images), images.ndim)
        delta = delta * radius * epsilon
    return np.clip(images + delta.astype(np.float32), *pixel_range).astype(np.float32)


def one_hot(labels, classes: int) -> np.ndarray:
    """``(n, classes)`` float32 rows of zeros with a 1 at each label.

    Args:
        labels: ``(n,)`` integer classes in ``[0, classes)``.
        classes: the number of classes, 1 to 100,000.

    Returns:
        ``(n, classes)`` float32.
    """
    classes = validation.check_int("classes", classes, low=1, high=MAX_CLASSES)
    labels = validation.check_array("labels", labels, ndim=1, dtype="integer")
    labels = validation.check_labels("labels", labels, len(labels), classes)
    return np.eye(classes, dtype=np.float32)[labels]


def _check_labels(name: str, labels, count: int) -> np.ndarray | None:
    """``None``, or ``(count,)`` integer classes in [0, 100,000), checked before any model call.

    Whether each is below the model's number of classes is checked once a call has told it.
    """
    if labels is None:
        return None
    # numbers first (strings, ragged lists refused), then check_labels's messages on shape and type
    labels = validation.check_array(name, labels, dtype="number", allow_empty=True, finite=False)
    return validation.check_labels(name, labels, count, MAX_CLASSES)


def _labels(labels, targeted: bool, predictions: np.ndarray, classes: int) -> np.ndarray:
    """The classes attacked: ``labels`` checked, or the model's own predictions when it is None."""
    if labels is None:
        if targeted:
            raise ValueError(
                "Expected `labels` to hold the target classes of a targeted attack (targeted=True). "
                "Received: labels=None"
            )
        return predictions
    return validation.check_labels("labels", labels, len(predictions), classes)


def _result(attack, classifier, originals, adversarial, labels, targeted, original_log_probabilities,
            epsilon, pixel_range, norm) -> AttackResult:  # fmt: skip
    log_probabilities = classifier._log_probabilities(adversarial)
    predictions = np.argmax(log_probabilities, axis=1)
    success = predictions == labels if targeted else predictions != labels
    return AttackResult(
        attack=attack,
        images=adversarial,
        perturbation=adversarial - originals,
        labels=labels,
        targeted=targeted,
        original_predictions=np.argmax(original_log_probabilities, axis=1),
        original_confidence=np.exp(np.max(original_log_probabilities, axis=1)),
        predictions=predictions,
        confidence=np.exp(np.max(log_probabilities, axis=1)),
        success=success,
        epsilon=epsilon,
        pixel_range=pixel_range,
        norm=norm,
    )


# --------------------------------------------------------------------------- the attacks


def _attack(method, model, images, labels, epsilon, *, output, pixel_range, batch_size, targeted=False,
            norm="linf", steps=1, step_size=None, random_start=False, seed=0) -> AttackResult:  # fmt: skip
    """Every gradient attack: arguments checked, then projected ascent.

    ``method`` sets the defaults: ``"fgsm"`` one step of epsilon; ``"bim"`` and
    ``"illc"`` Kurakin et al.'s (steps of 1/255 of the range, ``min(epsilon + 4,
    1.25 epsilon)`` of them, epsilon in /255 units), ``"illc"`` towards each
    image's least likely class; ``"pgd"`` steps of ``2.5 epsilon / steps``.
    """
    classifier, images, norm, epsilon = check_attack(
        model, images, output, pixel_range, batch_size, norm, epsilon
    )
    pixel_range = classifier.pixel_range
    targeted = validation.check_bool("targeted", targeted)
    random_start = validation.check_bool("random_start", random_start)
    seed = validation.check_seed("seed", seed)
    labels = _check_labels("labels", labels, len(images))
    width = pixel_range[1] - pixel_range[0]
    if steps is None and method in ("bim", "illc"):  # Kurakin et al.'s rule
        epsilon_255 = epsilon * 255.0 / width
        steps = max(1, math.ceil(min(epsilon_255 + 4, 1.25 * epsilon_255)))
    steps = validation.check_int("steps", steps, low=1, high=MAX_STEPS)
    if step_size is None:
        step_size = {"fgsm": epsilon, "pgd": 2.5 * epsilon / steps}.get(method, width / 255.0)
    step_size = check_epsilon("step_size", step_size, pixel_range, norm, images.shape[1:])

    original = classifier._log_probabilities(images)
    if method == "illc":
        labels, targeted = np.argmin(original, axis=1), True
    labels = _labels(labels, targeted, np.argmax(original, axis=1), classifier.classes)
    weights = one_hot(labels, classifier.classes) * (1.0 if targeted else -1.0)
    start = _random_start(images, epsilon, norm, pixel_range, seed) if random_start else images
    adversarial = _ascend(classifier, images, start, weights, epsilon, step_size, steps, norm, pixel_range)
    name = {"fgsm": "FGSM" if norm == "linf" else "FGM", "bim": "BIM", "illc": "ILLC", "pgd": "PGD"}[method]
    description = f"{name} ({'targeted' if targeted else 'untargeted'}"
    description += (f", {steps} steps of {step_size:.4g}" if steps > 1 else "")
    description += (", random start)" if random_start else ")")
    return _result(description, classifier, images, adversarial, labels, targeted, original, epsilon,
                   pixel_range, norm)  # fmt: skip


def fgsm(
    model,
    images,
    labels,
    epsilon: float,
    targeted: bool = False,
    *,
    norm: str = "linf",
    output: str = "logits",
    pixel_range: tuple[float, float] = (0.0, 1.0),
    batch_size: int = 128,
) -> AttackResult:
    """The fast gradient sign method: one step of size epsilon along the sign of the loss's gradient.

    Introduced in: book/18_adversarial_attacks.ipynb

    Reference:
        I. J. Goodfellow, J. Shlens and C. Szegedy, [Explaining and Harnessing
        Adversarial Examples](https://arxiv.org/abs/1412.6572), ICLR 2015.

    Untargeted: ``x + epsilon * sign(grad_x J(x, y))``, with ``J`` the
    cross-entropy of the class ``y`` to leave; targeted:
    ``x - epsilon * sign(grad_x J(x, t))``, towards the target ``t``. The
    result is clipped to ``pixel_range``. With ``norm="l2"`` the step is
    ``epsilon * g / ||g||_2`` (the fast gradient method).

    Args:
        model: a ``keras.Model``, a function of a batch written with ``keras.ops``,
            or a :class:`coursepkg.PretrainedNetwork` (see the module's docstring).
        images: ``(n, ...)`` images within ``pixel_range`` (float or integer).
        labels: ``(n,)`` classes, integers from 0 to the number of classes - 1: the ones
            to leave (untargeted; ``None``: the model's own predictions) or, with
            ``targeted=True``, the ones to reach.
        epsilon: the size of the step, in the units of ``pixel_range``: from 0 to
            ``high - low`` (L-inf), or to ``(high - low) * sqrt(pixels)`` (L2).
        targeted: whether ``labels`` are targets to reach (True or False).
        norm: ``"linf"`` (FGSM) or ``"l2"``.
        output: ``"logits"`` or ``"probabilities"``: what the model returns.
        pixel_range: ``(low, high)``, the pixel scale of the images the model is given.
        batch_size: images per gradient call, 1 to 65,536.

    Returns:
        An :class:`AttackResult`.

    Raises:
        ValueError: epsilon negative or over the range, images outside
            ``pixel_range``, labels of the wrong shape or classes, a model whose
            outputs contradict ``output``; TypeError: arguments of the wrong type.

    Example:
        >>> result = fgsm(model, x_test, y_test, epsilon=8 / 255)
        >>> print(result)  # the epsilon in [0, 1] units and in /255 units, and the success rate
    """
    return _attack("fgsm", model, images, labels, epsilon, targeted=targeted, norm=norm, output=output,
                   pixel_range=pixel_range, batch_size=batch_size)  # fmt: skip


def basic_iterative(
    model,
    images,
    labels,
    epsilon: float,
    step_size: float | None = None,
    steps: int | None = None,
    targeted: bool = False,
    *,
    output: str = "logits",
    pixel_range: tuple[float, float] = (0.0, 1.0),
    batch_size: int = 128,
) -> AttackResult:
    """The basic iterative method: FGSM in small steps, clipped to the epsilon box after each.

    Introduced in: book/18_adversarial_attacks.ipynb

    Reference:
        A. Kurakin, I. Goodfellow and S. Bengio, [Adversarial examples in the
        physical world](https://arxiv.org/abs/1607.02533), ICLR workshop 2017 (2016).

    ``X_{N+1} = Clip_{X, epsilon}(X_N + alpha * sign(grad J(X_N, y)))``, with
    the paper's defaults: ``alpha`` = 1/255 of the pixel range and
    ``min(epsilon + 4, 1.25 epsilon)`` steps (epsilon in /255 units).

    Args:
        model, images, labels, targeted, output, pixel_range, batch_size: as for :func:`fgsm`.
        epsilon: the L-inf budget in ``pixel_range`` units, 0 to ``high - low``.
        step_size: ``alpha`` in ``pixel_range`` units, 0 to ``high - low`` (``None``: 1/255
            of the range).
        steps: 1 to 10,000 (``None``: the paper's rule).

    Returns:
        An :class:`AttackResult`.

    Example:
        >>> result = basic_iterative(model, x_test, y_test, epsilon=8 / 255)
    """
    return _attack("bim", model, images, labels, epsilon, targeted=targeted, steps=steps, step_size=step_size,
                   output=output, pixel_range=pixel_range, batch_size=batch_size)  # fmt: skip


def iterative_least_likely(
    model,
    images,
    epsilon: float,
    step_size: float | None = None,
    steps: int | None = None,
    *,
    output: str = "logits",
    pixel_range: tuple[float, float] = (0.0, 1.0),
    batch_size: int = 128,
) -> AttackResult:
    """The iterative least-likely class method: the basic iterative method towards the least likely class.

    Introduced in: book/18_adversarial_attacks.ipynb

    Reference:
        Section 2.3 of the paper of :func:`basic_iterative` (Kurakin et al. 2016).

    The target of each image is ``y_LL = argmin_y p(y | X)`` on the original
    image; ``X_{N+1} = Clip_{X, epsilon}(X_N - alpha * sign(grad J(X_N, y_LL)))``.
    The result is targeted: its ``labels`` are the least-likely classes.

    Args:
        model, images, output, pixel_range, batch_size: as for :func:`fgsm`.
        epsilon, step_size, steps: as for :func:`basic_iterative`.

    Returns:
        An :class:`AttackResult` with ``targeted=True``.
    """
    return _attack("illc", model, images, None, epsilon, steps=steps, step_size=step_size, output=output,
                   pixel_range=pixel_range, batch_size=batch_size)  # fmt: skip


def pgd(
    model,
    images,
    labels,
    epsilon: float,
    norm: str = "linf",
    steps: int = 10,
    step_size: float | None = None,
    random_start: bool = True,
    targeted: bool = False,
    seed: int = 0,
    *,
    output: str = "logits",
    pixel_range: tuple[float, float] = (0.0, 1.0),
    batch_size: int = 128,
) -> AttackResult:
    """Projected gradient descent: steps of steepest ascent, projected on the epsilon ball, from a random start.

    Introduced in: book/18_adversarial_attacks.ipynb

    Reference:
        A. Madry, A. Makelov, L. Schmidt, D. Tsipras and A. Vladu, [Towards Deep
        Learning Models Resistant to Adversarial Attacks](https://arxiv.org/abs/1706.06083),
        ICLR 2018 (MNIST: epsilon 0.3, 40 steps of 0.01; CIFAR-10: 8/255, 7 steps of 2/255).

    Each step moves by ``step_size * sign(g)`` (L-inf) or ``step_size * g /
    ||g||_2`` (L2), clips to ``pixel_range`` and projects the perturbation on
    the ball ``||delta|| <= epsilon`` (L-inf: clipping each pixel; L2:
    rescaling), the order of IBM's Adversarial Robustness Toolbox. The random
    start is uniform in the ball. The last iterate is returned.

    Args:
        model, images, labels, targeted, output, pixel_range, batch_size: as for :func:`fgsm`.
        epsilon: the budget in ``pixel_range`` units: 0 to ``high - low`` (L-inf), or
            to ``(high - low) * sqrt(pixels)`` (L2).
        norm: ``"linf"`` or ``"l2"``.
        steps: 1 to 10,000.
        step_size: in ``pixel_range`` units, bounded as ``epsilon`` is (``None``:
            ``2.5 * epsilon / steps``, the rule of Madry's group's ``robustness`` library).
        random_start: start from a uniform point of the ball instead of the image (True or False).
        seed: seed of the random start, 0 to 2**32 - 1.

    Returns:
        An :class:`AttackResult`.

    Example:
        >>> result = pgd(model, x_test, y_test, epsilon=0.3, steps=40, step_size=0.01)
    """
    return _attack("pgd", model, images, labels, epsilon, targeted=targeted, norm=norm, steps=steps,
                   step_size=step_size, random_start=random_start, seed=seed, output=output,
                   pixel_range=pixel_range, batch_size=batch_size)  # fmt: skip


# --------------------------------------------------------------------------- epsilon searches


def _check_search(model, images, labels, method, norm, steps, seed, output, pixel_range, batch_size,
                  name="method"):  # fmt: skip
    """The arguments shared by the epsilon searches (``name``: the method's argument), checked."""
    classifier, images, norm, _ = check_attack(model, images, output, pixel_range, batch_size, norm)
    labels = _check_labels("labels", labels, len(images))
    method = validation.check_choice(name, method, METHODS)
    if method == "basic_iterative" and norm != "linf":
        raise ValueError(f"Expected norm='linf' with {name}='basic_iterative'. Received: norm={norm!r}")
    steps = validation.check_int("steps", steps, low=1, high=MAX_STEPS)
    seed = validation.check_seed("seed", seed)
    return classifier, images, labels, method, norm, steps, seed


def _search_attack(classifier, images, labels, method, norm, steps, seed) -> tuple:
    """``(labels, clean predictions, function from per-image epsilons (n,) to adversarial images)``."""
    pixel_range = classifier.pixel_range
    predictions = np.argmax(classifier._log_probabilities(images), axis=1)
    labels = _labels(labels, False, predictions, classifier.classes)
    weights = -one_hot(labels, classifier.classes)
    if method == "fgsm":  # the gradient at the image does not depend on epsilon: computed once
        direction = _direction(classifier._gradient(images, weights)[1], norm)
        return labels, predictions, lambda epsilons: _step(
            images, images, direction, epsilons, epsilons, norm, pixel_range
        )

    def iterative(epsilons):  # total travel 1.25 epsilon (Kurakin et al.), or 2.5 epsilon from a random start
        start = _random_start(images, epsilons, norm, pixel_range, seed) if method == "pgd" else images
        step_size = (1.25 if method == "basic_iterative" else 2.5) * epsilons / steps
        return _ascend(classifier, images, start, weights, epsilons, step_size, steps, norm, pixel_range)

    return labels, predictions, iterative


def smallest_epsilon(
    model,
    images,
    labels=None,
    method: str = "fgsm",
    *,
    norm: str = "linf",
    max_epsilon: float | None = None,
    tolerance: float | None = None,
    steps: int = 10,
    seed: int = 0,
    output: str = "logits",
    pixel_range: tuple[float, float] = (0.0, 1.0),
    batch_size: int = 128,
) -> SmallestEpsilonResult:
    """The smallest epsilon with which an attack changes each image's class, by bisection.

    Introduced in: book/18_adversarial_attacks.ipynb

    For each image: if ``max_epsilon`` does not change its class, it is
    reported as not found (``found=False``, ``epsilons = max_epsilon``: no
    infinities); otherwise the interval ``[0, max_epsilon]`` is halved until it
    is narrower than ``tolerance``, and the upper end (an epsilon that fools the
    model) is returned. For FGSM the gradient is computed once and each
    bisection step costs one prediction; on a linear model the class changes
    exactly at ``margin / ||w||_1`` (L-inf). For the iterative methods (``steps``
    steps of ``1.25 epsilon / steps`` for ``"basic_iterative"``, ``2.5 epsilon /
    steps`` from a random start for ``"pgd"``), success need not be monotonic in
    epsilon and the bisection returns one epsilon at which the class changes.
    An image the model already misclassifies gets epsilon 0.

    Args:
        model, images, output, pixel_range, batch_size: as for :func:`fgsm`.
        labels: ``(n,)`` the classes to leave, integers from 0 to the number of classes - 1
            (``None``: the model's predictions).
        method: ``"fgsm"``, ``"basic_iterative"`` or ``"pgd"``.
        norm: ``"linf"`` or ``"l2"`` (``"linf"`` only for ``"basic_iterative"``).
        max_epsilon: the largest epsilon tried, above 0 and at most ``high - low``
            (L-inf) or ``(high - low) * sqrt(pixels)`` (L2) (``None``: a quarter of the range).
        tolerance: the precision asked for, above 0 and at most ``max_epsilon``
            (``None``: 0.1/255 of the range).
        steps: steps of the iterative methods, 1 to 10,000.
        seed: seed of PGD's random start, 0 to 2**32 - 1.

    Returns:
        A :class:`SmallestEpsilonResult`.

    Example:
        >>> search = smallest_epsilon(model, x_test[:100], y_test[:100])
        >>> print(search)  # the median smallest epsilon, in both units
    """
    classifier, images, labels, method, norm, steps, seed = _check_search(
        model, images, labels, method, norm, steps, seed, output, pixel_range, batch_size
    )
    pixel_range = classifier.pixel_range
    width = pixel_range[1] - pixel_range[0]
    bound = width if norm == "linf" else width * math.sqrt(int(np.prod(images.shape[1:])))
    max_epsilon = width / 4 if max_epsilon is None else max_epsilon
    max_epsilon = validation.check_float("max_epsilon", max_epsilon, 0.0, bound, low_inclusive=False)
    tolerance = width / 2550 if tolerance is None else tolerance
    tolerance = validation.check_float("tolerance", tolerance, 0.0, max_epsilon, low_inclusive=False)
    labels, predictions, attack = _search_attack(classifier, images, labels, method, norm, steps, seed)

    def fooled(epsilons):
        adversarial = attack(epsilons)
        return adversarial, np.argmax(classifier._log_probabilities(adversarial), axis=1) != labels

    count = len(images)
    low, high = np.zeros(count), np.full(count, max_epsilon)
    adversarial, found = fooled(high)
    already = predictions != labels
    high[already] = 0.0
    adversarial[already] = images[already]
    searching = found & ~already
    while np.any(searching) and np.max(high[searching] - low[searching]) > tolerance:
        middle = (low + high) / 2
        candidates, success = fooled(np.where(searching, middle, high))
        update = searching & success
        high[update] = middle[update]
        adversarial[update] = candidates[update]
        low[searching & ~success] = middle[searching & ~success]
    found |= already
    adversarial[~found] = images[~found]
    return SmallestEpsilonResult(
        method=method,
        epsilons=high,
        found=found,
        images=adversarial,
        labels=labels,
        predictions=np.argmax(classifier._log_probabilities(adversarial), axis=1),
        max_epsilon=max_epsilon,
        tolerance=tolerance,
        pixel_range=pixel_range,
        norm=norm,
    )


def _check_epsilons(epsilons) -> list[float]:
    """A list (or 1-D array) of 1 to 1,000 real, finite numbers; the caller checks their range."""
    if not isinstance(epsilons, (Sequence, np.ndarray)) or isinstance(epsilons, (str, bytes)):
        raise TypeError(
            f"Expected `epsilons` to be a list of numbers. Received: epsilons={epsilons!r}"
        )
    budgets = validation.check_array("epsilons", epsilons, ndim=1)
    if len(budgets) > MAX_EPSILONS:
        raise ValueError(
            f"Expected `epsilons` to hold 1 to {MAX_EPSILONS:,} budgets. "
            f"Received: epsilons with {len(budgets):,} values"
        )
    return [float(value) for value in budgets]


def accuracy_under_attack(
    model,
    images,
    labels,
    epsilons: Sequence[float],
    attack: str = "fgsm",
    *,
    norm: str = "linf",
    steps: int = 10,
    seed: int = 0,
    output: str = "logits",
    pixel_range: tuple[float, float] = (0.0, 1.0),
    batch_size: int = 128,
) -> np.ndarray:
    """The model's accuracy on attacked images, for each epsilon: the curve of the lecture.

    Introduced in: book/18_adversarial_attacks.ipynb

    Args:
        model, images, output, pixel_range, batch_size: as for :func:`fgsm`.
        labels: ``(n,)`` the true classes, integers from 0 to the number of classes - 1.
        epsilons: a list or 1-D array of 1 to 1,000 budgets in ``pixel_range`` units, each
            bounded as :func:`fgsm`'s ``epsilon`` (0 gives the clean accuracy).
        attack: ``"fgsm"`` (one gradient for all epsilons), ``"basic_iterative"``
            or ``"pgd"``, with ``steps`` steps (see :func:`smallest_epsilon`).
        norm, steps, seed: as for :func:`smallest_epsilon`.

    Returns:
        ``(len(epsilons),)`` accuracies in [0, 1], float64.

    Example:
        >>> accuracies = accuracy_under_attack(model, x_test, y_test, [0, 0.05, 0.1, 0.2, 0.3])
    """
    if labels is None:
        raise ValueError("Expected `labels` to hold the true classes. Received: labels=None")
    budgets = _check_epsilons(epsilons)
    classifier, images, labels, attack, norm, steps, seed = _check_search(
        model, images, labels, attack, norm, steps, seed, output, pixel_range, batch_size,
        name="attack",
    )
    budgets = [check_epsilon("epsilons", value, classifier.pixel_range, norm, images.shape[1:])
               for value in budgets]  # fmt: skip
    labels, _, attacked = _search_attack(classifier, images, labels, attack, norm, steps, seed)
    accuracies = []
    for epsilon in budgets:
        attacked_images = attacked(np.float32(epsilon))
        predictions = np.argmax(classifier._log_probabilities(attacked_images), axis=1)
        accuracies.append(float(np.mean(predictions == labels)))
    return np.asarray(accuracies)
