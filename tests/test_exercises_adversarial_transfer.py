"""The exercises of book/19_adversarial_transfer.ipynb: references checked against independent
computations, right answers pass, wrong answers fail without giving the answer away."""

from __future__ import annotations

import numpy as np
import pytest

from coursepkg.checking import evaluate, exercises
from coursepkg.exercises import adversarial_transfer

CHAPTER = "book/19_adversarial_transfer.ipynb"
IDS = (
    "adversarial_transfer.destruction_rate",
    "adversarial_transfer.jacobian_queries",
    "adversarial_transfer.snr_db",
    "adversarial_transfer.svm_margin_gradient",
)


def test_the_chapter_registers_its_exercises():
    registered = {item.id: item for item in exercises("adversarial_transfer")}
    assert set(registered) == set(IDS)
    assert all(item.chapter == CHAPTER for item in registered.values())


# --------------------------------------------------------------------------- right answers


def destruction_rate_answer(labels, clean, adversarial, transformed):
    counted = (clean == labels) & (adversarial != labels)
    return np.sum(counted & (transformed == labels)) / np.sum(counted)


def snr_answer(recording, perturbation):
    return 10 * np.log10(np.sum(np.square(recording)) / np.sum(np.square(perturbation)))


def svm_margin_gradient_answer(x, weights, bias, label):
    scores = weights @ x + bias
    others = [k for k in range(len(scores)) if k != label]
    runner_up = others[int(np.argmax(scores[others]))]
    return weights[runner_up] - weights[label]


RIGHT = {
    "adversarial_transfer.destruction_rate": destruction_rate_answer,
    "adversarial_transfer.jacobian_queries": 150 * 2**6,
    "adversarial_transfer.snr_db": snr_answer,
    "adversarial_transfer.svm_margin_gradient": svm_margin_gradient_answer,
}


@pytest.mark.parametrize("exercise_id", IDS)
def test_right_answer_passes(exercise_id):
    result = evaluate(exercise_id, RIGHT[exercise_id])
    assert result.passed, result.feedback()


def test_right_answers_in_other_forms_pass():
    assert evaluate("adversarial_transfer.jacobian_queries", 9600.0).passed
    assert evaluate("adversarial_transfer.jacobian_queries", np.int64(9600)).passed
    as_percent_of_one = lambda *arrays: np.float32(destruction_rate_answer(*arrays))  # noqa: E731
    assert evaluate("adversarial_transfer.destruction_rate", as_percent_of_one).passed
    assert evaluate("adversarial_transfer.snr_db", lambda x, d: np.array([snr_answer(x, d)])).passed
    as_list = lambda *arguments: svm_margin_gradient_answer(*arguments).tolist()  # noqa: E731
    assert evaluate("adversarial_transfer.svm_margin_gradient", as_list).passed


def test_unanswered_and_function_stubs_are_not_attempted():
    for exercise_id in IDS:
        result = evaluate(exercise_id, ...)
        assert not result.passed and not result.attempted

    def stub(*arguments):
        return ...

    for exercise_id in IDS:
        if exercise_id == "adversarial_transfer.jacobian_queries":
            continue
        result = evaluate(exercise_id, stub)
        assert not result.passed and not result.attempted, exercise_id


# --------------------------------------------------------------------------- references against independent computations


def test_destruction_rate_reference_against_kurakin_sums():
    """Kurakin et al.'s formula written as two sums over the images, one image at a time."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        labels = rng.integers(0, 4, size=30)
        clean, adversarial, transformed = (rng.integers(0, 4, size=30) for _ in range(3))
        clean[:3], adversarial[:3] = labels[:3], (labels[:3] + 1) % 4  # at least three images counted
        numerator = sum(int(c == y) * (1 - int(a == y)) * int(t == y)
                        for y, c, a, t in zip(labels, clean, adversarial, transformed))
        denominator = sum(int(c == y) * (1 - int(a == y)) for y, c, a in zip(labels, clean, adversarial))
        expected = numerator / denominator
        assert adversarial_transfer.destruction_rate(labels, clean, adversarial, transformed) == pytest.approx(expected)


def test_jacobian_queries_reference_against_train_substitute():
    """The count of the package's own substitute training, on a tiny oracle."""
    import keras

    from coursepkg.blackbox import train_substitute

    rng = np.random.default_rng(0)
    seeds = rng.random((3, 4, 4)).astype(np.float32)

    def build():
        return keras.Sequential([keras.Input((4, 4)), keras.layers.Flatten(), keras.layers.Dense(3)])

    def oracle(images):
        return (np.asarray(images).reshape(len(images), -1).sum(axis=1) > 8).astype(int)

    trained = train_substitute(oracle, seeds, build, query_budget=100, augmentation_rounds=2, epochs=1, seed=0)
    assert trained.queries == adversarial_transfer.jacobian_queries(seeds=3, rounds=2) == 12
    assert adversarial_transfer.jacobian_queries() == 9600


def test_snr_reference_against_noise_added_at_a_known_ratio():
    """coursepkg.add_noise scales its noise so that the energies' ratio is exactly the SNR asked for."""
    import keras

    from coursepkg.audio_layers import add_noise

    recording = (0.3 * np.sin(np.linspace(0, 300, 4000))).astype(np.float32)[np.newaxis]
    for snr in (0.0, 17.0, 40.0):
        noisy = keras.ops.convert_to_numpy(add_noise(recording, snr, seed=1))
        assert adversarial_transfer.snr_db(recording[0], noisy[0] - recording[0]) == pytest.approx(snr, abs=1e-3)


def test_svm_margin_gradient_reference_against_finite_differences_and_autodiff():
    import keras

    from coursepkg.gradients import value_and_input_gradient

    rng = np.random.default_rng(4)
    weights, bias, x = rng.normal(size=(5, 7)), rng.normal(size=5), rng.random(7)
    w = keras.ops.convert_to_tensor(weights.astype(np.float32))
    b = keras.ops.convert_to_tensor(bias.astype(np.float32))
    for label in range(5):
        scores = weights @ x + bias
        runner_up = max((k for k in range(5) if k != label), key=lambda k: scores[k])

        def margin(point, label=label, runner_up=runner_up):
            values = weights @ point + bias
            return values[runner_up] - values[label]

        step = 1e-6
        finite = np.array([(margin(x + step * unit) - margin(x - step * unit)) / (2 * step) for unit in np.eye(7)])
        reference = adversarial_transfer.svm_margin_gradient(x, weights, bias, label)
        np.testing.assert_allclose(reference, finite, atol=1e-6)

        def backend_margin(point, label=label, runner_up=runner_up):
            values = keras.ops.matmul(w, point) + b
            return values[runner_up] - values[label]

        _, gradient = value_and_input_gradient(backend_margin, x.astype(np.float32))
        np.testing.assert_allclose(reference, gradient, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------- wrong answers fail


def destruction_over_all_images(labels, clean, adversarial, transformed):
    return np.mean(transformed == labels)


def destruction_ignoring_the_clean_condition(labels, clean, adversarial, transformed):
    counted = adversarial != labels
    return np.sum(counted & (transformed == labels)) / np.sum(counted)


def destruction_ignoring_the_attack_condition(labels, clean, adversarial, transformed):
    counted = clean == labels
    return np.sum(counted & (transformed == labels)) / np.sum(counted)


def survival_rate(labels, clean, adversarial, transformed):
    return 1 - destruction_rate_answer(labels, clean, adversarial, transformed)


def destruction_in_percent(labels, clean, adversarial, transformed):
    return 100 * destruction_rate_answer(labels, clean, adversarial, transformed)


def snr_of_amplitudes(recording, perturbation):
    return 20 * np.log10(np.sum(np.square(recording)) / np.sum(np.square(perturbation)))


def snr_of_peaks(recording, perturbation):
    return 20 * np.log10(np.max(np.abs(recording)) / np.max(np.abs(perturbation)))


def snr_upside_down(recording, perturbation):
    return -snr_answer(recording, perturbation)


def gradient_of_the_true_score(x, weights, bias, label):
    return weights[label]


def margin_against_the_top_class(x, weights, bias, label):
    top = int(np.argmax(weights @ x + bias))
    return weights[top] - weights[label]  # zero when the true class scores highest


def margin_the_wrong_way_round(x, weights, bias, label):
    return -svm_margin_gradient_answer(x, weights, bias, label)


def gradient_over_the_classes(x, weights, bias, label):
    return weights[:, 0]  # (classes,) instead of (features,)


@pytest.mark.parametrize(
    "exercise_id, answer, words",
    [
        ("adversarial_transfer.destruction_rate", destruction_over_all_images, "misclassified when clean"),
        ("adversarial_transfer.destruction_rate", destruction_ignoring_the_clean_condition,
         "misclassified when clean: 0.666667 is too large"),
        ("adversarial_transfer.destruction_rate", destruction_ignoring_the_attack_condition,
         "the attack failed on three: 0.833333 is too large"),
        ("adversarial_transfer.destruction_rate", survival_rate, "the attack failed on three: 0.333333 is too small"),
        ("adversarial_transfer.destruction_rate", destruction_in_percent, "too large"),
        ("adversarial_transfer.destruction_rate", 0.5, "function"),
        ("adversarial_transfer.jacobian_queries", 150 * 6, "too small"),
        ("adversarial_transfer.jacobian_queries", 150 * (2**6 - 1), "too small"),
        ("adversarial_transfer.jacobian_queries", 150 * 2**7, "too large"),
        ("adversarial_transfer.jacobian_queries", 9600.5, "whole number"),
        ("adversarial_transfer.jacobian_queries", "9600", "whole number"),
        ("adversarial_transfer.snr_db", snr_of_amplitudes, "too large"),
        ("adversarial_transfer.snr_db", snr_of_peaks, "on a 440 Hz tone"),
        ("adversarial_transfer.snr_db", snr_upside_down, "too small"),
        ("adversarial_transfer.svm_margin_gradient", gradient_of_the_true_score, "values are off"),
        ("adversarial_transfer.svm_margin_gradient", margin_against_the_top_class, "true class scoring highest"),
        ("adversarial_transfer.svm_margin_gradient", margin_the_wrong_way_round, "values are off"),
        ("adversarial_transfer.svm_margin_gradient", gradient_over_the_classes, "shape"),
    ],
)
def test_wrong_answers_fail_with_a_reason(exercise_id, answer, words):
    result = evaluate(exercise_id, answer)
    assert not result.passed and result.attempted
    text = " ".join(result.problems)
    assert words in text, text
    if exercise_id == "adversarial_transfer.jacobian_queries" and "9600" not in str(answer):
        assert "9600" not in text and "9,600" not in text  # the feedback never states the expected value


def test_feedback_never_states_the_expected_number():
    for answer in (survival_rate, destruction_in_percent):
        result = evaluate("adversarial_transfer.destruction_rate", answer)
        text = " ".join(result.problems)
        for arguments, _ in adversarial_transfer._destruction_cases():
            assert f"{adversarial_transfer.destruction_rate(*arguments):.6g}" not in text


def test_a_function_that_raises_is_reported():
    def broken(*arguments):
        raise RuntimeError("boom")

    for exercise_id in IDS:
        if exercise_id == "adversarial_transfer.jacobian_queries":
            continue
        result = evaluate(exercise_id, broken)
        assert not result.passed and "RuntimeError" in " ".join(result.problems), exercise_id


def test_answers_never_see_the_checkers_arrays():
    """A student's function that changes its arguments in place cannot change the references."""

    def vandal(labels, clean, adversarial, transformed):
        rate = destruction_rate_answer(labels, clean, adversarial, transformed)
        labels[:] = -1
        return rate

    assert evaluate("adversarial_transfer.destruction_rate", vandal).passed
