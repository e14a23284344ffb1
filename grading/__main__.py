"""``python -m grading``: student versions, the gradebook, and a chapter's exercise list."""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

from grading.chapter import exercise_cells, read_notebook, write_student_version
from grading.checks import DEFAULT_HIDDEN, forbidden_calls, hidden_checks_of, load_hidden
from grading.grade import Settings, grade
from grading.points import DEFAULT_POINTS, format_points, load_points
from grading.worker import become_subreaper, kill_descendants


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m grading", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    student = commands.add_parser(
        "student", help="write the student version of chapters (solutions removed, outputs cleared)"
    )
    student.add_argument(
        "chapters",
        nargs="+",
        type=pathlib.Path,
        help="chapter notebooks, e.g. book/01_convolution.ipynb",
    )
    student.add_argument(
        "--out",
        type=pathlib.Path,
        default=pathlib.Path("assignments"),
        help="folder (default: assignments/)",
    )

    grade_ = commands.add_parser(
        "grade", help="grade a folder of submitted notebooks into a gradebook"
    )
    grade_.add_argument(
        "submissions",
        type=pathlib.Path,
        help="folder of submitted .ipynb files (searched recursively)",
    )
    grade_.add_argument(
        "--chapter",
        type=pathlib.Path,
        required=True,
        help="the chapter they answer, e.g. book/01_convolution.ipynb",
    )
    grade_.add_argument(
        "--out",
        type=pathlib.Path,
        default=pathlib.Path("results"),
        help="folder for gradebook.csv, gradebook.json, feedback/ (default: results/)",
    )
    grade_.add_argument(
        "-j", "--jobs", type=int, default=2, help="submissions graded at the same time (default: 2)"
    )
    grade_.add_argument(
        "--timeout",
        type=float,
        default=600,
        help="seconds per submission before it is killed (default: 600)",
    )
    grade_.add_argument(
        "--cell-timeout",
        type=float,
        default=120,
        help="seconds per cell before it is interrupted (default: 120)",
    )
    grade_.add_argument(
        "--points",
        type=pathlib.Path,
        default=DEFAULT_POINTS,
        help="points file (default: grading/points.toml)",
    )
    grade_.add_argument(
        "--hidden",
        type=pathlib.Path,
        default=DEFAULT_HIDDEN,
        help="folder of hidden checks (default: grading/hidden/)",
    )
    grade_.add_argument(
        "--full",
        action="store_true",
        help="run submissions at full size (default: COURSEPKG_FAST=1)",
    )
    grade_.add_argument(
        "--sandbox",
        choices=["auto", "bwrap", "unshare"],
        default="auto",
        help="the sandbox each kernel runs in (default: auto, bubblewrap if it works, else unshare)",
    )
    grade_.add_argument(
        "--unsandboxed",
        action="store_true",
        help="run the kernels without a sandbox, as your own user (only for code you trust)",
    )
    grade_.add_argument(
        "--memory",
        type=float,
        default=8,
        help="GB of memory (address space) of each process in the sandbox (default: 8)",
    )
    grade_.add_argument(
        "--seed",
        type=int,
        default=None,
        help="draw every submission's hidden inputs from this seed (default: a new one each, "
        "written in the gradebook's seed column)",
    )

    listing = commands.add_parser(
        "exercises", help="list a chapter's exercises, answer variables, points and hidden checks"
    )
    listing.add_argument("chapter", type=pathlib.Path)
    listing.add_argument("--points", type=pathlib.Path, default=DEFAULT_POINTS)
    listing.add_argument("--hidden", type=pathlib.Path, default=DEFAULT_HIDDEN)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    try:
        if arguments.command == "student":
            for chapter in arguments.chapters:
                print(f"{chapter} -> {write_student_version(chapter, arguments.out)}")
            return 0
        if arguments.command == "exercises":
            points, hidden = load_points(arguments.points), load_hidden(arguments.hidden)
            rows = [("exercise", "answer variable", "points", "checks", "forbidden calls")]
            for item in exercise_cells(read_notebook(arguments.chapter)):
                count = len(hidden_checks_of(hidden, item.id))
                forbidden = len(forbidden_calls(item.id))
                rows.append(
                    (
                        item.id,
                        item.variable,
                        format_points(points.of(item.id)),
                        f"1 public + {count} hidden",
                        str(forbidden) if forbidden else "",
                    )
                )
            widths = [max(len(row[column]) for row in rows) for column in range(5)]
            for row in rows:
                print("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())
            return 0
        settings = Settings(
            chapter=arguments.chapter,
            out=arguments.out,
            jobs=arguments.jobs,
            time_limit=arguments.timeout,
            cell_timeout=arguments.cell_timeout,
            points=arguments.points,
            hidden=arguments.hidden,
            fast=not arguments.full,
            memory=int(arguments.memory * 2**30),
            sandbox="none" if arguments.unsandboxed else arguments.sandbox,
            seed=arguments.seed,
        )
        become_subreaper()  # orphans of killed submissions come back to this process
        started = time.monotonic()
        try:
            grades = grade(
                arguments.submissions,
                settings,
                progress=lambda line: print(line, file=sys.stderr, flush=True),
            )
        finally:
            kill_descendants()
        print(
            f"Graded {len(grades)} submissions in {time.monotonic() - started:.0f} s: "
            f"{settings.out / 'gradebook.csv'}, feedback in {settings.out / 'feedback'}/"
        )
        return 0
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
