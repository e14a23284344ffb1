"""What a chapter asks: its exercises, their answer variables, and the student version.

Everything here reads the chapter notebook itself, so the book, the student
version and the grader never disagree. An exercise is a code cell tagged
``exercise`` that calls ``check("chapter.name", answer_variable)``; the code
cell tagged ``solution`` that follows it is the worked solution. This module
needs neither the hidden checks nor a kernel.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import pathlib

import nbformat

EXERCISE_TAG = "exercise"
SOLUTION_TAG = "solution"


@dataclasses.dataclass(frozen=True)
class ExerciseCell:
    """One exercise of a chapter, as its exercise cell states it."""

    id: str  # the registered exercise id, e.g. "convolution.output_size"
    variable: str  # the name the student's answer is bound to, e.g. "output_width"
    cell_index: int  # index of the exercise cell in the chapter notebook


def cell_tags(cell) -> set[str]:
    """The tags of a notebook cell (an empty set when it has none)."""
    return set(cell.get("metadata", {}).get("tags", []) or [])


def python_source(source: str) -> str:
    """A cell's source with IPython syntax (``%magic``, ``!shell``) turned into Python."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # IPython is always there next to a kernel; this is for bare installs
        lines = source.splitlines()
        return "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line for line in lines)
    return TransformerManager().transform_cell(source)


def checked_answers(source: str) -> list[tuple[str, str]]:
    """The ``(exercise_id, variable)`` pairs of the ``check(...)`` calls in a cell.

    Accepts ``check("id", name)`` and ``coursepkg.check("id", name)``; other
    calls are ignored.

    Raises:
        ValueError: if the cell is not valid Python, or a ``check`` call does not
            name its exercise with a string and its answer with a variable.
    """
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError as error:
        raise ValueError(
            f"Expected an exercise cell to be valid Python. Received: {error}"
        ) from None
    pairs = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", None)
        if name != "check":
            continue
        arguments = node.args
        if (
            len(arguments) != 2
            or not isinstance(arguments[0], ast.Constant)
            or not isinstance(arguments[0].value, str)
            or not isinstance(arguments[1], ast.Name)
        ):
            raise ValueError(
                'Expected `check` to be called as check("chapter.name", answer_variable). '
                f"Received: {ast.unparse(node)}"
            )
        pairs.append((node.lineno, node.col_offset, arguments[0].value, arguments[1].id))
    return [(exercise_id, variable) for _, _, exercise_id, variable in sorted(pairs)]


def read_notebook(path: str | pathlib.Path):
    """Read a notebook file as nbformat version 4."""
    return nbformat.read(str(path), as_version=4)


def exercise_cells(notebook) -> list[ExerciseCell]:
    """The exercises of a chapter, in the order the chapter asks them.

    Args:
        notebook: the chapter, as returned by :func:`read_notebook`.

    Returns:
        One :class:`ExerciseCell` per ``check`` call in a cell tagged ``exercise``.

    Raises:
        ValueError: if an exercise cell has no ``check`` call, or two exercises
            share an id or an answer variable (the grader reads each answer by
            its variable name once the whole notebook has run).
    """
    found: list[ExerciseCell] = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or EXERCISE_TAG not in cell_tags(cell):
            continue
        pairs = checked_answers(cell.source)
        if not pairs:
            raise ValueError(
                f'Expected the exercise cell {index} to call check("chapter.name", answer). '
                f"Received: {cell.source[:200]!r}"
            )
        found += [ExerciseCell(exercise_id, variable, index) for exercise_id, variable in pairs]
    for attribute in ("id", "variable"):
        seen: dict[str, str] = {}
        for item in found:
            key = getattr(item, attribute)
            if key in seen:
                raise ValueError(
                    f"Expected every exercise to have its own {attribute}. Received: "
                    f"{key!r} in the exercise cells {seen[key]} and {item.cell_index}"
                )
            seen[key] = str(item.cell_index)
    return found


def student_version(notebook):
    """The notebook a student receives: solutions removed, outputs cleared.

    Exercise cells stay as the chapter writes them (the answer set to ``...``
    and the ``check`` call); every cell tagged ``solution`` is dropped.

    Args:
        notebook: the chapter, as returned by :func:`read_notebook`.

    Returns:
        A new notebook; the argument is not modified.
    """
    student = copy.deepcopy(notebook)
    student.cells = [cell for cell in student.cells if SOLUTION_TAG not in cell_tags(cell)]
    for cell in student.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.get("metadata", {}).pop("execution", None)
    return student


def write_student_version(chapter: str | pathlib.Path, out: str | pathlib.Path) -> pathlib.Path:
    """Write the student version of ``chapter`` to ``out`` (a file or a folder).

    Returns:
        The path written.
    """
    chapter, out = pathlib.Path(chapter), pathlib.Path(out)
    notebook = read_notebook(chapter)
    exercise_cells(notebook)  # refuse a chapter whose exercises the grader could not read
    target = out / chapter.name if out.suffix != ".ipynb" else out
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(student_version(notebook), str(target))
    return target


def solved_version(notebook):
    """The student version with every exercise answered by the chapter's own solution.

    Each exercise cell gets the solution appended to it, as if the student had
    typed the solution under the exercise's own lines (which may import what
    the solution uses): the same code, in the same order, as the book runs.
    What a student who copies the solutions would hand in; the grader must
    give it every point (the tests and ``grading/benchmark.py`` use it).
    """
    solved = copy.deepcopy(notebook)
    for index, cell in enumerate(solved.cells[:-1]):
        following = solved.cells[index + 1]
        if EXERCISE_TAG in cell_tags(cell) and SOLUTION_TAG in cell_tags(following):
            cell.source = f"{cell.source.rstrip()}\n\n{following.source}"
    return student_version(solved)
