"""The grader's sandbox, gradebook and "write your own" rules, against hostile submissions.

The slow tests grade one folder of submissions, each trying one way to get
marks it did not earn or to spoil other grades (and a few innocent ones), in a
single run shared by the module; each test then checks one part of the
gradebook. The submissions are small notebooks with the answers of
book/01_convolution.ipynb typed in (NumPy and coursepkg only, no Keras), so
that a kernel starts in a second. The fast tests check the pieces: the
sandbox's command lines, reading malformed notebooks, finding every file,
forbidding calls, seeding the hidden inputs.
"""

from __future__ import annotations

import functools
import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap
import uuid

import nbformat
import numpy as np
import pytest
from test_grading import assert_rows, read_gradebook

from grading import forbid, sandbox
from grading.checks import forbidden_calls, hidden_checks_of, load_hidden
from grading.grade import (
    Settings,
    claim,
    find_submissions,
    is_regular_file,
    isolation_for,
    kernel_groups,
    printable,
    student_ids,
)
from grading.worker import read_submission

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTER_1 = ROOT / "book" / "01_convolution.ipynb"
TENSORFLOW_ONLY = pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
    reason="the grading tests run once, in the TensorFlow phase",
)
MARKER = f"hostile-{uuid.uuid4().hex[:12]}"  # in every file or process a hostile submission makes


@functools.cache
def available() -> list[str]:
    """The sandboxes that work here (probed once, when a slow test first asks).

    Skips the test where no sandbox tool can run (none installed, not root for
    unshare); fails it where one could but does not work: a broken sandbox
    must not pass for a missing one.
    """
    usable = [backend for backend in sandbox.BACKENDS if sandbox.tool_problem(backend) is None]
    if not usable:
        pytest.skip("no sandbox tool can run here (bubblewrap not installed, not root for unshare)")
    problems = {backend: sandbox.probe(backend) for backend in usable}
    if all(problems.values()):
        pytest.fail(f"the sandbox tools are here, but no sandbox works: {problems}")
    return [backend for backend, problem in problems.items() if problem is None]


# The chapter's exercises answered, one cell each: what a student who solved them hands in.
ANSWERS = {
    "output_width": "output_width = (32 + 2 * 1 - 5) // 2 + 1",
    "conv_params": "conv_params = 16 * (5 * 5 * 8 + 1)",
    "one_by_one_params": "one_by_one_params = 64 * (1 * 1 * 256 + 1)",
    "n_layers": "n_layers = (11 - 1) // 2",
    "my_correlate2d": """
        def my_correlate2d(image, kernel):
            kernel_height, kernel_width = kernel.shape
            result = np.zeros((image.shape[0] - kernel_height + 1, image.shape[1] - kernel_width + 1))
            for i in range(result.shape[0]):
                for j in range(result.shape[1]):
                    result[i, j] = np.sum(image[i : i + kernel_height, j : j + kernel_width] * kernel)
            return result
        """,
    "shift_kernel": "shift_kernel = np.zeros((3, 3))\nshift_kernel[1, 0] = 1.0",
}
EXERCISE_OF = {
    "output_width": "convolution.output_size",
    "conv_params": "convolution.param_count",
    "one_by_one_params": "convolution.one_by_one",
    "n_layers": "convolution.receptive_field",
    "my_correlate2d": "convolution.correlate2d",
    "shift_kernel": "convolution.shift_kernel",
}
SQUARE_ONLY = """
    def my_correlate2d(image, kernel):
        size = kernel.shape[0]  # wrong on every non-square kernel
        result = np.zeros((image.shape[0] - size + 1, image.shape[1] - size + 1))
        for i in range(result.shape[0]):
            for j in range(result.shape[1]):
                result[i, j] = np.sum(image[i : i + size, j : j + size] * kernel)
        return result
    """


def code(source: str, tags=None) -> dict:
    cell = nbformat.v4.new_code_cell(textwrap.dedent(source).strip())
    if tags is not None:
        cell.metadata["tags"] = tags
    return cell


def answered(before: str = "", after: str = "", **answers: str):
    """A notebook answering every exercise (``answers`` replaces some), with extra code around."""
    cells = [code("import numpy as np\nimport coursepkg\nfrom coursepkg import check")]
    if before:
        cells.append(code(before))
    for variable, source in {**ANSWERS, **answers}.items():
        exercise = EXERCISE_OF[variable]
        cells.append(
            code(
                f'{textwrap.dedent(source).strip()}\n\ncheck("{exercise}", {variable})',
                ["exercise"],
            )
        )
    if after:
        cells.append(code(after))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = cells
    return notebook


# --------------------------------------------------------------------------- hostile code

PROBE = """
# Looks around the sandbox; output_width = 1000 + a bit per thing it should not be able to do.
import glob, os, site, socket, signal
violations = 0
def can_write(folder):
    try:
        with open(os.path.join(folder, "MARKER-probe"), "w") as file:
            file.write("x")
        return True
    except OSError:
        return False
def readable(path):
    try:
        with open(path, "rb") as file:
            return bool(file.read(64))
    except OSError:
        return False
if os.path.exists(GRADING) or os.path.exists(SUBMISSIONS) or os.path.exists(RESULTS):
    violations |= 1  # the grader's code, the submissions or the results
if os.getuid() == 0 or os.geteuid() == 0 or os.getgroups() not in ([], [os.getgid()]):
    violations |= 2
if any(can_write(folder) for folder in site.getsitepackages() + [os.path.dirname(coursepkg.__file__), "/usr", "/etc"]):
    violations |= 4  # a .pth file, an edited coursepkg
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2).close()
    violations |= 8
except OSError:
    pass
processes = [pid for pid in os.listdir("/proc") if pid.isdigit()]
others = [pid for pid in processes if int(pid) not in (1, os.getpid())]
if any(readable(f"/proc/{pid}/{what}") for pid in ["1", *others] for what in ("environ", "mem")):
    violations |= 16  # the token in another process's memory or environment
if any(b"worker" in open(f"/proc/{pid}/cmdline", "rb").read() for pid in processes if os.path.exists(f"/proc/{pid}/cmdline")):
    violations |= 32  # the grading process itself
home = os.listdir("/root") if os.path.isdir("/root") else []
if glob.glob("/tmp/grading-*/spec.json") or glob.glob("/tmp/grading-*/code") or set(home) - {".pyenv", ".keras"}:
    violations |= 64  # the worker's folder, or a home folder
for pid in (os.getppid(), 1):
    try:
        os.kill(pid, signal.SIGKILL)
        violations |= 128
    except OSError:
        pass
output_width = 1000 + violations
"""

FORKER = """
# A process that leaves the kernel's session and keeps writing, long after the grader is done.
import os, subprocess, sys
loop = "import sys, time\\nwhile True:\\n    for path in sys.argv[2:]:\\n        try:\\n            open(path, 'a').write('hacked')\\n        except OSError:\\n            pass\\n    time.sleep(0.2)\\n"
subprocess.Popen([sys.executable, "-c", loop, "MARKER", GRADEBOOK, "/tmp/MARKER-forker"], start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:  # and a double fork, in a new session
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", loop, "MARKER", GRADEBOOK])
    os._exit(0)
"""

PLANTER = """
# Plants modules and hooks wherever the grader or the next submission might import them.
import glob, os, site
for folder in [os.getcwd(), ROOT, os.path.dirname(coursepkg.__file__), *site.getsitepackages()]:
    for name in ("psutil.py", "sitecustomize.py", "MARKER.pth", "json.py"):
        try:
            with open(os.path.join(folder, name), "w") as file:
                file.write("import os  # MARKER\\n")
        except OSError:
            pass
for path in glob.glob(os.path.join(os.path.dirname(coursepkg.__file__), "*.py")) + glob.glob(GRADING + "/**/*.py", recursive=True):
    try:
        with open(path, "a") as file:
            file.write("\\n# MARKER\\n")
    except OSError:
        pass
for path in glob.glob("/tmp/**/kernel-groups", recursive=True) + ["/tmp/kernel-groups"]:
    try:
        with open(path, "a") as file:
            file.write("0\\n")
    except OSError:
        pass
"""

FILLER = """
# Fills /tmp with 2 GB (the file size limit and the size of /tmp stop it).
written = 0
try:
    with open("/tmp/MARKER-filler", "wb") as file:
        block = b"0" * 2**26
        while written < 2 * 2**30:
            file.write(block)
            written += len(block)
except OSError:
    pass
"""

TABLE = """
# Answers looked up in a table of known inputs: the public check's, and the hidden inputs the
# published grading/hidden/convolution.py drew from its fixed seed before.
import hashlib
from coursepkg.exercises.convolution import _correlation_cases
def key(image, kernel):
    return hashlib.sha256(np.asarray(image, float).tobytes() + np.asarray(kernel, float).tobytes()).hexdigest()
table = {key(image, kernel): coursepkg.correlate2d(image, kernel) for (image, kernel), _ in _correlation_cases()}
rng = np.random.default_rng(2026)
for image, kernel in [(rng.integers(0, 256, size=(7, 6)).astype(np.uint8), rng.normal(size=(3, 3))),
                      (rng.integers(-5, 6, size=(6, 7)), np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])),
                      (rng.normal(size=(4, 5)), rng.normal(size=(1, 1))), (rng.normal(size=(6, 8)), rng.normal(size=(1, 5))),
                      (rng.normal(size=(9, 5)), rng.normal(size=(4, 2))), (rng.normal(size=(3, 5)), rng.normal(size=(3, 5)))]:
    table[key(image, kernel)] = coursepkg.correlate2d(image, kernel)
def my_correlate2d(image, kernel):
    return table.get(key(image, kernel), np.zeros((image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1)))
"""

RELABELLED = """
coursepkg.convolution.correlate2d.__module__ = "__main__"  # looks written in the notebook
coursepkg.convolution.correlate2d.__qualname__ = "my_correlate2d"
my_correlate2d = coursepkg.convolution.correlate2d
"""

REIMPORTED = """
import importlib.util
spec = importlib.util.spec_from_file_location("my_own_convolution", coursepkg.convolution.__file__)
copy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(copy)  # a second copy of the module: other function objects, same code
def my_correlate2d(image, kernel):
    return copy.correlate2d(image, kernel)
"""

ELSEWHERE = """
import subprocess, sys, tempfile
def my_correlate2d(image, kernel):  # has a fresh Python, where nothing is forbidden, compute it
    folder = tempfile.mkdtemp()
    np.save(f"{folder}/image.npy", image)
    np.save(f"{folder}/kernel.npy", kernel)
    subprocess.run([sys.executable, "-c", f"import numpy as np, coursepkg; np.save('{folder}/out.npy', coursepkg.correlate2d(np.load('{folder}/image.npy'), np.load('{folder}/kernel.npy')))"], check=True)
    return np.load(f"{folder}/out.npy")
"""


def hostile(source: str, folders: dict[str, pathlib.Path]) -> str:
    """``source`` with its placeholders filled in."""
    for name, path in folders.items():
        source = source.replace(name, repr(str(path)))
    return source.replace("MARKER", MARKER)


def malformed_notebook() -> dict:
    """A notebook Jupyter opens, with the metadata and cells that used to trip the grader."""
    notebook = json.loads(nbformat.writes(answered()))
    cells = notebook["cells"]
    cells[1]["metadata"]["tags"] = None  # "tags": null on an exercise cell
    del cells[2]["source"]  # a code cell without source, before the answer is set again
    cells.insert(3, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                     "source": "conv_params = 16 * (5 * 5 * 8 + 1)"})  # fmt: skip
    cells[4]["metadata"]["tags"] = "not-a-solution"  # a string, not a list: one whole tag
    cells.append(
        {
            "cell_type": "code",
            "metadata": {"tags": ["solution"]},
            "outputs": [],
            "execution_count": None,
            "source": "output_width = 99",
        }
    )  # a solution: not run
    cells.append({"cell_type": "code", "metadata": "not a table", "source": ["n_layers", " = 5"]})
    return notebook


def build_submissions(folder: pathlib.Path, results: pathlib.Path) -> dict[str, dict]:
    """Write the hostile folder; return what the gradebook must say about each file."""
    places = {"GRADEBOOK": results / "gradebook.csv", "GRADING": ROOT / "grading",
              "SUBMISSIONS": folder, "RESULTS": results, "ROOT": ROOT}  # fmt: skip
    expected: dict[str, dict] = {}

    def write(name, notebook, total, status="ok", reason="", **earned):
        nbformat.write(notebook, str(folder / name))
        expected[name] = {"total": total, "status": status, "reason": reason, "earned": earned}

    write("innocent.ipynb", answered(), 10, reason="")
    # Square kernels only: passes the public 5x5 and 6x9 cases but not the 2x4 one, and 4 of
    # the 7 hidden cases: 4 of 8 checks, 2 of 4 points, whatever the seed.
    write(
        "square_only.ipynb",
        answered(my_correlate2d=SQUARE_ONLY),
        8,
        **{"convolution.correlate2d": 2},
    )
    write(
        "probe.ipynb", answered(after=hostile(PROBE, places)), 9
    )  # output_width = 1000 + violations
    write("forker.ipynb", answered(after=hostile(FORKER, places)), 10)
    write("planter.ipynb", answered(after=hostile(PLANTER, places)), 10)
    write("filler.ipynb", answered(before=hostile(FILLER, places)), 10)
    write("kills_its_kernel.ipynb", answered(before="import os\nos.kill(os.getpid(), 9)"), 10,
          "kernel died", "the kernel died in cell 2")  # fmt: skip
    forbidden = {"convolution.correlate2d": 0}
    write("wrapper.ipynb", answered(my_correlate2d="my_correlate2d = lambda i, k: coursepkg.correlate2d(i, k)"),
          6, reason="called coursepkg.correlate2d, which this exercise forbids", **forbidden)  # fmt: skip
    write("relabelled.ipynb", answered(my_correlate2d=RELABELLED), 6,
          reason="which this exercise forbids", **forbidden)  # fmt: skip
    write("reimported.ipynb", answered(my_correlate2d=REIMPORTED), 6,
          reason="called coursepkg.correlate2d, which this exercise forbids", **forbidden)  # fmt: skip
    write("elsewhere.ipynb", answered(my_correlate2d=ELSEWHERE), 6,
          reason="which this exercise forbids", **forbidden)  # fmt: skip
    # Passes the public check only (its inputs are fixed): 1 of 8 checks.
    write("table.ipynb", answered(my_correlate2d=TABLE), 6.5, **{"convolution.correlate2d": 0.5})
    write("LOUD.IPYNB", answered(), 10)
    (folder / "malformed.ipynb").write_text(json.dumps(malformed_notebook()))
    expected["malformed.ipynb"] = {"total": 10, "status": "ok", "reason": "", "earned": {}}
    with open(os.path.join(os.fsencode(folder), b"stud\xe9nt \xff.ipynb"), "wb") as file:
        file.write(nbformat.writes(answered()).encode())
    expected["stud\\xe9nt \\xff.ipynb"] = {"total": 10, "status": "ok", "reason": "", "earned": {}}

    def skipped(name, reason, status="skipped"):
        expected[name] = {"total": 0, "status": status, "reason": reason, "earned": {}}

    (folder / "passwd.ipynb").symlink_to("/etc/passwd")
    skipped("passwd.ipynb", "a symbolic link")
    (folder / "dangling.ipynb").symlink_to(folder / "nowhere.ipynb")
    skipped("dangling.ipynb", "a dangling symbolic link")
    nbformat.write(answered(), str(folder / ".hidden.ipynb"))
    skipped(".hidden.ipynb", "a hidden file")
    (folder / ".ipynb_checkpoints").mkdir()
    nbformat.write(answered(), str(folder / ".ipynb_checkpoints" / "innocent-checkpoint.ipynb"))
    skipped(".ipynb_checkpoints/innocent-checkpoint.ipynb", "in a hidden folder")
    (folder / "notes.txt").write_text("root:x:0:0:root:/root:/bin/bash\n")
    skipped("notes.txt", "not a notebook")
    (folder / "not_json.ipynb").write_text("root:x:0:0:root:/root:/bin/bash\n")
    skipped("not_json.ipynb", "not JSON", "invalid notebook")
    return expected


def processes_with(text: str) -> list[int]:
    """Processes whose command line holds ``text``."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return [pid for pid in found if pid != os.getpid()]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The hostile folder, graded once for every slow test of this module."""
    available()
    folder = tmp_path_factory.mktemp("hostile")
    submissions, results = folder / "submissions", folder / "results"
    submissions.mkdir()
    (results / "gradebook.csv").mkdir(parents=True)  # left by an earlier run: folders, not files
    (results / "gradebook.json").mkdir()
    expected = build_submissions(submissions, results)
    finished = subprocess.run(
        [sys.executable, "-m", "grading", "grade", str(submissions), "--chapter", str(CHAPTER_1),
         "--out", str(results), "--timeout", "120", "--cell-timeout", "30", "-j", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-3000:]
    return {"expected": expected, "results": results, "submissions": submissions,
            "stderr": finished.stderr, "rows": read_gradebook(results / "gradebook.csv")}  # fmt: skip


@pytest.mark.slow
@TENSORFLOW_ONLY
def test_every_file_gets_its_row_and_no_mark_is_forged(graded):
    rows = graded["rows"]
    assert_rows(rows, graded["expected"])
    for name in (
        "innocent.ipynb",
        "LOUD.IPYNB",
        "malformed.ipynb",
        "planter.ipynb",
        "forker.ipynb",
    ):
        assert rows[name]["reason"] == "", rows[name]  # graded as if alone: nothing to say
    # Each graded notebook drew its hidden inputs from a seed of its own, recorded in its row.
    seeds = [
        row["seed"] for row in rows.values() if row["status"] not in ("skipped", "invalid notebook")
    ]
    assert all(seed.isdigit() for seed in seeds) and len(set(seeds)) == len(seeds)
    assert rows["stud\\xe9nt \\xff.ipynb"]["student_id"] == "stud\\xe9nt \\xff"


@pytest.mark.slow
@TENSORFLOW_ONLY
def test_the_sandbox_hides_the_grader_and_holds_its_user(graded):
    """The probe's view from inside: no grader, no root, no network, no one else's memory."""
    feedback = (graded["results"] / "feedback" / "probe.txt").read_text()
    found = re.search(r"the output width: (\d+)", feedback)
    assert found, feedback
    assert int(found.group(1)) - 1000 == 0, (
        f"violations bitmask {int(found.group(1)) - 1000} (see PROBE)"
    )


@pytest.mark.slow
@TENSORFLOW_ONLY
def test_nothing_is_left_running_or_written_outside(graded):
    details = json.loads((graded["results"] / "gradebook.json").read_text())
    forker = next(
        entry for entry in details["submissions"] if entry["submission"] == "forker.ipynb"
    )
    assert any(
        "were stopped before its answers were checked" in event["text"]
        for event in forker["events"]
    )
    assert processes_with(MARKER) == []
    assert not list(pathlib.Path("/tmp").glob(f"{MARKER}*"))
    site_packages = pathlib.Path(np.__file__).parents[1]
    for folder in (ROOT, ROOT / "coursepkg", ROOT / "grading", site_packages):
        assert not list(folder.glob(f"*{MARKER}*")), folder
    for planted in (ROOT / "psutil.py", ROOT / "json.py", site_packages / "sitecustomize.py"):
        assert not planted.exists(), planted
    for path in [*(ROOT / "coursepkg").rglob("*.py"), *(ROOT / "grading").rglob("*.py")]:
        assert MARKER not in path.read_text(encoding="utf-8", errors="replace"), path
    results = graded["results"]
    text = (results / "gradebook.csv").read_text() + (results / "gradebook.json").read_text()
    assert "hacked" not in text and "root:x:0" not in text  # nothing written in, nothing quoted
    feedback = "".join(path.read_text() for path in (results / "feedback").glob("*.txt"))
    assert "root:x:0" not in feedback


@pytest.mark.slow
@TENSORFLOW_ONLY
def test_the_gradebook_is_written_where_folders_stood_in_its_way(graded):
    results = graded["results"]
    assert (results / "gradebook.csv").is_file() and (results / "gradebook.json").is_file()
    for name in ("gradebook.csv", "gradebook.json"):
        aside = list(results.glob(f"{name}.moved-aside-*"))
        assert len(aside) == 1 and aside[0].is_dir(), aside
    assert "renamed to gradebook.csv.moved-aside-" in graded["stderr"]
    details = json.loads((results / "gradebook.json").read_text())
    assert details["settings"]["sandbox"] in sandbox.BACKENDS
    # One feedback file per graded row; none for the skipped files.
    graded_rows = [row for row in graded["rows"].values() if row["status"] != "skipped"]
    assert len(list((results / "feedback").glob("*.txt"))) == len(graded_rows)


@pytest.mark.slow
@TENSORFLOW_ONLY
@pytest.mark.parametrize("backend", sandbox.BACKENDS)
def test_each_sandbox_grades_and_stops_what_a_notebook_starts(backend, tmp_path):
    """Both tools, where they work: a kernel that kills itself is replaced, and forked processes die."""
    if backend not in available():
        pytest.skip(f"{backend} does not work here: {sandbox.probe(backend)}")
    submissions, results = tmp_path / "submissions", tmp_path / "results"
    submissions.mkdir()
    places = {"GRADEBOOK": results / "gradebook.csv", "GRADING": ROOT / "grading",
              "SUBMISSIONS": submissions, "RESULTS": results, "ROOT": ROOT}  # fmt: skip
    nbformat.write(answered(before="import os\nos.kill(os.getpid(), 9)", after=hostile(FORKER, places)),
                   str(submissions / "both.ipynb"))  # fmt: skip
    finished = subprocess.run(
        [sys.executable, "-m", "grading", "grade", str(submissions), "--chapter", str(CHAPTER_1),
         "--out", str(results), "--timeout", "120", "--cell-timeout", "30", "--sandbox", backend],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-3000:]
    row = read_gradebook(results / "gradebook.csv")["both.ipynb"]
    assert (row["status"], row["total"]) == ("kernel died", "10"), row
    assert json.loads((results / "gradebook.json").read_text())["settings"]["sandbox"] == backend
    assert processes_with(MARKER) == []


# --------------------------------------------------------------------------- fast tests


def test_without_a_sandbox_the_grader_refuses_unless_told(tmp_path, monkeypatch):
    def unavailable(preference, uid=None):
        raise sandbox.SandboxUnavailable("bwrap: not found; unshare: needs root")

    monkeypatch.setattr(sandbox, "choose_backend", unavailable)
    settings = Settings(chapter=CHAPTER_1, out=tmp_path / "out")
    with pytest.raises(ValueError, match="--unsandboxed"):
        isolation_for(settings, tmp_path)
    settings.sandbox = "none"
    assert isolation_for(settings, tmp_path).backend == "none"


def test_the_sandbox_shows_the_environment_read_only_and_hides_the_grader(tmp_path):
    readable = sandbox.environment_paths()
    assert os.path.realpath(sys.prefix) in [os.path.realpath(path) for path in readable]
    assert not any(sandbox.inside(str(ROOT / "grading"), path) for path in readable)
    assert str(ROOT / "coursepkg") in readable  # the package folder alone, not the repository
    # A protected folder inside a readable one is shown empty.
    assert sandbox.masked_paths(["/usr", str(tmp_path)], [str(tmp_path / "x"), "/etc"]) == []
    (tmp_path / "hidden").mkdir()
    assert sandbox.masked_paths([str(tmp_path)], [str(tmp_path / "hidden")]) == [
        str(tmp_path / "hidden")
    ]
    box = sandbox.Sandbox(
        "bwrap", 65001, str(tmp_path / "channels"), ("/usr", "/etc"), (str(tmp_path / "hidden"),)
    )
    command = box.command(["python", "-c", "pass"])
    assert command[0] == "bwrap" and command[-3:] == ["python", "-c", "pass"]
    for flag in ("--unshare-pid", "--unshare-net", "--die-with-parent", "--proc", "--dev"):
        assert flag in command
    assert command[command.index("--ro-bind") + 1 : command.index("--ro-bind") + 3] == [
        "/etc",
        "/etc",
    ]
    assert f"--as={sandbox.Limits().memory}" in command
    if os.geteuid() == 0:  # root: setpriv gives the sandbox's user no way back
        assert "--reuid=65001" in command and "--no-new-privs" in command
    script = sandbox.Sandbox(
        "unshare", 65001, "/tmp/c", ("/usr",), build_root="/tmp/r"
    )._unshare_script()
    assert "pivot_root . .old-root" in script and "mount -o remount,bind,ro,nosuid,nodev" in script
    environment = sandbox.kernel_environment()
    assert environment["HOME"] == "/tmp" and "JPY_PARENT_PID" not in environment
    assert not any(name.startswith(("SSH_", "AWS_", "GITHUB_")) for name in environment)


def test_malformed_notebooks_are_repaired_and_others_are_not_quoted(tmp_path):
    path = tmp_path / "malformed.ipynb"
    path.write_text(json.dumps(malformed_notebook()))
    notebook, invalid, repairs = read_submission(str(path))
    assert invalid is None and len(repairs) == 3, repairs
    assert all(isinstance(cell.source, str) for cell in notebook.cells)
    assert all(isinstance(cell.metadata.tags, list) for cell in notebook.cells)
    assert notebook.cells[4].metadata.tags == ["not-a-solution"]  # one tag, never "solution"
    assert notebook.cells[-1].source == "n_layers = 5"
    for content, reason in ((b"root:x:0:0:root:/root:/bin/bash\n", "not JSON"), (b"\xff\xfe", "not UTF-8"),
                            (b'{"cells": 3}', "without a list of cells"), (b"[1, 2]", "without a list")):  # fmt: skip
        path.write_bytes(content)
        notebook, invalid, _ = read_submission(str(path))
        assert notebook is None and reason in invalid and "root" not in invalid


def test_every_file_is_found_and_named_printably(tmp_path):
    (tmp_path / "a.ipynb").write_text("{}")
    (tmp_path / "B.IPYNB").write_text("{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.ipynb").write_text("{}")
    (tmp_path / "link").symlink_to(tmp_path / "sub", target_is_directory=True)  # not followed
    os.mkfifo(tmp_path / "pipe.ipynb")
    with open(os.path.join(os.fsencode(tmp_path), b"\xe9.ipynb"), "w") as file:
        file.write("{}")
    found = {item.name: item.skip for item in find_submissions(tmp_path)}
    assert found == {"B.IPYNB": "", "\\xe9.ipynb": "", "a.ipynb": "", "sub/a.ipynb": "",
                     "link": "a symbolic link (the grader does not follow links)",
                     "pipe.ipynb": "not a regular file"}  # fmt: skip
    ids = dict(zip(found, student_ids(find_submissions(tmp_path))))
    assert ids["a.ipynb"] == "a" and ids["sub/a.ipynb"] == "sub/a" and ids["B.IPYNB"] == "B"
    assert printable("line\nbreak") == "line\\nbreak"


def test_the_grader_owns_its_file_names_and_process_groups(tmp_path):
    (tmp_path / "gradebook.csv").mkdir()
    warnings: list[str] = []
    claim(tmp_path / "gradebook.csv", is_regular_file, warnings)
    assert not (tmp_path / "gradebook.csv").exists() and len(warnings) == 1
    assert [path.name.split(".moved-aside-")[0] for path in tmp_path.iterdir()] == ["gradebook.csv"]
    (tmp_path / "gradebook.csv").write_text("a file of ours")
    claim(tmp_path / "gradebook.csv", is_regular_file, warnings)
    assert (tmp_path / "gradebook.csv").read_text() == "a file of ours" and len(warnings) == 1
    groups = tmp_path / "kernel-groups"
    groups.write_text(f"1234\n0\n1\n{os.getpgrp()}\n-5\nabc\n\n4321\n")
    assert kernel_groups(groups) == [1234, 4321]


def test_forbidden_calls_raise_however_they_are_reached():
    import importlib.util
    import types

    import coursepkg

    module = types.ModuleType("_grading_forbid_test")
    exec(pathlib.Path(forbid.__file__).read_text(), module.__dict__)
    sys.modules[module.__name__] = module
    spec = importlib.util.spec_from_file_location(
        "_copy_of_convolution", coursepkg.convolution.__file__
    )
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    ways = [coursepkg.correlate2d, lambda i, k: coursepkg.correlate2d(i, k),
            functools.partial(coursepkg.convolution.correlate2d), copy.correlate2d,
            lambda i, k: np.convolve(i.ravel(), k.ravel())]  # fmt: skip
    image, kernel = np.ones((4, 4)), np.ones((2, 2))
    try:
        report = module.install(
            ["coursepkg.correlate2d", "numpy.convolve", "not_imported_package.f"]
        )
        assert report["blocked"] == ["not_imported_package.f"]
        for way in ways:
            with pytest.raises(module.ForbiddenCall):
                way(image, kernel)
        with pytest.raises(module.ForbiddenCall):
            subprocess.run(["true"])
        assert module.called() == [
            "coursepkg.correlate2d",
            "numpy.convolve",
            "_posixsubprocess.fork_exec",
        ]
    finally:
        module.remove()
        del sys.modules[module.__name__]
    np.testing.assert_allclose(coursepkg.correlate2d(image, kernel), np.full((3, 3), 4.0))
    assert subprocess.run(["true"]).returncode == 0


def test_hidden_inputs_come_from_the_seed_and_correlate2d_forbids_the_library():
    def inputs(seed):
        checks = hidden_checks_of(load_hidden(seed=seed), "convolution.correlate2d")
        return [
            check.checker.__defaults__[0][0] for check in checks
        ]  # (image, kernel) of each case

    first, again, other = inputs(1), inputs(1), inputs(2)
    np.testing.assert_array_equal(first[0][0], again[0][0])
    assert not np.array_equal(first[0][0], other[0][0])
    assert "coursepkg.correlate2d" in forbidden_calls("convolution.correlate2d")
    assert "scipy.signal.correlate2d" in forbidden_calls("convolution.correlate2d")
    assert forbidden_calls("convolution.output_size") == ()


def test_two_graders_never_share_a_sandbox_user():
    with sandbox.claimed_users(2) as first, sandbox.claimed_users(3) as second:
        assert len(set(first) | set(second)) == 5
        assert all(sandbox.FIRST_UID <= uid <= sandbox.LAST_UID for uid in first + second)
    with sandbox.claimed_users(1) as again:  # released: free again
        assert again[0] <= min(first + second)
