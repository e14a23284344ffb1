"""Grade a folder of submitted notebooks into a gradebook and per-student feedback.

The parent process (this module) never runs student code. It first checks
that the operating-system sandbox works (:mod:`grading.sandbox`; it refuses to
grade without one unless told ``--unsandboxed``). For each submission it
starts :mod:`grading.worker` in a new session with a fresh copy of the grading
code, a private folder holding a copy of the notebook, the sandbox to run its
kernel in (a user of its own per job running at the same time), a new seed for
the hidden inputs and a random token on standard input; it kills the worker's
and the kernel's process groups when the time limit passes (the sandbox dies
with them), and accepts a result only if it carries the token.

Every file under the submissions folder gets a gradebook row, graded or not
(``skipped``, with the reason). The grader alone writes the gradebook (CSV and
JSON, each written to a temporary file and renamed into place) and the
feedback files, after every submission has been graded, under names it owns:
anything else found there under those names is renamed aside, never deleted.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import os
import pathlib
import queue
import re
import secrets
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable

from grading import sandbox as sandboxing
from grading.chapter import ExerciseCell, exercise_cells, read_notebook
from grading.checks import DEFAULT_HIDDEN, hidden_checks_of, load_hidden
from grading.points import DEFAULT_POINTS, Points, format_points, load_points
from grading.worker import worker_command

FEEDBACK_MARKER = ".written-by-grading"  # a feedback folder the grader may replace
MAX_RESULT_BYTES = 32 * 2**20  # a worker's result file larger than this is refused
SANDBOXES = ("auto", *sandboxing.BACKENDS, "none")  # "none": --unsandboxed

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
    "skipped",  # not a submission: not a .ipynb, a hidden file, a link, not a regular file
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
    memory: int = 8 * 2**30  # bytes of memory (address space) of each process in the sandbox
    sandbox: str = (
        "auto"  # "auto" (bwrap, else unshare), "bwrap", "unshare", or "none" (--unsandboxed)
    )
    seed: int | None = None  # the hidden inputs' seed of every submission; None: a new one each

    def check(self) -> None:
        for name in ("jobs", "time_limit", "cell_timeout", "max_size", "memory"):
            value = getattr(self, name)
            if isinstance(value, bool) or not value > 0:
                raise ValueError(f"Expected `{name}` to be positive. Received: {name}={value!r}")
        if self.sandbox not in SANDBOXES:
            raise ValueError(
                f"Expected `sandbox` to be one of {SANDBOXES}. Received: sandbox={self.sandbox!r}"
            )
        if not self.chapter.is_file():
            raise ValueError(
                f"Expected `chapter` to be a notebook file. Received: chapter={str(self.chapter)!r}"
            )
        if self.out.exists() and not self.out.is_dir():
            raise ValueError(
                f"Expected `out` to be a folder. Received the file out={str(self.out)!r}"
            )

    def limits(self) -> sandboxing.Limits:
        return dataclasses.replace(
            sandboxing.Limits(), memory=self.memory, file_size=self.max_file_bytes
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
    seed: int | None = None  # the seed its hidden inputs were drawn from (None: not run)

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


@dataclasses.dataclass(frozen=True)
class Submission:
    """A file found under the submissions folder."""

    path: pathlib.Path
    name: str  # its path relative to the submissions folder, printable (see `printable`)
    skip: str = ""  # why it is not graded; "" when it is


@dataclasses.dataclass(frozen=True)
class Isolation:
    """How every submission's kernel is isolated: the sandbox chosen and what it shows."""

    backend: str  # "bwrap", "unshare" or "none"
    readable: tuple[str, ...] = ()  # see grading.sandbox.Sandbox
    masked: tuple[str, ...] = ()
    limits: sandboxing.Limits = sandboxing.Limits()


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (OSError, ValueError):
        pass


def read_submission_bytes(path: pathlib.Path, limit: int) -> bytes:
    """The file's bytes, read without following a link (at most ``limit + 1``)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise ValueError("not a regular file")
        return file.read(limit + 1)


def run_one(
    submission: Submission,
    settings: Settings,
    exercises: list[ExerciseCell],
    snapshot: dict[str, bytes],
    isolation: Isolation,
    uid: int,
) -> dict:
    """Grade one submission in a worker process; the worker's result, or why there is none."""
    if submission.skip:
        return {"status": "skipped", "reason": submission.skip}
    size = os.lstat(submission.path).st_size
    if size == 0:
        return {"status": "empty file", "reason": "the file is empty (0 bytes)"}
    if size > settings.max_size:
        limit = settings.max_size / 2**20
        return {
            "status": "too large",
            "reason": f"the file has {size / 2**20:.0f} MB, over the {limit:.0f} MB limit",
        }
    seed = secrets.randbits(32) if settings.seed is None else settings.seed
    private = pathlib.Path(
        tempfile.mkdtemp(prefix="grading-")
    )  # the worker's; the kernel never sees it
    # The unsandboxed kernel's working folder (a sandboxed kernel's is its own /tmp).
    kernel_folder = tempfile.mkdtemp(prefix="submission-") if isolation.backend == "none" else None
    try:
        content = read_submission_bytes(submission.path, settings.max_size)
        spec = prepare(
            content, private, kernel_folder, settings, exercises, snapshot, isolation, uid, seed
        )
        token = secrets.token_hex(16)
        started = time.monotonic()
        returncode = run_worker(private, spec, token, settings.time_limit)
        seconds = time.monotonic() - started
        leftovers = kill_user_processes(uid) if isolation.backend != "none" else 0
        if returncode is None:
            limit = settings.time_limit
            return {
                "status": "timeout",
                "reason": f"killed after {limit:.0f} s, the time limit per submission",
                "seconds": seconds,
                "seed": seed,
            }
        result, problem = read_result(pathlib.Path(spec["result"]), token)
        if result is None:
            how = f"killed by signal {-returncode}" if returncode < 0 else f"exit code {returncode}"
            reason = f"no valid result from the grading process ({how}; {problem})"
            return {"status": "grader error", "reason": reason, "seconds": seconds, "seed": seed}
        if result.get("error"):
            return {
                "status": "grader error",
                "reason": f"the grader failed: {result['error']}",
                "seconds": seconds,
                "seed": seed,
            }
        if result.get("invalid"):
            return {"status": "invalid notebook", "reason": result["invalid"], "seconds": seconds}
        if leftovers:  # never expected: the sandbox dies with its first process
            result.setdefault("events", []).append(
                {
                    "kind": "note",
                    "cell": None,
                    "text": f"{leftovers} process(es) of the sandbox outlived it and were killed",
                }
            )
        result.update(seconds=seconds, seed=seed)
        return result
    finally:
        shutil.rmtree(private, ignore_errors=True)
        if kernel_folder:
            shutil.rmtree(kernel_folder, ignore_errors=True)


def prepare(
    content: bytes,
    private: pathlib.Path,
    kernel_folder: str | None,
    settings: Settings,
    exercises: list[ExerciseCell],
    snapshot: dict[str, bytes],
    isolation: Isolation,
    uid: int,
    seed: int,
) -> dict:
    """Lay out a worker's private folder: its copy of the code and of the notebook, its spec file.

    Everything here stays out of the kernel's reach: the sandbox shows the
    kernel only the ``channels`` folder (its connection file and sockets).
    Unsandboxed, the kernel runs in ``kernel_folder``, an empty folder.
    """
    code = private / "code"
    for relative, data in snapshot.items():
        target = code / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (code / "_hidden").mkdir(exist_ok=True)
    (private / "submission.ipynb").write_bytes(content)
    for folder in ("channels", "root", "runtime"):
        (private / folder).mkdir()
    if isolation.backend == "none":
        kernel_env = dict(os.environ)
        # Its own IPython folder: no startup file left by an earlier submission.
        kernel_env.update(IPYTHONDIR=os.path.join(kernel_folder, ".ipython"))
        sandbox = None
    else:
        kernel_env = sandboxing.kernel_environment()
        sandbox = {"backend": isolation.backend, "uid": uid, "readable": list(isolation.readable),
                   "masked": list(isolation.masked), "limits": dataclasses.asdict(isolation.limits)}  # fmt: skip
    kernel_env.update(MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    if settings.fast:
        kernel_env["COURSEPKG_FAST"] = "1"
    spec = {
        "notebook": str(private / "submission.ipynb"),
        "sandbox_folder": kernel_folder,  # the unsandboxed kernel's working folder
        "sandbox": sandbox,
        "channels": str(private / "channels"),
        "build_root": str(private / "root"),
        "exercises": [[item.id, item.variable] for item in exercises],
        "cell_timeout": settings.cell_timeout,
        "time_limit": settings.time_limit,
        # Seconds kept at the end for checking the answers: no cell starts later than this.
        "reserve": min(max(10.0, 0.15 * settings.time_limit), settings.time_limit / 2),
        "hidden": str(code / "_hidden"),
        "seed": seed,
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
    environment.update(JUPYTER_RUNTIME_DIR=str(private / "runtime"))
    with open(private / "worker.log", "wb") as log:
        process = subprocess.Popen(
            worker_command(spec["code"], str(private / "spec.json")),
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
            for group in kernel_groups(pathlib.Path(spec["pid_file"])):
                kill_group(group)
            process.wait()
    return None if timed_out else process.returncode


def kernel_groups(path: pathlib.Path) -> list[int]:
    """The kernels' process groups the worker recorded: numbers only, never 0, 1 or ours."""
    try:
        words = path.read_text(encoding="ascii", errors="replace").split()
    except OSError:
        return []
    own = os.getpgrp()
    return [int(word) for word in words if word.isdigit() and int(word) > 1 and int(word) != own]


def kill_user_processes(uid: int) -> int:
    """Kill every process of the sandbox user ``uid`` still running; how many there were."""
    import psutil

    found = []
    for process in psutil.process_iter(["uids"]):
        uids = process.info.get("uids")
        if uids is not None and uid in (uids.real, uids.effective):
            found.append(process)
            try:
                process.kill()
            except psutil.Error:
                pass
    psutil.wait_procs(found, timeout=5)
    return len(found)


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
        result.get("seed"),
    )


# --------------------------------------------------------------------------- the whole folder


def printable(text: str) -> str:
    """``text`` as it can be shown and written anywhere.

    A file name that is not valid UTF-8 (decoded by Python with surrogate
    escapes) shows its bytes as ``\\xNN``; control characters show as escapes.
    """
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(
        character if character.isprintable() else repr(character)[1:-1] for character in text
    )


def skip_reason(entry: os.DirEntry, in_hidden_folder: bool) -> str:
    """Why a file found under the submissions folder is not graded; "" if it is."""
    if entry.is_symlink():
        if not os.path.exists(entry.path):
            return "a dangling symbolic link (the grader does not follow links)"
        return "a symbolic link (the grader does not follow links)"
    if not entry.is_file(follow_symlinks=False):
        return "not a regular file"
    if in_hidden_folder:
        return "in a hidden folder (its name starts with a dot)"
    if entry.name.startswith("."):
        return "a hidden file (its name starts with a dot)"
    if not entry.name.lower().endswith(".ipynb"):
        return "not a notebook (its name does not end in .ipynb)"
    return ""


def find_submissions(folder: pathlib.Path) -> list[Submission]:
    """Every file under ``folder`` (or ``folder`` itself if it is a file), graded or not.

    Notebooks (``.ipynb``, in any case) are graded; every other file gets a
    row too, with the reason it is skipped: not a notebook, a hidden file or a
    file in a hidden folder (``.ipynb_checkpoints``), a symbolic link (never
    followed, not even to a notebook), anything but a regular file. Folders
    are searched without following links.
    """
    if folder.is_file():
        return [Submission(folder, printable(folder.name))]
    if not folder.is_dir():
        raise ValueError(
            f"Expected `submissions` to be a folder of notebooks. Received: {str(folder)!r}"
        )
    found: list[Submission] = []

    def walk(directory: str, in_hidden_folder: bool) -> None:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    walk(entry.path, in_hidden_folder or entry.name.startswith("."))
                    continue
                path = pathlib.Path(entry.path)
                name = printable(path.relative_to(folder).as_posix())
                found.append(Submission(path, name, skip_reason(entry, in_hidden_folder)))

    walk(str(folder), False)
    return sorted(found, key=lambda submission: submission.name)


def student_ids(submissions: list[Submission]) -> list[str]:
    """A unique id per row: the file name without ``.ipynb`` (with its folders if needed)."""

    def without_suffix(name: str) -> str:
        return re.sub(r"\.ipynb$", "", name, flags=re.IGNORECASE)

    stems = [without_suffix(submission.name.rsplit("/", 1)[-1]) for submission in submissions]
    return [
        stem if stems.count(stem) == 1 else without_suffix(submission.name)
        for submission, stem in zip(submissions, stems)
    ]


def isolation_for(
    settings: Settings, submissions: pathlib.Path, uid: int | None = None
) -> Isolation:
    """The sandbox to grade in, checked to work here (as ``uid``), and what it shows.

    Raises:
        ValueError: if no sandbox works and ``settings.sandbox`` is not "none".
    """
    if settings.sandbox == "none":
        return Isolation("none")
    try:
        backend = sandboxing.choose_backend(settings.sandbox, uid)
    except sandboxing.SandboxUnavailable as error:
        raise ValueError(
            f"Expected a working sandbox to run the submissions in. Received: {error}. Install "
            "bubblewrap (apt-get install bubblewrap) or run the grader as root (for unshare); "
            "or pass --unsandboxed to grade without one, as your own user (not recommended)"
        ) from None
    readable = sandboxing.environment_paths()
    import grading

    protected = [settings.hidden, settings.points, settings.out, submissions,
                 pathlib.Path(grading.__file__).parent]  # fmt: skip
    masked = sandboxing.masked_paths(readable, [str(path.absolute()) for path in protected])
    return Isolation(backend, tuple(readable), tuple(masked), settings.limits())


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
        The grades, one per file found, in the order of the gradebook rows.

    Raises:
        ValueError: on bad settings, a chapter the grader cannot read, or no
            working sandbox (unless ``settings.sandbox`` is "none").
    """
    settings.check()
    progress = progress or (lambda line: None)
    submissions = pathlib.Path(submissions)
    exercises, points, hidden = load_chapter(settings)
    found = find_submissions(submissions)
    with contextlib.ExitStack() as stack:
        if settings.sandbox == "none":
            isolation, users = Isolation("none"), [0] * settings.jobs
        else:
            try:  # a sandbox user per job, no other grader's
                users = stack.enter_context(sandboxing.claimed_users(settings.jobs))
            except sandboxing.SandboxUnavailable as error:
                raise ValueError(f"Expected free sandbox users. Received: {error}") from None
            isolation = isolation_for(settings, submissions, users[0])
        return grade_all(found, settings, exercises, points, hidden, isolation, users, progress)


def grade_all(
    found: list[Submission],
    settings: Settings,
    exercises: list[ExerciseCell],
    points: Points,
    hidden: list,
    isolation: Isolation,
    users: list[int],
    progress: Callable[[str], None],
) -> list[Grade]:
    """Grade ``found`` with ``settings.jobs`` jobs, each with a sandbox user of ``users``; write it all."""
    ids = student_ids(found)
    snapshot = trusted_files(settings.hidden)
    possible = sum(points.of(item.id) for item in exercises)
    started = time.monotonic()
    # One sandbox user per job running at the same time: their processes and files stay apart.
    free: queue.Queue[int] = queue.Queue()
    for uid in users:
        free.put(uid)

    def work(index: int) -> Grade:
        submission = found[index]
        uid = free.get()
        try:
            result = run_one(submission, settings, exercises, snapshot, isolation, uid)
        except Exception as error:  # the grader's own failure on this file: a row, not a crash
            result = {
                "status": "grader error",
                "reason": f"{type(error).__name__}: {printable(str(error))}",
            }
        finally:
            free.put(uid)
        return to_grade(submission.name, ids[index], result, exercises, points)

    grades: list[Grade | None] = [None] * len(found)
    with concurrent.futures.ThreadPoolExecutor(max_workers=settings.jobs) as pool:
        futures = {pool.submit(work, index): index for index in range(len(found))}
        for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
            grade_ = future.result()
            grades[futures[future]] = grade_
            progress(
                f"[{done}/{len(found)}] {grade_.submission}: {format_points(grade_.total)}/{format_points(possible)} "
                f"{grade_.status} ({grade_.seconds:.0f} s)"
            )
    warnings = []
    if isolation.backend == "none":
        warnings.append(
            "graded without a sandbox (--unsandboxed): the submissions ran as your user"
        )
    changed = changed_files(snapshot, settings.hidden)
    if changed:
        warnings.append(
            "files of the grader changed on disk while grading (a submission may have written them; "
            f"the grades used the copy taken at the start): {', '.join(changed[:10])}"
        )
    graded = [grade_ for grade_ in grades if grade_ is not None]
    write_gradebook(
        graded, exercises, points, hidden, settings, warnings, time.monotonic() - started,
        isolation.backend,
    )  # fmt: skip
    for warning in warnings:
        progress(f"WARNING: {warning}")
    return graded


# --------------------------------------------------------------------------- writing


def exercise_column(exercise_id: str, points: Points) -> str:
    """The gradebook column of an exercise: its id and the points it is worth, ``"convolution.correlate2d /4"``."""
    return f"{exercise_id} /{format_points(points.of(exercise_id))}"


def claim(path: pathlib.Path, is_ours: Callable[[pathlib.Path], bool], warnings: list[str]) -> None:
    """Make room for the grader's own ``path``: something else there is renamed aside.

    Nothing is deleted: a folder named ``gradebook.csv``, a link, or a
    ``feedback`` folder the grader did not write becomes ``NAME.moved-aside-TIME``
    and ``warnings`` says so.
    """
    if not os.path.lexists(path) or is_ours(path):
        return
    aside = path.with_name(
        f"{path.name}.moved-aside-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
    )
    os.rename(path, aside)
    warnings.append(
        f"{path} was not the grader's (a folder, a link or another file): renamed to {aside.name}"
    )


def is_regular_file(path: pathlib.Path) -> bool:
    return path.is_file() and not path.is_symlink()


def is_feedback_folder(path: pathlib.Path) -> bool:
    return path.is_dir() and not path.is_symlink() and (path / FEEDBACK_MARKER).is_file()


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
    """A file name made of ``name``'s letters, digits, dots, dashes and underscores."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "submission"


def write_gradebook(
    grades: list[Grade],
    exercises: list[ExerciseCell],
    points: Points,
    hidden: list,
    settings: Settings,
    warnings: list[str],
    seconds: float,
    sandbox: str = "none",
) -> None:
    """Write gradebook.csv, gradebook.json and feedback/ under ``settings.out``.

    One feedback file per row that was not skipped. Whatever ``out`` holds
    under those three names and is not the grader's is renamed aside first
    (see :func:`claim`), so the gradebook is always written, always there.
    """
    out = settings.out
    out.mkdir(parents=True, exist_ok=True)
    claim(out / "gradebook.csv", is_regular_file, warnings)
    claim(out / "gradebook.json", is_regular_file, warnings)
    claim(out / "feedback", is_feedback_folder, warnings)
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
            "seed",
        ]
    )
    for grade_ in grades:
        writer.writerow(
            [grade_.submission, grade_.student_id, grade_.status]
            + [format_points(grade_.earned[item.id]) for item in exercises]
            + [format_points(grade_.total), format_points(possible), grade_.reason]
            + ["" if grade_.seed is None else grade_.seed]
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
            "sandbox": sandbox,
            "seed": settings.seed,
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
        if grade_.status == "skipped":
            continue
        name = safe_file_name(grade_.student_id)
        candidate, number = name, 2
        while candidate.lower() in used:
            candidate, number = f"{name}-{number}", number + 1
        used.add(candidate.lower())
        (staging / f"{candidate}.txt").write_text(
            feedback_text(grade_, exercises, points, settings.chapter), encoding="utf-8"
        )
    target = out / "feedback"
    if is_feedback_folder(target):
        old = out / f".feedback-old-{secrets.token_hex(4)}"
        target.rename(old)
        shutil.rmtree(old, ignore_errors=True)
    staging.rename(target)
