"""The site: it builds with no warnings, offline, and a real browser reads every page.

The build (``jupyter-book build . -W -n --keep-going``) executes every chapter
at the scale in ``LAWLIB_SCALE`` (the test command sets ``quick``). Set
``LAWLIB_SITE=path/to/_build/html`` to check an existing build instead.

The browser is Debian's chromium driven by Playwright; ``.ci/run`` installs it.
Screenshots of every page land in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import socketserver
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"


def _jupyter_book() -> str:
    exe = Path(sys.executable).with_name("jupyter-book")
    return str(exe) if exe.exists() else "jupyter-book"


@pytest.fixture(scope="session")
def site() -> Path:
    """The built HTML site (built once per test session)."""
    given = os.environ.get("LAWLIB_SITE")
    if given:
        return Path(given)
    out = subprocess.run(
        [_jupyter_book(), "build", ".", "-W", "-n", "--keep-going"],
        cwd=ROOT, capture_output=True, text=True, timeout=3600,
    )
    log = out.stdout + out.stderr
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "build.log").write_text(log)
    warnings = [line for line in log.splitlines() if re.search(r"\b(WARNING|ERROR|CRITICAL):", line)]
    assert out.returncode == 0 and not warnings, "site build failed or warned:\n" + "\n".join(warnings[:40]) + log[-3000:]
    return ROOT / "_build" / "html"


def pages(site: Path) -> list[Path]:
    """Every content page (not the static assets, the index redirect, the generated index or search)."""
    return sorted(
        p for p in site.rglob("*.html")
        if "_static" not in p.parts and p.name not in ("genindex.html", "search.html")
        and 'http-equiv="Refresh"' not in p.read_text()
    )


def test_every_chapter_and_page_was_built(site):
    toc = (ROOT / "_toc.yml").read_text()
    for name in re.findall(r"file:\s*(\S+)", toc) + [re.search(r"root:\s*(\S+)", toc).group(1)]:
        assert (site / f"{name}.html").exists(), f"{name}.html missing from the site"


def test_no_cdn_references(site):
    """Offline: MathJax, require.js and the widget manager are served from the site itself."""
    for page in pages(site):
        html = page.read_text()
        for tag in re.findall(r"<(?:script|link)[^>]+(?:src|href)=\"(https?://[^\"]+)\"", html):
            pytest.fail(f"{page.name} loads {tag} from the network")


def test_execution_statistics_page_lists_every_chapter(site):
    html = (site / "book" / "execution_stats.html").read_text()
    for nb in (ROOT / "book").glob("*.ipynb"):
        assert nb.stem in html, f"{nb.stem} missing from the execution statistics"


def test_launch_buttons_point_at_the_right_notebooks(site):
    url = re.search(r"^\s*url:\s*(\S+)", (ROOT / "_config.yml").read_text(), flags=re.M).group(1)
    repo = urlparse(url).path.strip("/")
    for nb in (ROOT / "book").glob("*.ipynb"):
        html = (site / "book" / f"{nb.stem}.html").read_text()
        colab = f"https://colab.research.google.com/github/{repo}/blob/main/book/{nb.stem}.ipynb"
        assert colab in html, f"{nb.stem}: no Colab launch button to {colab}"
        assert f"{nb.stem}.ipynb" in html and "download" in html.lower()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a and a["id"]:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])


def _parse(page: Path) -> _Links:
    p = _Links()
    p.feed(page.read_text())
    return p


def test_every_internal_link_resolves(site):
    parsed = {page: _parse(page) for page in pages(site)}
    broken = []
    for page, links in parsed.items():
        for href in links.hrefs:
            if urlparse(href).scheme or href.startswith(("mailto:", "javascript:")):
                continue
            target, frag = urldefrag(href)
            path = (page.parent / target).resolve() if target else page
            if path.is_dir():
                path = path / "index.html"
            if not path.exists():
                broken.append(f"{page.relative_to(site)} -> {href}")
                continue
            if frag and path.suffix == ".html":
                ids = parsed[path].ids if path in parsed else _parse(path).ids
                if frag not in ids:
                    broken.append(f"{page.relative_to(site)} -> {href} (no id {frag!r})")
    assert not broken, "broken internal links:\n" + "\n".join(broken[:50])


# ----------------------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: install it with 'apt-get install -y chromium' (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


def _page_ids(site: Path) -> list[str]:
    return [str(p.relative_to(site)) for p in pages(site)]


def test_pages_in_a_real_browser(site, server, browser):
    """Every page: no console errors, no request leaves the machine, every image loads,
    math is typeset by MathJax, widgets render. A screenshot of each page is saved."""
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for rel in _page_ids(site):
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        page = ctx.new_page()
        errors: list[str] = []
        external: list[str] = []
        page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))
        page.on("requestfailed", lambda r, e=errors: e.append(f"request failed: {r.url}"))

        def route(r, ext=external):
            if urlparse(r.request.url).hostname in ("127.0.0.1", "localhost") or r.request.url.startswith("data:"):
                r.continue_()
            else:
                ext.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.goto(f"{server}/{rel}", wait_until="load")
        html = (site / rel).read_text()
        has_math = 'class="math' in html or "\\(" in html
        if has_math:
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
            page.evaluate("() => MathJax.startup.promise")
        has_widgets = "application/vnd.jupyter.widget-view+json" in html
        if has_widgets:
            try:
                page.wait_for_selector(".jupyter-widgets", timeout=20000)
            except Exception:
                problems.append(f"{rel}: widgets did not render")
        page.wait_for_timeout(300)
        broken_imgs = page.evaluate(
            "() => Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
        )
        text = page.evaluate("() => (document.querySelector('main') || document.body).innerText")
        if has_math and page.evaluate("() => document.querySelectorAll('mjx-container').length") == 0:
            problems.append(f"{rel}: math present but nothing typeset")
        if "\\(" in text or "\\[" in text:
            problems.append(f"{rel}: raw TeX delimiters left in the text")
        if broken_imgs:
            problems.append(f"{rel}: images failed to load: {broken_imgs[:3]}")
        errors = [e for e in errors if "favicon" not in e]
        if errors:
            problems.append(f"{rel}: console errors: {errors[:3]}")
        if external:
            problems.append(f"{rel}: requests to the network: {external[:3]}")
        page.screenshot(path=str(shots / (rel.replace("/", "__").replace(".html", ".png"))), full_page=False)
        ctx.close()
    assert not problems, "\n".join(problems)


def test_figures_are_present_in_every_chapter(site):
    for nb in (ROOT / "book").glob("*.ipynb"):
        html = (site / "book" / f"{nb.stem}.html").read_text()
        assert re.search(r"<img[^>]+src=\"[^\"]+\.png\"", html), f"{nb.stem}: no figure in the built page"
