"""Exercise checks: right answers pass, wrong ones get specific feedback that never gives the answer away.

Right answers are computed here from Keras layers, SciPy or the tested reference
functions, never typed in, so that a wrong constant in a checker shows up.
"""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
import scipy.signal

from coursepkg import checking
from coursepkg.checking import CheckResult, check, evaluate
from coursepkg.convolution import receptive_field


def _conv_model_output_width(size: int, kernel: int, stride: int, padding: int) -> int:
    model = keras.Sequential([
        keras.Input((size, size, 1)),
        keras.layers.ZeroPadding2D(padding),
        keras.layers.Conv2D(1, kernel, strides=stride, kernel_initializer="zeros"),
    ])  # fmt: skip
    return int(model.output_shape[2])


def _keras_conv_params(in_channels: int, filters: int, kernel: int) -> int:
    layer = keras.layers.Conv2D(filters, kernel, kernel_initializer="zeros")
    layer.build((None, 16, 16, in_channels))
    return layer.count_params()


def _layers_for_receptive_field(target: int) -> int:
    return next(n for n in range(1, 100) if receptive_field([3] * n) == target)


def scipy_correlate2d(image, kernel):
    return scipy.signal.correlate2d(image, kernel, mode="valid")


def _shift_right_kernel() -> np.ndarray:
    """Solve for the 3x3 kernel whose 'same' correlation moves every pixel one step right."""
    image = np.random.default_rng(7).normal(size=(6, 8))
    shifted = np.zeros_like(image)
    shifted[:, 1:] = image[:, :-1]
    basis = np.eye(9).reshape(9, 3, 3)
    design = np.stack(
        [scipy.signal.correlate2d(image, b, mode="same").ravel() for b in basis], axis=1
    )
    weights, *_ = np.linalg.lstsq(design, shifted.ravel(), rcond=None)
    return weights.reshape(3, 3)


INTEGER_EXERCISES = {
    "convolution.output_size": lambda: _conv_model_output_width(32, 5, 2, 1),
    "convolution.param_count": lambda: _keras_conv_params(8, 16, 5),
    "convolution.one_by_one": lambda: _keras_conv_params(256, 64, 1),
    "convolution.receptive_field": lambda: _layers_for_receptive_field(11),
}
CORRECT = {
    **INTEGER_EXERCISES,
    "convolution.correlate2d": lambda: scipy_correlate2d,
    "convolution.shift_kernel": _shift_right_kernel,
}


def _mentions(text: str, number: int) -> bool:
    return re.search(rf"(?<![\d.]){number}(?![\d.])", text) is not None


def test_every_convolution_exercise_is_tested_here():
    registered = checking.exercises("convolution")
    assert {item.id for item in registered} == set(CORRECT)
    assert all(item.chapter == "book/01_convolution.ipynb" and item.hint for item in registered)
    assert set(CORRECT) <= {item.id for item in checking.exercises()}


@pytest.mark.parametrize("exercise_id", sorted(CORRECT))
def test_correct_answer_passes(exercise_id):
    result = evaluate(exercise_id, CORRECT[exercise_id]())
    assert isinstance(result, CheckResult)
    assert result.passed and result.attempted and result.problems == [], result.feedback()
    assert result and result.feedback() == f"[PASS] {exercise_id}: correct."


@pytest.mark.parametrize("exercise_id", sorted(INTEGER_EXERCISES))
def test_integer_answers_in_other_numeric_types_pass(exercise_id):
    expected = INTEGER_EXERCISES[exercise_id]()
    for answer in (float(expected), np.int64(expected), np.float32(expected)):
        assert evaluate(exercise_id, answer), type(answer)


@pytest.mark.parametrize("exercise_id", sorted(INTEGER_EXERCISES))
@pytest.mark.parametrize(
    ("offset", "direction"), [(1, "too large"), (-1, "too small"), (7, "too large")]
)
def test_wrong_integer_says_which_way_but_not_the_answer(exercise_id, offset, direction):
    expected = INTEGER_EXERCISES[exercise_id]()
    result = evaluate(exercise_id, expected + offset)
    assert not result and result.attempted
    text = result.feedback()
    assert text.startswith(f"[FAIL] {exercise_id}:") and direction in text and "Hint:" in text
    assert _mentions(text, expected + offset)  # what arrived is shown ...
    assert not _mentions(text, expected)  # ... what is expected is not


@pytest.mark.parametrize("exercise_id", sorted(INTEGER_EXERCISES))
@pytest.mark.parametrize("answer", [2.5, "15", [3, 4], np.nan, True])
def test_non_integer_answers_are_explained(exercise_id, answer):
    result = evaluate(exercise_id, answer)
    assert not result and result.attempted
    assert "whole number" in result.feedback()
    assert not _mentions(
        result.feedback().replace(repr(answer), ""), INTEGER_EXERCISES[exercise_id]()
    )


def test_correlate2d_that_flips_the_kernel_fails():
    def convolve(image, kernel):
        return scipy.signal.convolve2d(image, kernel, mode="valid")

    result = evaluate("convolution.correlate2d", convolve)
    assert not result and result.attempted
    assert "values are off" in result.feedback() and "flip" in result.feedback()  # the hint


def test_correlate2d_with_the_wrong_output_shape_says_so():
    def same_size(image, kernel):
        return scipy.signal.correlate2d(image, kernel, mode="same")

    text = evaluate("convolution.correlate2d", same_size).feedback()
    assert "shape" in text and "(5, 5)" in text and "(3, 3)" in text  # received and expected shapes


def test_correlate2d_that_only_works_for_square_input_names_the_failing_case():
    def square_only(image, kernel):
        kh, kw = kernel.shape
        size = image.shape[0] - kh + 1
        return np.array(
            [
                [np.sum(image[i : i + kh, j : j + kw] * kernel) for j in range(size)]
                for i in range(size)
            ]
        )

    result = evaluate("convolution.correlate2d", square_only)
    assert not result and "6x9" in result.feedback()


def test_student_function_that_raises_gives_a_failed_result():
    def broken(image, kernel):
        return image / 0 if image.size > 100 else 1 // 0

    result = evaluate("convolution.correlate2d", broken)
    assert not result and result.attempted
    assert "ZeroDivisionError" in result.feedback()


def test_student_function_may_modify_its_inputs():
    def correlate_then_scribble(image, kernel):
        result = scipy_correlate2d(image, kernel)
        image[:] = 0
        kernel *= 2
        return result

    assert evaluate("convolution.correlate2d", correlate_then_scribble)


def test_student_function_may_return_a_backend_tensor():
    def as_tensor(image, kernel):
        return keras.ops.convert_to_tensor(scipy_correlate2d(image, kernel).astype("float32"))

    assert evaluate("convolution.correlate2d", as_tensor)  # float32 rounding is within tolerance


def test_correlate2d_answer_that_is_not_a_function():
    text = evaluate("convolution.correlate2d", np.zeros((3, 3))).feedback()
    assert "should be a function" in text


def test_shift_kernel_wrong_direction_and_wrong_shape():
    left = np.fliplr(_shift_right_kernel())
    result = evaluate("convolution.shift_kernel", left)
    assert not result and "values are off" in result.feedback()
    text = evaluate("convolution.shift_kernel", [[0, 1], [0, 0]]).feedback()
    assert "shape" in text and "(2, 2)" in text and "(3, 3)" in text


@pytest.mark.parametrize("exercise_id", sorted(CORRECT))
@pytest.mark.parametrize("answer", [..., None])
def test_not_answered(exercise_id, answer):
    result = evaluate(exercise_id, answer)
    assert not result and not result.attempted and not result.passed
    assert result.feedback().startswith(f"[TODO] {exercise_id}")


@pytest.mark.parametrize("returned", [..., None])
def test_function_stub_is_not_answered_yet(returned):
    def stub(image, kernel):
        return returned  # the exercise cell before the student writes anything

    result = evaluate("convolution.correlate2d", stub)
    assert not result and not result.attempted
    assert result.feedback().startswith("[TODO] convolution.correlate2d")


@pytest.mark.parametrize("exercise_id", sorted(CORRECT))
def test_strange_answers_never_raise(exercise_id):
    strange = [object(), "abc", [], {}, np.nan, float("inf"), lambda: 1, -1, np.zeros((3, 3)), True]
    for answer in strange:
        result = evaluate(exercise_id, answer)
        assert isinstance(result, CheckResult), repr(answer)
        assert result.attempted and not result.passed, repr(answer)
        assert result.problems and result.feedback().startswith("[FAIL]")


def test_unknown_exercise_id():
    with pytest.raises(ValueError, match="exercise_id"):
        evaluate("convolution.no_such_exercise", 3)
    with pytest.raises(ValueError, match="exercise_id"):
        check("output_size", 15)


def test_registering_twice_raises(monkeypatch):
    checking.exercises()  # load the real exercises first
    monkeypatch.setattr(checking, "_REGISTRY", dict(checking._REGISTRY))  # undone after the test

    @checking.exercise("testing.answer", "tests/test_checking.py", hint="think")
    def _check(answer):
        return checking.compare_integer(answer, 42, "the answer")

    assert evaluate("testing.answer", 42) and not evaluate("testing.answer", 41)
    with pytest.raises(ValueError, match="twice"):
        checking.exercise("testing.answer", "tests/test_checking.py", hint="again")(_check)
    with pytest.raises(ValueError, match="twice"):
        checking.exercise("convolution.output_size", "book/01_convolution.ipynb", hint="again")(_check)
    for bad_id in ["no_chapter", "a.b.c", 3]:
        with pytest.raises((TypeError, ValueError), match="exercise_id"):
            checking.exercise(bad_id, "tests/test_checking.py", hint="")


def test_checker_that_crashes_is_a_failed_check(monkeypatch):
    checking.exercises()
    monkeypatch.setattr(checking, "_REGISTRY", dict(checking._REGISTRY))

    @checking.exercise("testing.crash", "tests/test_checking.py", hint="none")
    def _check(answer):
        return answer["missing"]

    result = evaluate("testing.crash", {})
    assert not result and result.attempted and "KeyError" in result.feedback()


def test_check_result_truthiness():
    assert bool(CheckResult("a.b", True, True, [], "")) is True
    assert bool(CheckResult("a.b", False, True, ["wrong"], "")) is False
    assert bool(CheckResult("a.b", False, False, [], "")) is False


@pytest.mark.parametrize("answer", ["right", "wrong", ...])
def test_check_prints_the_feedback_once(capsys, answer):
    expected = INTEGER_EXERCISES["convolution.output_size"]()
    value = {"right": expected, "wrong": expected + 2, ...: ...}[answer]
    result = check("convolution.output_size", value)
    out = capsys.readouterr().out
    assert out == result.feedback() + "\n"
    result._ipython_display_()  # what Jupyter calls when the result ends a cell
    assert capsys.readouterr().out == ""


def test_strict_mode_raises_on_a_wrong_answer_only(capsys, monkeypatch):
    """The tests run the chapters in strict mode, so a worked solution that fails its check fails the run."""
    expected = INTEGER_EXERCISES["convolution.output_size"]()
    monkeypatch.setenv(checking.STRICT_ENV_VAR, "1")
    assert check("convolution.output_size", expected).passed
    assert not check("convolution.output_size", ...).attempted  # an exercise cell left for the student
    with pytest.raises(checking.CheckFailed, match="convolution.output_size"):
        check("convolution.output_size", expected + 2)
    assert "[FAIL] convolution.output_size" in capsys.readouterr().out  # the feedback is printed first
    monkeypatch.setenv(checking.STRICT_ENV_VAR, "0")
    assert not check("convolution.output_size", expected + 2)
    monkeypatch.setenv(checking.STRICT_ENV_VAR, "maybe")
    with pytest.raises(ValueError, match="COURSEPKG_STRICT_CHECKS='maybe'"):
        check("convolution.output_size", expected + 2)


def test_evaluate_prints_nothing_until_displayed(capsys):
    result = evaluate("convolution.output_size", 3)
    assert capsys.readouterr().out == ""
    result._ipython_display_()
    assert capsys.readouterr().out == result.feedback() + "\n"


# --------------------------------------------------------------------------- comparison helpers


def test_compare_number():
    assert checking.compare_number(0.1 + 0.2, 0.3, "the sum") == []
    assert "too large" in checking.compare_number(0.4, 0.3, "the sum")[0]
    assert "too small" in checking.compare_number(0.2, 0.3, "the sum")[0]
    (problem,) = checking.compare_number(0.3 + 1e-3, 0.3, "the sum")
    assert "0.301 is too large" in problem
    assert checking.compare_number(0.3 + 1e-3, 0.3, "the sum", rel_tol=1e-2) == []
    for not_a_number in ["0.3", b"0.3", True, [0.3], None]:
        assert "should be a number" in checking.compare_number(not_a_number, 0.3, "the sum")[0]


def test_compare_array():
    expected = np.arange(6.0).reshape(2, 3)
    assert checking.compare_array(expected.tolist(), expected, "the array") == []
    assert (
        checking.compare_array(keras.ops.convert_to_tensor(expected), expected, "the array") == []
    )
    off = expected.copy()
    off[1, 2] += 1
    (problem,) = checking.compare_array(off, expected, "the array")
    assert "1 of 6 values" in problem and "(1, 2)" in problem
    nan = expected.copy()
    nan[0, 0] = np.nan
    assert "NaN" in checking.compare_array(nan, expected, "the array")[0]
    assert "shape" in checking.compare_array(expected.T, expected, "the array")[0]
    assert "numeric array" in checking.compare_array("abc", expected, "the array")[0]


def test_compare_scalar_function_accepts_numbers_and_size_one_arrays_and_reports_the_case():
    from coursepkg.checking import compare_scalar_function

    cases = [((np.array([1.0, 2.0]), 3.0), "two values and an offset"), ((np.array([0.5]), 0.0), "one value")]

    def reference(values, offset):
        return float(values.sum() + offset)

    assert compare_scalar_function(lambda v, o: v.sum() + o, reference, cases, "f") == []
    assert compare_scalar_function(lambda v, o: np.array([v.sum() + o]), reference, cases, "f") == []
    wrong = compare_scalar_function(lambda v, o: v.sum(), reference, cases, "f")
    assert wrong and "two values and an offset" in wrong[0] and "too small" in wrong[0]

    def mutates(values, offset):
        values[:] = 0  # on a copy: the reference still sees the original
        return 3.0 + offset

    assert compare_scalar_function(mutates, reference, cases[:1], "f") == []
    assert "should be a function" in compare_scalar_function(3.0, reference, cases, "f")[0]
    assert "raised ZeroDivisionError" in compare_scalar_function(lambda v, o: 1 / 0, reference, cases, "f")[0]


# --------------------------------------------------------------------------- argument checks (issue 16)


@pytest.mark.parametrize(("exercise_id", "error"), [(3, TypeError), (["convolution.output_size"], TypeError),
                                                    (None, TypeError), ("", ValueError), ("no.such", ValueError)])
def test_check_wants_a_registered_exercise_id(exercise_id, error):
    with pytest.raises(error, match="`exercise_id`"):
        check(exercise_id, 15)


def test_exercises_of_an_unknown_chapter_are_an_error_not_an_empty_list():
    assert checking.exercises("convolution")
    with pytest.raises(ValueError, match="`chapter`"):
        checking.exercises("convolutoin")
    with pytest.raises(TypeError, match="`chapter`"):
        checking.exercises(3)


@pytest.mark.parametrize(("chapter", "hint", "argument"), [(None, "think", "chapter"), ("book/x.ipynb", "", "hint"),
                                                          ("book/x.ipynb", 3, "hint")])
def test_exercise_registration_checks_its_strings(chapter, hint, argument):
    with pytest.raises((TypeError, ValueError), match=f"`{argument}`"):
        checking.exercise("testing.strings", chapter, hint)


@pytest.mark.parametrize(
    ("call", "argument", "error"),
    [
        (lambda: checking.compare_integer(3, 3.0, "the size"), "expected", TypeError),
        (lambda: checking.compare_integer(3, 10**12, "the size"), "expected", ValueError),
        (lambda: checking.compare_integer(3, 3, None), "what", TypeError),
        (lambda: checking.compare_number(0.5, float("nan"), "the rate"), "expected", ValueError),
        (lambda: checking.compare_number(0.5, "0.5", "the rate"), "expected", TypeError),
        (lambda: checking.compare_number(0.5, 0.5, "the rate", rel_tol=-1.0), "rel_tol", ValueError),
        (lambda: checking.compare_number(0.5, 0.5, "the rate", abs_tol=float("inf")), "abs_tol", ValueError),
        (lambda: checking.compare_array([1.0], np.array([np.nan]), "the output"), "expected", ValueError),
        (lambda: checking.compare_array([1.0], ["a"], "the output"), "expected", TypeError),
        (lambda: checking.compare_array([1.0], [1.0], "the output", atol="0"), "atol", TypeError),
        (lambda: checking.compare_function(np.sum, "sum", [((1,), "one")], "sum"), "reference", TypeError),
        (lambda: checking.compare_function(np.sum, np.sum, "cases", "sum"), "cases", TypeError),
        (lambda: checking.compare_function(np.sum, np.sum, [], "sum"), "cases", ValueError),
        (lambda: checking.compare_function(np.sum, np.sum, [(1, "one")], "sum"), "cases", TypeError),
        (lambda: checking.compare_calls(np.sum, np.sum, [((1,), "one")], "sum", None), "compare", TypeError),
        (lambda: checking.compare_scalar_function(np.sum, np.sum, [((1,), "one")], "sum", rel_tol=2.0),
         "rel_tol", ValueError),
        (lambda: checking.raise_if_not_answered(3, ""), "what", ValueError),
    ],
)
def test_comparison_helpers_check_their_own_arguments(call, argument, error):
    with pytest.raises(error, match=f"`{argument}`"):
        call()


def test_reference_answers_may_be_numpy_scalars_or_one_element_arrays():
    assert checking.compare_integer(7, np.int64(7), "the size") == []
    assert checking.compare_number(0.25, np.array([0.25]), "the rate") == []
    assert checking.compare_array([], np.zeros(0), "nothing") == []
