"""Committed notebooks carry no outputs, start with the canonical set-up cell,
and are all listed in the table of contents."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks  # noqa: E402

CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_outputs_or_execution_counts(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name}: cell {i} has outputs"
            assert cell.get("execution_count") is None, (
                f"{path.name}: cell {i} has an execution count"
            )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_first_code_cell_is_the_setup_cell(path):
    nb = json.loads(path.read_text())
    cell = notebooks.first_code_cell(nb)
    assert "".join(cell["source"]) == notebooks.setup_source(path), (
        f"run: python tools/notebooks.py sync ({path.name})"
    )
    text = "".join(cell["source"])
    if notebooks.published():
        assert notebooks.repository_url() in text
    # never a pip install from a placeholder address; the cell says the book is
    # unpublished
    else:
        assert notebooks.repository_url() not in text and "not published yet" in text


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_structure(path):
    """One title, a 'what you will learn' list, exercises with solutions, and a
    figure."""
    nb = json.loads(path.read_text())
    md = "\n".join(
        "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"
    )
    code = "\n".join(
        "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"
    )
    assert nb["cells"][0]["cell_type"] == "markdown" and "".join(
        nb["cells"][0]["source"]
    ).startswith("# ")
    assert len(re.findall(r"^# ", md, flags=re.M)) == 1, "exactly one '# ' title"
    assert "what you will learn" in md.lower()
    assert "```{exercise}" in md and "```{solution}" in md
    assert "assert " in code, "numeric claims are checked by asserts"
    assert "plt.show()" in code or "savefig" in code, "at least one figure"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_is_in_the_table_of_contents(path):
    toc = (ROOT / "_toc.yml").read_text()
    assert f"book/{path.stem}" in toc


def test_notebook_tool_check_passes():
    assert notebooks.problems() == []
