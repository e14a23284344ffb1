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

Hidden inputs are drawn from :func:`random_generator`, which the grader seeds
anew for every submission (the seed is in the gradebook), so that no table of
known inputs and answers can pass them. An exercise that asks students to
write a function themselves names the library calls it forbids with
:func:`forbid`; the grader makes them fail in the student's kernel while it
checks that answer (:mod:`grading.forbid`)::

    forbid("convolution.correlate2d", ["coursepkg.correlate2d", "scipy.signal.correlate2d"])
"""

from __future__ import annotations

import dataclasses
import importlib.util
import pathlib
import re
import secrets
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
_FORBIDDEN: dict[str, tuple[str, ...]] = {}  # exercise id -> the calls its answer may not make
_SEED: list[int] = [0]  # the seed of random_generator(), set by load_hidden()
DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")


def _check_exercise_id(exercise_id: str) -> None:
    if not isinstance(exercise_id, str) or exercise_id.count(".") != 1:
        raise ValueError(
            f"Expected `exercise_id` to look like 'chapter.name'. Received: exercise_id={exercise_id!r}"
        )


def hidden(exercise_id: str, name: str):
    """Decorator that registers a hidden check of ``exercise_id``."""
    _check_exercise_id(exercise_id)

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


def forbid(exercise_id: str, calls: Sequence[str]) -> None:
    """Declare the library calls that an answer to ``exercise_id`` may not make.

    For exercises that ask students to write a function themselves: while the
    grader checks that answer, each of ``calls`` raises in the student's kernel,
    the check that made it fails, and the gradebook flags the answer.

    Args:
        exercise_id: the exercise, e.g. ``"convolution.correlate2d"``.
        calls: dotted names, as a student would call them: ``"coursepkg.correlate2d"``,
            ``"scipy.signal.correlate2d"``, ``"numpy.convolve"``.
    """
    _check_exercise_id(exercise_id)
    for name in calls:
        if not isinstance(name, str) or not DOTTED_NAME.fullmatch(name):
            raise ValueError(
                f"Expected `calls` to be dotted names such as 'numpy.convolve'. Received: {name!r}"
            )
    _FORBIDDEN[exercise_id] = tuple(dict.fromkeys([*_FORBIDDEN.get(exercise_id, ()), *calls]))


def forbidden_calls(exercise_id: str) -> tuple[str, ...]:
    """The calls :func:`forbid` declared for ``exercise_id`` (after :func:`load_hidden`)."""
    return _FORBIDDEN.get(exercise_id, ())


def random_generator():
    """The NumPy random generator that hidden checks draw their inputs from.

    Seeded by the grader with the submission's seed (a new one for each
    submission, written in the gradebook; ``--seed`` fixes it to re-grade with
    the same inputs). Call it once, at the top of a hidden-checks file.
    """
    import numpy as np

    return np.random.default_rng(_SEED[0])


def load_hidden(
    folder: str | pathlib.Path = DEFAULT_HIDDEN, seed: int | None = None
) -> list[HiddenCheck]:
    """Import every ``*.py`` file of ``folder`` and return the checks they register.

    Args:
        folder: the hidden-checks folder.
        seed: the seed of :func:`random_generator` while the files are imported;
            a random one if None.

    Raises:
        ValueError: if ``folder`` is not a folder.
    """
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise ValueError(
            f"Expected `hidden` to be a folder of hidden checks. Received: hidden={str(folder)!r}"
        )
    _HIDDEN.clear()
    _FORBIDDEN.clear()
    _SEED[0] = secrets.randbits(32) if seed is None else int(seed)
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
