"""The exercises of book/15_descriptors_transfer.ipynb: references checked against Keras and
independent computations, right answers pass, wrong answers fail without giving the answer away."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from coursepkg.checking import evaluate, exercises
from coursepkg.exercises import descriptors as descriptor_exercises

IDS = (
    "descriptors.descriptor_lengths",
    "descriptors.precision_at_k",
    "descriptors.cosine_distance",
    "descriptors.head_parameters",
    "descriptors.frozen_statistics",
)


def feedback_text(result) -> str:
    return " ".join(result.problems) + " " + result.feedback()


def test_the_chapter_registers_its_exercises():
    registered = {item.id: item for item in exercises("descriptors")}
    assert set(registered) == set(IDS)
    assert all(item.chapter == "book/15_descriptors_transfer.ipynb" for item in registered.values())


# --------------------------------------------------------------------------- references


def test_descriptor_lengths_reference_matches_the_arithmetic_and_the_course_builder():
    from coursepkg.convolution import conv_output_size
    from coursepkg.models import vgg16

    side = descriptor_exercises.LENGTHS_INPUT[0]
    for _ in range(4):  # four 2x2 poolings of stride 2 (no padding) below block4_pool
        side = conv_output_size(side, 2, 2)
    assert side == 12  # 200 -> 100 -> 50 -> 25 -> 12: the last pooling drops a row and a column
    assert descriptor_exercises.descriptor_lengths() == (side * side * 512, 512)
    ours = vgg16(include_top=False, input_shape=descriptor_exercises.LENGTHS_INPUT)
    assert tuple(ours.get_layer("block4_pool").output.shape[1:]) == (side, side, 512)


def test_precision_reference_matches_counting_by_hand():
    expected = []
    for k in descriptor_exercises.PRECISION_KS:
        per_query = [
            sum(name == query for name in retrieved[:k]) / k
            for query, retrieved in zip(
                descriptor_exercises.PRECISION_QUERIES, descriptor_exercises.PRECISION_RETRIEVED
            )
        ]
        expected.append(sum(per_query) / len(per_query))
    assert descriptor_exercises.precision_reference() == pytest.approx(tuple(expected))
    assert expected[0] != pytest.approx(expected[1])  # a swapped pair must fail


def test_cosine_reference_matches_numpy_and_the_retrieval_metric():
    from coursepkg.descriptors import nearest_neighbours

    for (first, second), _ in descriptor_exercises._cosine_cases():
        first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
        by_numpy = 1 - first @ second / (np.linalg.norm(first) * np.linalg.norm(second))
        assert descriptor_exercises.cosine_distance(first, second) == pytest.approx(
            by_numpy, abs=1e-12
        )
        _, distances = nearest_neighbours(
            first[np.newaxis], second[np.newaxis], k=1, metric="cosine"
        )
        assert distances[0, 0] == pytest.approx(by_numpy, abs=1e-9)


def test_head_parameters_reference_matches_dense_layer_arithmetic():
    units, classes = descriptor_exercises.HEAD_UNITS, descriptor_exercises.HEAD_CLASSES

    def dense(inputs, outputs):
        return inputs * outputs + outputs

    assert descriptor_exercises.head_trainable_parameters("gap") == dense(512, units) + dense(
        units, classes
    )
    assert descriptor_exercises.head_trainable_parameters("flatten") == dense(
        7 * 7 * 512, units
    ) + dense(units, classes)


def test_batch_norm_cases_are_measured_as_the_chapter_says():
    """Keras 3: a frozen BatchNormalization layer runs in inference mode; model.fit's training=True
    reaches every layer of a functional model, over a recorded training=False; unfreezing a model
    sets every layer inside it trainable. If Keras changes this, the chapter's text must change."""
    assert descriptor_exercises.bn_statistics_frozen() == {
        "A": True,
        "B": True,
        "C": False,
        "D": True,
        "E": False,
    }


def test_batch_norm_cases_are_set_up_as_described():
    for case in descriptor_exercises.BN_CASES:
        _, base = descriptor_exercises._bn_case_model(case)
        batch_norm = base.get_layer("bn")
        assert base.trainable == (case in ("C", "D", "E"))
        assert batch_norm.trainable == (case in ("C", "E"))


# --------------------------------------------------------------------------- right answers pass


def reference_cosine(first, second):
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    return float(1 - first @ second / (np.linalg.norm(first) * np.linalg.norm(second)))


@functools.cache  # computed once per process: collection and tests share it
def right_answers():
    return {
        "descriptors.descriptor_lengths": (12 * 12 * 512, 512),
        "descriptors.precision_at_k": (2 / 3, 8 / 15),
        "descriptors.cosine_distance": reference_cosine,
        "descriptors.head_parameters": (
            512 * 256 + 256 + 256 * 5 + 5,
            7 * 7 * 512 * 256 + 256 + 256 * 5 + 5,
        ),
        "descriptors.frozen_statistics": ["A", "B", "D"],
    }


@pytest.mark.parametrize("exercise_id", IDS)
def test_right_answer_passes(exercise_id):
    result = evaluate(exercise_id, right_answers()[exercise_id])
    assert result.passed, result.feedback()


def test_answers_in_other_forms_pass():
    assert evaluate("descriptors.descriptor_lengths", np.array([73728, 512])).passed
    assert evaluate("descriptors.precision_at_k", [0.6667, 0.5333]).passed  # rounded to 4 digits
    assert evaluate("descriptors.head_parameters", [132613.0, 6424069.0]).passed
    for letters in ("ABD", "a, b, d", ("D", "B", "A"), {"A", "B", "D"}):
        assert evaluate("descriptors.frozen_statistics", letters).passed, letters


@pytest.mark.parametrize("exercise_id", IDS)
def test_unanswered_is_not_attempted(exercise_id):
    result = evaluate(exercise_id, ...)
    assert not result.passed and not result.attempted


def test_function_stub_of_the_notebook_is_not_attempted():
    def stub(first, second):
        return ...

    result = evaluate("descriptors.cosine_distance", stub)
    assert not result.passed and not result.attempted


# --------------------------------------------------------------------------- wrong answers fail


def cosine_similarity(first, second):  # the similarity, not the distance
    return 1 - reference_cosine(first, second)


def floor_division(first, second):  # // instead of /
    return float(1 - np.dot(first, second) // (np.linalg.norm(first) * np.linalg.norm(second)))


def without_norms(first, second):  # forgets to normalise
    return float(1 - np.dot(first, second))


def euclidean(first, second):
    return float(np.linalg.norm(np.asarray(first, np.float64) - second))


@functools.cache
def wrong_answers():
    gap, flatten = right_answers()["descriptors.head_parameters"]
    return [
        ("descriptors.descriptor_lengths", (13 * 13 * 512, 512), "too large"),  # rounding 12.5 up
        ("descriptors.descriptor_lengths", (12 * 12 * 512, 12 * 12), "pooled length"),
        ("descriptors.descriptor_lengths", (512, 12 * 12 * 512), "flattened length"),  # swapped
        ("descriptors.descriptor_lengths", (12, 12, 512), "pair"),
        ("descriptors.descriptor_lengths", 73728, "pair"),
        ("descriptors.precision_at_k", (2, 8), "too large"),  # counts, not fractions
        ("descriptors.precision_at_k", (8 / 15, 2 / 3), "precision at 1"),  # swapped
        ("descriptors.precision_at_k", (2 / 3, 1.0), "precision at 5"),  # "some hit in the top 5"
        ("descriptors.precision_at_k", "2/3", "pair"),
        ("descriptors.cosine_distance", cosine_similarity, "values are off"),
        ("descriptors.cosine_distance", without_norms, "values are off"),
        ("descriptors.cosine_distance", euclidean, "values are off"),
        ("descriptors.cosine_distance", floor_division, "values are off"),
        ("descriptors.cosine_distance", lambda first, second: 1 / 0, "ZeroDivisionError"),
        ("descriptors.cosine_distance", 0.5, "function"),
        ("descriptors.head_parameters", (gap + 14_714_688, flatten + 14_714_688), "too large"),
        ("descriptors.head_parameters", (512 * 256 + 256 * 5, flatten), "too small"),  # no biases
        ("descriptors.head_parameters", (gap, 512 * 256 + 256 + 256 * 5 + 5), "Flatten"),
        ("descriptors.head_parameters", gap, "pair"),
        ("descriptors.frozen_statistics", ["A", "B", "C", "D"], "change the moving statistics"),
        ("descriptors.frozen_statistics", ["A", "B", "D", "E"], "change the moving statistics"),
        ("descriptors.frozen_statistics", ["A", "D"], "missing"),
        ("descriptors.frozen_statistics", ["A", "B", "F"], "not cases"),
        ("descriptors.frozen_statistics", 3, "list"),
    ]


@pytest.mark.parametrize(
    "exercise_id, answer, expected_words",
    wrong_answers(),
    ids=[f"{item[0]}-{index}" for index, item in enumerate(wrong_answers())],
)
def test_wrong_answer_fails_with_specific_feedback(exercise_id, answer, expected_words):
    result = evaluate(exercise_id, answer)
    assert result.attempted and not result.passed
    assert expected_words in feedback_text(result), feedback_text(result)


def expected_strings():
    """The right answers, written the ways feedback could reveal them."""
    flattened, pooled = descriptor_exercises.descriptor_lengths()
    gap, flatten = right_answers()["descriptors.head_parameters"]
    return {
        "descriptors.descriptor_lengths": [str(flattened), f"{flattened:,}"],
        "descriptors.precision_at_k": ["0.666", "0.667", "0.533", "8/15", "2/3"],
        "descriptors.head_parameters": [str(gap), f"{gap:,}", str(flatten), f"{flatten:,}"],
        "descriptors.frozen_statistics": ["'A', 'B', 'D'", "ABD", "C and E", "C, E"],
    }


@pytest.mark.parametrize("exercise_id, answer, _", wrong_answers())
def test_feedback_never_reveals_the_expected_answer(exercise_id, answer, _):
    text = feedback_text(evaluate(exercise_id, answer))
    for revealing in expected_strings().get(exercise_id, []):
        if revealing in repr(answer):  # the student's own value may contain it
            continue
        assert revealing not in text, (exercise_id, revealing, text)
