"""The Colab path, tried as a Colab user meets it.

A fresh virtual environment holds only what Colab preinstalls (torch, numpy,
scipy, matplotlib, ipywidgets, scikit-learn, tqdm, and a Jupyter kernel) and
not lawlib. Each chapter is executed there; its set-up cell installs lawlib
itself, from the local checkout instead of the repository (``LAWLIB_SOURCE``),
and must leave the preinstalled torch and numpy untouched.

The environment is built once per test session under ``test-artifacts/`` (about
a minute: torch comes from the local wheel).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))
# What Colab preinstalls that the book uses, and a kernel with a notebook runner
# (tools/run_notebook.py).
COLAB_PACKAGES = [
    "torch",
    "numpy",
    "scipy",
    "matplotlib",
    "ipywidgets",
    "scikit-learn",
    "tqdm",
    "ipykernel",
    "nbclient",
    "nbformat",
]


def _pins() -> list[str]:
    """Colab's packages at the versions of the book's pinned environment
    (torch as ==2.13.0).
    """
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[name.lower().replace("_", "-")] = version
    return [f"{p}=={pins[p]}" if p in pins else p for p in COLAB_PACKAGES]


@pytest.fixture(scope="session")
def colab_python() -> Path:
    env = ROOT / "test-artifacts" / "colab-venv"
    py = env / "bin" / "python"
    if not (env / ".ready").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(env)], check=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", *_pins()], check=True, timeout=1200
        )
        (env / ".ready").touch()
    if _has_lawlib(py):  # a previous session installed lawlib: start from Colab's state
        subprocess.run(
            [str(py), "-m", "pip", "uninstall", "-y", "-q", "lawlib"], check=True
        )
    return py


def _clean_env() -> dict[str, str]:
    """This process's environment without its virtual environment and PYTHONPATH."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))
    }


def _has_lawlib(py: Path) -> bool:
    """Whether lawlib is installed in the environment of ``py`` (not on a path)."""
    out = subprocess.run(
        [str(py), "-c", "import importlib.util as u; print(u.find_spec('lawlib'))"],
        capture_output=True,
        text=True,
        check=True,
        env=_clean_env(),
        cwd=py.parent,
    )
    return out.stdout.strip() != "None"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_runs_in_a_fresh_colab_like_environment(colab_python, path, tmp_path):
    env = _clean_env()
    env.update(
        LAWLIB_SOURCE=str(ROOT),
        LAWLIB_SCALE="quick",
        PATH=f"{colab_python.parent}:{env.get('PATH', '')}",
    )
    installed_before = _has_lawlib(colab_python)
    out = subprocess.run(
        [
            str(colab_python),
            str(ROOT / "tools" / "run_notebook.py"),
            str(path),
            "--cwd",
            str(tmp_path),
            "--timeout",
            "300",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=1800,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["before"] == report["after"], (
        "installing lawlib changed torch or numpy"
    )
    # the set-up cell installs lawlib exactly when it is missing (the first chapter
    # run in this environment installs it, the others find it)
    installs = "Installing lawlib from" in report["setup_output"]
    assert installs == (not installed_before), report["setup_output"]
    assert _has_lawlib(colab_python)
    assert "quick scale" in report["setup_output"]
