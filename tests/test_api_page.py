"""The API page (book/api.md) is generated from lawlib and the notebooks, and is
current."""

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
        str(p.relative_to(ROOT))
        for p in (ROOT / "lawlib").rglob("*.py")
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


def test_callers_of_a_chapter_module_are_found_after_its_import() -> None:
    module = "lawlib.chapters.universal_law"
    code = {
        "from": "from lawlib.chapters import universal_law\nuniversal_law.fit(1)\n",
        "alias": "from lawlib.chapters import (\n    beyond,\n"
        "    universal_law as u,\n)\nu.fit(1)\n",
        "import": "import lawlib.chapters.universal_law as ul\nul.fit(2)\n",
        "dotted": "import lawlib.chapters.universal_law\n"
        "lawlib.chapters.universal_law.fit(3)\n",
        "name": "from lawlib.chapters.universal_law import fit, other\nfit(4)\n",
        "before": "universal_law.fit(1)\nfrom lawlib.chapters import universal_law\n",
        "other": "from lawlib.chapters import beyond\nbeyond.fit(1)\n",
        "prefix": "from lawlib.chapters import universal_law\nuniversal_law.fits(1)\n",
        "core": "lawlib.fit(1)\n",
    }
    found = api_page.callers(module, "fit", code)
    assert found == ["from", "alias", "import", "dotted", "name"]


def test_modules_of_a_chapters_subpackage_are_listed_after_the_core(tmp_path) -> None:
    for rel in (
        "lawlib/__init__.py",
        "lawlib/_checks.py",
        "lawlib/geometry.py",
        "lawlib/chapters/__init__.py",
        "lawlib/chapters/universal_law.py",
        "lawlib/chapters/_shared.py",
        "lawlib/bounds.py",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    assert api_page.module_names(tmp_path) == [
        "lawlib.bounds",
        "lawlib.chapters",
        "lawlib.geometry",
        "lawlib.chapters.universal_law",
    ]
