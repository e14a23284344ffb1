"""Nothing escapes the fuzzing: every public function and class of every module has a case.

A *public* callable is a function or class defined in a module of coursepkg under a name
without a leading underscore, or listed in ``coursepkg.__all__``. Each one is fuzzed by a
case in a tests/test_fuzz_*.py file (see tests/fuzzing.py), or listed in that file's
``EXEMPT`` (or the one below) with the reason it needs no fuzzing: an exception class, a
result record the package fills in. Private modules (``coursepkg.models._common``) are not
scanned, but what a public module lists in ``__all__`` is, wherever it is defined. Every argument of every case is fuzzed
or skipped with a reason.
"""

from __future__ import annotations

import importlib
import inspect
import pathlib
import pkgutil

import fuzzing
import pytest

import coursepkg

HERE = pathlib.Path(__file__).resolve().parent
FUZZ_FILES = sorted(p.stem for p in HERE.glob("test_fuzz_*.py") if p.stem != "test_fuzz_coverage")

# Modules whose functions are not part of the API a student or instructor calls.
EXCLUDED_MODULES = {
    "coursepkg.exercises": "exercise checkers, reached through coursepkg.check(exercise_id, answer), which is fuzzed",
    "coursepkg.grading": "the instructors' grader, a command line; tests/test_grading.py feeds it hostile notebooks",
    "coursepkg.validation": "the checks themselves, tested case by case in tests/test_validation.py",
}

# Public callables without a case, and why (each tests/test_fuzz_*.py may add its own).
EXEMPT = {
    "coursepkg.downloads.DownloadError": "an exception class",
    "coursepkg.paintings.PaintingFileError": "an exception class",
    "coursepkg.blackbox.QueryBudgetExceeded": "an exception class",
}


def package_modules() -> list:
    """Every module of coursepkg but the excluded ones (and their submodules)."""
    names = ["coursepkg"] + [
        info.name for info in pkgutil.walk_packages(coursepkg.__path__, prefix="coursepkg.")
    ]
    return [
        importlib.import_module(name)
        for name in names
        if not any(name == m or name.startswith(m + ".") for m in EXCLUDED_MODULES)
        and not any(part.startswith("_") for part in name.split("."))
    ]


def public_callables() -> dict[str, object]:
    found = {}
    for module in package_modules():
        for name, value in vars(module).items():
            if name.startswith("_") or not (inspect.isfunction(value) or inspect.isclass(value)):
                continue
            if getattr(value, "__module__", None) == module.__name__:
                found[f"{value.__module__}.{value.__qualname__}"] = value
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if inspect.isfunction(value) or inspect.isclass(value):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


def all_cases() -> list[fuzzing.Case]:
    return [case for stem in FUZZ_FILES for case in importlib.import_module(stem).CASES]


def all_exemptions() -> dict[str, str]:
    exempt = dict(EXEMPT)
    for stem in FUZZ_FILES:
        exempt.update(getattr(importlib.import_module(stem), "EXEMPT", {}))
    return exempt


def test_every_public_callable_has_a_case_or_a_reason():
    covered = {case.name for case in all_cases()}
    missing = sorted(set(public_callables()) - covered - set(all_exemptions()))
    assert not missing, f"public callables without a fuzzing case (tests/test_fuzz_*.py): {missing}"


def test_exemptions_and_cases_name_real_public_callables():
    public = public_callables()
    exempt = all_exemptions()
    assert not sorted(set(exempt) - set(public)), "EXEMPT lists names that are not public callables"
    assert all(reason.strip() for reason in exempt.values())
    assert not {case.name for case in all_cases()} & set(exempt), "a callable both fuzzed and exempt"
    names = [case.name for case in all_cases()]
    assert len(names) == len(set(names)), "a callable has two cases"


@pytest.mark.parametrize("case", all_cases(), ids=fuzzing.case_ids(all_cases()))
def test_every_argument_is_fuzzed_or_skipped_with_a_reason(case):
    kinds = case.arguments()  # raises for an argument with neither a kind nor a reason
    parameters = case.parameters()
    assert set(kinds) | set(case.skip) == set(parameters)
    assert not set(case.skip) - set(parameters), f"{case.name}: skip names unknown arguments"
    assert all(reason.strip() for reason in case.skip.values())


def test_coverage_figures(capsys):
    """Prints how many public callables and arguments the property tests cover (for the notes)."""
    cases = all_cases()
    fuzzed = sum(len(case.arguments()) for case in cases)
    total = sum(len(case.parameters()) for case in cases)
    with capsys.disabled():
        print(f"\nfuzzing covers {len(cases)} public callables: {fuzzed} of their {total} arguments")
    assert cases
