"""Calls an exercise forbids, made to fail in the student's kernel while its answer is checked.

An exercise that asks students to write a function themselves (the convolution
chapter's ``correlate2d``) names, in the hidden checks, the library calls it
forbids (:func:`grading.checks.forbid`). While that answer is checked, the
worker installs them here, in the student's kernel, and removes them after:

- each forbidden name that is a Python function (or a NumPy function, whose
  implementation is one) gets code that records the call and raises
  :class:`ForbiddenCall`. The function object itself changes, so every way to
  reach it fails: an alias (``my_correlate2d = coursepkg.correlate2d``), a
  wrapper (``lambda i, k: coursepkg.correlate2d(i, k)``), one with a relabelled
  ``__module__``, a ``functools.partial``, and copies made by importing its
  module again (found by the file, line and name of their code);
- a forbidden callable that is not a Python function (``os.fork``) is replaced,
  in every namespace and dict that refers to it, by one that raises;
- a forbidden name whose package is not imported yet cannot be imported;
- starting processes is forbidden too (``PROCESS_CALLS``), so that the answer
  cannot have a fresh Python compute it; the worker also stops every other
  process of the sandbox before it checks the answers.

The worker reads :func:`called` after each call: a forbidden call fails that
check and flags the answer, even if the student's code caught the exception.
This runs in the student's kernel, beside their code: it stops the ways to
call a library function that a student would try, not code written against
this file (see the instructors' page).

This file is run inside the student's kernel (the worker executes its source
into a fresh module there), so it imports only the standard library.
"""

from __future__ import annotations

import gc
import importlib
import sys
import types

# Always forbidden with the exercise's own list: ways to run code in another process.
PROCESS_CALLS = ("os.fork", "os.forkpty", "os.posix_spawn", "os.posix_spawnp", "os.system",
                 "_posixsubprocess.fork_exec")  # fmt: skip

_called: list[str] = []  # forbidden names called since the last reset()
_undo: list = []  # how to restore what install() changed: callables taking no argument


class ForbiddenCall(Exception):
    """Raised by a forbidden call while an answer is checked."""


def forbidden_call(name: str):
    """Record a call of ``name`` and refuse it (the code given to every forbidden function)."""
    _called.append(name)
    raise ForbiddenCall(f"{name} is forbidden in this exercise: write your own")


def _raiser_code(name: str, free_variables: tuple[str, ...]) -> types.CodeType:
    """Code that calls :func:`forbidden_call`, with the free variables of the code it replaces."""
    call = f"__import__('sys').modules[{__name__!r}].forbidden_call({name!r})"
    lines = ["def outer():", *(f"    {variable} = None" for variable in free_variables),
             "    def forbidden(*args, **kwargs):",
             *([f"        ({', '.join(free_variables)},)"] if free_variables else []),
             f"        return {call}", "    return forbidden"]  # fmt: skip
    namespace: dict = {}
    exec("\n".join(lines), namespace)
    return namespace["outer"]().__code__


def _resolve(name: str):
    """The object ``name`` (``package.module.attribute``) stands for; None if there is none.

    Imports a submodule only when its top-level package is already imported.
    """
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except Exception:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute, None)
        return found
    return None


def _python_function(value) -> types.FunctionType | None:
    """The Python function behind ``value`` (itself, a method's, a NumPy dispatcher's)."""
    for candidate in (
        value,
        getattr(value, "__func__", None),
        getattr(value, "_implementation", None),
    ):
        if isinstance(candidate, types.FunctionType):
            return candidate
    return None


def _swap_code(function: types.FunctionType, name: str) -> None:
    original = function.__code__
    function.__code__ = _raiser_code(name, original.co_freevars)
    _undo.append(lambda: setattr(function, "__code__", original))


def _replace_everywhere(value, name: str) -> None:
    """Replace ``value`` by a raising function in every dict, list and closure cell holding it."""

    def replacement(*args, **kwargs):
        return forbidden_call(name)

    # The undo functions get `value` as a default argument, not from a closure cell: a cell
    # holding it would be among its referrers, and replaced too.
    for holder in gc.get_referrers(value):
        if isinstance(holder, dict):
            for key, item in list(holder.items()):
                if item is value:
                    holder[key] = replacement
                    _undo.append(
                        lambda holder=holder, key=key, value=value: holder.__setitem__(key, value)
                    )
        elif type(holder) is list:
            for index, item in enumerate(holder):
                if item is value:
                    holder[index] = replacement
                    _undo.append(
                        lambda holder=holder, index=index, value=value: holder.__setitem__(
                            index, value
                        )
                    )
        elif isinstance(holder, types.CellType):
            holder.cell_contents = replacement
            _undo.append(lambda holder=holder, value=value: setattr(holder, "cell_contents", value))


class _ImportBlocker:
    """A finder, first on ``sys.meta_path``, that refuses to import forbidden packages."""

    def __init__(self, packages: dict[str, str]):
        self.packages = packages  # top-level package -> the forbidden name that blocks it

    def find_spec(self, fullname, path=None, target=None):
        name = self.packages.get(fullname.partition(".")[0])
        if name is not None:
            forbidden_call(name)
        return None


def install(names: list[str]) -> dict[str, list[str]]:
    """Forbid ``names`` (and ``PROCESS_CALLS``) until :func:`remove`; what became of each name.

    Returns:
        ``{"replaced": [...], "blocked": [...], "absent": [...]}``: names made to raise,
        names whose package may not be imported, names that do not exist here.
    """
    remove()
    report: dict[str, list[str]] = {"replaced": [], "blocked": [], "absent": []}
    seen: dict[int, str] = {}
    locations: dict[tuple, str] = {}
    blocked: dict[str, str] = {}
    for name in [*names, *PROCESS_CALLS]:
        if name.partition(".")[0] not in sys.modules:
            blocked.setdefault(name.partition(".")[0], name)
            report["blocked"].append(name)
            continue
        value = _resolve(name)
        if value is None or not callable(value):
            report["absent"].append(name)
            continue
        function = _python_function(value)
        key = id(function if function is not None else value)
        if key in seen:  # another name of the same function: the first name is reported
            report["replaced"].append(name)
            continue
        seen[key] = name
        if function is not None:
            code = function.__code__
            locations[(code.co_filename, code.co_firstlineno, code.co_name)] = name
            _swap_code(function, name)
        else:
            _replace_everywhere(value, name)
        report["replaced"].append(name)
    if locations:  # copies of the same functions, from modules imported a second time
        for item in gc.get_objects():
            if type(item) is types.FunctionType and id(item) not in seen:
                code = item.__code__
                name = locations.get((code.co_filename, code.co_firstlineno, code.co_name))
                if name is not None:
                    _swap_code(item, name)
    if blocked:
        blocker = _ImportBlocker(blocked)
        sys.meta_path.insert(0, blocker)
        _undo.append(lambda: sys.meta_path.remove(blocker) if blocker in sys.meta_path else None)
    reset()
    return report


def remove() -> None:
    """Undo :func:`install`."""
    while _undo:
        try:
            _undo.pop()()
        except Exception:
            pass


def reset() -> None:
    """Forget the forbidden calls recorded so far."""
    _called.clear()


def called() -> list[str]:
    """The forbidden names called since the last :func:`reset`, each once, in order."""
    return list(dict.fromkeys(_called))
