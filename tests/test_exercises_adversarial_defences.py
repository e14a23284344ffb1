"""The exercises of book/20_adversarial_defences.ipynb: references checked against independent
computations, right answers pass, wrong answers fail without giving the answer away."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops

from coursepkg.checking import evaluate, exercises
from coursepkg.exercises import adversarial_defences as defences

CHAPTER = "book/20_adversarial_defences.ipynb"
IDS = (
    "adversarial_defences.training_loss",
    "adversarial_defences.project_linf",
    "adversarial_defences.robust_accuracy",
    "adversarial_defences.detection_rates",
    "adversarial_defences.straight_through",
)


def test_the_chapter_registers_its_exercises():
    registered = {item.id: item for item in exercises("adversarial_defences")}
    assert set(registered) == set(IDS)
    assert all(item.chapter == CHAPTER for item in registered.values())


# --------------------------------------------------------------------------- right answers


def cross_entropies(logits, labels):
    """Per-image cross-entropy by a NumPy log-softmax (max subtracted for stability)."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probabilities[np.arange(len(labels)), labels]


def adversarial_loss_answer(clean_logits, adversarial_logits, labels, alpha):
    clean = cross_entropies(clean_logits, labels).mean()
    adversarial = cross_entropies(adversarial_logits, labels).mean()
    return alpha * clean + (1 - alpha) * adversarial


def project_answer(originals, candidates, epsilon):
    return np.clip(candidates, np.maximum(originals - epsilon, 0.0), np.minimum(originals + epsilon, 1.0))


def robust_accuracy_answer(labels, predictions):
    return float(np.mean(np.all(np.asarray(predictions) == labels, axis=0)))


def detection_rates_answer(clean_scores, adversarial_scores, threshold):
    return float(np.mean(adversarial_scores > threshold)), float(np.mean(clean_scores > threshold))


def straight_through_answer(images):
    return images + ops.stop_gradient(ops.round(images * 7.0) / 7.0 - images)


RIGHT = {
    "adversarial_defences.training_loss": adversarial_loss_answer,
    "adversarial_defences.project_linf": project_answer,
    "adversarial_defences.robust_accuracy": robust_accuracy_answer,
    "adversarial_defences.detection_rates": detection_rates_answer,
    "adversarial_defences.straight_through": straight_through_answer,
}


def test_references_against_independent_computations():
    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(3)
    clean, adversarial = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    labels = rng.integers(0, 4, size=6)
    assert defences.goodfellow_loss(clean, adversarial, labels, 0.25) == pytest.approx(
        adversarial_loss_answer(clean, adversarial, labels, 0.25), rel=1e-5
    )

    originals = rng.random((3, 4, 4, 1)).astype(np.float32)
    candidates = originals + rng.uniform(-0.5, 0.5, size=originals.shape).astype(np.float32)
    projected = defences.project_linf(originals, candidates, 0.2)
    for value, original, candidate in zip(projected.ravel(), originals.ravel(), candidates.ravel()):
        nearest = min(max(candidate, original - 0.2, 0.0), original + 0.2, 1.0)  # pixel by pixel
        assert value == pytest.approx(nearest, abs=1e-6)
    assert np.max(np.abs(projected - originals)) <= 0.2 + 1e-6

    predictions = rng.integers(0, 3, size=(3, 20))
    truth = rng.integers(0, 3, size=20)
    survivors = [all(predictions[row, image] == truth[image] for row in range(3)) for image in range(20)]
    assert defences.robust_accuracy(truth, predictions) == pytest.approx(sum(survivors) / 20)

    clean_scores, adversarial_scores = rng.random(30), rng.random(25)
    truth = np.r_[np.zeros(30), np.ones(25)]
    flagged = np.r_[clean_scores, adversarial_scores] > 0.6
    (true_negative, false_positive), (false_negative, true_positive) = confusion_matrix(truth, flagged)
    assert defences.detection_rates(clean_scores, adversarial_scores, 0.6) == pytest.approx(
        (true_positive / (true_positive + false_negative), false_positive / (false_positive + true_negative))
    )

    images = rng.random(50)
    levels = np.linspace(0.0, 1.0, defences.LEVELS)
    nearest = levels[np.argmin(np.abs(images[:, None] - levels[None, :]), axis=1)]
    np.testing.assert_allclose(defences.quantise(images), nearest)


@pytest.mark.parametrize("exercise_id", IDS)
def test_right_answer_passes(exercise_id):
    result = evaluate(exercise_id, RIGHT[exercise_id])
    assert result.passed, result.feedback()


def test_right_answers_in_other_forms_pass():
    def adversarial_loss_in_keras(clean_logits, adversarial_logits, labels, alpha):
        import keras

        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        return alpha * loss(labels, clean_logits) + (1 - alpha) * loss(labels, adversarial_logits)  # tensors

    def project_in_two_clips(originals, candidates, epsilon):
        return np.clip(originals + np.clip(candidates - originals, -epsilon, epsilon), 0, 1)

    def straight_through_with_levels(images):
        levels = 8
        quantised = ops.round(images * (levels - 1)) / (levels - 1)
        return images - ops.stop_gradient(images) + ops.stop_gradient(quantised)

    assert evaluate("adversarial_defences.training_loss", adversarial_loss_in_keras).passed
    assert evaluate("adversarial_defences.project_linf", project_in_two_clips).passed
    assert evaluate(
        "adversarial_defences.detection_rates", lambda c, a, t: np.array(detection_rates_answer(c, a, t))
    ).passed
    assert evaluate("adversarial_defences.straight_through", straight_through_with_levels).passed


def test_unanswered_and_function_stubs_are_not_attempted():
    for exercise_id in IDS:
        result = evaluate(exercise_id, ...)
        assert not result.passed and not result.attempted

    def stub(*arguments):
        return ...

    for exercise_id in IDS:
        result = evaluate(exercise_id, stub)
        assert not result.passed and not result.attempted, exercise_id


# --------------------------------------------------------------------------- wrong answers fail


def loss_with_alpha_swapped(clean_logits, adversarial_logits, labels, alpha):
    return adversarial_loss_answer(clean_logits, adversarial_logits, labels, 1 - alpha)


def loss_of_probabilities(clean_logits, adversarial_logits, labels, alpha):
    def error(logits):  # 1 - p(label): not a cross-entropy
        probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        return (1 - probabilities[np.arange(len(labels)), labels]).mean()

    return alpha * error(clean_logits) + (1 - alpha) * error(adversarial_logits)


def loss_summed(clean_logits, adversarial_logits, labels, alpha):
    return len(labels) * adversarial_loss_answer(clean_logits, adversarial_logits, labels, alpha)


def project_pixels_only(originals, candidates, epsilon):
    return np.clip(candidates, 0, 1)


def project_ball_only(originals, candidates, epsilon):
    return originals + np.clip(candidates - originals, -epsilon, epsilon)


def project_the_image(originals, candidates, epsilon):
    return np.clip(candidates, -epsilon, epsilon)  # clips the image, not the perturbation


def worst_attack_accuracy(labels, predictions):
    return float(np.min(np.mean(np.asarray(predictions) == labels, axis=1)))


def mean_accuracy(labels, predictions):
    return float(np.mean(np.asarray(predictions) == labels))


def rates_swapped(clean_scores, adversarial_scores, threshold):
    return detection_rates_answer(clean_scores, adversarial_scores, threshold)[::-1]


def rates_with_true_negatives(clean_scores, adversarial_scores, threshold):
    return float(np.mean(adversarial_scores > threshold)), float(np.mean(clean_scores <= threshold))


def quantise_only(images):
    return ops.round(images * 7.0) / 7.0


def quantise_in_numpy(images):
    return np.round(np.asarray(images) * 7.0) / 7.0


def straight_through_of_four_levels(images):
    return images + ops.stop_gradient(ops.round(images * 3.0) / 3.0 - images)


def straight_through_doubled(images):
    return 2.0 * images + ops.stop_gradient(ops.round(images * 7.0) / 7.0 - 2.0 * images)


@pytest.mark.parametrize(
    "exercise_id, answer, words",
    [
        ("adversarial_defences.training_loss", loss_with_alpha_swapped, "alpha = 0.3"),
        ("adversarial_defences.training_loss", loss_of_probabilities, "too small"),
        ("adversarial_defences.training_loss", loss_summed, "too large"),
        ("adversarial_defences.training_loss", 1.25, "function"),
        ("adversarial_defences.project_linf", project_pixels_only, "values are off"),
        ("adversarial_defences.project_linf", project_ball_only, "values are off"),
        ("adversarial_defences.project_linf", project_the_image, "values are off"),
        ("adversarial_defences.robust_accuracy", worst_attack_accuracy, "too large"),
        ("adversarial_defences.robust_accuracy", mean_accuracy, "too large"),
        ("adversarial_defences.detection_rates", rates_swapped, "true-positive rate"),
        ("adversarial_defences.detection_rates", rates_with_true_negatives, "false-positive rate"),
        ("adversarial_defences.detection_rates", lambda c, a, t: 0.9, "pair"),
        ("adversarial_defences.straight_through", quantise_only, "zero everywhere"),
        ("adversarial_defences.straight_through", quantise_in_numpy, "keras.ops"),
        ("adversarial_defences.straight_through", lambda images: images, "values"),
        ("adversarial_defences.straight_through", straight_through_of_four_levels, "values"),
        ("adversarial_defences.straight_through", straight_through_doubled, "identity"),
    ],
)
def test_wrong_answers_fail_with_a_reason(exercise_id, answer, words):
    result = evaluate(exercise_id, answer)
    assert result.attempted and not result.passed
    text = " ".join(result.problems)
    assert words in text, text


def test_feedback_never_states_the_expected_numbers():
    clean, adversarial, labels, alpha = defences._loss_cases()[0][0]
    expected = defences.goodfellow_loss(clean, adversarial, labels, alpha)
    text = " ".join(evaluate("adversarial_defences.training_loss", loss_summed).problems)
    assert f"{expected:.4g}" not in text and f"{expected:.3g}" not in text

    labels, predictions = defences._robust_cases()[0][0]
    expected = defences.robust_accuracy(labels, predictions)
    text = " ".join(evaluate("adversarial_defences.robust_accuracy", mean_accuracy).problems)
    assert f"{expected:.6g}" not in text and f"{expected:.3g}" not in text


def test_a_function_that_raises_is_reported():
    def broken(*arguments):
        raise RuntimeError("boom")

    for exercise_id in IDS:
        result = evaluate(exercise_id, broken)
        assert not result.passed and "RuntimeError" in " ".join(result.problems), exercise_id
