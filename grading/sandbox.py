"""The operating-system sandbox that each submission's kernel runs in.

Only the student's kernel is sandboxed; the worker that holds the checks, the
token and the connection to the grader stays outside and talks to the kernel
over the Jupyter protocol (Unix sockets in the kernel's working folder). In the
sandbox the kernel has

- an unprivileged user and group of its own (one per job running at the same
  time, from ``FIRST_UID`` up), no supplementary groups, no capabilities, and
  ``no_new_privs`` (set-user-ID programs give it nothing);
- its own PID namespace: it sees only its own processes, not the worker's
  ``/proc``, and when the sandbox's first process dies, the kernel kills every
  process in it, whatever it forked (new sessions, double forks included);
- no network (a network namespace with only a loopback that is down), its own
  IPC and host name;
- a root file system built from scratch: the system folders (``/usr``,
  ``/etc``...), the Python installation, the virtual environment, the installed
  ``coursepkg``, the Keras cache and the course's data folders, all read-only at
  their own paths; a private ``/tmp`` and ``/dev/shm`` (size-limited memory file
  systems that vanish with it), ``/tmp`` being its working folder and home; a
  minimal ``/dev``; and the folder of its connection file and sockets, where
  it may create its sockets until it is ready. Nothing else: not the grader,
  the hidden checks, the points, the submissions, the results or anyone's home
  folder;
- limits (``prlimit``) on the memory of each process, the number of processes
  and threads of its user, the size of each file it writes and open files.

Two tools build it, with the same layout: bubblewrap (``bwrap``, preferred
where installed) and util-linux's ``unshare``, ``setpriv`` and ``prlimit``
(present on every Linux system, but they need root).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import tempfile

BACKENDS = ("bwrap", "unshare")
# The sandboxes' user (and group) ids: one per job running at the same time, each claimed
# by one grader at a time (see claimed_users). Debian reserves 65000-65533 and never gives
# them to a user, so no real account shares their files or their process count.
FIRST_UID, LAST_UID = 65000, 65533
SYSTEM_PATHS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
WORKING_FOLDER = "/tmp"  # the kernel's working folder and home, in its private /tmp
# Environment variables the kernel keeps (names, or prefixes ending in "_"); the rest of
# the grader's environment (tokens, paths into the instructor's home...) is not passed on.
KERNEL_ENVIRONMENT = (
    "PATH", "LANG", "LANGUAGE", "TZ", "LC_", "KERAS_", "COURSEPKG_", "TF_", "JAX_", "XLA_",
    "OMP_", "MKL_", "OPENBLAS_", "CUDA_",
)  # fmt: skip


class SandboxUnavailable(RuntimeError):
    """No sandbox can be built on this machine (tool missing, not root, namespaces disabled)."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits inside the sandbox."""

    memory: int = 8 * 2**30  # bytes of address space of each process (RLIMIT_AS)
    processes: int = 1024  # processes and threads of the sandbox's user (RLIMIT_NPROC)
    file_size: int = 2**30  # bytes, the largest file it may write (RLIMIT_FSIZE)
    open_files: int = 4096  # open file descriptors per process (RLIMIT_NOFILE)
    tmp_size: int = 2**30  # bytes of its /tmp, and again of its /dev/shm (memory file systems)


@dataclasses.dataclass(frozen=True)
class Sandbox:
    """How to run one command in the sandbox."""

    backend: str  # "bwrap" or "unshare"
    uid: int  # its user and group id
    channels: str  # the folder of the kernel's connection file and sockets, at the same path inside
    readable: tuple[str, ...]  # folders and files shown read-only, at their own paths
    masked: tuple[str, ...] = ()  # paths under `readable` shown empty (the checks, the results...)
    limits: Limits = Limits()
    # unshare only: an empty folder, outside the sandbox, where its root is assembled
    build_root: str = ""

    @classmethod
    def from_dict(cls, data: dict) -> Sandbox:
        fields = dict(data)
        fields["limits"] = Limits(**fields["limits"])
        for name in ("readable", "masked"):
            fields[name] = tuple(fields[name])
        return cls(**fields)

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run in the sandbox: the sandboxing tool's command line."""
        root = os.geteuid() == 0
        inner = []
        if root:  # leave root for the sandbox's own user, with no way back
            inner += ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                      "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all",
                      "--no-new-privs", "--"]  # fmt: skip
        limits = self.limits
        inner += ["prlimit", f"--as={limits.memory}", f"--nproc={limits.processes}",
                  f"--fsize={limits.file_size}", f"--nofile={limits.open_files}", "--core=0", "--",
                  "env", "-u", "JPY_PARENT_PID", "--", *argv]  # fmt: skip
        # (JPY_PARENT_PID: the kernel would take the sandbox's process 1 for a dead parent.)
        if self.backend == "bwrap":
            return ["bwrap", *self._bwrap_arguments(root), "--", *inner]
        if self.backend == "unshare":
            if not root:
                raise SandboxUnavailable("the unshare sandbox needs root")
            # --kill-child: when unshare dies, its child, the sandbox's process 1, is killed,
            # and with it every process of the namespace; --pdeathsig: unshare dies with the worker.
            return ["setpriv", "--pdeathsig", "KILL", "--", "unshare", "--mount", "--pid",
                    "--fork", "--kill-child", "--net", "--ipc", "--uts", "--propagation", "private",
                    "--", "/bin/sh", "-c", self._unshare_script(), "sandbox", *inner]  # fmt: skip
        raise ValueError(
            f"Expected `backend` to be one of {BACKENDS}. Received: backend={self.backend!r}"
        )

    # ------------------------------------------------------------------ the layout

    def _layout(self) -> list[tuple[str, ...]]:
        """The sandbox's file system, in mounting order: ``(operation, path[, source])``."""
        operations: list[tuple[str, ...]] = [("proc", "/proc"), ("dev", "/dev"), ("tmpfs", "/tmp")]
        for path in SYSTEM_PATHS:
            if os.path.islink(path):  # merged /usr: /bin -> usr/bin
                operations.append(("symlink", path, os.readlink(path)))
        for path in sorted(self.readable):
            operations.append(("file" if os.path.isfile(path) else "readable", path))
        for path in sorted(self.masked):
            operations.append(("hide-file" if os.path.isfile(path) else "hide", path))
        operations.append(("channels", self.channels))
        return operations

    def _bwrap_arguments(self, root: bool) -> list[str]:
        arguments = ["--die-with-parent", "--unshare-pid", "--unshare-net", "--unshare-ipc",
                     "--unshare-uts", "--unshare-cgroup-try"]  # fmt: skip
        if root:  # keeps only what setpriv needs to become the sandbox's user
            arguments += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add",
                          "CAP_SETGID", "--cap-add", "CAP_SETPCAP"]  # fmt: skip
        else:  # a user namespace maps the caller to the sandbox's user
            arguments += ["--unshare-user", "--uid", str(self.uid), "--gid", str(self.uid),
                          "--disable-userns"]  # fmt: skip
        made: set[str] = {"/"}

        def parents(path: str) -> list[str]:
            # bwrap creates missing parent folders as 0700, which the sandbox's user cannot
            # enter: create them first, 0755.
            created = []
            for parent in reversed(pathlib.PurePosixPath(path).parents):
                if str(parent) not in made:
                    made.add(str(parent))
                    created += ["--perms", "0755", "--dir", str(parent)]
            return created

        size = str(self.limits.tmp_size)
        for operation, path, *source in self._layout():
            arguments += parents(path)
            made.add(path)
            if operation == "proc":
                arguments += ["--proc", path]
            elif operation == "dev":
                arguments += [
                    "--dev",
                    path,
                    "--perms",
                    "1777",
                    "--size",
                    size,
                    "--tmpfs",
                    "/dev/shm",
                ]
            elif operation == "tmpfs":
                arguments += ["--perms", "1777", "--size", size, "--tmpfs", path]
            elif operation == "symlink":
                arguments += ["--symlink", source[0], path]
            elif operation in ("readable", "file"):
                arguments += ["--ro-bind", path, path]
            elif operation == "hide":
                arguments += [
                    "--perms",
                    "0755",
                    "--size",
                    "4096",
                    "--tmpfs",
                    path,
                    "--remount-ro",
                    path,
                ]
            elif operation == "hide-file":
                arguments += ["--ro-bind", "/dev/null", path]
            elif operation == "channels":
                arguments += ["--bind", path, path]
        return [*arguments, "--remount-ro", "/", "--chdir", WORKING_FOLDER]

    def _unshare_script(self) -> str:
        """The shell script that builds the root as root, in the new namespaces, then runs ``"$@"``."""
        quote = shlex.quote
        new_root = quote(self.build_root)
        size = self.limits.tmp_size
        lines = ["set -eu", "umask 022", f"R={new_root}",
                 'mount -t tmpfs -o mode=0755,size=1m sandbox-root "$R"']  # fmt: skip

        def read_only(path: str, source: str | None = None) -> list[str]:
            target = f'"$R"{quote(path)}'
            return [f"mount --bind {quote(source or path)} {target}",
                    f"mount -o remount,bind,ro,nosuid,nodev {target}"]  # fmt: skip

        for operation, path, *source in self._layout():
            target = f'"$R"{quote(path)}'
            if operation in ("readable", "hide", "channels", "proc", "dev", "tmpfs"):
                lines.append(f"mkdir -p {target}")
            elif operation in ("file", "hide-file"):
                lines += [f'mkdir -p "$R"{quote(os.path.dirname(path))}', f"touch {target}"]
            if operation == "proc":
                lines.append(f"mount -t proc -o nosuid,nodev,noexec proc {target}")
            elif operation == "dev":
                lines.append(f"mount -t tmpfs -o mode=0755,size=64k,nosuid dev {target}")
                for device in DEVICES:
                    lines += [
                        f'touch "$R"/dev/{device}',
                        f'mount --bind /dev/{device} "$R"/dev/{device}',
                    ]
                for index, stream in enumerate(("stdin", "stdout", "stderr")):
                    lines.append(f'ln -s /proc/self/fd/{index} "$R"/dev/{stream}')
                lines += ['ln -s /proc/self/fd "$R"/dev/fd', 'mkdir "$R"/dev/shm',
                          f'mount -t tmpfs -o mode=1777,size={size},nosuid,nodev shm "$R"/dev/shm']  # fmt: skip
            elif operation == "tmpfs":
                lines.append(f"mount -t tmpfs -o mode=1777,size={size},nosuid,nodev tmp {target}")
            elif operation == "symlink":
                lines.append(f"ln -s {quote(source[0])} {target}")
            elif operation in ("readable", "file"):
                lines += read_only(path)
            elif operation == "hide":
                lines.append(f"mount -t tmpfs -o ro,mode=0755,size=4k hidden {target}")
            elif operation == "hide-file":
                lines += read_only(path, "/dev/null")
            elif operation == "channels":
                lines += [f"mount --bind {quote(path)} {target}",
                          f"mount -o remount,bind,nosuid,nodev {target}"]  # fmt: skip
        lines += [
            'mkdir "$R"/.old-root', 'cd "$R"', "pivot_root . .old-root", "umount -l /.old-root",
            "rmdir /.old-root", "mount -o remount,ro /", f"cd {WORKING_FOLDER}",
            # Not `exec`: the shell stays process 1, so the kernel is not the namespace's init
            # (which could not be killed from inside, not even by itself).
            '"$@"', "exit $?",
        ]  # fmt: skip
        return "\n".join(lines)


# --------------------------------------------------------------------------- choosing one


def environment_paths() -> list[str]:
    """What the kernel needs to see, read-only: Python, the environment, coursepkg, data.

    The system folders, the Python installation and virtual environment, the
    installed ``coursepkg`` (a folder of the repository, for an editable
    install: only that folder), the Keras cache (datasets and weights
    downloaded before) and every existing path that a ``COURSEPKG_*``
    environment variable names (the course's data folders).
    """
    import coursepkg

    paths = [path for path in SYSTEM_PATHS if os.path.exists(path) and not os.path.islink(path)]
    candidates = [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix,
                  os.path.dirname(coursepkg.__file__),
                  os.environ.get("KERAS_HOME") or os.path.expanduser("~/.keras")]  # fmt: skip
    candidates += [value for name, value in os.environ.items() if name.startswith("COURSEPKG_")]
    for candidate in candidates:
        if os.path.isabs(candidate) and os.path.exists(candidate):
            paths += [os.path.abspath(candidate), os.path.realpath(candidate)]
    return outermost(paths)


def outermost(paths: list[str]) -> list[str]:
    """``paths`` without duplicates and without those inside another one."""
    unique = sorted(set(paths))
    return [
        path for path in unique if not any(inside(path, other) for other in unique if other != path)
    ]


def inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies under it."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def masked_paths(readable: list[str], protected: list[str]) -> list[str]:
    """The protected paths (checks, results...) that lie inside a readable one: shown empty."""
    found = []
    for path in protected:
        path = os.path.realpath(path)
        if os.path.exists(path) and any(inside(path, folder) for folder in readable):
            found.append(path)
    return outermost(found)


def kernel_environment() -> dict[str, str]:
    """The sandboxed kernel's environment: the allowed variables of ours, and a home of its own."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if any(
            name == kept or (kept.endswith("_") and name.startswith(kept))
            for kept in KERNEL_ENVIRONMENT
        )
    }
    keras_home = os.environ.get("KERAS_HOME") or os.path.expanduser("~/.keras")
    if os.path.isdir(keras_home):  # datasets and weights downloaded before, read-only
        environment["KERAS_HOME"] = keras_home
    environment.update(HOME=WORKING_FOLDER, USER="student", LOGNAME="student", TMPDIR="/tmp")
    return environment


def tool_problem(backend: str) -> str | None:
    """Why ``backend`` cannot be used here (a missing tool, not root), or None."""
    tools = {"bwrap": ["bwrap", "prlimit", "env"] + (["setpriv"] if os.geteuid() == 0 else []),
             "unshare": ["unshare", "setpriv", "prlimit", "mount", "umount", "pivot_root", "env"]}  # fmt: skip
    if backend not in tools:
        return f"unknown sandbox {backend!r}"
    missing = [tool for tool in tools[backend] if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not found"
    if backend == "unshare" and os.geteuid() != 0:
        return (
            "unshare needs root to build the sandbox (install bubblewrap to grade as another user)"
        )
    if not sys.platform.startswith("linux"):
        return "Linux namespaces are needed"
    return None


@contextlib.contextmanager
def claimed_users(count: int):
    """``count`` sandbox user ids that no other grader on this machine uses meanwhile.

    Each is claimed with a lock on a file of its own in the temporary folder,
    held until the ``with`` block ends (or the process dies): two graders
    running at once never share a sandbox user, whose processes each kills
    when a submission is done.

    Raises:
        SandboxUnavailable: if fewer than ``count`` are free.
    """
    handles, users = [], []
    try:
        for uid in range(FIRST_UID, LAST_UID + 1):
            if len(users) == count:
                break
            path = os.path.join(tempfile.gettempdir(), f"grading-sandbox-user-{uid}.lock")
            try:  # read-only: a lock file another user made is readable, and lockable, too
                handle = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
            except OSError:
                continue
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(handle)
                continue
            handles.append(handle)
            users.append(uid)
        if len(users) < count:
            raise SandboxUnavailable(f"only {len(users)} of {count} sandbox user ids are free")
        yield users
    finally:
        for handle in handles:
            os.close(handle)


def probe(backend: str, uid: int | None = None, readable: list[str] | None = None) -> str | None:
    """Run a trivial Python program in a sandbox of ``backend``, as ``uid``; why it failed, or None."""
    problem = tool_problem(backend)
    if problem:
        return problem
    if uid is None:
        with claimed_users(1) as (uid,):
            return probe(backend, uid, readable)
    readable = environment_paths() if readable is None else readable
    with tempfile.TemporaryDirectory(prefix="grading-probe-") as temporary:
        channels, build_root = os.path.join(temporary, "channels"), os.path.join(temporary, "root")
        os.mkdir(channels)
        os.mkdir(build_root)
        sandbox = Sandbox(backend, uid, channels, tuple(readable), build_root=build_root)
        # Its own user, a parent that is the namespace's process 1, a writable /tmp:
        program = "import os; print(os.getuid(), os.getppid(), os.access('/tmp', os.W_OK))"
        try:
            finished = subprocess.run(
                sandbox.command([sys.executable, "-I", "-c", program]),
                capture_output=True, text=True, timeout=60, env=kernel_environment(),
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"{backend} failed: {error}"
        if finished.returncode != 0 or finished.stdout.split() != [str(uid), "1", "True"]:
            detail = (finished.stderr.strip().splitlines() or [f"exit code {finished.returncode}"])[
                -1
            ]
            return f"{backend} failed: {detail[:300]}"
    return None


def choose_backend(preference: str = "auto", uid: int | None = None) -> str:
    """The sandbox to use: ``preference``, or with "auto" bubblewrap if it works, else unshare.

    Raises:
        SandboxUnavailable: if none works, with what each attempt said.
    """
    candidates = BACKENDS if preference == "auto" else (preference,)
    problems = []
    for backend in candidates:
        problem = probe(backend, uid)
        if problem is None:
            return backend
        problems.append(f"{backend}: {problem}")
    raise SandboxUnavailable("; ".join(problems))
