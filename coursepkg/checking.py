"""Student checks: immediate, specific feedback on an exercise answer.

Introduced in: book/01_convolution.ipynb

An exercise is registered once, with an id such as ``"convolution.output_size"``,
a hint, and a checker: a function that receives the student's answer and
returns the list of what is wrong (empty when the answer is right). Students
call :func:`check`; the instructor's grader (``grading/``) calls the same
:func:`evaluate` on the same answers and adds hidden checks of its own.

Feedback says what arrived, what is wrong with it (shape, dtype, how far off,
on which input) and gives a hint; it never prints the expected answer.

With ``COURSEPKG_STRICT_CHECKS=1`` in the environment, :func:`check` also raises
:class:`CheckFailed` on an answer that was attempted and is wrong. The tests run
every chapter so (see conftest.py), which makes a worked solution that no longer
passes its own check fail the chapter's run instead of printing ``[FAIL]`` unseen.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from coursepkg import validation

NOT_ANSWERED = (None, Ellipsis)

# Bounds of the comparison helpers' arguments: the largest reference answer (a parameter
# or multiplication count), the largest tolerance, the longest hint or description.
MAX_EXPECTED = 10**11
MAX_TOLERANCE = 1.0
MAX_HINT_LENGTH = 2_000
MAX_CASES = 1_000


STRICT_ENV_VAR = "COURSEPKG_STRICT_CHECKS"


class NotAnswered(Exception):
    """Raised by a comparison when a student's function still returns ``...`` or ``None``."""


class CheckFailed(AssertionError):
    """Raised by :func:`check` in strict mode when an attempted answer is wrong."""


@dataclasses.dataclass(frozen=True)
class Exercise:
    """One registered exercise."""

    id: str  # "chapter.name", e.g. "convolution.output_size"
    chapter: str  # notebook that asks it, e.g. "book/01_convolution.ipynb"
    checker: Callable[[Any], list[str]]  # answer -> list of problems (empty: correct)
    hint: str  # shown when the answer is wrong


@dataclasses.dataclass
class CheckResult:
    """The outcome of one check."""

    exercise: str  # the exercise id
    passed: bool  # the answer is right
    attempted: bool  # False while the answer is still None or ...
    problems: list[str]  # what is wrong, in words (empty when passed)
    hint: str  # the exercise's hint
    _shown: bool = dataclasses.field(default=False, repr=False, compare=False)

    def __bool__(self) -> bool:
        return self.passed

    def feedback(self) -> str:
        """The text a student sees."""
        if self.passed:
            return f"[PASS] {self.exercise}: correct."
        if not self.attempted:
            return f"[TODO] {self.exercise}: not answered yet; replace `...` with your answer and run the check again."
        lines = [f"[FAIL] {self.exercise}:"]
        lines += [f"  - {problem}" for problem in self.problems]
        lines.append(f"  Hint: {self.hint}")
        return "\n".join(lines)

    def _ipython_display_(self) -> None:
        if not self._shown:
            print(self.feedback())


_REGISTRY: dict[str, Exercise] = {}


def exercise(exercise_id: str, chapter: str, hint: str):
    """Decorator that registers a checker function under ``exercise_id``.

    Args:
        exercise_id: ``"chapter.name"``, a string of at most 1,000 characters with one dot.
        chapter: the notebook that asks it, e.g. ``"book/01_convolution.ipynb"``.
        hint: shown when the answer is wrong, a non-empty string of at most 2,000 characters.

    Raises:
        TypeError: an argument that is not a string.
        ValueError: an empty or over-long string, an id without exactly one dot, or (when
            the checker is registered) an id registered twice.

    Example:
        >>> @exercise("convolution.output_size", "book/01_convolution.ipynb", hint="...")
        ... def _check(answer):
        ...     return compare_number(answer, 15, "the output size")
    """
    validation.check_str("exercise_id", exercise_id)
    if exercise_id.count(".") != 1:
        raise ValueError(f"Expected `exercise_id` to look like 'chapter.name'. Received: exercise_id={exercise_id!r}")
    validation.check_str("chapter", chapter)
    validation.check_str("hint", hint, max_length=MAX_HINT_LENGTH)

    def register(checker: Callable[[Any], list[str]]):
        if exercise_id in _REGISTRY:
            raise ValueError(f"Exercise {exercise_id!r} is registered twice")
        _REGISTRY[exercise_id] = Exercise(exercise_id, chapter, checker, hint)
        return checker

    return register


def exercises(chapter: str | None = None) -> list[Exercise]:
    """Registered exercises, all or those of one chapter (e.g. ``"convolution"``).

    Args:
        chapter: ``None`` (all), or the prefix of a registered exercise id.

    Raises:
        TypeError: ``chapter`` is neither ``None`` nor a string.
        ValueError: a chapter with no registered exercise (the message lists them).
    """
    _load_exercises()
    if chapter is not None:
        validation.check_str("chapter", chapter)
        chapters = sorted({item.id.split(".")[0] for item in _REGISTRY.values()})
        validation.check_choice("chapter", chapter, chapters)
    return [item for item in _REGISTRY.values() if chapter is None or item.id.split(".")[0] == chapter]


def _load_exercises() -> None:
    import coursepkg.exercises  # noqa: F401  (registers every chapter's exercises)


def evaluate(exercise_id: str, answer: Any) -> CheckResult:
    """Check ``answer`` without printing; what the grader calls.

    A checker that crashes on a strange answer is reported as a failed check,
    never as an exception, so one bad answer cannot stop a notebook or a grader.

    Args:
        exercise_id: the id of a registered exercise, e.g. ``"convolution.output_size"``.
        answer: the student's value or function, anything at all.

    Raises:
        TypeError: ``exercise_id`` is not a string.
        ValueError: ``exercise_id`` is not a registered exercise.
    """
    validation.check_str("exercise_id", exercise_id)
    _load_exercises()
    if exercise_id not in _REGISTRY:
        raise ValueError(
            f"Expected `exercise_id` to be a registered exercise, e.g. {sorted(_REGISTRY)[:3]}. "
            f"Received: exercise_id={exercise_id!r}"
        )
    item = _REGISTRY[exercise_id]
    if any(answer is marker for marker in NOT_ANSWERED):
        return CheckResult(exercise_id, False, False, [], item.hint)
    try:
        with _full_precision():
            problems = list(item.checker(answer))
    except NotAnswered:
        return CheckResult(exercise_id, False, False, [], item.hint)
    except Exception as error:  # the student's code raised inside the check
        problems = [f"checking your answer raised {type(error).__name__}: {error}"]
    return CheckResult(exercise_id, not problems, True, problems, item.hint)


def _full_precision():
    """Checks compare with float32 references: build their layers in float32 whatever the
    chapter's policy (a mixed-precision chapter computes in 16 bits). Keras is not imported
    for checks that do not need it."""
    import contextlib
    import sys

    if "keras" not in sys.modules:
        return contextlib.nullcontext()
    from coursepkg.training import precision_scope

    return precision_scope("float32")


def check(exercise_id: str, answer: Any) -> CheckResult:
    """Check an exercise answer and print the feedback at once.

    Args:
        exercise_id: the id given in the exercise, e.g. ``"convolution.output_size"``.
        answer: the student's value or function, anything at all.

    Returns:
        The :class:`CheckResult` (true when the answer passed).

    Raises:
        TypeError: ``exercise_id`` is not a string.
        ValueError: ``exercise_id`` is not a registered exercise.
        CheckFailed: only in strict mode (``COURSEPKG_STRICT_CHECKS=1``), when the
            answer was attempted and is wrong.
    """
    result = evaluate(exercise_id, answer)
    print(result.feedback())
    result._shown = True
    if result.attempted and not result.passed and strict_checks():
        raise CheckFailed(f"{exercise_id}: the answer does not pass its check ({STRICT_ENV_VAR}=1)")
    return result


def strict_checks() -> bool:
    """Whether :func:`check` raises on a wrong answer (``COURSEPKG_STRICT_CHECKS=1``)."""
    from coursepkg.config import env_flag

    return env_flag(STRICT_ENV_VAR)


# --------------------------------------------------------------------------- comparisons


def describe(value: Any) -> str:
    """A short description of a value for feedback: type, shape and dtype."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    if callable(value):
        return f"the function {getattr(value, '__name__', repr(value))}"
    return f"{value!r} ({type(value).__name__})"


def _check_expected_number(check, expected, *bounds):
    """A reference answer given as a number, a NumPy scalar or a one-element array or tensor."""
    if (isinstance(expected, np.ndarray) or hasattr(expected, "numpy")) and np.size(expected) == 1:
        expected = as_number(expected)
    return check("expected", expected, *bounds)


def _check_tolerance(name: str, value) -> float:
    return validation.check_float(name, value, 0.0, MAX_TOLERANCE)


def _check_cases(cases) -> list:
    """Pairs ``(args, description)``: a tuple of arguments and the words naming them."""
    if not isinstance(cases, (list, tuple)):
        raise TypeError(f"Expected `cases` to be a list of (args, description) pairs. Received: cases={cases!r:.80}")
    if not 1 <= len(cases) <= MAX_CASES:
        raise ValueError(f"Expected `cases` to hold 1 to {MAX_CASES:,} cases. Received: {len(cases)} cases")
    for case in cases:
        if not (
            isinstance(case, (tuple, list)) and len(case) == 2
            and isinstance(case[0], (tuple, list)) and isinstance(case[1], str)
        ):
            raise TypeError(
                f"Expected `cases` to hold (args tuple, description) pairs. Received: a case {case!r:.80}"
            )
    return list(cases)


def compare_integer(received: Any, expected: int, what: str) -> list[str]:
    """Problems with an answer that must be a whole number (counts, sizes).

    Args:
        received: the student's answer, anything at all.
        expected: the right answer, an integer within +-10**11.
        what: what the answer is, for the feedback ("the output width").

    Raises:
        TypeError, ValueError: ``expected`` or ``what`` out of the above (the answer never raises).
    """
    expected = _check_expected_number(validation.check_int, expected, -MAX_EXPECTED, MAX_EXPECTED)
    validation.check_str("what", what)
    if isinstance(received, bool) or not isinstance(received, (int, np.integer, float, np.floating)):
        return [f"{what} should be a whole number; received {describe(received)}"]
    if isinstance(received, (float, np.floating)) and not float(received).is_integer():
        return [f"{what} should be a whole number; received {received!r}"]
    if int(received) == expected:
        return []
    direction = "too large" if received > expected else "too small"
    return [f"{what}: {int(received)} is {direction}"]


def compare_number(received: Any, expected: float, what: str, rel_tol: float = 1e-6, abs_tol: float = 1e-9) -> list[str]:
    """Problems with a real-valued answer, within a tolerance.

    The message says only whether the answer is too large or too small, never
    by how much (which would give the answer away).

    Args:
        received: the student's answer, anything at all.
        expected: the right answer, a finite number within +-10**11.
        what: what the answer is, for the feedback.
        rel_tol, abs_tol: tolerances, each in [0, 1].
    """
    expected = _check_expected_number(validation.check_float, expected, -MAX_EXPECTED, MAX_EXPECTED)
    validation.check_str("what", what)
    rel_tol, abs_tol = _check_tolerance("rel_tol", rel_tol), _check_tolerance("abs_tol", abs_tol)
    if isinstance(received, (str, bytes, bool)):  # float() would accept "0.3" and True
        return [f"{what} should be a number; received {describe(received)}"]
    try:
        value = float(received)
    except (TypeError, ValueError):
        return [f"{what} should be a number; received {describe(received)}"]
    if not math.isfinite(value):
        return [f"{what} should be a finite number; received {value!r}"]
    if math.isclose(value, expected, rel_tol=rel_tol, abs_tol=abs_tol):
        return []
    direction = "too large" if value > expected else "too small"
    return [f"{what}: {value:.6g} is {direction}"]


def compare_array(received: Any, expected: np.ndarray, what: str, rtol: float = 1e-5, atol: float = 1e-6) -> list[str]:
    """Problems with an array answer: type, shape, non-finite values, then values.

    The message gives the largest difference and where it is, not the expected values.

    Args:
        received: the student's answer, anything at all.
        expected: the right answer, an array of finite real numbers (possibly empty).
        what: what the answer is, for the feedback.
        rtol, atol: tolerances, each in [0, 1].
    """
    expected = validation.check_array("expected", expected, allow_empty=True)
    validation.check_str("what", what)
    rtol, atol = _check_tolerance("rtol", rtol), _check_tolerance("atol", atol)
    if hasattr(received, "numpy") and not isinstance(received, np.ndarray):
        received = received.numpy()
    try:
        array = np.asarray(received, dtype=np.float64)
    except (TypeError, ValueError):
        return [f"{what} should be a numeric array; received {describe(received)}"]
    expected = np.asarray(expected, dtype=np.float64)
    if array.shape != expected.shape:
        return [f"{what} has shape {array.shape}; expected shape {expected.shape}"]
    if not np.all(np.isfinite(array)):
        return [f"{what} contains {int(np.sum(~np.isfinite(array)))} NaN or infinite values"]
    difference = np.abs(array - expected)
    bad = difference > atol + rtol * np.abs(expected)
    if not bad.any():
        return []
    where = np.unravel_index(int(np.argmax(difference)), difference.shape)
    return [
        f"{what}: {int(bad.sum())} of {bad.size} values are off; the largest difference is "
        f"{difference[where]:.3g} at index {tuple(int(i) for i in where)}"
    ]


def compare_function(
    function: Any,
    reference: Callable,
    cases: Sequence[tuple[tuple, str]],
    what: str,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> list[str]:
    """Call a student's function on each case and compare with the reference.

    Args:
        function: the student's function.
        reference: the reference implementation.
        cases: 1 to 1,000 ``(args, description)`` pairs, ``args`` a tuple; the
            description names the input in the feedback ("a 5x7 image and a 3x3 kernel").
        what: name of the function in the feedback.
        rtol, atol: tolerances, each in [0, 1].

    Returns:
        Problems on the first failing case (later cases are not run).
    """
    _check_comparison("reference", reference, cases, what)
    rtol, atol = _check_tolerance("rtol", rtol), _check_tolerance("atol", atol)
    if not callable(function):
        return [f"{what} should be a function; received {describe(function)}"]
    for args, description in cases:
        try:
            result = function(*[np.array(arg, copy=True) for arg in args])
        except Exception as error:
            return [f"{what} raised {type(error).__name__} on {description}: {error}"]
        raise_if_not_answered(result, what)
        problems = compare_array(result, reference(*args), f"{what} on {description}", rtol=rtol, atol=atol)
        if problems:
            return problems
    return []


def _check_comparison(reference_name: str, reference, cases, what) -> None:
    validation.check_callable(reference_name, reference)
    _check_cases(cases)
    validation.check_str("what", what)


def raise_if_not_answered(result: Any, what: str) -> None:
    """Raise :class:`NotAnswered` when a student's function still returns ``...`` or ``None``.

    Args:
        result: what the student's function returned, anything at all.
        what: name of the function in the feedback, a non-empty string.
    """
    validation.check_str("what", what)
    if any(result is marker for marker in NOT_ANSWERED):
        raise NotAnswered(what)


def as_number(result: Any) -> Any:
    """A one-element array, tensor or NumPy scalar as a Python number; anything else unchanged (for the feedback)."""
    if hasattr(result, "numpy") and not isinstance(result, np.ndarray):
        result = result.numpy()
    if isinstance(result, (str, bytes)):
        return result
    try:
        return np.asarray(result).item() if np.size(result) == 1 else result
    except (TypeError, ValueError):
        return result


def compare_calls(
    function: Any,
    reference: Callable,
    cases: Sequence[tuple[tuple, str]],
    what: str,
    compare: Callable[[Any, Any, str], list[str]],
) -> list[str]:
    """Call a student's function on each case and ``compare(result, expected, what)`` with the reference.

    Unlike :func:`compare_function`, array arguments reach the function as
    copies and other arguments as they are (a Python number stays one: some
    library calls refuse a 0-d array).

    Args:
        function: the student's function, anything at all.
        reference: the reference implementation.
        cases: 1 to 1,000 ``(args, description)`` pairs, ``args`` a tuple.
        what: name of the function in the feedback.
        compare: ``compare(result, expected, what) -> problems``, e.g. :func:`compare_number`.

    Returns:
        Problems on the first failing case (later cases are not run).
    """
    _check_comparison("reference", reference, cases, what)
    validation.check_callable("compare", compare)
    if not callable(function):
        return [f"{what} should be a function; received {describe(function)}"]
    for args, description in cases:
        copies = [np.array(arg, copy=True) if isinstance(arg, np.ndarray) else arg for arg in args]
        try:
            result = function(*copies)
        except Exception as error:
            return [f"{what} raised {type(error).__name__} on {description}: {error}"]
        raise_if_not_answered(result, what)
        problems = compare(result, reference(*args), f"{what} on {description}")
        if problems:
            return problems
    return []


def compare_scalar_function(
    function: Any,
    reference: Callable,
    cases: Sequence[tuple[tuple, str]],
    what: str,
    rel_tol: float = 1e-6,
    abs_tol: float = 1e-9,
) -> list[str]:
    """:func:`compare_calls` for a function that returns one number (a loss, a rate).

    A result of size 1 (a 0-d array, a NumPy scalar, a tensor) counts as a number.

    Args:
        function: the student's function, anything at all.
        reference: the reference implementation.
        cases: 1 to 1,000 ``(args, description)`` pairs, ``args`` a tuple.
        what: name of the function in the feedback.
        rel_tol, abs_tol: tolerances, each in [0, 1].
    """
    _check_tolerance("rel_tol", rel_tol)
    _check_tolerance("abs_tol", abs_tol)
    return compare_calls(
        function, reference, cases, what,
        lambda result, expected, name: compare_number(as_number(result), expected, name, rel_tol, abs_tol),
    )  # fmt: skip
