"""The instructor's grader (grading/): student versions, points, and a gradebook of hostile submissions.

The slow test builds a folder of submissions from book/01_convolution.ipynb
itself (its student version, answered with the chapter's own solutions, then
broken in one way each), grades it with the real command, and checks the
gradebook row by row: points and reason. The sandbox, and submissions that
attack it, the gradebook or the "write your own" rule, are tested in
tests/test_grading_sandbox.py.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import nbformat
import pytest

from grading.chapter import (
    checked_answers,
    exercise_cells,
    read_notebook,
    solved_version,
    student_version,
    write_student_version,
)
from grading.checks import hidden_checks_of, load_hidden
from grading.points import load_points
from grading.transfer import Opaque, decode, encode

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
CHAPTER_1 = ROOT / "book" / "01_convolution.ipynb"
CELL_TIMEOUT = 60  # seconds; the setup cell imports TensorFlow (15 s with two jobs on 2 idle cores)
TIME_LIMIT = 240  # seconds per submission
# The grader does not depend on the Keras backend; its slow tests run the chapters once, under TensorFlow.
TENSORFLOW_ONLY = pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
    reason="the grading tests run the chapters under the TensorFlow backend only",
)


def code_cell(source: str, tags=()):
    cell = nbformat.v4.new_code_cell(textwrap.dedent(source).strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def synthetic_chapter():
    """A tiny chapter in the book's convention: setup, two exercises, their solutions."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell(
            "# A chapter\n\nWhat you will learn. Prerequisites. GPU: no."
        ),
        code_cell("import numpy as np\nfrom coursepkg import check"),
        code_cell(
            'output_width = ...  # a whole number\n\ncheck("convolution.output_size", output_width)',
            ["exercise"],
        ),
        code_cell(
            'output_width = 15\ncheck("convolution.output_size", output_width)',
            ["solution", "hide-input"],
        ),
        code_cell(
            """
            %time x = 1
            def my_correlate2d(image, kernel):
                return ...

            coursepkg.check("convolution.correlate2d", my_correlate2d)
            """,
            ["exercise"],
        ),
        code_cell("def my_correlate2d(image, kernel):\n    return 0", ["solution", "hide-input"]),
    ]
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", text="printed\n")]
    notebook.cells[1].execution_count = 3
    return notebook


# --------------------------------------------------------------------------- fast tests


def test_exercise_cells_are_read_from_the_check_calls():
    exercises = exercise_cells(synthetic_chapter())
    assert [(item.id, item.variable, item.cell_index) for item in exercises] == [
        ("convolution.output_size", "output_width", 2),
        ("convolution.correlate2d", "my_correlate2d", 4),
    ]


def test_a_malformed_exercise_cell_is_refused():
    with pytest.raises(ValueError, match="check"):
        checked_answers('check("convolution.output_size", 15)')
    notebook = synthetic_chapter()
    notebook.cells[
        4
    ].source = 'my_correlate2d = ...\ncheck("convolution.param_count", output_width)'
    with pytest.raises(ValueError, match="output_width"):
        exercise_cells(notebook)  # two exercises read the same variable
    notebook.cells[4].source = "x = 1"
    with pytest.raises(ValueError, match="exercise cell 4"):
        exercise_cells(notebook)


def test_student_version_drops_solutions_and_outputs_and_keeps_exercises(tmp_path):
    chapter = synthetic_chapter()
    student = student_version(chapter)
    assert [cell.source for cell in student.cells] == [
        cell.source for cell in chapter.cells if "solution" not in cell.metadata.get("tags", [])
    ]
    assert all(
        cell.outputs == [] and cell.execution_count is None
        for cell in student.cells
        if cell.cell_type == "code"
    )
    assert chapter.cells[1].outputs, "the chapter itself must not be modified"
    solved = solved_version(chapter)  # each exercise cell, then its solution, in one cell
    assert [
        cell.source for cell in solved.cells if "exercise" in cell.metadata.get("tags", [])
    ] == [
        f"{chapter.cells[2].source}\n\n{chapter.cells[3].source}",
        f"{chapter.cells[4].source}\n\n{chapter.cells[5].source}",
    ]
    nbformat.write(chapter, str(tmp_path / "02_x.ipynb"))
    written = write_student_version(tmp_path / "02_x.ipynb", tmp_path / "assignments")
    assert written == tmp_path / "assignments" / "02_x.ipynb"
    assert nbformat.read(str(written), as_version=4) == student


def test_points_file_is_validated(tmp_path):
    path = tmp_path / "points.toml"
    path.write_text("partial_credit = false\n[convolution]\noutput_size = 2\ncorrelate2d = 4\n")
    points = load_points(path)
    assert points.of("convolution.output_size") == 2
    assert points.earned("convolution.correlate2d", 3, 4) == 0.0  # no partial credit
    path.write_text("[convolution]\ncorrelate2d = 4\n")
    assert load_points(path).earned("convolution.correlate2d", 3, 4) == 3.0
    assert load_points(path).earned("convolution.correlate2d", 2, 3) == 2.67
    with pytest.raises(ValueError, match="output_size = 1"):
        load_points(path).of("convolution.output_size")
    path.write_text("[convolution]\noutput_size = -1\n")
    with pytest.raises(ValueError, match="non-negative"):
        load_points(path)


def test_answers_travel_as_data_without_pickle():
    import numpy as np

    values = [None, Ellipsis, True, 3, 2**70, 1.5, float("nan"), 1 + 2j, "text", np.int64(7), np.float32(0.5),
              np.arange(6, dtype=np.uint8).reshape(2, 3), [1, (2, 3.0)], {"a": np.ones(2)}]  # fmt: skip
    for value in values:
        back = decode(json.loads(json.dumps(encode(value))))
        assert type(back) is type(value) or isinstance(value, float)
        np.testing.assert_equal(back, value)
    assert np.asarray(decode(encode(np.arange(3)))).dtype == np.arange(3).dtype
    assert isinstance(decode(encode(object())), Opaque)
    assert isinstance(decode(encode(len)), Opaque)  # functions only travel as proxies
    proxied = decode(encode(len), make_function=lambda key, name: (key, name))
    assert proxied[1] == "len"


def test_every_chapter_is_gradable():
    """Each chapter's exercises are registered, have points, and name their answer variables."""
    from coursepkg.checking import exercises

    points = load_points()
    registered = {item.id: item for item in exercises()}
    hidden = load_hidden()
    assert {check.exercise for check in hidden} <= set(registered)
    assert CHAPTERS, "book/ holds no chapter"
    for path in CHAPTERS:
        found = exercise_cells(read_notebook(path))
        chapter_exercises = {
            item.id for item in registered.values() if item.chapter == f"book/{path.name}"
        }
        assert {item.id for item in found} == chapter_exercises, path.name
        for item in found:
            points.of(item.id)  # raises, naming the line to add to grading/points.toml
        student = student_version(read_notebook(path))
        assert not any("solution" in cell.metadata.get("tags", []) for cell in student.cells)
    assert len(hidden_checks_of(hidden, "convolution.correlate2d")) >= 5


# --------------------------------------------------------------------------- the gradebook

WRONG_CORRELATE = """
def my_correlate2d(image, kernel):
    # Assumes a square kernel: wrong on every non-square kernel.
    size = kernel.shape[0]
    result = np.zeros((image.shape[0] - size + 1, image.shape[1] - size + 1))
    for i in range(result.shape[0]):
        for j in range(result.shape[1]):
            result[i, j] = np.sum(image[i : i + size, j : j + size] * kernel)
    return result
"""


def answer_cell(notebook, variable):
    """Index of the exercise cell whose check reads ``variable``."""
    for index, cell in enumerate(notebook.cells):
        if "exercise" in cell.metadata.get("tags", []) and any(
            name == variable for _, name in checked_answers(cell.source)
        ):
            return index
    raise KeyError(variable)


def replace_answer(notebook, variable, source):
    index = answer_cell(notebook, variable)
    exercise_id = checked_answers(notebook.cells[index].source)[0][0]
    notebook.cells[
        index
    ].source = f'{textwrap.dedent(source).strip()}\n\ncheck("{exercise_id}", {variable})'


def copied(cell):
    """A copy of a cell with an id of its own, as Jupyter gives a duplicated cell."""
    duplicate = copy.deepcopy(cell)
    duplicate["id"] = nbformat.v4.new_code_cell().id
    return duplicate


def insert_after(notebook, variable, source):
    index = answer_cell(notebook, variable) if variable else 1  # 1: right after the setup cell
    notebook.cells.insert(index + 1, code_cell(source))


def without_the_lesson(chapter, kept_lesson_cells: int = 5):
    """The chapter's opening (title, setup, parameters...) and its exercises, with the lesson between cut out.

    The grader runs a submission from top to bottom, so the lesson's figures and
    trainings cost time without exercising anything the grader does differently;
    the cases below need only the setup cell, a few cells that use it (the fifth
    loads a photograph with coursepkg, which fails when the setup cell is moved), and the
    exercises. The gradebook's points come from ``--chapter``, the whole chapter.
    """
    exercises = next(
        index for index, cell in enumerate(chapter.cells) if "## Exercises" in cell.source
    )
    shortened = copy.deepcopy(chapter)
    shortened.cells = chapter.cells[: 2 + kept_lesson_cells] + chapter.cells[exercises:]
    return shortened


def build_submissions(folder: pathlib.Path) -> dict[str, dict]:
    """Write one submission per case; return what the gradebook must say about each."""
    chapter = without_the_lesson(read_notebook(CHAPTER_1))
    solved = solved_version(chapter)
    student = student_version(chapter)
    cases: dict[str, dict] = {}

    def write(name, notebook, total, status, reason="", **earned):
        nbformat.write(notebook, str(folder / name))
        cases[name] = {"total": total, "status": status, "reason": reason, "earned": earned}

    write("correct.ipynb", solved, 10, "ok")

    wrong = copy.deepcopy(solved)
    replace_answer(wrong, "output_width", "output_width = 16")
    replace_answer(wrong, "conv_params", "conv_params = 16 * 5 * 5 * 8  # forgot the biases")
    replace_answer(wrong, "one_by_one_params", "one_by_one_params = 256 * 64")
    replace_answer(wrong, "n_layers", "n_layers = 4")
    replace_answer(wrong, "my_correlate2d", WRONG_CORRELATE)
    replace_answer(
        wrong,
        "shift_kernel",
        "shift_kernel = np.zeros((3, 3))\nshift_kernel[1, 2] = 1.0  # shifts left",
    )
    # Square kernels only: passes the uint8, integer Sobel, 1x1 and float32 hidden cases, 4 of 8 checks.
    write(
        "wrong.ipynb",
        wrong,
        2,
        "ok",
        **{"convolution.output_size": 0, "convolution.correlate2d": 2},
    )

    raising = copy.deepcopy(solved)
    replace_answer(raising, "n_layers", "n_layers = undefined_name + 1")
    replace_answer(
        raising,
        "my_correlate2d",
        'def my_correlate2d(image, kernel):\n    raise ValueError("not done yet")',
    )
    write(
        "exception.ipynb",
        raising,
        5,
        "cell errors",
        "raised NameError",
        **{"convolution.correlate2d": 0},
    )

    forever = copy.deepcopy(solved)
    insert_after(forever, "output_width", "while True:\n    pass")
    write("forever.ipynb", forever, 10, "cell timeout", "was interrupted")

    exiting = copy.deepcopy(solved)
    insert_after(exiting, "conv_params", "import sys\nsys.exit()")
    write("sys_exit.ipynb", exiting, 10, "cell errors", "raised SystemExit")

    killing = copy.deepcopy(solved)
    insert_after(killing, None, "import os\nos.kill(os.getpid(), 9)")
    write("kill_kernel.ipynb", killing, 10, "kernel died", "the kernel died in cell 3")

    # Would kill the grading process and forge its result; in the sandbox its parent is the
    # sandbox's process 1, which it can neither kill nor use: the cell fails, the answers stand.
    killing_grader = copy.deepcopy(solved)
    insert_after(
        killing_grader,
        None,
        """
        import json, os, pathlib, signal
        spec_path = pathlib.Path(open(f"/proc/{os.getppid()}/cmdline").read().split("\\0")[-2])
        result = json.loads(spec_path.read_text())["result"]
        os.kill(os.getppid(), signal.SIGKILL)
        full_marks = {"passed": True, "problems": []}
        fake = {"token": "0" * 32, "events": [], "invalid": None,
                "exercises": {exercise: {"answered": True, "checks": [full_marks]} for exercise in [
                    "convolution.output_size", "convolution.param_count", "convolution.one_by_one",
                    "convolution.receptive_field", "convolution.correlate2d", "convolution.shift_kernel"]}}
        pathlib.Path(result).write_text(json.dumps(fake))
        """,
    )
    write("kill_grader.ipynb", killing_grader, 10, "cell errors", "raised")

    deleted = copy.deepcopy(solved)
    for variable in ("n_layers", "shift_kernel"):
        del deleted.cells[answer_cell(deleted, variable)]
    deleted.cells = [cell for cell in deleted.cells if cell.cell_type == "code"]
    write(
        "deleted.ipynb",
        deleted,
        7,
        "ok",
        "not answered: n_layers, shift_kernel",
        **{"convolution.receptive_field": 0},
    )

    # The setup cell moved down to just before the exercises: the chapter's own cells fail on
    # NameError (no numpy, no keras yet), the answers do not depend on them.
    reordered = copy.deepcopy(solved)
    setup = reordered.cells.pop(1)
    reordered.cells.insert(answer_cell(reordered, "output_width"), setup)
    write("reordered.ipynb", reordered, 10, "cell errors", "raised NameError")

    duplicated = copy.deepcopy(solved)
    index = answer_cell(duplicated, "output_width")
    duplicated.cells.insert(index + 1, copied(student.cells[answer_cell(student, "output_width")]))
    duplicated.cells.insert(1, copied(duplicated.cells[1]))  # the setup cell twice
    write(
        "duplicated.ipynb",
        duplicated,
        9,
        "ok",
        "not answered: output_width",
        **{"convolution.output_size": 0},
    )

    write("Copy of 01_convolution (1).ipynb", solved, 10, "ok")

    # The library's own function as the answer: flagged, and forbidden (see grading/hidden).
    library = copy.deepcopy(solved)
    replace_answer(library, "my_correlate2d", "my_correlate2d = coursepkg.correlate2d")
    write(
        "library.ipynb",
        library,
        6,
        "ok",
        "`my_correlate2d` is `coursepkg.convolution.correlate2d`",
        **{"convolution.correlate2d": 0},
    )

    (folder / "not_json.ipynb").write_text('{"cells": [ this is not JSON')
    cases["not_json.ipynb"] = {
        "total": 0,
        "status": "invalid notebook",
        "reason": "not a valid notebook",
        "earned": {},
    }
    (folder / "empty.ipynb").write_bytes(b"")
    cases["empty.ipynb"] = {"total": 0, "status": "empty file", "reason": "0 bytes", "earned": {}}

    chatty = copy.deepcopy(solved)
    insert_after(chatty, "output_width", 'print("x" * 5_000_000)')
    write("chatty.ipynb", chatty, 10, "ok", "printed 5.0 million characters")

    # Wrong answers, then tricks to turn them into points inside the kernel.
    hostile = copy.deepcopy(solved)
    replace_answer(hostile, "output_width", "output_width = 99")
    replace_answer(hostile, "my_correlate2d", WRONG_CORRELATE)
    insert_after(
        hostile,
        "shift_kernel",
        """
        import glob, json, os, pathlib, shutil, subprocess, sys
        import coursepkg.checking
        stolen = [open(path).read() for path in glob.glob("../grading/hidden/*.py") + glob.glob("../../grading/hidden/*.py")]
        print("stolen hidden checks:", len(stolen))
        always = lambda *arguments, **keywords: []
        coursepkg.checking.compare_integer = coursepkg.checking.compare_function = always
        coursepkg.checking.compare_array = always
        coursepkg.checking.evaluate = lambda exercise_id, answer: coursepkg.checking.CheckResult(exercise_id, True, True, [], "")
        for name in ("output_size", "correlate2d"):
            print(f"[PASS] convolution.{name}: correct.")
        pathlib.Path("result.json").write_text(json.dumps({"token": "guess", "exercises": {}}))
        """,
    )
    write(
        "hostile.ipynb",
        hostile,
        7,
        "ok",
        "",
        **{"convolution.output_size": 0, "convolution.correlate2d": 2},
    )
    return cases


def solution_lines(chapter) -> set[str]:
    """Lines of the chapter's solution cells that its exercise cells do not have."""
    exercise_lines, lines = set(), set()
    for cell in chapter.cells:
        tags = cell.metadata.get("tags", [])
        target = lines if "solution" in tags else exercise_lines if "exercise" in tags else None
        if target is not None:
            target.update(
                line.strip() for line in cell.source.splitlines() if len(line.strip()) > 12
            )
    return lines - exercise_lines


def leaked(chapter, feedback: str) -> set[str]:
    """Solution lines that appear in a feedback text."""
    return {line for line in solution_lines(chapter) if line in feedback}


def read_gradebook(path: pathlib.Path) -> dict[str, dict]:
    with open(path, newline="", encoding="utf-8") as file:
        return {row["submission"]: row for row in csv.DictReader(file)}


def assert_rows(rows: dict[str, dict], cases: dict[str, dict]) -> None:
    """One row per case, each with the status, total, reason and exercise points expected."""
    assert sorted(rows) == sorted(cases)
    for name, expected in cases.items():
        row = rows[name]
        context = f"{name}: {row}"
        assert row["status"] == expected["status"], context
        assert float(row["total"]) == expected["total"], context
        assert float(row["possible"]) == 10, context
        assert expected["reason"] in row["reason"], context
        for exercise_id, points in expected["earned"].items():
            column = next(column for column in row if column.startswith(f"{exercise_id} /"))
            assert float(row[column]) == points, context


def run_grader(*arguments: str, timeout: float = 1200) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grading", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
@TENSORFLOW_ONLY
def test_a_folder_of_hostile_submissions_gets_a_complete_gradebook(tmp_path):
    if not CHAPTER_1.exists():
        pytest.skip("book/01_convolution.ipynb is not written yet")
    submissions, out = tmp_path / "submissions", tmp_path / "results"
    submissions.mkdir()
    cases = build_submissions(submissions)
    finished = run_grader(
        "grade", str(submissions), "--chapter", str(CHAPTER_1), "--out", str(out),
        "--timeout", str(TIME_LIMIT), "--cell-timeout", str(CELL_TIMEOUT), "-j", "2",
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-3000:]
    rows = read_gradebook(out / "gradebook.csv")
    assert_rows(rows, cases)
    assert rows["Copy of 01_convolution (1).ipynb"]["student_id"] == "Copy of 01_convolution (1)"
    assert rows["correct.ipynb"]["reason"] == ""

    feedback = {path.name: path.read_text() for path in (out / "feedback").glob("*.txt")}
    assert len(feedback) == len(cases)
    wrong = feedback["wrong.txt"]
    assert "the output width: 16 is too large" in wrong
    assert "on an 8x7 image and a 2x4 (non-square) kernel" in wrong  # the public case that fails
    assert "on a 9x5 image and a 4x2 (tall) kernel" in wrong  # and a hidden one
    assert "Hint:" in wrong
    assert (
        "raised ValueError on a 5x5 image and a 3x3 kernel: not done yet"
        in feedback["exception.txt"]
    )
    assert "not answered: `output_width` is still `...`" in feedback["duplicated.txt"]
    assert not leaked(read_notebook(CHAPTER_1), wrong)  # no solution in the feedback

    details = json.loads((out / "gradebook.json").read_text())
    assert [item["id"] for item in details["exercises"]][:2] == [
        "convolution.output_size",
        "convolution.param_count",
    ]
    assert {entry["submission"] for entry in details["submissions"]} == set(cases)


@pytest.mark.slow
@TENSORFLOW_ONLY
def test_time_limits_stop_slow_and_frozen_submissions(tmp_path):
    """A slow notebook is stopped in time and graded; a frozen grading process is killed.

    Run ``--unsandboxed``: in the sandbox a kernel cannot reach the grading
    process to stop it, and the time limit per submission is the grader's last
    resort for a grading process that never finishes, whatever the cause.
    """
    if not CHAPTER_1.exists():
        pytest.skip("book/01_convolution.ipynb is not written yet")
    submissions, out = tmp_path / "submissions", tmp_path / "results"
    submissions.mkdir()
    solved = solved_version(without_the_lesson(read_notebook(CHAPTER_1)))
    sleepy = copy.deepcopy(solved)  # its first cell would run for 10 minutes
    sleepy.cells.insert(1, code_cell("import time\ntime.sleep(600)"))
    nbformat.write(sleepy, str(submissions / "sleepy.ipynb"))
    frozen = copy.deepcopy(solved)  # stops the grading process itself, which then never finishes
    frozen.cells.insert(1, code_cell("import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)"))
    nbformat.write(frozen, str(submissions / "frozen.ipynb"))
    finished = run_grader(
        "grade", str(submissions), "--chapter", str(CHAPTER_1), "--out", str(out),
        "--timeout", "25", "--cell-timeout", "60", "-j", "2", "--unsandboxed",
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-3000:]
    rows = read_gradebook(out / "gradebook.csv")
    sleepy_row, frozen_row = rows["sleepy.ipynb"], rows["frozen.ipynb"]
    assert (sleepy_row["status"], sleepy_row["total"]) == ("time limit", "0"), sleepy_row
    assert "were not run" in sleepy_row["reason"]
    assert (frozen_row["status"], frozen_row["total"]) == ("timeout", "0"), frozen_row
    assert "killed after 25 s" in frozen_row["reason"]
    assert "Points: 0 / 10" in (out / "feedback" / "frozen.txt").read_text()


PLAIN_BLOCK = """
def residual_block(x, filters, strides):
    # No shortcut: the plain block, whose output is zero when its weights are.
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    y = layers.Activation("relu")(layers.BatchNormalization()(y))
    y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same", use_bias=False)(y))
    if strides != 1 or x.shape[-1] != filters:
        y = layers.Add()([y, layers.BatchNormalization()(layers.Conv2D(filters, 1, strides=strides, use_bias=False)(x))])
    return layers.Activation("relu")(y)
"""


@pytest.mark.slow
@TENSORFLOW_ONLY
def test_a_layer_building_function_is_graded_in_the_kernel(tmp_path):
    """`resnet.residual_block` takes symbolic Keras tensors: its check runs in the student's kernel, and says so."""
    resnet = read_notebook(ROOT / "book" / "09_resnet.ipynb")
    index = answer_cell(resnet, "residual_block")
    chapter = nbformat.v4.new_notebook(metadata=resnet.metadata)
    chapter.cells = [
        nbformat.v4.new_markdown_cell("# Residual blocks"),
        code_cell("from keras import layers\n\nfrom coursepkg import check"),
        copy.deepcopy(resnet.cells[index]),  # the exercise cell, then its solution
        copy.deepcopy(resnet.cells[index + 1]),
    ]
    nbformat.write(chapter, str(tmp_path / "09_blocks.ipynb"))
    submissions, out = tmp_path / "submissions", tmp_path / "results"
    submissions.mkdir()
    nbformat.write(solved_version(chapter), str(submissions / "solved.ipynb"))
    nbformat.write(student_version(chapter), str(submissions / "unanswered.ipynb"))
    plain = student_version(chapter)
    replace_answer(plain, "residual_block", PLAIN_BLOCK)
    nbformat.write(plain, str(submissions / "plain.ipynb"))
    finished = run_grader(
        "grade", str(submissions), "--chapter", str(tmp_path / "09_blocks.ipynb"), "--out", str(out),
        "--timeout", str(TIME_LIMIT), "--cell-timeout", str(CELL_TIMEOUT), "-j", "2",
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-3000:]
    rows = read_gradebook(out / "gradebook.csv")
    possible = load_points().of("resnet.residual_block")
    assert {name: (row["status"], float(row["total"])) for name, row in rows.items()} == {
        "solved.ipynb": ("ok", possible),
        "unanswered.ipynb": ("ok", 0),
        "plain.ipynb": ("ok", 0),
    }
    assert "still returns `...`" in (out / "feedback" / "unanswered.txt").read_text()
    plain_feedback = (out / "feedback" / "plain.txt").read_text()
    assert "checked inside the notebook's own kernel" in plain_feedback
    assert "input" in plain_feedback and "Hint:" in plain_feedback  # the identity case fails, and says so
    details = json.loads((out / "gradebook.json").read_text())
    solved = next(entry for entry in details["submissions"] if entry["submission"] == "solved.ipynb")
    assert solved["details"]["resnet.residual_block"]["in_kernel"] is True


@pytest.mark.chapters
@TENSORFLOW_ONLY
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.name)
def test_every_chapter_solutions_earn_every_point(chapter, tmp_path):
    """The chapter's own solutions pass its public and hidden checks; its student version earns 0."""
    submissions, out = tmp_path / "submissions", tmp_path / "results"
    submissions.mkdir()
    notebook = read_notebook(chapter)
    nbformat.write(solved_version(notebook), str(submissions / "solved.ipynb"))
    # The student version cut down to its setup cell and exercise cells: quick, and unanswered.
    unanswered = student_version(notebook)
    setup = next(cell for cell in unanswered.cells if cell.cell_type == "code")
    exercises = [cell for cell in unanswered.cells if "exercise" in cell.metadata.get("tags", [])]
    unanswered.cells = [setup, *exercises]
    nbformat.write(unanswered, str(submissions / "unanswered.ipynb"))
    finished = run_grader(
        "grade", str(submissions), "--chapter", str(chapter), "--out", str(out),
        "--timeout", "900", "--cell-timeout", "300", "-j", "2",
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-3000:]
    rows = read_gradebook(out / "gradebook.csv")
    solved, unanswered_row = rows["solved.ipynb"], rows["unanswered.ipynb"]
    feedback = (out / "feedback" / "solved.txt").read_text()
    # Every point, whatever the chapter's own cells did (a slow training cell on a busy machine
    # is the chapter's business, checked by its own tests; the answers are what is graded here).
    assert float(solved["total"]) == float(solved["possible"]) > 0, feedback
    assert solved["status"] in ("ok", "cell errors", "cell timeout"), feedback
    assert float(unanswered_row["total"]) == 0, unanswered_row
    assert not leaked(notebook, (out / "feedback" / "unanswered.txt").read_text())


def test_the_grader_refuses_a_chapter_exercise_without_points(tmp_path):
    chapter = tmp_path / "01_x.ipynb"
    nbformat.write(synthetic_chapter(), str(chapter))
    (tmp_path / "points.toml").write_text("[convolution]\noutput_size = 1\n")
    (tmp_path / "submissions").mkdir()
    finished = run_grader(
        "grade", str(tmp_path / "submissions"), "--chapter", str(chapter), "--out", str(tmp_path / "out"),
        "--points", str(tmp_path / "points.toml"),
    )  # fmt: skip
    assert finished.returncode == 2
    assert "convolution.correlate2d" in finished.stderr and "points.toml" in finished.stderr
    assert not (tmp_path / "out").exists()
