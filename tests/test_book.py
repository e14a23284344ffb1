"""The book's conventions, checked on every chapter (see CONTRIBUTING.md)."""

from __future__ import annotations

import json
import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import set_repository  # noqa: E402

CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def load(path: pathlib.Path) -> dict:
    return json.loads(path.read_text())


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_there_are_chapters():
    assert CHAPTERS, "book/ holds no chapter notebooks"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.name)
def test_chapter_is_stored_without_outputs(path):
    for index, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name} cell {index} has outputs"
            assert cell.get("execution_count") is None, f"{path.name} cell {index} has an execution count"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.name)
def test_chapter_is_in_the_table_of_contents(path):
    toc = (ROOT / "_toc.yml").read_text()
    assert f"file: book/{path.stem}" in toc


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.name)
def test_chapter_opens_with_title_goals_and_setup(path):
    cells = load(path)["cells"]
    opening = source(cells[0])
    assert cells[0]["cell_type"] == "markdown" and opening.startswith("# ")
    for heading in ("learn", "Prerequisites", "GPU"):
        assert heading.lower() in opening.lower(), f"{path.name}: the opening does not mention {heading!r}"
    setup = next(cell for cell in cells if cell["cell_type"] == "code")
    text = source(setup)
    assert 'if "google.colab" in sys.modules:' in text
    assert "coursepkg.setup(" in text


def colab_block(path: pathlib.Path) -> str:
    """The setup cell's Colab part: everything before its first ``import keras``."""
    setup = next(cell for cell in load(path)["cells"] if cell["cell_type"] == "code")
    return source(setup).split("\nimport keras", 1)[0]


def test_every_setup_cell_installs_the_same_way():
    """One Colab block for all chapters (CONTRIBUTING.md), so the failure test below covers them all."""
    blocks = {colab_block(path) for path in CHAPTERS}
    assert len(blocks) == 1, "the chapters' setup cells differ before `import keras`; see CONTRIBUTING.md"


def test_a_failed_colab_install_stops_the_setup_cell_with_the_source_and_the_setting(tmp_path):
    """On Colab, a pip failure must stop the cell with a message naming the URL and what to change.

    The Colab block of chapter 1 runs in a fresh interpreter that pretends to be Colab, with
    the package's source pointed at an archive that does not exist, so pip fails at once
    without a network.
    """
    import subprocess

    block = colab_block(CHAPTERS[0])
    missing = (tmp_path / "missing" / "coursepkg.tar.gz").as_uri()
    spec = f'"coursepkg @ {missing}"'
    block, replaced = re.subn(r"^(\s*COURSEPKG_SOURCE = ).*$", rf"\g<1>{spec}", block, flags=re.M)
    assert replaced == 1, "the setup cell has no `COURSEPKG_SOURCE = ...` line"
    program = "import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')\n" + block
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "\nRuntimeError: pip could not install the course package from " in run.stderr, run.stderr[-2000:]
    assert missing in run.stderr and "change COURSEPKG_SOURCE" in run.stderr
    assert "ModuleNotFoundError" not in run.stderr


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.name)
def test_colab_install_line_matches_the_repository_setting(path):
    url, branch = set_repository.read_setting((ROOT / "_config.yml").read_text())
    setup = next(cell for cell in load(path)["cells"] if cell["cell_type"] == "code")
    assert set_repository.install_spec(url, branch) in source(setup), (
        f"{path.name}: the Colab install line does not point at {url}@{branch}; "
        "run `python scripts/set_repository.py URL --branch BRANCH`"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.name)
def test_exercises_are_registered_and_have_collapsed_solutions(path):
    from coursepkg.checking import exercises

    registered = {item.id for item in exercises()}
    cells = load(path)["cells"]
    checked = set()
    for index, cell in enumerate(cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        ids = set(re.findall(r'check\(\s*"([\w.]+)"', source(cell)))
        checked |= ids
        assert ids <= registered, f"{path.name} cell {index} checks unregistered exercises {ids - registered}"
        if "solution" in tags:
            assert "hide-input" in tags, f"{path.name} cell {index}: a solution must be collapsed (hide-input)"
            assert "exercise" in set(cells[index - 1].get("metadata", {}).get("tags", [])), (
                f"{path.name} cell {index}: a solution must follow its exercise cell"
            )
    chapter = {item.id for item in exercises() if item.chapter == f"book/{path.name}"}
    assert chapter <= checked, f"{path.name} never checks {chapter - checked}"


def test_set_repository_rewrites_config_and_chapters(tmp_path, monkeypatch):
    (tmp_path / "book").mkdir()
    config = (ROOT / "_config.yml").read_text()
    (tmp_path / "_config.yml").write_text(config)
    url, branch = set_repository.read_setting(config)
    notebook = {
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                   "source": f"%pip install -q {set_repository.install_spec(url, branch)}\n"}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }  # fmt: skip
    (tmp_path / "book" / "01_x.ipynb").write_text(json.dumps(notebook))
    monkeypatch.setattr(set_repository, "ROOT", tmp_path)
    set_repository.main(["https://github.com/someone/fork.git", "--branch", "spring"])
    assert set_repository.read_setting((tmp_path / "_config.yml").read_text()) == (
        "https://github.com/someone/fork",
        "spring",
    )
    rewritten = json.loads((tmp_path / "book" / "01_x.ipynb").read_text())
    assert '"coursepkg @ git+https://github.com/someone/fork@spring"' in source(rewritten["cells"][0])
    assert isinstance(rewritten["cells"][0]["source"], list), "sources stay stored as lists of lines"
    with pytest.raises(SystemExit, match="url"):
        set_repository.main(["not a url"])


def load_root_conftest():
    """The repository's root conftest.py (the nbmake hook), as a module of its own name."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_chapter_run_by_the_tests_is_found_by_the_book_cache(tmp_path):
    """`make test` stores what nbmake ran; the book's cache lookup must then find it."""
    import nbformat
    from jupyter_cache import get_cache
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_markdown_cell("# A chapter"), nbformat.v4.new_code_cell("print(6 * 7)")]
    notebook.cells[1].metadata["tags"] = ["solution"]
    path = tmp_path / "01_chapter.ipynb"
    nbformat.write(notebook, str(path))
    executed = nbformat.read(str(path), as_version=4)
    NotebookClient(executed, timeout=60, record_timing=True).execute()  # as nbmake runs it
    assert "execution" in executed.cells[1].metadata  # run timings: not part of the cache key

    cache_path = tmp_path / "cache"
    assert load_root_conftest().store_executed_notebook(str(cache_path), str(path), executed)
    cache = get_cache(str(cache_path))
    record = cache.match_cache_notebook(nbformat.read(str(path), as_version=4))
    _, merged = cache.merge_match_into_notebook(nbformat.read(str(path), as_version=4))
    assert merged.cells[1].outputs[0]["text"] == "42\n"
    assert record.uri == str(path)

    changed = nbformat.read(str(path), as_version=4)
    changed.cells[1].source = "print(6 * 9)"
    with pytest.raises(KeyError):  # other code: not a cache hit
        cache.match_cache_notebook(changed)
    nbformat.write(changed, str(path))  # the file changed while it ran: nothing is stored
    with pytest.warns(UserWarning, match="changed while it ran"):
        assert not load_root_conftest().store_executed_notebook(str(cache_path), str(path), executed)


def test_the_book_serves_mathjax_itself():
    """The maths must render offline: MathJax comes from the built book, not a CDN."""
    import importlib.util

    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert "sphinx-mathjax-offline" in config["sphinx"]["extra_extensions"]
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    assert spec is not None, "pip install the book extra: sphinx-mathjax-offline"
    bundled = pathlib.Path(spec.origin).parent / "static" / "mathjax" / "tex-chtml.js"
    assert bundled.is_file() and bundled.stat().st_size > 100_000


def test_files_outside_the_book_are_excluded_from_the_build():
    """Sphinx reads every Markdown file it is not told to skip, and -W fails on each.

    `make test` leaves `.pytest_cache/README.md` behind; CI builds the book right after.
    """
    import yaml
    from sphinx.util.matching import Matcher

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    excluded = Matcher(config["exclude_patterns"])
    book_pages = {f"{entry['file']}.md" for part in yaml.safe_load((ROOT / "_toc.yml").read_text())["parts"]
                  for entry in part["chapters"]} | {"book/index.md"}
    outside = [
        path.relative_to(ROOT).as_posix()
        for path in ROOT.rglob("*.md")
        if not {".venv", "_build", ".git"} & set(path.relative_to(ROOT).parts)
    ] + [".pytest_cache/README.md", ".ruff_cache/README.md", "benchmarks/README.md"]
    for page in outside:
        parents = [str(pathlib.PurePosixPath(page).parents[index]) for index in range(page.count("/"))]
        if page not in book_pages:  # Sphinx skips a file, or a whole folder, that a pattern matches
            assert any(excluded(path) for path in [page, *parents]), (
                f"{page} would be read by the book build; add it to exclude_patterns in _config.yml"
            )


def test_chapters_run_with_strict_checks_under_nbmake(tmp_path):
    """A worked solution that fails its own check fails the chapter's nbmake run."""
    import subprocess

    import nbformat

    for name, answer in (("unanswered", "..."), ("wrong", "16")):
        notebook = nbformat.v4.new_notebook()
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        notebook.cells = [nbformat.v4.new_code_cell(f'from coursepkg import check\ncheck("convolution.output_size", {answer})')]
        nbformat.write(notebook, str(tmp_path / f"{name}.ipynb"))
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbmake", "-p", "conftest", "-p", "no:cacheprovider", "-q",
         "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert "1 failed, 1 passed" in finished.stdout, finished.stdout[-3000:]
    assert "FAILED" in finished.stdout and "wrong.ipynb" in finished.stdout
    assert "CheckFailed" in finished.stdout


BACKEND_SPECIFIC = re.compile(r"keras\.ops|backend\(\)|\bjax\b|\btorch\b|GradientTape")


def coursepkg_modules_imported_by(path: pathlib.Path) -> set[pathlib.Path]:
    """The files of the coursepkg modules a Python file imports directly."""
    import ast

    files = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            if name.split(".")[0] != "coursepkg":
                continue
            module = ROOT.joinpath(*name.split("."))
            for candidate in (module.with_suffix(".py"), module / "__init__.py"):
                if candidate.is_file() and candidate.name != "__init__.py":
                    files.add(candidate)
    return files


def test_modules_left_out_of_the_jax_phase_run_no_backend_specific_code():
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    modules = re.search(r"^BACKEND_INDEPENDENT := (.*)$", makefile, re.MULTILINE).group(1).split()
    assert modules, "BACKEND_INDEPENDENT is empty"
    for module in modules:
        path = ROOT / "tests" / f"{module}.py"
        assert path.is_file(), f"BACKEND_INDEPENDENT names {module}, which is not a test module"
        scanned = coursepkg_modules_imported_by(path)
        if path != pathlib.Path(__file__).resolve():  # this file names the patterns it looks for
            scanned.add(path)
        for file in scanned:
            found = BACKEND_SPECIFIC.search(file.read_text())
            assert not found, f"{module} runs {file.relative_to(ROOT)}, which has {found.group(0)!r}"
    # The check can fail: the gradients module and its tests are backend-specific.
    gradients_test = ROOT / "tests" / "test_gradients.py"
    assert any(
        BACKEND_SPECIFIC.search(file.read_text())
        for file in {gradients_test} | coursepkg_modules_imported_by(gradients_test)
    )
