"""Hidden checks: the instructor's own checks, run by the grader after the public one.

A hidden-checks folder (``grading/hidden/`` by default, or any folder given to
``--hidden``) holds one Python file per chapter. Each file registers checks
with the same contract as the public ones in ``coursepkg.exercises``: a
function of the student's answer that returns the list of what is wrong
(empty when the answer passes)::

    from grading.checks import function_cases, hidden

    @hidden("convolution.output_size", "the output width")
    def _(answer):
        return compare_integer(answer, 15, "the output width")

    function_cases("convolution.correlate2d", correlate2d, "your correlate2d", [
        ((image, kernel), "an integer 7x6 image and a 3x3 kernel"),
    ])

Each hidden check counts as one check of its exercise (partial credit is by
checks passed). The files are loaded by path, never installed, and run only in
the grader's own process: student code never imports them.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import pathlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

DEFAULT_HIDDEN = pathlib.Path(__file__).with_name("hidden")


@dataclasses.dataclass(frozen=True)
class HiddenCheck:
    """One hidden check of an exercise."""

    exercise: str  # exercise id, e.g. "convolution.correlate2d"
    name: str  # what it checks, in the feedback: "an integer 7x6 image and a 3x3 kernel"
    checker: Callable[[Any], list[str]]  # answer -> problems (empty: passed)


_HIDDEN: list[HiddenCheck] = []


def hidden(exercise_id: str, name: str):
    """Decorator that registers a hidden check of ``exercise_id``."""
    if not isinstance(exercise_id, str) or exercise_id.count(".") != 1:
        raise ValueError(
            f"Expected `exercise_id` to look like 'chapter.name'. Received: exercise_id={exercise_id!r}"
        )

    def register(checker: Callable[[Any], list[str]]):
        _HIDDEN.append(HiddenCheck(exercise_id, name, checker))
        return checker

    return register


def function_cases(
    exercise_id: str,
    reference: Callable,
    what: str,
    cases: Sequence[tuple[tuple, str]],
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> None:
    """Register one hidden check per input case of a function exercise.

    Args:
        exercise_id: the exercise, e.g. ``"convolution.correlate2d"``.
        reference: the reference implementation.
        what: the function's name in the feedback ("your correlate2d").
        cases: ``(args, description)`` pairs, as for
            :func:`coursepkg.checking.compare_function`.
    """
    from coursepkg.checking import compare_function

    for args, description in cases:

        def checker(answer, args=args, description=description):
            return compare_function(
                answer, reference, [(args, description)], what, rtol=rtol, atol=atol
            )

        _HIDDEN.append(HiddenCheck(exercise_id, description, checker))


def load_hidden(folder: str | pathlib.Path = DEFAULT_HIDDEN) -> list[HiddenCheck]:
    """Import every ``*.py`` file of ``folder`` and return the checks they register.

    Raises:
        ValueError: if ``folder`` is not a folder.
    """
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise ValueError(
            f"Expected `hidden` to be a folder of hidden checks. Received: hidden={str(folder)!r}"
        )
    _HIDDEN.clear()
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        name = f"_grading_hidden_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return list(_HIDDEN)


def hidden_checks_of(checks: Sequence[HiddenCheck], exercise_id: str) -> list[HiddenCheck]:
    """The checks of one exercise, in the order they were registered."""
    return [item for item in checks if item.exercise == exercise_id]
