"""Answers as plain data: how a student's answers leave the kernel that computed them.

The grader never checks an answer inside the student's kernel, where the
student's code could have replaced ``coursepkg.checking`` or NumPy. Instead the
kernel turns each answer into JSON (numbers, strings, lists, dicts and NumPy
arrays in ``.npy`` form without pickle) and the grader's own process decodes
it and runs the checks. A function cannot be copied as data: it stays in the
kernel, and the grader receives a :class:`FunctionProxy` that sends the inputs
of each call to the kernel and receives the result as data.

Nothing travels through files: the grader sends its requests as code (the
arguments of a call as a JSON string in it), and the kernel answers with a
display message of its own type (``MIME``), which the grader reads from the
Jupyter protocol. The kernel needs no folder that the grader also writes or
reads.

This file is run inside the student's kernel too (the grader executes its
source into a fresh module there), so it imports only the standard library
and NumPy, and nothing from ``grading``.
"""

from __future__ import annotations

import base64
import io
import json
import sys

MAX_BYTES = 64 * 2**20  # the largest answer (or function result) the grader accepts, encoded
MAX_ITEMS = 200_000  # the most values in one answer (list items, dict entries, ...)
MAX_DEPTH = 32  # the deepest nesting of lists, tuples and dicts
MAX_TEXT = 300  # characters of a repr or an error message kept for the feedback
MIME = "application/x-grading+json"  # the type of the kernel's replies to the grader

_functions: dict[str, object] = {}  # kernel side: the functions handed out as proxies, by key


class TransferError(Exception):
    """An answer that cannot travel as data (too big, too deep)."""


class Opaque:
    """Grader side: an answer of a type that does not travel as data.

    Its repr is the student's repr, so a check that rejects it says what arrived.
    """

    def __init__(self, type_name: str, text: str):
        self.type_name, self.text = type_name, text

    def __repr__(self) -> str:
        return self.text if self.text.startswith("<") else f"<{self.type_name}: {self.text}>"


class _Encoder:
    def __init__(self, allow_functions: bool):
        self.allow_functions = allow_functions
        self.items = 0
        self.size = 0

    def encode(self, value, depth: int = 0):
        self.items += 1
        if self.items > MAX_ITEMS or depth > MAX_DEPTH:
            raise TransferError(
                f"the value is too large or too deeply nested (over {MAX_ITEMS} items or {MAX_DEPTH} levels)"
            )
        numpy = sys.modules.get("numpy")
        if value is None:
            return {"t": "none"}
        if value is Ellipsis:
            return {"t": "ellipsis"}
        if isinstance(value, bool):
            return {"t": "bool", "v": bool(value)}
        if isinstance(value, int):
            return {"t": "int", "v": int.__repr__(value)}
        if isinstance(value, float):
            return {"t": "float", "v": float.__repr__(value)}
        if isinstance(value, complex):
            return {"t": "complex", "v": [float.__repr__(value.real), float.__repr__(value.imag)]}
        if isinstance(value, str):
            self._grow(len(value))
            return {"t": "str", "v": str.__str__(value)}
        if numpy is not None and isinstance(value, (numpy.ndarray, numpy.generic)):
            array = numpy.asarray(value)
            if array.dtype.hasobject:
                return {"t": "list", "v": [self.encode(item, depth + 1) for item in array.tolist()]}
            kind = "array" if isinstance(value, numpy.ndarray) else "scalar"
            return {"t": kind, "v": self._array(numpy, array)}
        if isinstance(value, (list, tuple)):
            kind = "list" if isinstance(value, list) else "tuple"
            return {"t": kind, "v": [self.encode(item, depth + 1) for item in value]}
        if isinstance(value, dict):
            return {
                "t": "dict",
                "v": [
                    [self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()
                ],
            }
        if callable(value) and not isinstance(value, type) and self.allow_functions:
            key = str(len(_functions))
            _functions[key] = value
            return {
                "t": "function",
                "key": key,
                "name": _text(getattr(value, "__name__", type(value).__name__)),
                # Where it was defined: "__main__" for a function written in the notebook.
                "module": _text(getattr(value, "__module__", None) or ""),
            }
        if numpy is not None and (hasattr(value, "numpy") or hasattr(value, "__array__")):
            try:  # a tensor (TensorFlow, JAX, torch) or another array-like
                array = numpy.asarray(value.numpy() if hasattr(value, "numpy") else value)
            except Exception:
                array = None
            if array is not None and not array.dtype.hasobject:
                return {"t": "array", "v": self._array(numpy, array)}
        return opaque(value)

    def _array(self, numpy, array) -> str:
        self._grow(array.nbytes)
        buffer = io.BytesIO()
        numpy.save(buffer, array, allow_pickle=False)
        self._grow(buffer.tell() // 3)  # base64 adds a third
        return base64.b64encode(buffer.getvalue()).decode("ascii")

    def _grow(self, size: int) -> None:
        self.size += size
        if self.size > MAX_BYTES:
            raise TransferError(f"the value is too large to grade (over {MAX_BYTES // 2**20} MB)")


def _text(value) -> str:
    try:
        text = str(value)
    except Exception:
        text = "?"
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def opaque(value) -> dict:
    """The encoding of a value that does not travel: its type name and repr."""
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return {"t": "opaque", "type": _text(type(value).__name__), "v": _text(text)}


def encode(value, allow_functions: bool = True) -> dict:
    """A JSON-ready description of ``value``; what cannot travel becomes ``opaque``."""
    try:
        return _Encoder(allow_functions).encode(value)
    except TransferError as error:
        return {
            "t": "opaque",
            "type": _text(type(value).__name__),
            "v": f"<{type(value).__name__}: {error}>",
        }
    except Exception as error:
        return {
            "t": "opaque",
            "type": _text(type(value).__name__),
            "v": f"<{type(value).__name__} that could not be read: {_text(error)}>",
        }


def decode(data, make_function=None):
    """The value described by :func:`encode`'s output (never unpickles anything).

    Args:
        data: the output of :func:`encode`, after a JSON round trip.
        make_function: called as ``make_function(key, name)`` for a function; by
            default functions are refused (an :class:`Opaque` is returned).
    """
    kind = data.get("t") if isinstance(data, dict) else None
    value = data.get("v") if isinstance(data, dict) else None
    if kind == "none":
        return None
    if kind == "ellipsis":
        return Ellipsis
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "complex":
        return complex(float(value[0]), float(value[1]))
    if kind == "str":
        return str(value)
    if kind in ("array", "scalar"):
        import numpy

        array = numpy.load(io.BytesIO(base64.b64decode(value)), allow_pickle=False)
        return array if kind == "array" else array[()]
    if kind == "list":
        return [decode(item, make_function) for item in value]
    if kind == "tuple":
        return tuple(decode(item, make_function) for item in value)
    if kind == "dict":
        result = {}
        for key, item in value:
            key = decode(key, make_function)
            try:
                result[key] = decode(item, make_function)
            except TypeError:  # an unhashable key: keep the entry under its repr
                result[repr(key)] = decode(item, make_function)
        return result
    if kind == "function" and make_function is not None:
        return make_function(str(data["key"]), str(data.get("name", "function")))
    if kind == "function":
        return Opaque("function", f"<function {data.get('name', '?')}>")
    if kind == "opaque":
        return Opaque(str(data.get("type", "object")), str(value))
    raise TransferError(f"unknown encoded value of kind {kind!r}")


# --------------------------------------------------------------------------- kernel side


def _send(payload) -> None:
    """Kernel side: hand ``payload`` to the grader, as a display message of type ``MIME``."""
    from IPython.display import publish_display_data

    publish_display_data({MIME: json.dumps(payload)})


def collect(namespace: dict, names: list[str]) -> None:
    """Kernel side: send the answers bound to ``names`` in ``namespace``."""
    answers = {}
    for name in names:
        answers[name] = encode(namespace[name]) if name in namespace else {"t": "missing"}
    _send(answers)


def call(key: str, arguments: str, watch: str | None = None) -> None:
    """Kernel side: call a function handed out by :func:`collect` on JSON-encoded arguments.

    Args:
        key: the function's key.
        arguments: the encoded list of arguments, as JSON text.
        watch: the name of the module of :mod:`grading.forbid` in this kernel, if the
            exercise forbids calls: the forbidden calls made are sent with the result.
    """
    watcher = sys.modules.get(watch) if watch else None
    if watcher is not None:
        watcher.reset()
    try:
        result = {
            "returned": encode(
                _functions[key](*decode(json.loads(arguments))), allow_functions=False
            )
        }
    except KeyboardInterrupt:  # the grader's time limit: let the interrupt end the cell
        raise
    except BaseException as error:  # SystemExit too: the student's function must not end the kernel
        result = {"raised": _text(type(error).__name__), "message": _text(error)}
    if watcher is not None:
        result["forbidden"] = [_text(name) for name in watcher.called()]
    _send(result)


def evaluate_here(namespace: dict, exercise_id: str, variable: str) -> None:
    """Kernel side: run the public check of an answer whose check needs the kernel's own objects.

    Used only when a check passes a student's function something that cannot
    travel as data (a symbolic Keras tensor, say). The check then runs in the
    student's kernel, where the student's code could have changed it.
    """
    from coursepkg.checking import evaluate

    result = evaluate(exercise_id, namespace.get(variable))
    _send({"passed": bool(result.passed), "attempted": bool(result.attempted),
           "problems": [_text(problem) for problem in result.problems], "hint": _text(result.hint)})  # fmt: skip


def has_opaque(data) -> bool:
    """Whether an encoded value holds a part that did not travel as data."""
    if isinstance(data, list):
        return any(has_opaque(item) for item in data)
    if isinstance(data, dict):
        return data.get("t") == "opaque" or has_opaque(data.get("v"))
    return False
