"""Point the book at a repository: launch buttons and every chapter's Colab install line.

The repository URL is one setting, ``repository.url`` (and ``repository.branch``)
in ``_config.yml``. Chapters repeat it in their setup cell, because a notebook
opened on Colab cannot read the book's configuration. This script changes both
in one step; ``tests/test_book.py`` fails when they disagree.

Usage:
    python scripts/set_repository.py https://github.com/<owner>/<repo> [--branch main]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
INSTALL_LINE = re.compile(r'"coursepkg @ git\+(?P<url>[^"@]+)@(?P<branch>[^"]+)"')


def read_setting(config_text: str) -> tuple[str, str]:
    """The (url, branch) of the ``repository:`` block of ``_config.yml``."""
    block = re.search(r"^repository:\n((?:[ \t]+.*\n|\s*\n)+)", config_text, re.M)
    if block is None:
        raise ValueError("_config.yml has no `repository:` block")
    url = re.search(r"^\s+url:\s*(\S+)", block.group(1), re.M)
    branch = re.search(r"^\s+branch:\s*(\S+)", block.group(1), re.M)
    if url is None or branch is None:
        raise ValueError("_config.yml's `repository:` block needs `url:` and `branch:`")
    return url.group(1), branch.group(1)


def install_spec(url: str, branch: str) -> str:
    """The quoted pip requirement a chapter's setup cell installs on Colab."""
    return f'"coursepkg @ git+{url}@{branch}"'


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="e.g. https://github.com/owner/repo")
    parser.add_argument("--branch", default="main")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"https://[^\s\"@]+", args.url):
        raise SystemExit(f"Expected `url` to be an https URL without spaces or quotes. Received: url={args.url!r}")
    url = args.url.rstrip("/").removesuffix(".git")

    config_path = ROOT / "_config.yml"
    text = config_path.read_text()
    read_setting(text)  # fails early on a config without the block

    def replace_block(match: re.Match) -> str:
        block = re.sub(r"^(\s+url:\s*)\S+", rf"\g<1>{url}", match.group(0), count=1, flags=re.M)
        return re.sub(r"^(\s+branch:\s*)\S+", rf"\g<1>{args.branch}", block, count=1, flags=re.M)

    config_path.write_text(re.sub(r"^repository:\n(?:[ \t]+.*\n|\s*\n)+", replace_block, text, count=1, flags=re.M))
    changed = 0
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        notebook = json.loads(path.read_text())
        for cell in notebook["cells"]:
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            new = INSTALL_LINE.sub(install_spec(url, args.branch), source)
            if new != source:
                cell["source"] = new.splitlines(keepends=True)  # stored as lines, like every chapter
                changed += 1
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    print(f"repository.url={url} branch={args.branch}; updated {changed} setup cells")


if __name__ == "__main__":
    main()
