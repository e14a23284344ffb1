"""Grade a folder of submitted notebooks into a gradebook and per-student feedback.

The parent process (this module) never runs student code. For each submission
it starts :mod:`grading.worker` in a new session with a fresh copy of the
grading code, a sandbox folder holding only a copy of the notebook, and a
random token on standard input; it kills the worker's and the kernel's process
groups when the time limit passes, and accepts a result only if it carries the
token. It alone writes the gradebook (CSV and JSON, each written to a temporary
file and renamed into place) and the feedback files, after every submission
has been graded.
"""

from __future__ import annotations

import concurrent.futures
import csv
import dataclasses
import hashlib
import io
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

from grading.chapter import ExerciseCell, exercise_cells, read_notebook
from grading.checks import DEFAULT_HIDDEN, hidden_checks_of, load_hidden
from grading.points import DEFAULT_POINTS, Points, format_points, load_points

FEEDBACK_MARKER = ".written-by-grading"  # a feedback folder the grader may replace
MAX_RESULT_BYTES = 32 * 2**20  # a worker's result file larger than this is refused

# Statuses, from the least to the most serious; a row shows the most serious one.
STATUSES = (
    "ok",  # every cell ran
    "cell errors",  # some cells raised; the answers were graded
    "cell timeout",  # a cell ran past the cell time limit and was interrupted; graded
    "time limit",  # the last cells were not run for lack of time; graded on what had run
    "kernel died",  # a cell killed the kernel (or hung it); graded after re-running without it
    "grader error",  # no valid result came back (the grading process died or was killed)
    "timeout",  # killed at the submission time limit; no points
    "invalid notebook",  # not notebook JSON; no points
    "too large",  # larger than --max-size; not run
    "empty file",  # 0 bytes; not run
)
EVENT_STATUS = {
    "cell error": "cell errors",
    "cell timeout": "cell timeout",
    "time limit": "time limit",
    "kernel died": "kernel died",
}


@dataclasses.dataclass
class Settings:
    """How to grade; the command-line options of ``python -m grading grade``."""

    chapter: pathlib.Path  # the chapter notebook the submissions answer (book/01_convolution.ipynb)
    out: pathlib.Path  # folder for gradebook.csv, gradebook.json and feedback/
    jobs: int = 2  # submissions graded at the same time
    time_limit: float = 600.0  # seconds per submission, start to end; the process is then killed
    cell_timeout: float = (
        120.0  # seconds per cell (and per call of a function answer); then interrupted
    )
    points: pathlib.Path = DEFAULT_POINTS  # points per exercise
    hidden: pathlib.Path = DEFAULT_HIDDEN  # folder of hidden checks
    fast: bool = True  # run submissions with COURSEPKG_FAST=1
    max_size: int = 50 * 2**20  # bytes; larger submissions are not run
    max_file_bytes: int = 2**30  # bytes; the largest file a submission may write

    def check(self) -> None:
        for name in ("jobs", "time_limit", "cell_timeout", "max_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not value > 0:
                raise ValueError(f"Expected `{name}` to be positive. Received: {name}={value!r}")
        if not self.chapter.is_file():
            raise ValueError(
                f"Expected `chapter` to be a notebook file. Received: chapter={str(self.chapter)!r}"
            )


@dataclasses.dataclass
class Grade:
    """One submission's grade."""

    submission: str  # path relative to the submissions folder
    student_id: str  # the file name without .ipynb (made unique)
    status: str  # one of STATUSES
    reason: str  # why, in a line
    earned: dict[str, float]  # exercise id -> points earned
    details: dict[str, dict]  # exercise id -> what the checks said (from the worker)
    events: list[dict]  # what happened while running the notebook
    seconds: float  # time spent on it

    @property
    def total(self) -> float:
        return round(sum(self.earned.values()), 2)


# --------------------------------------------------------------------------- trusted code


def trusted_sources(hidden: pathlib.Path) -> dict[str, pathlib.Path]:
    """The grading code, the checks and coursepkg: ``{path in the copy: file on disk}``."""
    import coursepkg
    import grading

    sources = {}
    for package in (pathlib.Path(grading.__file__).parent, pathlib.Path(coursepkg.__file__).parent):
        for path in sorted(package.rglob("*")):
            relative = path.relative_to(package.parent)
            if path.is_file() and "__pycache__" not in relative.parts and path.suffix != ".pyc":
                sources[relative.as_posix()] = path
    for path in sorted(hidden.glob("*.py")):
        sources[f"_hidden/{path.name}"] = path
    return sources


def trusted_files(hidden: pathlib.Path) -> dict[str, bytes]:
    """The trusted files' contents, read once before any submission runs.

    Each worker gets a fresh copy written from these bytes, so a submission
    that edits files on disk cannot change how another submission is graded.
    """
    return {name: path.read_bytes() for name, path in trusted_sources(hidden).items()}


def changed_files(snapshot: dict[str, bytes], hidden: pathlib.Path) -> list[str]:
    """Trusted files that differ now from the snapshot taken at the start."""
    sources = trusted_sources(hidden)
    changed = sorted(set(snapshot) ^ set(sources))
    for name, path in sources.items():
        if name in snapshot:
            try:
                if (
                    hashlib.sha256(path.read_bytes()).digest()
                    != hashlib.sha256(snapshot[name]).digest()
                ):
                    changed.append(name)
            except OSError:
                changed.append(name)
    return sorted(set(changed))


# --------------------------------------------------------------------------- one submission


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (OSError, ValueError):
        pass


def run_one(
    path: pathlib.Path,
    settings: Settings,
    exercises: list[ExerciseCell],
    snapshot: dict[str, bytes],
) -> dict:
    """Grade one submission in a worker process; the worker's result, or why there is none."""
    size = path.stat().st_size
    if size == 0:
        return {"status": "empty file", "reason": "the file is empty (0 bytes)"}
    if size > settings.max_size:
        limit = settings.max_size / 2**20
        return {
            "status": "too large",
            "reason": f"the file has {size / 2**20:.0f} MB, over the {limit:.0f} MB limit",
        }
    private = pathlib.Path(
        tempfile.mkdtemp(prefix="grading-")
    )  # the worker's; never the kernel's cwd
    sandbox = pathlib.Path(tempfile.mkdtemp(prefix="submission-"))  # the kernel's working folder
    try:
        spec = prepare(path, private, sandbox, settings, exercises, snapshot)
        token = secrets.token_hex(16)
        started = time.monotonic()
        returncode = run_worker(private, spec, token, settings.time_limit)
        seconds = time.monotonic() - started
        if returncode is None:
            limit = settings.time_limit
            return {
                "status": "timeout",
                "reason": f"killed after {limit:.0f} s, the time limit per submission",
                "seconds": seconds,
            }
        result, problem = read_result(pathlib.Path(spec["result"]), token)
        if result is None:
            how = f"killed by signal {-returncode}" if returncode < 0 else f"exit code {returncode}"
            reason = f"no valid result from the grading process ({how}; {problem})"
            return {"status": "grader error", "reason": reason, "seconds": seconds}
        if result.get("error"):
            return {
                "status": "grader error",
                "reason": f"the grader failed: {result['error']}",
                "seconds": seconds,
            }
        if result.get("invalid"):
            return {"status": "invalid notebook", "reason": result["invalid"], "seconds": seconds}
        result["seconds"] = seconds
        return result
    finally:
        shutil.rmtree(private, ignore_errors=True)
        shutil.rmtree(sandbox, ignore_errors=True)


def prepare(
    path: pathlib.Path,
    private: pathlib.Path,
    sandbox: pathlib.Path,
    settings: Settings,
    exercises: list[ExerciseCell],
    snapshot: dict[str, bytes],
) -> dict:
    """Lay out a worker's folders: its copy of the code, the sandbox, and its spec file."""
    code = private / "code"
    for relative, content in snapshot.items():
        target = code / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    (code / "_hidden").mkdir(exist_ok=True)
    shutil.copyfile(path, sandbox / "submission.ipynb")
    exchange = sandbox / f".grading-{secrets.token_hex(8)}"  # answers and function calls pass here
    exchange.mkdir()
    kernel_env = dict(os.environ)
    kernel_env.update(
        MPLBACKEND="Agg",
        IPYTHONDIR=str(sandbox / ".ipython"),  # no startup file left by an earlier submission
        PYTHONDONTWRITEBYTECODE="1",
    )
    if settings.fast:
        kernel_env["COURSEPKG_FAST"] = "1"
    spec = {
        "notebook": str(sandbox / "submission.ipynb"),
        "sandbox": str(sandbox),
        "exchange": str(exchange),
        "exercises": [[item.id, item.variable] for item in exercises],
        "cell_timeout": settings.cell_timeout,
        "time_limit": settings.time_limit,
        # Seconds kept at the end for checking the answers: no cell starts later than this.
        "reserve": min(max(10.0, 0.15 * settings.time_limit), settings.time_limit / 2),
        "hidden": str(code / "_hidden"),
        "kernel_env": kernel_env,
        "max_file_bytes": settings.max_file_bytes,
        "pid_file": str(private / "kernel-groups"),
        "result": str(private / "result.json"),
        "code": str(code),
    }
    (private / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    return spec


def run_worker(private: pathlib.Path, spec: dict, token: str, time_limit: float) -> int | None:
    """Run :mod:`grading.worker` on ``spec``; its exit code, or ``None`` if it was killed at the limit.

    Whatever happens, the worker's process group and every kernel's process
    group are killed before this returns.
    """
    environment = dict(os.environ)
    environment.update(
        PYTHONPATH=os.pathsep.join([spec["code"], *filter(None, [os.environ.get("PYTHONPATH")])]),
        PYTHONDONTWRITEBYTECODE="1",
        JUPYTER_RUNTIME_DIR=str(pathlib.Path(spec["sandbox"], ".jupyter-runtime")),
    )
    with open(private / "worker.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "grading.worker", str(private / "spec.json")],
            cwd=spec["code"],
            env=environment,
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            process.stdin.write(f"{token}\n".encode())
            process.stdin.close()
        except OSError:
            pass
        try:
            process.wait(timeout=time_limit)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            kill_group(process.pid)
            groups = pathlib.Path(spec["pid_file"])
            for group in groups.read_text().split() if groups.exists() else []:
                if group.isdigit():
                    kill_group(int(group))
            process.wait()
    return None if timed_out else process.returncode


def read_result(path: pathlib.Path, token: str) -> tuple[dict | None, str]:
    """The worker's result if it is there, readable and carries this run's token; else why not."""
    try:
        if path.stat().st_size > MAX_RESULT_BYTES:
            return None, "its result file is too large"
        result = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, "it wrote no result; the submission may have killed it"
    except (OSError, ValueError):
        return None, "its result file is not readable JSON"
    if not isinstance(result, dict) or not secrets.compare_digest(
        str(result.get("token", "")), token
    ):
        return None, "a result file without this run's token was refused (forged?)"
    return result, ""


def to_grade(
    submission: str, student_id: str, result: dict, exercises: list[ExerciseCell], points: Points
) -> Grade:
    """Score a worker's result with the points table."""
    details = result.get("exercises") or {}
    events = [event for event in result.get("events") or [] if isinstance(event, dict)]
    earned = {}
    for item in exercises:
        detail = details.get(item.id) or {}
        checks = detail.get("checks") or []
        passed = sum(bool(check.get("passed")) for check in checks)
        earned[item.id] = (
            points.earned(item.id, passed, len(checks)) if detail.get("answered") else 0.0
        )
    status = result.get("status")
    reasons = [str(result["reason"])] if result.get("reason") else []
    if status is None:
        seen = [
            EVENT_STATUS[event["kind"]] for event in events if event.get("kind") in EVENT_STATUS
        ]
        status = max(seen, key=STATUSES.index) if seen else "ok"
        shown = [
            event
            for event in events
            if event.get("kind") in EVENT_STATUS or event.get("kind") == "output"
        ]
        reasons += [str(event.get("text", "")) for event in shown[:3]]
        if len(shown) > 3:
            reasons.append(f"and {len(shown) - 3} more (see the feedback file)")
        unanswered = [
            item.variable for item in exercises if details.get(item.id, {}).get("answered") is False
        ]
        if unanswered and details:
            reasons.append("not answered: " + ", ".join(unanswered))
        reasons += [
            str(details[item.id]["flag"])
            for item in exercises
            if details.get(item.id, {}).get("flag")
        ]
    return Grade(
        submission,
        student_id,
        status,
        "; ".join(reasons),
        earned,
        details,
        events,
        round(float(result.get("seconds", 0.0)), 1),
    )


# --------------------------------------------------------------------------- the whole folder


def find_submissions(folder: pathlib.Path) -> list[pathlib.Path]:
    """Every ``*.ipynb`` under ``folder`` (or ``folder`` itself if it is a notebook).

    Hidden files and folders (``.ipynb_checkpoints`` among them) are skipped.
    """
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        raise ValueError(
            f"Expected `submissions` to be a folder of notebooks. Received: {str(folder)!r}"
        )
    found = []
    for path in folder.rglob("*.ipynb"):
        if path.is_file() and not any(
            part.startswith(".") for part in path.relative_to(folder).parts
        ):
            found.append(path)
    return sorted(found)


def student_ids(paths: list[pathlib.Path], folder: pathlib.Path) -> list[str]:
    """A unique id per submission: the file name without ``.ipynb`` (the folder path if needed)."""
    stems = [path.stem for path in paths]
    ids = []
    for path, stem in zip(paths, stems):
        base = (
            stem
            if stems.count(stem) == 1 or folder.is_file()
            else path.relative_to(folder).with_suffix("").as_posix()
        )
        ids.append(base)
    return ids


def load_chapter(settings: Settings) -> tuple[list[ExerciseCell], Points, list]:
    """The chapter's exercises, the points and the hidden checks, checked against each other.

    Raises:
        ValueError: if the chapter has no exercise, an exercise is not registered
            in ``coursepkg.exercises`` or has no points, or a hidden check is for
            an exercise that does not exist.
    """
    from coursepkg.checking import exercises as registered_exercises

    exercises = exercise_cells(read_notebook(settings.chapter))
    if not exercises:
        raise ValueError(
            f"Expected {settings.chapter} to have exercise cells (tagged `exercise`). Received none."
        )
    points = load_points(settings.points)
    registered = {item.id for item in registered_exercises()}
    for item in exercises:
        if item.id not in registered:
            raise ValueError(
                f"Expected every exercise of the chapter to be registered in coursepkg.exercises. Received: {item.id!r}"
            )
        points.of(item.id)
    hidden = load_hidden(settings.hidden)
    unknown = sorted({check.exercise for check in hidden} - registered)
    if unknown:
        raise ValueError(
            f"Expected the hidden checks to be for registered exercises. Received checks for {unknown}"
        )
    return exercises, points, hidden


def grade(
    submissions: pathlib.Path, settings: Settings, progress: Callable[[str], None] | None = None
) -> list[Grade]:
    """Grade every notebook under ``submissions``; write the gradebook and the feedback.

    Args:
        submissions: a folder of notebooks (searched recursively) or one notebook.
        settings: see :class:`Settings`.
        progress: called with one line per graded submission.

    Returns:
        The grades, in the order of the gradebook rows.
    """
    settings.check()
    progress = progress or (lambda line: None)
    submissions = pathlib.Path(submissions)
    exercises, points, hidden = load_chapter(settings)
    feedback_dir = settings.out / "feedback"
    if feedback_dir.exists() and not (feedback_dir / FEEDBACK_MARKER).exists():
        raise ValueError(
            f"Expected {feedback_dir} to be a feedback folder written by the grader. "
            "Received a folder of other files; choose another --out"
        )
    paths = find_submissions(submissions)
    root = submissions if submissions.is_dir() else submissions.parent
    ids = student_ids(paths, submissions)
    snapshot = trusted_files(settings.hidden)
    possible = sum(points.of(item.id) for item in exercises)
    started = time.monotonic()

    def work(index: int) -> Grade:
        path = paths[index]
        name = path.relative_to(root).as_posix()
        try:
            result = run_one(path, settings, exercises, snapshot)
        except Exception as error:  # the grader's own failure on this file: a row, not a crash
            result = {"status": "grader error", "reason": f"{type(error).__name__}: {error}"}
        return to_grade(name, ids[index], result, exercises, points)

    grades: list[Grade | None] = [None] * len(paths)
    with concurrent.futures.ThreadPoolExecutor(max_workers=settings.jobs) as pool:
        futures = {pool.submit(work, index): index for index in range(len(paths))}
        for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
            grade_ = future.result()
            grades[futures[future]] = grade_
            progress(
                f"[{done}/{len(paths)}] {grade_.submission}: {format_points(grade_.total)}/{format_points(possible)} "
                f"{grade_.status} ({grade_.seconds:.0f} s)"
            )
    warnings = []
    changed = changed_files(snapshot, settings.hidden)
    if changed:
        warnings.append(
            "files of the grader changed on disk while grading (a submission may have written them; "
            f"the grades used the copy taken at the start): {', '.join(changed[:10])}"
        )
    write_gradebook(
        [grade_ for grade_ in grades if grade_ is not None],
        exercises,
        points,
        hidden,
        settings,
        warnings,
        time.monotonic() - started,
    )
    for warning in warnings:
        progress(f"WARNING: {warning}")
    return [grade_ for grade_ in grades if grade_ is not None]


# --------------------------------------------------------------------------- writing


def exercise_column(exercise_id: str, points: Points) -> str:
    """The gradebook column of an exercise: its id and the points it is worth, ``"convolution.correlate2d /4"``."""
    return f"{exercise_id} /{format_points(points.of(exercise_id))}"


def atomic_write(path: pathlib.Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        pathlib.Path(temporary).unlink(missing_ok=True)
        raise


def feedback_text(
    grade_: Grade, exercises: list[ExerciseCell], points: Points, chapter: pathlib.Path
) -> str:
    """The feedback file of one student."""
    possible = sum(points.of(item.id) for item in exercises)
    lines = [
        f"Feedback on {grade_.submission} (student {grade_.student_id}), chapter {chapter.as_posix()}",
        f"Points: {format_points(grade_.total)} / {format_points(possible)}",
        f"Status: {grade_.status}" + (f" ({grade_.reason})" if grade_.reason else ""),
        "",
    ]
    for item in exercises:
        detail = grade_.details.get(item.id) or {}
        checks = detail.get("checks") or []
        score = f"{format_points(grade_.earned[item.id])} / {format_points(points.of(item.id))}"
        if not detail:
            lines.append(f"{item.id}: {score}: not graded")
        elif not detail.get("answered"):
            lines.append(f"{item.id}: {score}: {detail.get('reason', 'not answered')}")
        else:
            passed = sum(bool(check.get("passed")) for check in checks)
            lines.append(f"{item.id}: {score}: passed {passed} of {len(checks)} checks")
            for check in checks:
                if not check.get("passed"):
                    name = str(check.get("name"))
                    problems = (
                        "; ".join(str(problem) for problem in check.get("problems") or [])
                        or "failed"
                    )
                    lines.append(
                        f"  - {problems}" if name in problems else f"  - {name}: {problems}"
                    )
            if passed < len(checks) and detail.get("hint"):
                lines.append(f"  Hint: {detail['hint']}")
            for key in ("flag", "note"):
                if detail.get(key):
                    lines.append(f"  Note: {detail[key]}")
    notes = [event.get("text", "") for event in grade_.events if event.get("kind") != "note"]
    if notes:
        lines += ["", "While running your notebook:"] + [f"  - {text}" for text in notes]
    return "\n".join(lines) + "\n"


def safe_file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "submission"


def write_gradebook(
    grades: list[Grade],
    exercises: list[ExerciseCell],
    points: Points,
    hidden: list,
    settings: Settings,
    warnings: list[str],
    seconds: float,
) -> None:
    """Write gradebook.csv, gradebook.json and feedback/ under ``settings.out``."""
    out = settings.out
    out.mkdir(parents=True, exist_ok=True)
    possible = sum(points.of(item.id) for item in exercises)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "submission",
            "student_id",
            "status",
            *[exercise_column(item.id, points) for item in exercises],
            "total",
            "possible",
            "reason",
        ]
    )
    for grade_ in grades:
        writer.writerow(
            [grade_.submission, grade_.student_id, grade_.status]
            + [format_points(grade_.earned[item.id]) for item in exercises]
            + [format_points(grade_.total), format_points(possible), grade_.reason]
        )
    atomic_write(out / "gradebook.csv", buffer.getvalue())
    book = {
        "chapter": settings.chapter.as_posix(),
        "exercises": [
            {
                "id": item.id,
                "variable": item.variable,
                "points": points.of(item.id),
                "hidden_checks": len(hidden_checks_of(hidden, item.id)),
            }
            for item in exercises
        ],
        "possible": possible,
        "settings": {
            "time_limit": settings.time_limit,
            "cell_timeout": settings.cell_timeout,
            "jobs": settings.jobs,
            "fast": settings.fast,
            "partial_credit": points.partial_credit,
        },
        "seconds": round(seconds, 1),
        "warnings": warnings,
        "submissions": [dataclasses.asdict(grade_) | {"total": grade_.total} for grade_ in grades],
    }
    atomic_write(out / "gradebook.json", json.dumps(book, indent=1))
    # Feedback: a new folder, swapped in place of the previous one (only if the grader wrote it).
    staging = pathlib.Path(tempfile.mkdtemp(dir=out, prefix=".feedback-"))
    (staging / FEEDBACK_MARKER).write_text(
        "Written by `python -m grading grade`; replaced on every run.\n"
    )
    used: set[str] = set()
    for grade_ in grades:
        name = safe_file_name(grade_.student_id)
        candidate, number = name, 2
        while candidate.lower() in used:
            candidate, number = f"{name}-{number}", number + 1
        used.add(candidate.lower())
        (staging / f"{candidate}.txt").write_text(
            feedback_text(grade_, exercises, points, settings.chapter), encoding="utf-8"
        )
    target = out / "feedback"
    if target.exists():
        old = out / f".feedback-old-{secrets.token_hex(4)}"
        target.rename(old)
        shutil.rmtree(old, ignore_errors=True)
    staging.rename(target)
