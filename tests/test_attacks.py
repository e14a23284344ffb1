"""coursepkg.attacks against hand-worked linear models, finite differences and the attacks' own guarantees."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
from scipy.special import softmax

from coursepkg import attacks
from coursepkg.pretrained import PretrainedNetwork, scale_to_unit


def linear_model(weights: np.ndarray, bias: np.ndarray, activation=None) -> keras.Model:
    """``x @ weights + bias`` on flattened inputs (with ``activation="softmax"``: probabilities)."""
    features, classes = weights.shape
    model = keras.Sequential([keras.Input((features,)), keras.layers.Dense(classes, activation=activation)])
    model.layers[0].set_weights([weights.astype(np.float32), bias.astype(np.float32)])
    return model


@pytest.fixture(scope="module")
def linear():
    rng = np.random.default_rng(0)
    weights, bias = rng.normal(size=(12, 4)), rng.normal(size=4) * 0.1
    images = rng.uniform(0.3, 0.7, size=(16, 12)).astype(np.float32)
    return linear_model(weights, bias), weights, bias, images


def small_conv_model() -> keras.Model:
    """A small network of 5 classes on (6, 6, 2) images, random weights fixed by a seed."""
    keras.utils.set_random_seed(3)
    return keras.Sequential([
        keras.Input((6, 6, 2)),
        keras.layers.Conv2D(4, 3, padding="same", activation="tanh"),
        keras.layers.Flatten(),
        keras.layers.Dense(5),
    ])  # fmt: skip


def small_conv_images() -> np.ndarray:
    """Ten uniform (6, 6, 2) images in [0, 1]."""
    return np.random.default_rng(1).uniform(0.0, 1.0, size=(10, 6, 6, 2)).astype(np.float32)


conv_model = pytest.fixture(small_conv_model, scope="module", name="conv_model")
conv_images = pytest.fixture(small_conv_images, scope="module", name="conv_images")


def numpy_probabilities(weights, bias, images):
    return softmax(images.astype(np.float64) @ weights + bias, axis=1)


# --------------------------------------------------------------------------- FGSM on a linear model


@pytest.mark.parametrize("targeted", [False, True])
def test_fgsm_on_a_linear_model_is_epsilon_times_the_sign_of_the_weight_gradient(linear, targeted):
    model, weights, bias, images = linear
    epsilon = 0.05
    probabilities = numpy_probabilities(weights, bias, images)
    labels = (np.argmax(probabilities, axis=1) + (1 if targeted else 0)) % 4
    # d(cross-entropy of y)/dx = W (p - e_y): the weights of the other classes minus those of y, weighted by p
    gradient = (probabilities - np.eye(4)[labels]) @ weights.T
    expected = epsilon * np.sign(-gradient if targeted else gradient)
    result = attacks.fgsm(model, images, labels, epsilon, targeted=targeted)
    np.testing.assert_allclose(result.perturbation, expected, atol=1e-6)
    np.testing.assert_allclose(result.images, images + expected, atol=1e-6)
    assert result.targeted is targeted and result.epsilon == epsilon and result.norm == "linf"
    np.testing.assert_array_equal(result.labels, labels)
    assert result.success.dtype == bool and result.success.shape == (16,)
    np.testing.assert_array_equal(result.original_predictions, np.argmax(probabilities, axis=1))
    adversarial = numpy_probabilities(weights, bias, images + expected)
    np.testing.assert_array_equal(result.predictions, np.argmax(adversarial, axis=1))
    np.testing.assert_allclose(result.confidence, adversarial.max(axis=1), rtol=1e-4)
    goal = result.predictions == labels if targeted else result.predictions != labels
    np.testing.assert_array_equal(result.success, goal)


def test_fgsm_l2_step_is_epsilon_along_the_normalised_gradient(linear):
    model, weights, bias, images = linear
    labels = np.argmax(numpy_probabilities(weights, bias, images), axis=1)
    gradient = (numpy_probabilities(weights, bias, images) - np.eye(4)[labels]) @ weights.T
    expected = 0.2 * gradient / np.linalg.norm(gradient, axis=1, keepdims=True)
    result = attacks.fgsm(model, images, None, 0.2, norm="l2")
    np.testing.assert_allclose(result.perturbation, expected, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(result.perturbation, axis=1), 0.2, rtol=1e-5)


def test_probability_outputs_give_the_same_attack_as_logits(linear):
    model, weights, bias, images = linear
    softmax_model = linear_model(weights, bias, activation="softmax")
    from_logits = attacks.pgd(model, images, None, 0.1, steps=3, seed=4)
    from_probabilities = attacks.pgd(softmax_model, images, None, 0.1, steps=3, seed=4, output="probabilities")
    np.testing.assert_allclose(from_probabilities.images, from_logits.images, atol=1e-6)


def test_probabilities_declared_as_logits_are_accepted_with_a_warning(linear):
    _, weights, bias, images = linear
    softmax_model = linear_model(weights, bias, activation="softmax")
    with pytest.warns(UserWarning, match="look like probabilities.*output='probabilities'"):
        result = attacks.fgsm(softmax_model, images, None, 0.05)
    assert np.all(result.confidence < 0.5)  # the softmax of probabilities: flattened, as the warning says


def test_pixel_units_scale_epsilon_and_pretrained_networks_read_pixels(linear):
    model, weights, bias, images = linear
    unit = attacks.fgsm(model, images, None, 8 / 255)
    raw = attacks.fgsm(lambda x: model(x / 255.0), images * 255, None, 8.0, pixel_range=(0.0, 255.0))
    np.testing.assert_allclose(raw.perturbation, unit.perturbation * 255, atol=1e-4)
    assert "8/255" in str(unit) and "8/255" in str(raw) and "[0, 255]" in str(raw)
    network = PretrainedNetwork("toy", model, scale_to_unit, lambda scores, top=5: [], None, 12, True, "here")
    for pixel_range, scale in (((0.0, 1.0), 1.0), ((0.0, 255.0), 255.0)):
        result = attacks.fgsm(network, images * scale, None, 8 / 255 * scale, pixel_range=pixel_range)
        np.testing.assert_allclose(result.perturbation, unit.perturbation * scale, atol=1e-4)
    assert "= 8/255" in attacks.epsilon_text(16 / 255, (-1.0, 1.0))


# --------------------------------------------------------------------------- gradients


def test_gradients_match_central_differences_and_return_the_log_probabilities(conv_model, conv_images):
    classifier = attacks.as_classifier(conv_model)
    images = conv_images[:3]
    weights = np.random.default_rng(2).normal(size=(3, 5)).astype(np.float32)
    log_probabilities, gradient = classifier.gradient(images, weights)
    np.testing.assert_allclose(log_probabilities, classifier.log_probabilities(images), atol=1e-5)

    def objective(batch):
        return float(np.sum(weights.astype(np.float64) * classifier.log_probabilities(batch)))

    step = 1e-2
    for index in [(0, 1, 2, 0), (1, 5, 0, 1), (2, 3, 3, 1)]:
        up, down = images.copy(), images.copy()
        up[index] += step
        down[index] -= step
        numeric = (objective(up) - objective(down)) / (2 * step)
        np.testing.assert_allclose(gradient[index], numeric, rtol=2e-2, atol=2e-3)


def test_classifiers_are_kept_with_their_compiled_gradients(conv_model):
    first = attacks.as_classifier(conv_model, batch_size=4)
    assert attacks.as_classifier(conv_model) is first
    assert attacks.as_classifier(conv_model, output="probabilities") is not first


def test_attacks_follow_weights_changed_between_calls():
    """Adversarial training changes the weights between attacks, while the compiled gradient is kept."""
    rng = np.random.default_rng(8)
    model = keras.Sequential([keras.layers.Dense(3)])  # no Input: built (and its variables made) at its first call
    images = rng.uniform(0.3, 0.7, size=(6, 5)).astype(np.float32)
    attacks.fgsm(model, images, None, 0.1)
    for _ in range(2):
        weights, bias = rng.normal(size=(5, 3)), rng.normal(size=3)
        model.layers[0].set_weights([weights.astype(np.float32), bias.astype(np.float32)])
        probabilities = numpy_probabilities(weights, bias, images)
        labels = np.argmax(probabilities, axis=1)
        expected = 0.1 * np.sign((probabilities - np.eye(3)[labels]) @ weights.T)
        np.testing.assert_allclose(attacks.fgsm(model, images, None, 0.1).perturbation, expected, atol=1e-6)


def test_batches_give_the_same_result_as_one_call(conv_model, conv_images):
    whole = attacks.pgd(conv_model, conv_images, None, 0.1, steps=3)
    pieces = attacks.pgd(conv_model, conv_images, None, 0.1, steps=3, batch_size=3)
    np.testing.assert_allclose(pieces.images, whole.images, atol=1e-6)


# --------------------------------------------------------------------------- projections and iterations


@pytest.mark.parametrize("norm, epsilon", [("linf", 0.08), ("l2", 0.5)])
def test_pgd_stays_in_the_ball_and_in_the_pixel_range(conv_model, conv_images, norm, epsilon):
    result = attacks.pgd(conv_model, conv_images, None, epsilon, norm=norm, steps=5, step_size=0.3)
    norms = attacks.perturbation_norms(result.perturbation, norm)
    assert np.all(norms <= epsilon * (1 + 1e-5))
    assert np.max(norms) >= 0.9 * epsilon  # large steps reach the border of the ball
    assert result.images.min() >= 0.0 and result.images.max() <= 1.0
    np.testing.assert_allclose(result.perturbation, result.images - conv_images, atol=1e-7)
    again = attacks.pgd(conv_model, conv_images, None, epsilon, norm=norm, steps=5, step_size=0.3)
    np.testing.assert_array_equal(again.images, result.images)  # the seed fixes the random start
    other = attacks.pgd(conv_model, conv_images, None, epsilon, norm=norm, steps=1, step_size=0.0, seed=1)
    assert not np.array_equal(other.images, conv_images)  # a random start, kept by a step of zero
    assert np.all(attacks.perturbation_norms(other.perturbation, norm) <= epsilon * (1 + 1e-5))


def test_pgd_without_random_start_is_the_basic_iterative_method(conv_model, conv_images):
    bim = attacks.basic_iterative(conv_model, conv_images, None, 8 / 255, step_size=2 / 255, steps=4)
    same = attacks.pgd(conv_model, conv_images, None, 8 / 255, steps=4, step_size=2 / 255, random_start=False)
    np.testing.assert_array_equal(bim.images, same.images)
    assert "BIM" in bim.attack and "4 steps" in bim.attack


def test_basic_iterative_defaults_follow_kurakin_et_al(conv_model, conv_images):
    result = attacks.basic_iterative(conv_model, conv_images, None, 8 / 255)
    assert "10 steps of 0.003922" in result.attack  # min(8 + 4, 1.25 * 8) = 10 steps of 1/255
    assert np.all(np.abs(result.perturbation) <= 8 / 255 + 1e-6)


def test_targeted_attacks_move_towards_the_target(conv_model, conv_images):
    classifier = attacks.as_classifier(conv_model)
    before = classifier.log_probabilities(conv_images)
    targets = np.argmin(before, axis=1)
    result = attacks.pgd(conv_model, conv_images, targets, 0.05, steps=5, targeted=True, random_start=False)
    after = classifier.log_probabilities(result.images)
    rows = np.arange(len(targets))
    assert np.all(after[rows, targets] > before[rows, targets])
    strong = attacks.basic_iterative(conv_model, conv_images, targets, 0.5, step_size=0.05, steps=20, targeted=True)
    assert strong.success_rate == 1.0 and np.array_equal(strong.predictions, targets)


def test_untargeted_iterations_lower_the_true_class(conv_model, conv_images):
    classifier = attacks.as_classifier(conv_model)
    before = classifier.log_probabilities(conv_images)
    labels = np.argmax(before, axis=1)
    result = attacks.basic_iterative(conv_model, conv_images, labels, 0.05, steps=5, step_size=0.01)
    after = classifier.log_probabilities(result.images)
    assert np.all(after[np.arange(10), labels] < before[np.arange(10), labels])


def test_iterative_least_likely_targets_the_least_likely_class(conv_model, conv_images):
    least_likely = np.argmin(attacks.as_classifier(conv_model).log_probabilities(conv_images), axis=1)
    result = attacks.iterative_least_likely(conv_model, conv_images, 0.5, step_size=0.05, steps=20)
    assert result.targeted
    np.testing.assert_array_equal(result.labels, least_likely)
    np.testing.assert_array_equal(result.success, result.predictions == least_likely)
    assert result.success_rate > 0.5


# --------------------------------------------------------------------------- epsilon searches


def binary_linear(direction: np.ndarray, offset: float) -> keras.Model:
    """Class 1 when ``x . direction + offset > 0``: logits ``(0, x . direction + offset)``."""
    weights = np.stack([np.zeros_like(direction), direction], axis=1)
    return linear_model(weights, np.array([0.0, offset]))


def test_smallest_fgsm_epsilon_of_a_linear_model_is_margin_over_l1_norm():
    rng = np.random.default_rng(5)
    direction = rng.normal(size=20)
    images = rng.uniform(0.45, 0.55, size=(12, 20)).astype(np.float32)
    offset = -float(np.median(images @ direction))
    model = binary_linear(direction, offset)
    margins = np.abs(images.astype(np.float64) @ direction + offset)
    expected = margins / np.abs(direction).sum()  # FGSM moves every pixel by epsilon against the margin
    assert expected.max() < 0.4  # no pixel leaves [0, 1]: the formula holds exactly
    search = attacks.smallest_epsilon(model, images, max_epsilon=0.4, tolerance=1e-4)
    assert np.all(search.found)
    assert np.all(search.epsilons >= expected - 1e-5) and np.all(search.epsilons <= expected + 1e-4 + 1e-5)
    np.testing.assert_array_equal(search.predictions, 1 - search.labels)
    assert "found for 12 of 12" in str(search)


def test_smallest_epsilon_reports_unreachable_images_without_infinities():
    direction = np.ones(4)
    images = np.array([[0.5] * 4, [0.9] * 4, [0.1] * 4], dtype=np.float32)
    model = binary_linear(direction, -2.0)  # margins 0, 1.6, -1.6: only the first is within reach
    search = attacks.smallest_epsilon(model, images, max_epsilon=0.05, tolerance=1e-3)
    assert np.all(np.isfinite(search.epsilons))
    np.testing.assert_array_equal(search.found, [True, False, False])
    assert search.epsilons[0] <= 1e-3
    np.testing.assert_array_equal(search.epsilons[1:], 0.05)
    np.testing.assert_array_equal(search.images[1:], images[1:])  # unchanged where not found
    already = attacks.smallest_epsilon(model, images[1:], labels=np.array([0, 1]), max_epsilon=0.05)
    np.testing.assert_array_equal(already.epsilons, 0.0)  # misclassified already: epsilon 0
    assert np.all(already.found)


@pytest.mark.parametrize("method", ["basic_iterative", "pgd"])
def test_smallest_epsilon_of_iterative_methods_fools_the_model(conv_model, conv_images, method):
    search = attacks.smallest_epsilon(conv_model, conv_images[:4], method=method, steps=3, tolerance=0.01)
    predictions = np.argmax(attacks.as_classifier(conv_model).log_probabilities(search.images), axis=1)
    assert np.all(predictions[search.found] != search.labels[search.found])
    assert np.all(attacks.perturbation_norms(search.images - conv_images[:4]) <= search.epsilons + 1e-6)


def test_accuracy_under_attack_matches_fgsm_at_each_epsilon(linear):
    model, weights, bias, images = linear
    labels = np.argmax(numpy_probabilities(weights, bias, images), axis=1)
    labels[:4] = (labels[:4] + 1) % 4  # a clean accuracy of 75%
    epsilons = [0.0, 0.01, 0.05, 0.1]
    accuracies = attacks.accuracy_under_attack(model, images, labels, epsilons)
    assert accuracies.shape == (4,) and accuracies[0] == 0.75
    for epsilon, accuracy in zip(epsilons, accuracies):
        result = attacks.fgsm(model, images, labels, epsilon)
        assert accuracy == np.mean(result.predictions == labels)
    assert np.all(np.diff(accuracies) <= 0)
    pgd_accuracies = attacks.accuracy_under_attack(model, images, labels, [0.0, 0.1], attack="pgd", steps=5)
    assert pgd_accuracies[0] == 0.75 and pgd_accuracies[1] < 0.75


# --------------------------------------------------------------------------- bad arguments


def logits_of(model):
    return lambda x: model(x)


@pytest.mark.parametrize(
    "change, error, match",
    [
        ({"epsilon": -0.1}, ValueError, r"`epsilon`.*Received: epsilon=-0.1"),
        ({"epsilon": 1.5}, ValueError, r"`epsilon`.*\[0.0, 1.0\]. Received: epsilon=1.5"),
        ({"epsilon": math.nan}, ValueError, r"`epsilon`.*Received: epsilon=nan"),
        ({"epsilon": "0.1"}, TypeError, r"`epsilon`"),
        ({"targeted": "no"}, TypeError, r"`targeted` to be a boolean"),
        ({"labels": np.zeros((16, 1), dtype=int)}, ValueError, r"`labels` to have shape \(16,\)"),
        ({"labels": np.zeros(15, dtype=int)}, ValueError, r"`labels` to have shape \(16,\)"),
        ({"labels": np.full(16, 4)}, ValueError, r"`labels` to hold classes in \[0, 4\)"),
        ({"labels": np.full(16, -1)}, ValueError, r"`labels` to hold classes"),
        ({"labels": np.zeros(16)}, TypeError, r"`labels` to be integer class indices"),
        ({"output": "softmax"}, ValueError, r"`output` to be one of"),
        ({"output": "probabilities"}, ValueError, r"declared by `output`.*output='probabilities'"),
        ({"pixel_range": (1.0, 0.0)}, ValueError, r"`pixel_range`.*low < high"),
        ({"pixel_range": (0.0, math.nan)}, ValueError, r"`pixel_range`"),
        ({"pixel_range": (0.0, 1.0, 2.0)}, TypeError, r"`pixel_range` to be a pair"),
        ({"pixel_range": "0-1"}, TypeError, r"`pixel_range` to be a pair"),
        ({"pixel_range": (0.0, 0.5)}, ValueError, r"`images` to hold values in \[0, 0.5\]"),
        ({"norm": "l1"}, ValueError, r"`norm` to be one of"),
        ({"batch_size": 0}, ValueError, r"`batch_size`"),
    ],
)  # fmt: skip
def test_fgsm_errors_name_the_argument(linear, change, error, match):
    model, _, _, images = linear
    arguments = {"labels": None, "epsilon": 0.1, **change}
    with pytest.raises(error, match=match):
        attacks.fgsm(model, images, **arguments)


@pytest.mark.parametrize(
    "images, error, match",
    [
        (np.full((2, 12), np.nan, dtype=np.float32), ValueError, "`images` to hold finite values"),
        (np.full((2, 12), 1.5, dtype=np.float32), ValueError, r"`images` to hold values in \[0, 1\]"),
        (np.zeros(12, dtype=np.float32), ValueError, "`images` to be a non-empty array"),
        (np.zeros((2, 12), dtype=bool), TypeError, "`images` to be an array of real numbers"),
        ([["a"] * 12], TypeError, "`images` to be an array of real numbers"),
    ],
)  # fmt: skip
def test_bad_images_are_refused(linear, images, error, match):
    with pytest.raises(error, match=match):
        attacks.fgsm(linear[0], images, None, 0.1)


def test_other_bad_arguments_name_themselves(linear):
    model, _, _, images = linear
    with pytest.raises(ValueError, match=r"`labels` to hold the target classes.*Received: labels=None"):
        attacks.fgsm(model, images, None, 0.1, targeted=True)
    with pytest.raises(ValueError, match=r"`steps` to be an integer in \[1, 10000\]"):
        attacks.pgd(model, images, None, 0.1, steps=0)
    with pytest.raises(TypeError, match="`random_start` to be a boolean"):
        attacks.pgd(model, images, None, 0.1, random_start=1)
    with pytest.raises(ValueError, match=r"`step_size`.*Received: step_size=-0.01"):
        attacks.basic_iterative(model, images, None, 0.1, step_size=-0.01)
    with pytest.raises(ValueError, match=r"`epsilon`.*Received: epsilon=4.0"):
        attacks.pgd(model, images, None, 4.0, norm="l2")  # L2: at most sqrt(12) for 12 pixels in [0, 1]
    with pytest.raises(TypeError, match="`model` to be callable"):
        attacks.fgsm("model", images, None, 0.1)
    with pytest.raises(ValueError, match="`model` to return one row of class scores"):
        attacks.fgsm(lambda x: keras.ops.sum(x, axis=1), images, None, 0.1)
    with pytest.raises(ValueError, match="`max_epsilon`"):
        attacks.smallest_epsilon(model, images, max_epsilon=0.0)
    with pytest.raises(ValueError, match="`method` to be one of"):
        attacks.smallest_epsilon(model, images, method="deepfool")
    with pytest.raises(ValueError, match=r"norm='linf' with method='basic_iterative'"):
        attacks.smallest_epsilon(model, images, method="basic_iterative", norm="l2")
    with pytest.raises(ValueError, match="`epsilons`"):
        attacks.accuracy_under_attack(model, images, np.zeros(16, dtype=int), [0.1, 2.0])
    with pytest.raises(ValueError, match="`attack` to be one of"):
        attacks.accuracy_under_attack(model, images, np.zeros(16, dtype=int), [0.1], attack="cw")
    with pytest.raises(TypeError, match="`epsilons` to be a list"):
        attacks.accuracy_under_attack(model, images, np.zeros(16, dtype=int), 0.1)
    with pytest.raises(ValueError, match="`labels` to hold the true classes"):
        attacks.accuracy_under_attack(model, images, None, [0.1])


# --------------------------------------------------------------------------- issue 16: bad arguments


def counting_model(calls: list):
    """A logits function of (n, 12) images that records each call."""

    def model(images):
        calls.append(len(images))
        total = keras.ops.sum(images, axis=1)
        return keras.ops.stack([total, -total], axis=1)

    return model


ZEROS = np.zeros(16, dtype=int)


@pytest.mark.parametrize(
    "attack, arguments, error, match",
    [
        (attacks.fgsm, (np.zeros((16, 1), dtype=int), 0.1), ValueError, r"`labels` to have shape \(16,\)"),
        (attacks.fgsm, (np.array([[0, 1], [2]], dtype=object), 0.1), TypeError, "`labels`"),
        (attacks.pgd, (None, 0.1, "linf", None), TypeError, "`steps`"),  # was taken as Kurakin's rule
        (attacks.smallest_epsilon, (np.full(16, -1),), ValueError, "`labels`"),
        (attacks.accuracy_under_attack, (ZEROS, []), ValueError, "`epsilons` to be non-empty"),
        (attacks.accuracy_under_attack, (ZEROS, [[0.1]]), ValueError, "`epsilons` to have 1 axes"),
        (attacks.accuracy_under_attack, (ZEROS, [0.1] * 1001), ValueError, "`epsilons` to hold 1 to 1,000"),
    ],
)  # fmt: skip
def test_bad_arguments_are_refused_before_the_model_is_called(linear, attack, arguments, error,
                                                             match):
    calls = []
    with pytest.raises(error, match=match):
        attack(counting_model(calls), linear[3], *arguments)
    assert calls == []


def test_classifier_checks_its_arguments_and_the_images_it_is_given(conv_model, conv_images):
    with pytest.raises(ValueError, match="`output` to be one of"):
        attacks.Classifier(conv_model, "softmax", (0.0, 1.0))  # was accepted, read as probabilities
    with pytest.raises(ValueError, match="`pixel_range`"):
        attacks.Classifier(conv_model, "logits", (0.0, math.inf))
    with pytest.raises(TypeError, match="`model` to be callable"):
        attacks.Classifier(3, "logits", (0.0, 1.0))
    classifier = attacks.as_classifier(conv_model)
    with pytest.raises(TypeError, match="`images` to be an array of real numbers"):
        classifier.log_probabilities(["a"] * 3)
    with pytest.raises(ValueError, match=r"`images` to hold values in \[0, 1\]"):
        classifier.gradient(conv_images + 2.0, np.zeros((10, 5)))
    with pytest.raises(ValueError, match="`weights` to have one column per class, 5"):
        classifier.gradient(conv_images, np.zeros((10, 4)))
    with pytest.raises(ValueError, match="`weights` to have one row per image, 10"):
        classifier.gradient(conv_images, np.zeros((3, 5)))


def test_helpers_refuse_what_they_used_to_misread():
    perturbation = np.full((2, 3), 0.5)
    with pytest.raises(ValueError, match="`norm` to be one of"):
        attacks.perturbation_norms(perturbation, "l1")  # was read as L2
    with pytest.raises(ValueError, match="`norm` to be one of"):
        attacks.check_epsilon("epsilon", 0.1, (0.0, 1.0), "l1", (3,))  # was bounded as L2
    with pytest.raises(ValueError, match="`labels` to hold classes in"):
        attacks.one_hot(np.array([0, -1]), 4)  # was the last class, by NumPy's negative index
    with pytest.raises(ValueError, match="`classes`"):
        attacks.one_hot(np.array([0]), 0)
    with pytest.raises(ValueError, match="`epsilon`.*Received: epsilon=nan"):
        attacks.project(perturbation, math.nan, "linf")  # was NaN perturbations
    with pytest.raises(ValueError, match=r"`epsilon` to be one number or one per image, \(2,\)"):
        attacks.project(perturbation, [0.1, 0.2, 0.3], "l2")
    with pytest.raises(ValueError, match="`epsilon`.*Received: epsilon=nan"):
        attacks.epsilon_text(math.nan, (0.0, 1.0))
    with pytest.raises(ValueError, match="`norm` to be one of"):
        attacks.epsilon_text(0.1, (0.0, 1.0), "l1")  # was a KeyError
    projected = attacks.project(perturbation, np.array([0.1, 1.0]), "linf")
    np.testing.assert_allclose(projected, [[0.1] * 3, [0.5] * 3])
    np.testing.assert_array_equal(attacks.one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
