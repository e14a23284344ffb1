"""Grade one submission: run it in a fresh kernel, then check its answers from outside.

The grader (:mod:`grading.grade`) starts this module as a process of its own
(see :func:`worker_command`), in a new session, with the per-run token on
standard input. It

1. imports the checks (public and hidden, the hidden inputs drawn from the
   submission's seed) before any student code runs;
2. starts a Python kernel with nbclient, in the operating-system sandbox of
   :mod:`grading.sandbox` (or, with ``--unsandboxed``, in an empty folder as
   the grader's own user), and runs the notebook's code cells one by one: a
   cell that raises is noted and the run goes on; a cell that runs past the
   cell time limit is interrupted; a cell that kills the kernel (or that an
   interrupt cannot stop) is noted, and the notebook is run again in a new
   kernel without it (at most ``MAX_ATTEMPTS`` runs);
3. stops every other process of the sandbox, asks the kernel to send each
   answer variable out as data (:mod:`grading.transfer`), and checks the
   answers *in this process*: the public check (``coursepkg.checking.evaluate``)
   and the hidden checks. A function answer stays in the kernel; the checks
   call it through a proxy and only its results come back, as data. While the
   answer to an exercise that forbids library calls is checked, those calls
   fail in the kernel (:mod:`grading.forbid`);
4. kills the kernel and everything it started, and writes the result, with
   the token, to the result file (in a folder the kernel cannot see).

Nothing the student's code does in the kernel can change a check's verdict:
the checks run here, on data. It can change its own answers (that is what
answering is), print anything, or write files in its own sandbox; it cannot
write a result the grader accepts without the token, which it never sees. The one exception is a
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

from grading import forbid, transfer
from grading.checks import forbidden_calls, hidden_checks_of, load_hidden
from grading.sandbox import Sandbox

MAX_ATTEMPTS = 3  # runs of the notebook: the first, and one more per cell that kills the kernel
PROBE_TIMEOUT = 10  # seconds an interrupted kernel has to answer again before it is replaced
TIMEOUT_ERROR = "CellTimeoutError"  # the error name nbclient reports for an interrupted cell
MAX_REPLY = 2 * transfer.MAX_BYTES  # characters of one reply of the kernel kept (answers, a result)
# The code the kernel runs for the grader, read now: before any student code could touch the files.
KERNEL_MODULES = {
    "transfer": pathlib.Path(transfer.__file__).read_text(encoding="utf-8"),
    "forbid": pathlib.Path(forbid.__file__).read_text(encoding="utf-8"),
}


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
    """nbclient's client, keeping errors only: a cell's prints are counted, not stored.

    It also keeps the kernel's replies to the grader (display messages of type
    ``transfer.MIME``): the last one of each cell, if it is not too large.
    """

    def __init__(self, notebook, **kwargs):
        super().__init__(notebook, **kwargs)
        self.output_characters: collections.Counter = collections.Counter()
        self.replies: dict[int, dict] = {}
        self.payloads: dict[int, str] = {}
        self.on_cell_executed = self._remember_reply

    def _remember_reply(self, cell, cell_index, execute_reply):
        self.replies[cell_index] = execute_reply or {}

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        payload = (content.get("data") or {}).get(transfer.MIME)
        if msg.get("msg_type") == "display_data" and isinstance(payload, str):
            self.payloads[cell_index] = payload if len(payload) <= MAX_REPLY else ""
            return None
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
        self.sandbox = None
        manager_options: dict = {}
        if spec.get("sandbox"):
            # A folder of its own for this kernel's connection file and sockets, the only
            # folder of ours it sees; it may create its sockets there until it is ready.
            channels = os.path.join(spec["channels"], f"kernel-{secrets.token_hex(8)}")
            os.mkdir(channels, 0o700)
            os.chmod(channels, 0o1777)
            self.sandbox = Sandbox.from_dict(
                {**spec["sandbox"], "channels": channels, "build_root": spec["build_root"]}
            )
            manager_options = {"transport": "ipc", "ip": os.path.join(channels, "kernel")}
            connection_file = os.path.join(channels, "kernel.json")
        else:
            connection_file = os.path.join(spec["sandbox_folder"], ".kernel.json")
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
            resources={"metadata": {"path": spec["sandbox_folder"]}},
            config=Config(
                {"KernelManager": {"connection_file": connection_file, **manager_options}}
            ),
        )
        if self.sandbox is not None:
            self.client.kernel_manager_class = sandboxed_kernel_manager(self.sandbox)
        self.events: list[dict] = []
        self.fatal_cell: int | None = None  # a cell that killed the kernel or could not be stopped
        self.kernel_state = "alive"  # "alive", "dead" or "stuck"
        # Names of the grader's modules in the kernel (see KERNEL_MODULES), once booted.
        self.modules = {name: f"_grading_{name}_{secrets.token_hex(8)}" for name in KERNEL_MODULES}
        self.booted = False
        self.flags: dict[str, str] = {}  # answer variable -> what an instructor should look at
        self.forbidding = (
            False  # whether the exercise being checked forbids calls (see grading.forbid)
        )
        self.launcher_pid: int | None = None
        self.kernel_pgid: int | None = None

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

    def flag(self, variable: str, text: str) -> None:
        """Note something about an answer for the instructor (the gradebook's reason, the feedback)."""
        flags = self.flags.get(variable, "")
        if text not in flags:
            self.flags[variable] = f"{flags}; {text}" if flags else text

    def ask(self, source: str, timeout: float, what: str):
        """Run the grader's ``source`` in the kernel; the reply it sends (``transfer.MIME``), decoded.

        Raises:
            KernelUnavailable: if the kernel is dead, or ``source`` raised or sent no reply.
        """
        if not self.booted:  # the grader's modules, executed into fresh modules of the kernel
            boot = (
                "import sys, types\n"
                "for name, source in MODULES:\n"
                "    module = types.ModuleType(name)\n"
                "    exec(source, module.__dict__)\n"
                "    sys.modules[name] = module\n"
            )
            modules = [(self.modules[key], text) for key, text in KERNEL_MODULES.items()]
            source = f"__import__('builtins').exec({boot!r}, {{'MODULES': {modules!r}}})\n{source}"
            self.booted = True
        self.client.payloads.pop(self.scratch_index, None)
        reply = self.scratch(source, timeout)
        if reply.get("ename") == TIMEOUT_ERROR:
            raise TimeoutError(f"{what} did not finish within {timeout:.0f} s")
        if reply.get("status") != "ok":
            raise KernelUnavailable(
                f"{what} raised {reply.get('ename')}: {shorten(reply.get('evalue'))}"
            )
        payload = self.client.payloads.get(self.scratch_index)
        if not payload:
            raise KernelUnavailable(f"{what} sent nothing back, or too much")
        return json.loads(payload)

    def module(self, key: str) -> str:
        """Source that evaluates to the grader's module ``key`` in the kernel."""
        return f"__import__('sys').modules[{self.modules[key]!r}]"

    def collect(self, variables: list[str]) -> dict[str, Any]:
        """The answers bound to ``variables``, decoded; a missing one is absent from the dict."""
        source = f"{self.module('transfer')}.collect(globals(), {variables!r})"
        try:
            encoded = self.ask(
                source, min(self.cell_timeout, self.time_left()), "reading the answers"
            )
        except TimeoutError as error:
            raise transfer.TransferError(str(error)) from None
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
                self.flag(
                    variable,
                    f"`{variable}` is `{data.get('module') or '?'}.{data.get('name')}`, "
                    "a function the notebook did not define",
                )
            try:
                answers[variable] = transfer.decode(
                    data,
                    lambda key, name, variable=variable: FunctionProxy(self, key, name, variable),
                )
            except Exception as error:  # a damaged reply: the answer fails its checks
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
        timeout = min(self.cell_timeout, self.hard_deadline - time.monotonic() - 1)
        if timeout < 1:
            raise TimeoutError("not run: the submission's time limit was reached")
        watch = self.modules["forbid"] if self.forbidding else None
        source = (
            f"{self.module('transfer')}.call({proxy.key!r}, {json.dumps(encoded)!r}, {watch!r})"
        )
        try:
            result = self.ask(source, timeout, "calling it")
        except TimeoutError:
            message = f"did not return within {timeout:.0f} s and was interrupted"
            if not self.responsive():  # the interrupt did not stop it: no later call can run
                proxy.broken = f"{message}; the kernel then {'died' if self.kernel_state == 'dead' else 'stopped responding'}"
                raise TimeoutError(proxy.broken) from None
            raise TimeoutError(message) from None
        if not isinstance(result, dict):
            raise KernelUnavailable("calling it sent back something unreadable")
        forbidden = [str(name) for name in result.get("forbidden") or []]
        if self.forbidding and "forbidden" not in result:
            forbidden = ["(the grader's watch was removed)"]
        if forbidden:
            names = ", ".join(forbidden)
            self.flag(
                proxy.variable, f"`{proxy.variable}` called {names}, which this exercise forbids"
            )
            raise student_exception(
                "ForbiddenCall", f"it called {names}, which this exercise forbids: write your own"
            )
        if "raised" in result:
            raise student_exception(result["raised"], result.get("message", ""))
        return transfer.decode(result.get("returned", {"t": "none"}))

    def stop_other_processes(self) -> None:
        """Kill every process of the sandbox but the kernel, before the answers are checked.

        The sandbox's process 1 (bubblewrap's, or the unshare shell) is the only
        child of the sandboxing tool; the kernel is its oldest child. Whatever
        else runs there was started by the notebook: nothing the grading needs,
        and nothing that should compute an answer while it is checked.
        """
        if self.sandbox is None or not self.launcher_pid:
            return
        import psutil

        try:
            (init,) = psutil.Process(self.launcher_pid).children()
            kernel = min(init.children(), key=lambda process: process.create_time())
            others = [process for process in init.children(recursive=True) if process != kernel]
        except (psutil.Error, ValueError):  # no process 1, or no kernel: nothing to stop
            return
        for process in others:
            try:
                process.kill()
            except psutil.Error:
                pass
        if others:
            self.note(
                "note",
                None,
                f"{len(others)} other process(es) the notebook started were stopped before its answers were checked",
            )

    # ---------------------------------------------------------------- checking

    def check(self, exercises: list[list[str]], hidden: list) -> dict[str, dict]:
        """Check every answer against its public check and its hidden checks."""
        self.stop_other_processes()
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
            forbidden = forbidden_calls(exercise_id) if isinstance(answer, FunctionProxy) else ()
            if forbidden:
                problem = self.start_forbidding(forbidden)
                if problem:
                    results[exercise_id] = unanswered(problem, flag=problem)
                    continue
            try:
                results[exercise_id] = self.check_answer(exercise_id, variable, answer, hidden)
            finally:
                if forbidden:
                    self.stop_forbidding()
        return results

    def start_forbidding(self, names: tuple[str, ...]) -> str | None:
        """Make ``names`` fail in the kernel; why that could not be done, or None."""
        try:
            self.ask(
                f"{self.module('forbid')}.install({list(names)!r}) and None\n"
                f"{self.module('transfer')}._send(True)",
                min(self.cell_timeout, self.time_left()),
                "installing the forbidden calls",
            )
        except (KernelUnavailable, TimeoutError, ValueError) as error:
            return f"not graded: the grader could not watch for the calls this exercise forbids ({shorten(error, 200)})"
        self.forbidding = True
        return None

    def stop_forbidding(self) -> None:
        self.forbidding = False
        try:
            self.scratch(
                f"{self.module('forbid')}.remove()", min(self.cell_timeout, self.time_left())
            )
        except KernelUnavailable:
            pass

    def check_answer(self, exercise_id: str, variable: str, answer, hidden: list) -> dict:
        """One answer against its public check and its hidden checks."""
        import coursepkg.checking
        from coursepkg.checking import evaluate

        # Raised by a comparison when a function answer still returns ... (newer coursepkg).
        not_answered = getattr(coursepkg.checking, "NotAnswered", ())
        try:
            public = evaluate(exercise_id, answer)
        except NeedsKernel:
            return self.check_in_kernel(exercise_id, variable)
        if not public.attempted:
            if isinstance(answer, FunctionProxy):
                reason = stub_reason(variable)
            else:
                reason = f"not answered: `{variable}` is still `{'...' if answer is Ellipsis else repr(answer)}`"
            return unanswered(reason, public.hint)
        checks = [
            {"name": "public check", "passed": public.passed, "problems": list(public.problems)}
        ]
        for item in hidden_checks_of(hidden, exercise_id):
            try:
                problems = [str(problem) for problem in item.checker(answer)]
            except not_answered:
                problems = [f"{item.name}: the function returned `...` or None"]
            except Exception as error:
                problems = [f"checking your answer raised {type(error).__name__}: {shorten(error)}"]
            checks.append({"name": item.name, "passed": not problems, "problems": problems})
        return {
            "answered": True,
            "reason": "",
            "checks": checks,
            "hint": public.hint,
            "flag": self.flags.get(variable, ""),
        }

    def check_in_kernel(self, exercise_id: str, variable: str) -> dict:
        """The public check of one answer, run in the student's kernel (hidden checks skipped).

        For checks that hand the student's function objects that only the kernel
        can hold, such as the symbolic input of a Keras model. Noted in the
        result: the student's code could have changed a check run there.
        """
        source = (
            f"{self.module('transfer')}.evaluate_here(globals(), {exercise_id!r}, {variable!r})"
        )
        note = "checked inside the notebook's own kernel (its checks take Keras objects); hidden checks not run"
        try:
            result = self.ask(source, min(self.cell_timeout, self.time_left()), "its check")
            if not isinstance(result, dict):
                raise ValueError("an unreadable reply")
        except (KernelUnavailable, TimeoutError, ValueError) as error:
            return unanswered(
                f"its check could not run in the kernel: {shorten(error)}", in_kernel=True
            )
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
            cwd=self.sandbox.channels if self.sandbox else self.spec["sandbox_folder"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        provisioner = None
        try:
            self.context.__enter__()
        finally:  # recorded even if the kernel never became ready, so that it is killed
            provisioner = getattr(self.client.km, "provisioner", None)
            # The sandboxing tool's process (bwrap or unshare), or the unsandboxed kernel.
            self.launcher_pid = getattr(provisioner, "pid", None)
            self.kernel_pgid = getattr(provisioner, "pgid", None)
            # The grader kills these groups too; the file is in the worker's own folder.
            with open(self.spec["pid_file"], "a", encoding="utf-8") as file:
                file.write(f"{self.kernel_pgid or ''}\n")
        if self.sandbox is not None:  # ready: the kernel may create no more files here
            os.chmod(self.sandbox.channels, 0o755)
        return self

    def __exit__(self, *exc_info):
        try:
            self.context.__exit__(None, None, None)
        except Exception:
            pass
        if self.kernel_pgid:  # in a sandbox, the whole sandbox dies with the tool's process
            try:
                os.killpg(self.kernel_pgid, signal.SIGKILL)
            except OSError:
                pass
        return False


def sandboxed_kernel_manager(sandbox: Sandbox) -> type:
    """A kernel manager class that starts its kernel in ``sandbox``."""
    from jupyter_client.manager import AsyncKernelManager

    class SandboxedKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            # Interrupts as messages: a signal to the process group would reach the
            # sandboxing tool, which bubblewrap does not pass on (it dies of it).
            self.kernel_spec.interrupt_mode = "message"
            return sandbox.command(super().format_kernel_cmd(extra_arguments))

        def write_connection_file(self, **kwargs):
            super().write_connection_file(**kwargs)
            if os.geteuid() == 0:  # written 0600 by us; the sandbox's user must read it
                os.chown(self.connection_file, sandbox.uid, sandbox.uid, follow_symlinks=False)

    return SandboxedKernelManager


class FunctionProxy:
    """Stands for a student's function that stays in the kernel; calls go to the kernel."""

    def __init__(self, run: Run, key: str, name: str, variable: str = ""):
        self._run, self.key, self.__name__, self.variable = run, key, name, variable
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


def read_submission(path: str) -> tuple[Any, str | None, list[str]]:
    """The notebook at ``path`` as Jupyter would open it, or ``None`` and why it is not one.

    Malformed parts that Jupyter itself shrugs off are repaired rather than
    refused: a cell without ``source`` (or with a list of lines, or anything
    else), metadata that is not a table, ``"tags": null`` or a single tag as a
    string (one whole tag, never matched as a substring). Cells are rebuilt
    from those parts only, with their outputs dropped.

    Returns:
        ``(notebook, None, repairs)`` or ``(None, reason, [])``. The reason never
        quotes the file, which may be anything but a notebook.
    """
    try:
        with open(path, "rb") as file:
            text = file.read().decode("utf-8-sig")
        data = json.loads(text)
    except UnicodeDecodeError:
        return None, "not a valid notebook: the file is not UTF-8 text", []
    except json.JSONDecodeError as error:
        return (
            None,
            f"not a valid notebook: not JSON ({error.msg} at line {error.lineno}, column {error.colno})",
            [],
        )
    except (RecursionError, ValueError, OSError) as error:
        return None, f"not a valid notebook: unreadable ({type(error).__name__})", []
    if isinstance(data, dict) and not isinstance(data.get("cells"), list) and "worksheets" in data:
        try:  # an old (version 3) notebook: nbformat converts it
            data = json.loads(nbformat.writes(nbformat.reads(text, as_version=4)))
        except Exception as error:
            return (
                None,
                f"not a valid notebook: an old notebook nbformat cannot convert ({type(error).__name__})",
                [],
            )
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, "not a valid notebook: JSON without a list of cells", []
    repairs: collections.Counter = collections.Counter()
    cells = []
    for cell in data["cells"]:
        if not isinstance(cell, dict):
            repairs["entries of `cells` that are not cells, dropped"] += 1
            continue
        cells.append(normalised_cell(cell, repairs))
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    notebook = nbformat.from_dict(
        {"nbformat": 4, "nbformat_minor": 5, "metadata": metadata, "cells": cells}
    )
    return notebook, None, [f"{count} {what}" for what, count in repairs.items()]


def normalised_cell(cell: dict, repairs: collections.Counter) -> dict:
    """A notebook cell rebuilt from its type, source and metadata, each repaired if malformed."""
    cell_type = cell.get("cell_type")
    if cell_type not in ("code", "markdown", "raw"):
        repairs["cells of unknown type, kept as raw cells"] += 1
        cell_type = "raw"
    source = cell.get("source")
    if isinstance(source, list):
        source = "".join(line for line in source if isinstance(line, str))
    elif not isinstance(source, str):
        repairs["cells without a source, run as empty"] += 1
        source = ""
    metadata = cell.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    tags = metadata.get("tags")
    if isinstance(tags, str):
        tags = [tags]
        repairs["tags given as a string, read as one tag"] += 1
    elif isinstance(tags, list):
        tags = [tag for tag in tags if isinstance(tag, str)]
    elif "tags" in metadata:
        repairs["tags that were not a list, ignored"] += 1
        tags = []
    metadata = {**metadata, "tags": tags or []}
    rebuilt = {"cell_type": cell_type, "metadata": metadata, "source": source}
    if isinstance(cell.get("id"), str) and 1 <= len(cell["id"]) <= 64:
        rebuilt["id"] = cell["id"]
    if cell_type == "code":
        rebuilt.update(outputs=[], execution_count=None)
    return rebuilt


def grade_submission(spec: dict, started: float) -> dict:
    """Run and check one submission; the result the grader reads back."""
    hidden = load_hidden(spec["hidden"], spec["seed"])  # imported before any student code runs
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
    notebook, invalid, repairs = read_submission(spec["notebook"])
    if invalid:
        return {"invalid": invalid, "events": [], "exercises": {}, "attempts": 0}
    skip = {index for index, cell in enumerate(notebook.cells) if "solution" in cell.metadata.tags}
    events = (
        [
            {
                "kind": "note",
                "cell": None,
                "text": f"repaired malformed notebook metadata: {', '.join(repairs)}",
            }
        ]
        if repairs
        else []
    )
    if skip:
        events.append(
            {
                "kind": "note",
                "cell": None,
                "text": f"{len(skip)} cell(s) tagged `solution` were not run",
            }
        )
    run, exercises = None, None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        run = Run(notebook, skip, spec, deadline, hard_deadline)
        with run:
            run.run_cells()
            last = run.fatal_cell is None or attempt == MAX_ATTEMPTS or time.monotonic() > deadline
            if last and run.kernel_state == "alive":
                exercises = run.check(spec["exercises"], hidden)
        events += run.events
        if last:
            if run.fatal_cell is not None:
                events.append(
                    {
                        "kind": "note",
                        "cell": None,
                        "text": "the notebook was not run again (too many failures or no time left)",
                    }
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
        exercises = {exercise_id: unanswered(reason) for exercise_id, _ in spec["exercises"]}
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


def die_with_parent() -> None:
    """Be killed if the grader dies (Linux): the sandbox then dies with this process."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
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


def worker_command(code: str, spec_file: str) -> list[str]:
    """The command that runs :func:`main` on ``spec_file``, importing only from ``code``.

    Isolated mode (``-I``): no current folder and no user site-packages on
    ``sys.path``, no ``PYTHON*`` variables; the grader's own copy of the code
    first. A module planted in any working folder is never imported.
    """
    boot = (
        "import sys\n"
        "sys.path[:] = [sys.argv[1]] + [path for path in sys.path if path not in ('', '.')]\n"
        "from grading.worker import main\n"
        "sys.exit(main(sys.argv[2:]))\n"
    )
    return [sys.executable, "-I", "-B", "-c", boot, code, spec_file]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    die_with_parent()
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
