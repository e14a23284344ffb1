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
    assert '"coursepkg @ git+https://github.com/someone/fork@spring"' in rewritten["cells"][0]["source"]
    with pytest.raises(SystemExit, match="url"):
        set_repository.main(["not a url"])
