"""Grade one submission: run it in a fresh kernel, then check its answers from outside.

The grader (:mod:`grading.grade`) starts this module as a process of its own,
``python -m grading.worker SPEC_FILE``, in a new session, with the per-run
token on standard input. It

1. imports the checks (public and hidden) before any student code runs;
2. starts a Python kernel with nbclient in a sandbox folder that holds only a
   copy of the submission, and runs its code cells one by one: a cell that
   raises is noted and the run goes on; a cell that runs past the cell time
   limit is interrupted; a cell that kills the kernel (or that an interrupt
   cannot stop) is noted, and the notebook is run again in a new kernel
   without it (at most ``MAX_ATTEMPTS`` runs);
3. asks the kernel to write each answer variable out as data
   (:mod:`grading.transfer`), and checks the answers *in this process*: the
   public check (``coursepkg.checking.evaluate``) and the hidden checks. A
   function answer stays in the kernel; the checks call it through a proxy
   and only its results come back, as data;
4. kills the kernel and everything it started, and writes the result, with
   the token, to the result file.

Nothing the student's code does in the kernel can change a check's verdict:
the checks run here, on data. It can change its own answers (that is what
answering is), print anything, or delete files; it cannot write a result the
grader accepts without the token, which it never sees. The one exception is a
check that passes the student's function something that cannot travel as data
(a symbolic Keras tensor): that exercise's public check runs in the kernel
(:meth:`Run.check_in_kernel`) and the result says so.
"""

from __future__ import annotations

import collections
import ctypes
import json
import os
import pathlib
import resource
import secrets
import signal
import subprocess
import sys
import time
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from traitlets.config import Config

from grading import transfer
from grading.checks import hidden_checks_of, load_hidden

MAX_ATTEMPTS = 3  # runs of the notebook: the first, and one more per cell that kills the kernel
PROBE_TIMEOUT = 10  # seconds an interrupted kernel has to answer again before it is replaced
TIMEOUT_ERROR = "CellTimeoutError"  # the error name nbclient reports for an interrupted cell
MAX_ANSWER_FILE = 2 * transfer.MAX_BYTES  # bytes of answers read back from the kernel
# The codec the kernel runs, read now: before any student code could touch the file.
KERNEL_SOURCE = pathlib.Path(transfer.__file__).read_text(encoding="utf-8")


class NeedsKernel(BaseException):
    """A check passed a student's function something that cannot travel as data.

    A BaseException, so that the checks' own ``except Exception`` lets it through
    to :meth:`Run.check`, which then runs that exercise's public check in the kernel.
    """


class KernelUnavailable(RuntimeError):
    """The kernel died or stopped responding; function answers can no longer be called."""


def unanswered(reason: str, hint: str = "", **extra) -> dict:
    """The check result of an exercise that earns nothing because it was not answered."""
    return {"answered": False, "reason": reason, "checks": [], "hint": hint, **extra}


def stub_reason(variable: str) -> str:
    """Why a function answer that still returns ``...`` (or None) earns nothing."""
    return f"not answered: `{variable}` still returns `...` (or None)"


def first_line(source: str, width: int = 60) -> str:
    """The first non-empty line of a cell, shortened, for the feedback."""
    line = next((line.strip() for line in source.splitlines() if line.strip()), "")
    return line if len(line) <= width else line[: width - 3] + "..."


def shorten(text: Any, width: int = 300) -> str:
    text = str(text)
    return text if len(text) <= width else text[: width - 3] + "..."


class _CappedClient(NotebookClient):
    """nbclient's client, keeping errors only: a cell's prints are counted, not stored."""

    def __init__(self, notebook, **kwargs):
        super().__init__(notebook, **kwargs)
        self.output_characters: collections.Counter = collections.Counter()
        self.replies: dict[int, dict] = {}
        self.on_cell_executed = self._remember_reply

    def _remember_reply(self, cell, cell_index, execute_reply):
        self.replies[cell_index] = execute_reply or {}

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        if msg.get("msg_type") == "error":
            out = nbformat.v4.new_output(
                "error",
                ename=shorten(content.get("ename", "")),
                evalue=shorten(content.get("evalue", "")),
                traceback=[],
            )
            outs.append(out)
            return out
        text = content.get("text") or "".join(
            str(value) for value in (content.get("data") or {}).values()
        )
        self.output_characters[cell_index] += len(text)
        return None


class Run:
    """One kernel running one submission, and the checks of its answers."""

    def __init__(self, notebook, skip: set[int], spec: dict, deadline: float, hard_deadline: float):
        self.spec = spec
        self.deadline, self.hard_deadline = deadline, hard_deadline
        self.skip = skip
        self.notebook = nbformat.from_dict(notebook)
        self.scratch_index = len(self.notebook.cells)
        self.notebook.cells.append(nbformat.v4.new_code_cell(""))  # runs the grader's own code
        self.current_timeout = float(spec["cell_timeout"])  # of the cell being run
        self.client = _CappedClient(
            self.notebook,
            timeout=int(spec["cell_timeout"]),
            timeout_func=lambda cell: max(1, int(self.current_timeout)),
            kernel_name="python3",  # never the kernel a submission names
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={"ename": TIMEOUT_ERROR, "evalue": "time limit", "traceback": []},
            startup_timeout=60,
            iopub_timeout=4,
            shutdown_kernel="immediate",
            record_timing=False,
            resources={"metadata": {"path": spec["sandbox"]}},
            config=Config(
                {
                    "KernelManager": {
                        "connection_file": os.path.join(spec["sandbox"], ".kernel.json")
                    }
                }
            ),
        )
        self.events: list[dict] = []
        self.fatal_cell: int | None = None  # a cell that killed the kernel or could not be stopped
        self.kernel_state = "alive"  # "alive", "dead" or "stuck"
        self.module = f"_grading_{secrets.token_hex(8)}"
        self.flags: dict[str, str] = {}  # answer variable -> what an instructor should look at
        self.calls = 0

    # ---------------------------------------------------------------- running cells

    def note(self, kind: str, cell: int | None, text: str) -> None:
        self.events.append({"kind": kind, "cell": None if cell is None else cell + 1, "text": text})

    def describe(self, index: int) -> str:
        return f"cell {index + 1} (`{first_line(self.notebook.cells[index].source)}`)"

    def execute(self, index: int, timeout: float) -> dict:
        """Run one cell; the execute reply's content (``{}`` when there is none)."""
        self.current_timeout = timeout
        self.client.replies.pop(index, None)
        self.client.execute_cell(self.notebook.cells[index], index)
        return self.client.replies.get(index, {}).get("content", {})

    def responsive(self) -> bool:
        """Whether an interrupted kernel answers again within PROBE_TIMEOUT."""
        self.notebook.cells[self.scratch_index].source = "pass"
        try:
            reply = self.execute(self.scratch_index, min(PROBE_TIMEOUT, self.time_left()))
        except DeadKernelError:
            self.kernel_state = "dead"
            return False
        if reply.get("ename") == TIMEOUT_ERROR:
            self.kernel_state = "stuck"
            return False
        return True

    def run_cells(self) -> None:
        """Run every code cell in order; stop at a cell that kills or hangs the kernel."""
        for index, cell in enumerate(self.notebook.cells[: self.scratch_index]):
            if cell.cell_type != "code" or not cell.source.strip() or index in self.skip:
                continue
            remaining = self.deadline - time.monotonic()
            if remaining < 1:
                self.note(
                    "time limit",
                    index,
                    f"{self.describe(index)} and the cells after it were not run: the submission's time limit was reached",
                )
                return
            timeout = min(self.cell_timeout, remaining)
            try:
                reply = self.execute(index, timeout)
            except DeadKernelError:
                self.kernel_state, self.fatal_cell = "dead", index
                self.note("kernel died", index, f"the kernel died in {self.describe(index)}")
                return
            characters = self.client.output_characters.get(index, 0)
            if characters > 1_000_000:
                self.note(
                    "output",
                    index,
                    f"{self.describe(index)} printed {characters / 1e6:.1f} million characters (not kept)",
                )
            if any(
                isinstance(item, dict) and item.get("source") == "ask_exit"
                for item in reply.get("payload") or []
            ):
                self.kernel_state, self.fatal_cell = "dead", index
                self.note(
                    "kernel died",
                    index,
                    f"{self.describe(index)} ended the kernel (exit() or quit())",
                )
                return
            if reply.get("ename") == TIMEOUT_ERROR:
                if not self.responsive():
                    self.fatal_cell = index
                    how = (
                        "killed the kernel"
                        if self.kernel_state == "dead"
                        else "ignored the interrupt"
                    )
                    self.note(
                        "kernel died",
                        index,
                        f"{self.describe(index)} ran past {timeout:.0f} s and {how}",
                    )
                    return
                self.note(
                    "cell timeout",
                    index,
                    f"{self.describe(index)} ran past {timeout:.0f} s and was interrupted",
                )
            elif reply.get("status") == "error":
                message = shorten(reply.get("evalue") or "", 200)
                self.note(
                    "cell error",
                    index,
                    f"{self.describe(index)} raised {shorten(reply.get('ename'), 80)}"
                    + (f": {message}" if message else ""),
                )

    def time_left(self) -> float:
        """Seconds the grader's own code may still take in the kernel (at least 1)."""
        return max(1.0, self.hard_deadline - time.monotonic() - 1)

    @property
    def cell_timeout(self) -> float:
        """Seconds a cell, or a call of a function answer, may run."""
        return float(self.spec["cell_timeout"])

    # ---------------------------------------------------------------- reading answers

    def scratch(self, source: str, timeout: float) -> dict:
        """Run the grader's own code in the kernel; the reply content."""
        if self.kernel_state != "alive":
            raise KernelUnavailable(f"the kernel is {self.kernel_state}")
        self.notebook.cells[self.scratch_index].source = source
        try:
            return self.execute(self.scratch_index, timeout)
        except DeadKernelError:
            self.kernel_state = "dead"
            raise KernelUnavailable("the kernel died") from None

    def exchange_file(self, name: str) -> str:
        self.calls += 1
        return os.path.join(
            self.spec["exchange"], f"{self.calls}-{secrets.token_hex(6)}-{name}.json"
        )

    def read_json(self, path: str):
        size = os.path.getsize(path)
        if size > MAX_ANSWER_FILE:
            raise transfer.TransferError(f"{size / 1e6:.0f} MB of answers")
        with open(path, encoding="utf-8") as file:
            return json.load(file)

    def collect(self, variables: list[str]) -> dict[str, Any]:
        """The answers bound to ``variables``, decoded; a missing one is absent from the dict."""
        path = self.exchange_file("answers")
        boot = (
            "import sys, types\n"
            "module = types.ModuleType(NAME)\n"
            "exec(SOURCE, module.__dict__)\n"
            "sys.modules[NAME] = module\n"
            "module.collect(NAMESPACE, VARIABLES, PATH)\n"
        )
        source = (
            f"__import__('builtins').exec({boot!r}, {{'NAME': {self.module!r}, "
            f"'SOURCE': {KERNEL_SOURCE!r}, 'NAMESPACE': globals(), "
            f"'VARIABLES': {variables!r}, 'PATH': {path!r}}})"
        )
        reply = self.scratch(source, min(self.cell_timeout, self.time_left()))
        if reply.get("status") != "ok":
            raise transfer.TransferError(
                f"reading the answers raised {reply.get('ename')}: {shorten(reply.get('evalue'))}"
            )
        encoded = self.read_json(path)
        answers = {}
        for variable in variables:
            data = (
                encoded.get(variable, {"t": "missing"})
                if isinstance(encoded, dict)
                else {"t": "missing"}
            )
            if not isinstance(data, dict) or data.get("t") == "missing":
                continue
            if data.get("t") == "function" and data.get("module", "__main__") != "__main__":
                self.flags[variable] = (
                    f"`{variable}` is `{data.get('module') or '?'}.{data.get('name')}`, "
                    "a function the notebook did not define"
                )
            try:
                answers[variable] = transfer.decode(
                    data, lambda key, name: FunctionProxy(self, key, name)
                )
            except Exception as error:  # a damaged answers file: the answer fails its checks
                answers[variable] = transfer.Opaque(
                    "unreadable", f"<unreadable answer: {shorten(error)}>"
                )
        return answers

    def call(self, proxy: FunctionProxy, arguments: tuple):
        """Call a student's function in the kernel on ``arguments``; its result as data."""
        if proxy.broken:
            raise TimeoutError(proxy.broken)
        encoded = transfer.encode(list(arguments), allow_functions=False)
        if transfer.has_opaque(encoded):
            raise NeedsKernel(proxy.__name__)
        arguments_path, result_path = self.exchange_file("arguments"), self.exchange_file("result")
        with open(arguments_path, "w", encoding="utf-8") as file:
            json.dump(encoded, file)
        timeout = min(self.cell_timeout, self.hard_deadline - time.monotonic() - 1)
        if timeout < 1:
            raise TimeoutError("not run: the submission's time limit was reached")
        source = f"__import__('sys').modules[{self.module!r}].call({proxy.key!r}, {arguments_path!r}, {result_path!r})"
        reply = self.scratch(source, timeout)
        if reply.get("ename") == TIMEOUT_ERROR:
            message = f"did not return within {timeout:.0f} s and was interrupted"
            if not self.responsive():  # the interrupt did not stop it: no later call can run
                proxy.broken = f"{message}; the kernel then {'died' if self.kernel_state == 'dead' else 'stopped responding'}"
                raise TimeoutError(proxy.broken)
            raise TimeoutError(message)
        if reply.get("status") != "ok" or not os.path.exists(result_path):
            raise KernelUnavailable(
                f"calling it failed in the kernel: {reply.get('ename')}: {shorten(reply.get('evalue'))}"
            )
        result = self.read_json(result_path)
        if "raised" in result:
            raise student_exception(result["raised"], result.get("message", ""))
        return transfer.decode(result.get("returned", {"t": "none"}))

    # ---------------------------------------------------------------- checking

    def check(self, exercises: list[list[str]], hidden: list) -> dict[str, dict]:
        """Check every answer against its public check and its hidden checks."""
        import coursepkg.checking
        from coursepkg.checking import evaluate

        # Raised by a comparison when a function answer still returns ... (newer coursepkg).
        not_answered = getattr(coursepkg.checking, "NotAnswered", ())

        try:
            answers = self.collect([variable for _, variable in exercises])
            unreadable = None
        except (KernelUnavailable, transfer.TransferError, OSError, ValueError) as error:
            answers, unreadable = {}, f"the grader could not read the answers: {shorten(error)}"
        results = {}
        for exercise_id, variable in exercises:
            if variable not in answers:
                reason = (
                    unreadable
                    or f"`{variable}` is not defined after running the notebook (was its exercise cell deleted, or did it fail before `{variable} = ...`?)"
                )
                results[exercise_id] = unanswered(reason)
                continue
            answer = answers[variable]
            try:
                public = evaluate(exercise_id, answer)
            except NeedsKernel:
                results[exercise_id] = self.check_in_kernel(exercise_id, variable)
                continue
            if not public.attempted:
                if isinstance(answer, FunctionProxy):
                    reason = stub_reason(variable)
                else:
                    reason = f"not answered: `{variable}` is still `{'...' if answer is Ellipsis else repr(answer)}`"
                results[exercise_id] = unanswered(reason, public.hint)
                continue
            checks = [
                {"name": "public check", "passed": public.passed, "problems": list(public.problems)}
            ]
            for item in hidden_checks_of(hidden, exercise_id):
                try:
                    problems = [str(problem) for problem in item.checker(answer)]
                except not_answered:
                    problems = [f"{item.name}: the function returned `...` or None"]
                except Exception as error:
                    problems = [
                        f"checking your answer raised {type(error).__name__}: {shorten(error)}"
                    ]
                checks.append({"name": item.name, "passed": not problems, "problems": problems})
            results[exercise_id] = {
                "answered": True,
                "reason": "",
                "checks": checks,
                "hint": public.hint,
                "flag": self.flags.get(variable, ""),
            }
        return results

    def check_in_kernel(self, exercise_id: str, variable: str) -> dict:
        """The public check of one answer, run in the student's kernel (hidden checks skipped).

        For checks that hand the student's function objects that only the kernel
        can hold, such as the symbolic input of a Keras model. Noted in the
        result: the student's code could have changed a check run there.
        """
        path = self.exchange_file("in-kernel")
        source = (
            f"__import__('sys').modules[{self.module!r}].evaluate_here("
            f"globals(), {exercise_id!r}, {variable!r}, {path!r})"
        )
        note = "checked inside the notebook's own kernel (its checks take Keras objects); hidden checks not run"
        try:
            reply = self.scratch(source, self.cell_timeout)
            if reply.get("status") != "ok":
                raise KernelUnavailable(f"{reply.get('ename')}: {shorten(reply.get('evalue'))}")
            result = self.read_json(path)
        except (KernelUnavailable, transfer.TransferError, OSError, ValueError) as error:
            return unanswered(f"its check could not run in the kernel: {shorten(error)}", in_kernel=True)
        if not result.get("attempted"):
            return unanswered(stub_reason(variable), str(result.get("hint", "")), in_kernel=True)
        check = {
            "name": "public check",
            "passed": bool(result.get("passed")),
            "problems": [str(problem) for problem in result.get("problems") or []],
        }
        return {
            "answered": True,
            "reason": "",
            "checks": [check],
            "hint": str(result.get("hint", "")),
            "note": note,
            "in_kernel": True,
        }

    # ---------------------------------------------------------------- kernel lifetime

    def __enter__(self):
        environment = dict(self.spec["kernel_env"])
        self.context = self.client.setup_kernel(
            env=environment,
            cwd=self.spec["sandbox"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.context.__enter__()
        provisioner = getattr(self.client.km, "provisioner", None)
        self.kernel_pid = getattr(provisioner, "pid", None)
        self.kernel_pgid = getattr(provisioner, "pgid", None)
        with open(self.spec["pid_file"], "a", encoding="utf-8") as file:
            file.write(f"{self.kernel_pgid or ''}\n")
        return self

    def __exit__(self, *exc_info):
        try:
            self.context.__exit__(None, None, None)
        except Exception:
            pass
        if self.kernel_pgid:
            try:
                os.killpg(self.kernel_pgid, signal.SIGKILL)
            except OSError:
                pass
        return False


class FunctionProxy:
    """Stands for a student's function that stays in the kernel; calls go to the kernel."""

    def __init__(self, run: Run, key: str, name: str):
        self._run, self.key, self.__name__ = run, key, name
        # Why later calls fail at once: a call that the interrupt could not stop.
        self.broken: str | None = None

    def __call__(self, *arguments):
        return self._run.call(self, arguments)

    def __repr__(self) -> str:
        return f"<function {self.__name__}>"


def student_exception(name: str, message: str) -> Exception:
    """An exception that reads like the one the student's function raised."""
    name = (
        "".join(character for character in str(name) if character.isalnum() or character == "_")
        or "Exception"
    )
    if not name[0].isalpha():
        name = "E" + name
    return type(name, (Exception,), {})(message)


def read_submission(path: str) -> tuple[Any, str | None]:
    """The notebook at ``path``, or ``None`` and why it is not one."""
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:
        return None, f"not a valid notebook: {shorten(error, 200)}"
    cells = notebook.get("cells")
    if not isinstance(cells, list) or not all(
        isinstance(cell, dict) and isinstance(cell.get("source", ""), str) for cell in cells
    ):
        return None, "not a valid notebook: its `cells` are not a list of cells"
    for cell in cells:
        cell.setdefault("metadata", {})
        if cell.get("cell_type") == "code":
            cell.setdefault("outputs", [])
            cell["outputs"] = []
    return notebook, None


def grade_submission(spec: dict, started: float) -> dict:
    """Run and check one submission; the result the grader reads back."""
    hidden = load_hidden(spec["hidden"])  # imported before any student code runs
    import coursepkg.checking

    coursepkg.checking.exercises()  # registers the public checks now, too
    if (
        not pathlib.Path(coursepkg.checking.__file__)
        .resolve()
        .is_relative_to(pathlib.Path.cwd().resolve())
    ):
        raise RuntimeError(
            f"coursepkg was imported from {coursepkg.checking.__file__}, not from the grader's copy"
        )
    hard_deadline = started + spec["time_limit"] - 3
    deadline = started + spec["time_limit"] - spec["reserve"]
    notebook, invalid = read_submission(spec["notebook"])
    if invalid:
        return {"invalid": invalid, "events": [], "exercises": {}, "attempts": 0}
    skip = {
        index
        for index, cell in enumerate(notebook.cells)
        if "solution" in cell.get("metadata", {}).get("tags", [])
    }
    events = []
    if skip:
        events.append(
            {
                "kind": "note",
                "cell": None,
                "text": f"{len(skip)} cell(s) tagged `solution` were not run",
            }
        )
    run = None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        run = Run(notebook, skip, spec, deadline, hard_deadline)
        with run:
            run.run_cells()
            events += run.events
            if run.fatal_cell is None or attempt == MAX_ATTEMPTS or time.monotonic() > deadline:
                if run.fatal_cell is not None:
                    events.append(
                        {
                            "kind": "note",
                            "cell": None,
                            "text": "the notebook was not run again (too many failures or no time left)",
                        }
                    )
                exercises = (
                    run.check(spec["exercises"], hidden) if run.kernel_state == "alive" else None
                )
                break
        skip = skip | {run.fatal_cell}
        events.append(
            {
                "kind": "note",
                "cell": None,
                "text": f"run {attempt + 1}: the notebook runs again in a new kernel, without cell {run.fatal_cell + 1}",
            }
        )
    if exercises is None:
        reason = f"the kernel {'died' if run.kernel_state == 'dead' else 'stopped responding'}, so no answer could be read"
        exercises = {
            exercise_id: unanswered(reason) for exercise_id, _ in spec["exercises"]
        }
    return {"invalid": None, "events": events, "exercises": exercises, "attempts": attempt}


# --------------------------------------------------------------------------- process set-up


def limit_resources(spec: dict) -> None:
    """Limits this process and the kernel inherit: file size, no core dumps."""
    for limit, value in (
        (resource.RLIMIT_FSIZE, spec["max_file_bytes"]),
        (resource.RLIMIT_CORE, 0),
    ):
        try:
            _, hard = resource.getrlimit(limit)
            resource.setrlimit(
                limit, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard)
            )
        except (ValueError, OSError):
            pass


def become_subreaper() -> bool:
    """Adopt the kernel's orphans (Linux), so that none escapes the final kill."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return (
            ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0
        )  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def kill_descendants() -> None:
    """Kill every process this one started, directly or not, and reap them."""
    try:
        import psutil
    except ImportError:
        return
    for _ in range(3):
        children = psutil.Process().children(recursive=True)
        if not children:
            return
        for child in children:
            try:
                child.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(children, timeout=5)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    started = time.monotonic()
    token = sys.stdin.readline().strip()
    sys.stdin.close()
    spec = json.loads(pathlib.Path(argv[0]).read_text(encoding="utf-8"))
    limit_resources(spec)
    become_subreaper()
    try:
        result = grade_submission(spec, started)
    except Exception as error:  # a defect of the grader: report it, never hide it
        import traceback

        traceback.print_exc()
        result = {
            "invalid": None,
            "events": [],
            "exercises": {},
            "error": f"{type(error).__name__}: {shorten(error)}",
        }
    finally:
        kill_descendants()
    result["token"] = token
    result["seconds"] = round(time.monotonic() - started, 1)
    temporary = spec["result"] + ".tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump(result, file)
    os.replace(temporary, spec["result"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
