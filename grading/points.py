"""Points per exercise, read from grading/points.toml (the one place they are set)."""

from __future__ import annotations

import dataclasses
import math
import pathlib

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

DEFAULT_POINTS = pathlib.Path(__file__).with_name("points.toml")


@dataclasses.dataclass(frozen=True)
class Points:
    """The grading scale."""

    by_exercise: dict[str, float]  # exercise id -> points it is worth
    partial_credit: bool  # share an exercise's points among its checks

    def of(self, exercise_id: str) -> float:
        """Points ``exercise_id`` is worth.

        Raises:
            ValueError: if the points file does not list it.
        """
        if exercise_id not in self.by_exercise:
            chapter, _, name = exercise_id.partition(".")
            raise ValueError(
                f"Expected the points file to give points to every exercise. Received no points for "
                f"{exercise_id!r}; add `{name} = 1` under [{chapter}] in grading/points.toml"
            )
        return self.by_exercise[exercise_id]

    def earned(self, exercise_id: str, passed: int, checks: int) -> float:
        """Points earned by an answer that passed ``passed`` of its ``checks`` checks."""
        possible = self.of(exercise_id)
        if checks <= 0 or passed <= 0:
            return 0.0
        if passed >= checks:
            return possible
        return round(possible * passed / checks, 2) if self.partial_credit else 0.0


def load_points(path: str | pathlib.Path = DEFAULT_POINTS) -> Points:
    """Read a points file.

    Raises:
        ValueError: if a value is not a finite non-negative number, or the file
            holds something other than ``partial_credit`` and chapter tables.
    """
    path = pathlib.Path(path)
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"Expected {path} to be a TOML file. Received: {error}") from None
    partial = table.pop("partial_credit", True)
    if not isinstance(partial, bool):
        raise ValueError(
            f"Expected `partial_credit` to be true or false. Received: partial_credit={partial!r}"
        )
    by_exercise: dict[str, float] = {}
    for chapter, exercises in table.items():
        if not isinstance(exercises, dict):
            raise ValueError(
                f"Expected [{chapter}] to be a table of `exercise = points` lines. Received: {chapter} = {exercises!r}"
            )
        for name, value in exercises.items():
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value < 0
            ):
                raise ValueError(
                    f"Expected the points of {chapter}.{name} to be a non-negative number. Received: {value!r}"
                )
            by_exercise[f"{chapter}.{name}"] = float(value)
    return Points(by_exercise, partial)


def format_points(value: float) -> str:
    """``1.0 -> "1"``, ``0.5 -> "0.5"``, ``2/3 * 4 -> "2.67"``."""
    return f"{round(value, 2):.2f}".rstrip("0").rstrip(".")
