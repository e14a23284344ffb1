"""Property-based fuzzing of coursepkg's public API with Hypothesis (shared by tests/test_fuzz_*.py).

Each public function or class gets a :class:`Case`: valid values for its required
arguments, and a *kind* for every argument (inferred from its default and annotation,
or given). For each case, Hypothesis draws one argument and a bad value of its kind
(a string where a number belongs, ``"no"`` for a boolean, NaN, infinity, an absurd size,
a complex or empty array, ...), calls the function with every other argument valid,
and requires a ``TypeError`` or ``ValueError`` whose message names that argument
(```name``` or ``name=``, the package's Keras-style messages). Anything else fails the
test, with the smallest example Hypothesis can find: a silent result, an internal error
(``IndexError``, ``zlib.error``, ``AttributeError``, ...), or an error naming nothing.

Before Hypothesis draws, every fuzzed argument is tried with each canonical bad value of its
kind (:data:`CANONICAL`: ``"no"`` and ``0`` for a boolean, NaN and 10**12 for a number, an empty
and a complex array, ...), as explicit examples, so no argument escapes the common mistakes.

Every parameter of every case is either fuzzed or listed in ``Case.skip`` with a reason;
tests/test_fuzz_coverage.py checks that, and that every public name of every module has a
case or a reason to have none, so a new function cannot escape.

The runs are derandomised (the same examples on every run, in CI and here), and the number
of examples per case is bounded so the suites take seconds.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
from collections.abc import Callable

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

# Every upper bound of the package is below this; every lower bound above its negative.
ABSURD = 10**12

_texts = st.text(max_size=6)
_complex = st.complex_numbers(allow_nan=False, allow_infinity=False, max_magnitude=1e3).filter(
    lambda z: z.imag != 0
)
_non_finite = st.sampled_from([math.nan, math.inf, -math.inf])
_absurd_ints = st.one_of(st.integers(min_value=ABSURD), st.integers(max_value=-ABSURD))
_absurd_floats = st.one_of(
    st.floats(min_value=float(ABSURD), max_value=1e300), st.floats(min_value=-1e300, max_value=-float(ABSURD))
)
_not_arrays = st.one_of(_texts, st.binary(max_size=4), st.just({"a": 1}), st.just(object()))
_string_array = st.just(np.array(["a", "b", "c"]))
_complex_array = st.just(np.ones((4, 4)) + 1j)
_object_array = st.just(np.array([1, "a", None], dtype=object))
_ragged = st.just([[1.0, 2.0], [3.0]])
_bool_array = st.just(np.ones((4, 4), dtype=bool))


def _bad_arrays(empty: bool, non_finite: bool):
    options = [_not_arrays, _string_array, _complex_array, _object_array, _ragged, _bool_array]
    if empty:
        options.append(st.sampled_from([np.array([]), np.zeros((0, 4)), np.zeros((2, 0, 3))]))
    if non_finite:
        options.append(_non_finite.map(lambda v: np.full((4, 4), v)))
    return st.one_of(options)


# The bad values of each kind of argument. A kind names what the argument accepts.
KINDS: dict[str, st.SearchStrategy] = {
    # True or False, nothing else.
    "bool": st.one_of(_texts, st.integers(), st.floats(), st.none(), st.just(np.array([True, False]))),
    # An integer in a bounded range.
    "int": st.one_of(_texts, st.floats(), st.booleans(), _absurd_ints, _complex, st.none(), st.just([3])),
    # A finite real number in a bounded range.
    "float": st.one_of(
        _texts, _non_finite, _absurd_floats, _complex, st.booleans(), st.none(), st.just([0.5])
    ),
    # One of a fixed set of strings.
    "choice": st.one_of(
        st.integers(), st.floats(), st.binary(max_size=3), st.none(), st.just(["valid"]),
        st.sampled_from(["", "no-such-option", "NO_SUCH"]),
    ),
    # Free text (a title, a name): a string, of bounded length.
    "text": st.one_of(st.integers(), st.floats(), st.binary(max_size=3), st.none(), st.just("x" * 100_001)),
    # A real array, possibly empty, possibly holding NaN (a mathematical function's input).
    "array": _bad_arrays(empty=False, non_finite=False),
    # Real, finite, non-empty data (images, waveforms, features, kernels).
    "data": _bad_arrays(empty=True, non_finite=True),
    # Integer class labels.
    "labels": st.one_of(
        _not_arrays, _string_array, _complex_array, _bool_array,
        st.just(np.array([0.5, 1.5])), st.just(np.array([-1, 0])), st.just(np.array([ABSURD, 0])),
    ),
    # A tuple of sizes (a shape, a kernel size, image size).
    "shape": st.one_of(
        _texts, _non_finite, st.booleans(), st.none(),
        st.sampled_from([(), (0, 3), (-1, 3), (ABSURD, ABSURD), (3.5, 3), ("3", 3), (True, 3)]),
    ),
    # A pair or tuple of finite reals (a pixel range, a figure size, limits).
    "floats": st.one_of(
        _texts, st.booleans(), st.none(), _non_finite,
        st.sampled_from([(), (math.nan, 1.0), (0.0, math.inf), ("a", "b"), (1e300, -1e300), (1j, 2j)]),
    ),
    # A sequence of names (layer names, class names, metrics).
    "names": st.one_of(
        st.integers(), st.floats(), st.binary(max_size=3), st.just([3, 4]), st.just([None]),
        st.just(["no-such-layer-name"]),
    ),
    # A function or a Keras model.
    "callable": st.one_of(st.integers(), _texts, st.just([1, 2]), st.just(np.zeros(3))),
    # An integer seed.
    "seed": st.one_of(_texts, st.floats(), st.booleans(), _absurd_ints, _complex, st.just([3])),
}  # fmt: skip


# Canonical bad values of each kind, tried for *every* fuzzed argument as explicit examples before
# Hypothesis draws its own, so no argument is left untried with the mistakes users make most.
CANONICAL: dict[str, list] = {
    "bool": ["no", "False", 0, 1, 1.0, None],
    "int": ["3", 2.5, math.nan, math.inf, True, ABSURD, -ABSURD, 1j, None, [3]],
    "seed": ["3", 2.5, math.nan, True, 10 * ABSURD, -1, 1j],
    "float": ["0.5", math.nan, math.inf, -math.inf, 1e300, -1e300, 1j, True, None, [0.5]],
    "choice": [3, None, "", "no-such-option", b"x", ["x"]],
    "text": [3, None, b"x", "x" * 100_001],
    "array": ["abc", np.array(["a"]), np.ones((4, 4)) + 1j, [[1.0], [2.0, 3.0]], np.ones((4, 4), bool)],
    "data": [
        "abc", np.array(["a"]), np.ones((4, 4)) + 1j, [[1.0], [2.0, 3.0]], np.ones((4, 4), bool),
        np.array([]), np.zeros((2, 0, 3)), np.full((4, 4), np.nan), np.full((4, 4), np.inf),
    ],
    "labels": ["abc", np.array([0.5, 1.5]), np.array([-1, 0]), np.array([ABSURD, 0]), np.ones(2) + 1j],
    "shape": ["abc", math.nan, True, None, (), (0, 3), (-1, 3), (ABSURD, ABSURD), (3.5, 3), ("3", 3)],
    "floats": ["abc", True, None, (math.nan, 1.0), (0.0, math.inf), ("a", "b"), (1e300, -1e300)],
    "names": [3, 2.5, b"x", [3, 4], [None], ["no-such-layer-name"]],
    "callable": [3, "model", [1, 2], np.zeros(3)],
}  # fmt: skip


@dataclasses.dataclass
class Case:
    """How to fuzz one public callable.

    Args:
        function: the public function or class.
        required: valid values for the arguments without a default (and any others the
            fuzzing needs valid), as a dict or a function returning one (built lazily, so
            Keras models are made only when the case runs).
        kinds: the kind (a key of :data:`KINDS`) of arguments whose kind cannot be inferred
            from their default, or is inferred wrongly.
        skip: arguments not fuzzed, each with the reason.
        nullable: arguments for which ``None`` is valid although their default is not ``None``
            (an argument whose default is ``None`` is nullable already).
        examples: the number of Hypothesis examples (default: 6 per fuzzed argument, 12 to 60),
            drawn after the canonical bad values of :data:`CANONICAL` for every argument.
    """

    function: Callable
    required: dict | Callable[[], dict] = dataclasses.field(default_factory=dict)
    kinds: dict[str, str] = dataclasses.field(default_factory=dict)
    skip: dict[str, str] = dataclasses.field(default_factory=dict)
    nullable: tuple[str, ...] = ()
    examples: int | None = None

    @property
    def name(self) -> str:
        return f"{self.function.__module__}.{self.function.__qualname__}"

    def parameters(self) -> dict[str, inspect.Parameter]:
        return {
            name: parameter
            for name, parameter in inspect.signature(self.function).parameters.items()
            if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        }

    def arguments(self) -> dict[str, str]:
        """Every fuzzed argument and its kind; raises if a parameter has neither kind nor skip."""
        kinds = {}
        for name, parameter in self.parameters().items():
            if name in self.skip:
                continue
            kind = self.kinds.get(name) or infer_kind(parameter)
            if kind is None:
                raise AssertionError(
                    f"{self.name}: give argument {name!r} a kind (Case.kinds) or a reason (Case.skip)"
                )
            if kind not in KINDS:
                raise AssertionError(f"{self.name}: unknown kind {kind!r} for {name!r}")
            kinds[name] = kind
        return kinds

    def valid(self) -> dict:
        return self.required() if callable(self.required) else dict(self.required)


def infer_kind(parameter: inspect.Parameter) -> str | None:
    """The kind of an argument from its default (and annotation when the default is None)."""
    default, annotation = parameter.default, str(parameter.annotation)
    if isinstance(default, bool) or annotation == "bool":
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, str):
        return "choice"
    if isinstance(default, tuple) and default and all(isinstance(v, int) for v in default):
        return "shape"
    if isinstance(default, tuple) and default and all(isinstance(v, (int, float)) for v in default):
        return "floats"
    if default is None:
        for prefix, kind in (("int", "int"), ("float", "float"), ("str", "choice"), ("bool", "bool")):
            if annotation.startswith(prefix + " | None") or annotation == prefix + " | None":
                return kind
    return None


def _nullable(case: Case, parameter: inspect.Parameter) -> bool:
    return parameter.default is None or parameter.name in case.nullable


def names_argument(message: str, name: str) -> bool:
    """Whether an error message names the argument, as the package's messages do."""
    return f"`{name}`" in message or f"{name}=" in message or f"`{name}." in message


def rejects(case: Case, name: str, value) -> None:
    """Calls ``case.function`` with ``name=value`` (all else valid); it must raise, naming ``name``."""
    kwargs = case.valid()
    kwargs[name] = value
    try:
        result = case.function(**kwargs)
    except (TypeError, ValueError) as error:
        message = str(error)
        assert names_argument(message, name), (
            f"{case.name}({name}={value!r:.80}) raised {type(error).__name__} without naming "
            f"`{name}`: {message[:300]}"
        )
    except Exception as error:  # noqa: BLE001 - an internal error is the failure being looked for
        raise AssertionError(
            f"{case.name}({name}={value!r:.80}) raised an internal {type(error).__name__}: "
            f"{str(error)[:300]}"
        ) from error
    else:
        raise AssertionError(
            f"{case.name}({name}={value!r:.80}) returned {type(result).__name__} instead of raising"
        )


def fuzz(case: Case) -> None:
    """Runs the Hypothesis search for one case (derandomised, bounded in examples)."""
    kinds = case.arguments()
    if not kinds:
        return
    parameters = case.parameters()
    examples = case.examples or max(12, min(60, 6 * len(kinds)))

    def bad_value(name: str) -> st.SearchStrategy:
        strategy = KINDS[kinds[name]]
        if _nullable(case, parameters[name]):
            strategy = strategy.filter(lambda value: value is not None)
        return strategy.map(lambda value, name=name: (name, value))

    strategy = st.sampled_from(sorted(kinds)).flatmap(bad_value)
    canonical = [
        (name, value)
        for name in sorted(kinds)
        for value in CANONICAL.get(kinds[name], [])
        if not (value is None and _nullable(case, parameters[name]))
    ]

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(strategy)
    def search(drawn):
        name, value = drawn
        rejects(case, name, value)

    for drawn in canonical:
        search = example(drawn)(search)
    search()


def case_ids(cases: list[Case]) -> list[str]:
    return [case.name.removeprefix("coursepkg.") for case in cases]


# Small fixtures the cases share, built once per process and only when a case needs them.


@functools.cache
def tiny_classifier(size: int = 8, channels: int = 3, classes: int = 4):
    """A small untrained Keras CNN, ``(size, size, channels)`` to ``classes`` logits."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((size, size, channels))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="tiny")


def images(count: int = 4, size: int = 8, channels: int = 3, seed: int = 0) -> np.ndarray:
    """``count`` random float32 images in [0, 1]."""
    return np.random.default_rng(seed).random((count, size, size, channels)).astype(np.float32)
