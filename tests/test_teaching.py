"""What teachers and Colab readers rely on: a pinned install, a set-up cell that
fails clearly, and figures regenerated for slides.

The student edition of the site is checked in tests/test_site.py (it needs the
site build). That lawlib names an unknown scale or device clearly is checked in
tests/test_device_scale.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
import yaml

import lawlib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks  # noqa: E402
import release  # noqa: E402

CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))


# ------------------------------------------------------------------- the pinned install


def _version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_version_tag_and_setup_cells_agree():
    """pyproject's version, lawlib.__version__, the launch-button ref and the install
    ref of _config.yml, and every chapter's set-up cell all name the same release
    vX.Y.Z."""
    version = _version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), version
    assert lawlib.__version__ == version
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    assert repo["lawlib_ref"] == f"v{version}", (
        "run: python tools/release.py bump " + version
    )
    assert repo["branch"] == f"v{version}", (
        "the Colab buttons must open the chapters at the release tag"
    )
    source = f'"git+{repo["url"].rstrip("/")}@v{version}"'
    for path in CHAPTERS:
        cell = notebooks.first_code_cell(json.loads(path.read_text()))
        text = "".join(cell["source"])
        # published: the cell installs lawlib from the release tag; unpublished: from
        # nowhere but LAWLIB_SOURCE
        assert (source in text) if notebooks.published() else ("git+" not in text), (
            f"{path.name}: run sync"
        )
    assert release.problems() == []


def test_release_bump_writes_every_place(tmp_path, monkeypatch):
    for name in ("pyproject.toml", "lawlib/__init__.py", "_config.yml", "CITATION.cff"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text((ROOT / name).read_text())
    monkeypatch.setattr(release, "ROOT", tmp_path)
    monkeypatch.setattr(notebooks, "chapters", lambda: [])
    release.bump("7.8.9")
    assert release.found() == {
        "pyproject.toml version": "7.8.9",
        "lawlib.__version__": "7.8.9",
        "_config.yml repository.branch": "v7.8.9",
        "_config.yml repository.lawlib_ref": "v7.8.9",
        "CITATION.cff version": "7.8.9",
    }
    assert release.problems() == []
    config = yaml.safe_load((tmp_path / "_config.yml").read_text())
    assert (
        config["repository"]["url"]
        == yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    )
    with pytest.raises(SystemExit):
        release.bump("v1.0")


def test_release_check_refuses_to_publish_a_placeholder_or_a_wrong_tag(
    tmp_path, monkeypatch
):
    """``release.py check --publish`` (the gate of the publishing workflow) fails while
    the address is the placeholder or the book is marked unpublished, and when the tag
    is not v+version or the address is not the repository being built; it passes once
    all of them are right."""
    for name in ("pyproject.toml", "lawlib/__init__.py", "_config.yml", "CITATION.cff"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text((ROOT / name).read_text())
    monkeypatch.setattr(release, "ROOT", tmp_path)
    monkeypatch.setattr(notebooks, "chapters", lambda: [])
    version = _version()
    config = (tmp_path / "_config.yml").read_text()
    url = yaml.safe_load(config)["repository"]["url"]
    if url in release.PLACEHOLDER_URLS:
        assert any(
            "placeholder" in p for p in release.publish_problems(f"v{version}", "")
        )
    real = config.replace(
        f"url: {url}", "url: https://github.com/someone/law-of-robustness", 1
    )
    real = re.sub(r"(?m)^(  published:\s*)\S+", r"\g<1>true", real)
    assert "published: true" in real
    (tmp_path / "_config.yml").write_text(real)
    assert release.publish_problems(f"v{version}", "someone/law-of-robustness") == []
    assert any("does not match" in p for p in release.publish_problems("v99.0.0", ""))
    assert any(
        "not the repository being built" in p
        for p in release.publish_problems(f"v{version}", "other/fork")
    )
    (tmp_path / "_config.yml").write_text(
        real.replace("published: true", "published: false")
    )
    assert any(
        "published is not true" in p
        for p in release.publish_problems(f"v{version}", "")
    )


def _run_setup_cell(
    python_args: list[str], env: dict, cwd: Path
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *python_args, "-c", notebooks.setup_source()],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_setup_cell_stops_with_a_clear_message_when_the_install_fails(tmp_path):
    """Where lawlib is missing and cannot be installed, the set-up cell raises at once,
    naming the source and showing pip's complaint, instead of failing later on 'import
    lawlib'."""
    missing = tmp_path / "no-such-lawlib"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHONPATH", "LAWLIB_"))
    }
    env["LAWLIB_SOURCE"] = str(missing)
    # -S: no site-packages, so lawlib is not importable
    # (pip, run as a child, still has its own).
    out = _run_setup_cell(["-S"], env, tmp_path)
    assert out.returncode != 0
    assert f"Installing lawlib from {missing}" in out.stdout
    assert f"RuntimeError: Could not install lawlib from {missing}" in out.stderr
    assert (
        "ERROR" in out.stderr and str(missing) in out.stderr.split("RuntimeError", 1)[1]
    ), out.stderr[-2000:]
    assert "lawlib: device" not in out.stdout


# ------------------------------------------------------------------- figures for slides


def test_figures_command_writes_pdf_and_png_for_every_figure(tmp_path):
    """tools/figures.py on chapter 1 at the quick scale: one PDF and one PNG per figure
    shown, numbered from 01, PNGs opaque with the book's white background, PDFs real
    PDFs."""
    from PIL import Image

    chapter = ROOT / "book" / "01_memorization_model.ipynb"
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "figures.py"),
            "--scale",
            "quick",
            "--out",
            str(tmp_path),
            # a cell that waits 240 s for a reply is a lost kernel message (a rare
            # nbclient hang seen under load): run_notebook then runs the chapter again
            "--timeout",
            "240",
            str(chapter),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    pngs = sorted(tmp_path.glob("*.png"))
    pdfs = sorted(tmp_path.glob("*.pdf"))
    shown = sum(
        len(re.findall(r"^plt\.show\(\)", "".join(c["source"]), flags=re.M))
        for c in json.loads(chapter.read_text())["cells"]
        if c["cell_type"] == "code"
    )
    assert len(pngs) >= shown >= 1, (
        f"{len(pngs)} figures saved, the chapter calls plt.show() {shown} times"
    )
    assert (
        [p.stem for p in pngs]
        == [p.stem for p in pdfs]
        == [f"{chapter.stem}-fig{i:02d}" for i in range(1, len(pngs) + 1)]
    )
    assert f"{len(pngs)} figure(s)" in out.stdout
    for png in pngs:
        with Image.open(png) as img:
            img.verify()
        with Image.open(png) as img:
            rgba = img.convert("RGBA")
            assert min(img.size) >= 300, (
                f"{png.name}: {img.size} is too small for a slide"
            )
            assert rgba.getpixel((0, 0)) == (255, 255, 255, 255), (
                f"{png.name}: corner is not opaque white"
            )
    for pdf in pdfs:
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF-") and b"%%EOF" in data[-64:], pdf.name
