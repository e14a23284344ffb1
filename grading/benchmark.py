"""Time the grading of a class: N submissions of one chapter, graded by the real command.

    python -m grading.benchmark --chapter book/01_convolution.ipynb --count 30 -j 2
    python -m grading.benchmark --chapter book/01_convolution.ipynb --count 30 -j 2 --unsandboxed

The submissions are made from the chapter itself: two in three answer every
exercise with the chapter's solutions; the others leave every other exercise
unanswered (as the student version has it). The command is run once, as an
instructor would run it, and the wall-clock time is printed with the machine's
CPU count and load, since the figure depends on both, and the sandbox used
(``--unsandboxed`` or ``--sandbox`` are passed on to the grader, to compare).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import nbformat

from grading.chapter import cell_tags, read_notebook, solved_version, student_version


def make_class(chapter: pathlib.Path, folder: pathlib.Path, count: int) -> None:
    """Write ``count`` submissions of ``chapter`` into ``folder``."""
    notebook = read_notebook(chapter)
    solved, student = solved_version(notebook), student_version(notebook)
    exercises = [index for index, cell in enumerate(student.cells) if "exercise" in cell_tags(cell)]
    for number in range(count):
        submission = nbformat.from_dict(solved)
        if number % 3 == 2:
            for index in exercises[::2]:
                submission.cells[index] = nbformat.from_dict(student.cells[index])
        nbformat.write(submission, str(folder / f"student{number + 1:02d}.ipynb"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading.benchmark", description=__doc__)
    parser.add_argument(
        "--chapter", type=pathlib.Path, default=pathlib.Path("book/01_convolution.ipynb")
    )
    parser.add_argument("--count", type=int, default=30, help="submissions (default: 30)")
    parser.add_argument(
        "-j", "--jobs", type=int, default=2, help="passed to the grader (default: 2)"
    )
    parser.add_argument("--sandbox", choices=["auto", "bwrap", "unshare"], default="auto")
    parser.add_argument("--unsandboxed", action="store_true", help="passed to the grader")
    arguments = parser.parse_args(argv)
    isolation = ["--unsandboxed"] if arguments.unsandboxed else ["--sandbox", arguments.sandbox]
    with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as temporary:
        folder, out = pathlib.Path(temporary, "submissions"), pathlib.Path(temporary, "results")
        folder.mkdir()
        make_class(arguments.chapter, folder, arguments.count)
        load = os.getloadavg()[0]
        started = time.perf_counter()
        finished = subprocess.run(
            [sys.executable, "-m", "grading", "grade", str(folder), "--chapter", str(arguments.chapter),
             "--out", str(out), "-j", str(arguments.jobs), *isolation],
            capture_output=True, text=True,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        if finished.returncode != 0:
            print(finished.stderr[-3000:], file=sys.stderr)
            return finished.returncode
        with open(out / "gradebook.csv", newline="") as file:
            rows = list(csv.DictReader(file))
        statuses = sorted({row["status"] for row in rows})
        sandbox = json.loads((out / "gradebook.json").read_text())["settings"]["sandbox"]
        print(
            f"{len(rows)} submissions of {arguments.chapter} graded in {seconds:.0f} s "
            f"({seconds / len(rows):.1f} s each) with -j {arguments.jobs}, sandbox {sandbox}, on {os.cpu_count()} CPUs "
            f"(load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end); "
            f"statuses: {', '.join(statuses)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
