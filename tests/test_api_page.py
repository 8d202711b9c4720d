"""The API page (book/api.md) is generated from lawlib and the notebooks, and is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import lawlib.device

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import api_page  # noqa: E402


def test_api_page_is_current() -> None:
    done = subprocess.run(
        [sys.executable, "tools/api_page.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr + " (run: python tools/api_page.py)"


def test_every_module_declares_all() -> None:
    missing = [
        p.name
        for p in (ROOT / "lawlib").glob("*.py")
        if p.name != "__init__.py" and "__all__" not in p.read_text()
    ]
    assert not missing, f"modules without __all__: {missing}"


def test_callers_are_found_by_scanning_the_code() -> None:
    code = {
        "a": "x = lawlib.setup()\n",
        "b": "lawlib.device.setup_line(1)\n",
        "c": "lawlib.setups = 1\n",
    }
    assert api_page.callers("lawlib.device", "setup", code) == ["a"]
    assert api_page.callers("lawlib.device", "setup_line", code) == ["b"]


def test_the_page_lists_every_public_name_of_a_module() -> None:
    text = (ROOT / "book" / "api.md").read_text()
    for name in lawlib.device.__all__:
        assert f"- **`{name}`** (" in text
