"""pytest hooks for the chapters that nbmake runs (``pytest --nbmake book``).

Two things happen around each chapter's run:

- **Strict checks.** The chapter's kernel runs with ``COURSEPKG_STRICT_CHECKS=1``, so
  a worked solution whose ``check(...)`` fails raises instead of printing ``[FAIL]``
  and the chapter's test fails. Exercise cells left at ``...`` still pass.
- **Outputs kept for the book.** ``make book`` executes the chapters again to render
  their outputs. When ``COURSEPKG_EXECUTION_CACHE`` names a jupyter-cache folder
  (``make test`` sets it to the book's cache, ``_build/.jupyter_cache``), each chapter
  that ran without an error is stored there with its outputs, as the book's own
  executor would store it, and ``make book`` renders it without running it again.
  Only a chapter that passed is stored, under the hash of its unchanged source.

nbmake gives no hook around a notebook's run, so :func:`pytest_configure` wraps
``nbmake.nb_run.NotebookRun.execute``. If nbmake's internals change, the wrapper stands
aside with a warning: the chapters still run, without strict checks, and the book
executes them itself.
"""

from __future__ import annotations

import os
import warnings

import pytest

from coursepkg.checking import STRICT_ENV_VAR

CACHE_ENV_VAR = "COURSEPKG_EXECUTION_CACHE"


def store_executed_notebook(cache_path: str, source_path: str, executed) -> bool:
    """Store the outputs of an executed notebook in a jupyter-cache, keyed by its source.

    Args:
        cache_path: The jupyter-cache folder (created if needed).
        source_path: The notebook file that was executed, unchanged on disk.
        executed: The executed notebook (an ``nbformat.NotebookNode``) with its outputs.

    Returns:
        True if stored; False (with a warning) if the executed notebook does not match
        its source cell for cell, in which case nothing is stored.
    """
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    source = nbformat.read(source_path, as_version=4)
    source_code = [cell for cell in source.cells if cell.cell_type == "code"]
    executed_code = [cell for cell in executed.cells if cell.cell_type == "code"]
    if [cell.source for cell in source_code] != [cell.source for cell in executed_code]:
        warnings.warn(f"{source_path} changed while it ran; its outputs are not cached", stacklevel=2)
        return False
    # The source's own cells and metadata (the cache key), the run's outputs.
    for cell, ran in zip(source_code, executed_code):
        cell.outputs = ran.outputs
        cell.execution_count = ran.execution_count
    for key in ("language_info", "widgets"):
        if key in executed.metadata:
            source.metadata[key] = executed.metadata[key]
    get_cache(cache_path).cache_notebook_bundle(
        CacheBundleIn(source, os.path.abspath(source_path)), check_validity=False, overwrite=True
    )
    return True


def pytest_configure(config):
    if not config.getoption("nbmake", default=False):
        return
    try:
        from nbmake.nb_run import NotebookRun
    except ImportError:
        warnings.warn("nbmake.nb_run.NotebookRun not found: chapters run without strict checks", stacklevel=1)
        return
    execute = NotebookRun.execute
    if getattr(execute, "course_hooks", False):
        return
    cache_path = os.environ.get(CACHE_ENV_VAR)

    def execute_strictly_and_store(self):
        with pytest.MonkeyPatch.context() as patch:  # the kernel inherits it; restored after the run
            patch.setenv(STRICT_ENV_VAR, "1")
            result = execute(self)
        if cache_path and result.error is None:
            try:
                store_executed_notebook(cache_path, str(self.filename), result.nb)
            except Exception as error:  # the cache is an optimisation: never fail the test for it
                warnings.warn(f"{self.filename}: outputs not cached ({error!r})", stacklevel=1)
        return result

    execute_strictly_and_store.course_hooks = True
    NotebookRun.execute = execute_strictly_and_store
