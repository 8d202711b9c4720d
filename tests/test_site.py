"""The site: it builds with no warnings, offline, and a real browser reads every page as
a reader would.

The build (``jupyter-book build . -W -n --keep-going``) executes every chapter
at the scale in ``LAWLIB_SCALE`` (the test command sets ``quick``). Set
``LAWLIB_SITE=path/to/_build/html`` to check an existing build instead, and
``LAWLIB_STUDENT_SITE=path/to/_build/student/html`` to check an existing
student edition (otherwise ``tools/student.py`` builds it, reusing the chapters
the site build executed: about a minute).

The browser is Debian's chromium driven by Playwright; ``.ci/run`` installs it.
Screenshots land in ``test-artifacts/screenshots/``: ``desktop/`` (1280×900, the
top of each page), ``phone/`` (390×844, each whole page) and ``dark/`` (each
chapter's first figure in the dark theme), for a person to look at.

"What a reader sees" (the tests named test_reader_* and the few after them)
reads every page once at each width and checks: no TeX or ``$`` left as text,
display formulas that fit (and a cue where one must scroll), inline math never
in a scroll box, both sidebar toggles, numbered and captioned figures with real
alt text, no hand-written "Exercise 3"/"Theorem 5"/"chapter 4", no build noise,
exercise kinds, a Summary per chapter, no launch button to an unpublished
address, and the release each page was built from. What the browser saw is
saved in ``test-artifacts/readings.json``; ``LAWLIB_READINGS=that file`` reruns
the checks on it without a browser.
"""

from __future__ import annotations

import functools
import html as htmllib
import http.server
import json
import os
import re
import shutil
import socketserver
import subprocess
import sys
import threading
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
# The scripts the browser runs on each page.
JS = Path(__file__).resolve().parent / "site_js"
SHOTS = ARTIFACTS / "screenshots"
CHROMIUM = (
    shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WARNING = re.compile(r"\b(WARNING|ERROR|CRITICAL):")


def _jupyter_book() -> str:
    exe = Path(sys.executable).with_name("jupyter-book")
    return str(exe) if exe.exists() else "jupyter-book"


def toc_files() -> list[str]:
    """Every page of the table of contents, root first, in reading order
    (e.g. ``book/intro``).
    """
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    out = [toc["root"]]

    def walk(entries):
        for e in entries or []:
            if "file" in e:
                out.append(e["file"])
            walk(e.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return out


def toc_chapters() -> list[str]:
    """The chapters (notebooks) of the table of contents, e.g.
    ``book/01_memorization_model``.
    """
    return [f for f in toc_files() if (ROOT / f"{f}.ipynb").exists()]


def repository() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]


def _build_log_problems(log: str) -> list[str]:
    return [line for line in log.splitlines() if WARNING.search(line)]


def _build(command: list[str], log_name: str, what: str) -> None:
    """Run a site build, keep its log under test-artifacts/, fail on an error or a
    warning."""
    out = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=3600
    )
    log = out.stdout + out.stderr
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / log_name).write_text(log)
    warnings = _build_log_problems(log)
    assert out.returncode == 0 and not warnings, (
        f"{what} failed or warned:\n" + "\n".join(warnings[:40]) + log[-3000:]
    )


@pytest.fixture(scope="session")
def site() -> Path:
    """The built HTML site (built once per test session)."""
    given = os.environ.get("LAWLIB_SITE")
    if given:
        return Path(given)
    _build(
        [_jupyter_book(), "build", ".", "-W", "-n", "--keep-going"],
        "build.log",
        "site build",
    )
    return ROOT / "_build" / "html"


def pages(site: Path) -> list[Path]:
    """Every content page (not the static assets, the index redirect, the generated
    index or search).
    """
    return sorted(
        p
        for p in site.rglob("*.html")
        if "_static" not in p.parts
        and p.name not in ("genindex.html", "search.html")
        and 'http-equiv="Refresh"' not in p.read_text()
    )


def test_every_chapter_and_page_was_built(site):
    for name in toc_files():
        assert (site / f"{name}.html").exists(), f"{name}.html missing from the site"


def test_no_cdn_references(site):
    """Offline: MathJax, require.js and the widget manager are served from the site
    itself.
    """
    for page in pages(site):
        html = page.read_text()
        for tag in re.findall(
            r"<(?:script|link)[^>]+(?:src|href)=\"(https?://[^\"]+)\"", html
        ):
            pytest.fail(f"{page.name} loads {tag} from the network")


def _title(page: Path) -> str:
    """The title (h1) of a built page, without its section number and permalink."""
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", page.read_text(), flags=re.S).group(1)
    h1 = re.sub(
        r'<span class="section-number">.*?</span>|<a class="headerlink".*?</a>',
        "",
        h1,
        flags=re.S,
    )
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", "", h1)).split())


def test_execution_statistics_page_lists_every_chapter(site):
    """Each chapter by its title (not its file name), with its status in words
    (the emoji the table used showed as an empty box where the font lacks it)."""
    html = (site / "book" / "execution_stats.html").read_text()
    table = re.search(r"<table.*?</table>", html, flags=re.S).group(0)
    text = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", table)).split())
    for name in toc_chapters():
        title = _title(site / f"{name}.html")
        assert title in text, (
            f"{name}: its title {title!r} is missing from the execution statistics"
        )
        assert Path(name).name not in text, (
            f"{name}: the table shows the file name, not the title"
        )
    assert not re.search("[\u2705\u274c]", table), "the status is an emoji"
    assert " ran " in f" {text} ", "no status in words"


def _colab_url(name: str) -> str:
    """Where the Colab button of chapter ``name`` (e.g. ``book/03_baum``) must lead: its
    notebook at the release tag.
    """
    repo = repository()
    slug = urlparse(repo["url"]).path.strip("/")
    return f"https://colab.research.google.com/github/{slug}/blob/{repo['branch']}/{name}.ipynb"


def published() -> bool:
    """Whether _config.yml says the book is published at ``repository.url``
    (launch buttons shown).
    """
    return bool(repository().get("published", False))


def test_launch_and_download_buttons_point_at_the_right_notebooks(site):
    """Once published, Colab opens the chapter's own notebook at the release tag
    (unpublished, there is no Colab button: see
    test_launch_buttons_never_point_at_a_placeholder); the download button serves the
    chapter's notebook (the committed source, set-up cell first)."""
    for name in toc_chapters():
        page = site / f"{name}.html"
        links = _parse(page).hrefs
        colab = _colab_url(name)
        if published():
            assert colab in links, f"{name}: no Colab launch button to {colab}"
        else:
            assert not [h for h in links if "colab.research.google.com" in h], (
                f"{name}: a Colab button while unpublished"
            )
        downloads = [
            h
            for h in links
            if h.endswith(f"{Path(name).name}.ipynb") and not urlparse(h).scheme
        ]
        assert downloads, f"{name}: no download link to its notebook"
        served = (page.parent / downloads[0]).resolve()
        assert served.exists(), (
            f"{name}: the download link {downloads[0]} leads nowhere"
        )
        assert (
            json.loads(served.read_text())["cells"]
            == json.loads((ROOT / f"{name}.ipynb").read_text())["cells"]
        )


def test_figures_are_present_in_every_chapter(site):
    for name in toc_chapters():
        html = (site / f"{name}.html").read_text()
        assert re.search(r"<img[^>]+src=\"[^\"]+\.png\"", html), (
            f"{name}: no figure in the built page"
        )


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
                    broken.append(
                        f"{page.relative_to(site)} -> {href} (no id {frag!r})"
                    )
    assert not broken, "broken internal links:\n" + "\n".join(broken[:50])


# -------------------------------------------------------------------------- the browser


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
        pytest.fail(
            f"chromium not found at {CHROMIUM}: install it with 'apt-get install -y "
            "chromium' (.ci/run does)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


def _page_ids(site: Path) -> list[str]:
    return [str(p.relative_to(site)) for p in pages(site)]


def _shot_name(rel: str) -> str:
    return rel.replace("/", "__").replace(".html", ".png")


class Reader:
    """One page open in a fresh browser context, with every console error and every
    request that tries to leave the machine recorded (and refused)."""

    def __init__(
        self,
        browser,
        url: str,
        viewport: dict = DESKTOP,
        dark: bool = False,
        javascript: bool = True,
    ) -> None:
        self.ctx = browser.new_context(
            viewport=viewport,
            color_scheme="dark" if dark else "light",
            java_script_enabled=javascript,
        )
        if dark:  # what the theme's light/dark switch stores
            self.ctx.add_init_script(
                "localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', "
                "'dark');"
            )
        self.page = self.ctx.new_page()
        self.errors: list[str] = []
        self.external: list[str] = []
        self.page.on(
            "console",
            lambda m: self.errors.append(m.text) if m.type == "error" else None,
        )
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "requestfailed", lambda r: self.errors.append(f"request failed: {r.url}")
        )
        self.page.route("**/*", self._route)
        self.page.goto(url, wait_until="load")

    def _route(self, r) -> None:
        if urlparse(r.request.url).hostname in (
            "127.0.0.1",
            "localhost",
        ) or r.request.url.startswith("data:"):
            r.continue_()
        else:
            self.external.append(r.request.url)
            r.abort()

    def wait_until_rendered(self, html: str) -> list[str]:
        """Wait for MathJax and the widgets; return what did not render."""
        problems = []
        if 'class="math' in html or "\\(" in html:
            self.page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                timeout=30000,
            )
            self.page.evaluate("() => MathJax.startup.promise")
            if (
                self.page.evaluate(
                    "() => document.querySelectorAll('mjx-container').length"
                )
                == 0
            ):
                problems.append("math present but nothing typeset")
        if "application/vnd.jupyter.widget-view+json" in html:
            try:
                self.page.wait_for_selector(".jupyter-widgets", timeout=30000)
            except Exception:
                problems.append("widgets did not render")
        self.page.wait_for_timeout(300)
        return problems

    def close(self) -> None:
        self.ctx.close()


# Elements of the article wider than the screen, unless they sit in a box that scrolls
# sideways (code, wide tables and display math scroll inside their own box; the page
# itself must not).
_OVERFLOW_JS = (JS / "overflow.js").read_text().strip()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_pages_in_a_real_browser(site, server, browser, viewport):
    """Every page at desktop and phone width: no console errors, no request leaves the
    machine, every image loads, math is typeset by MathJax, widgets render, nothing but
    scrollable boxes is wider than the screen, and on a chapter the launch menu offers
    Colab and the download menu the notebook. A screenshot of each page is saved."""
    kind = "desktop" if viewport is DESKTOP else "phone"
    shots = SHOTS / kind
    shots.mkdir(parents=True, exist_ok=True)
    chapters = set(toc_chapters())
    problems: list[str] = []
    for rel in _page_ids(site):
        reader = Reader(browser, f"{server}/{rel}", viewport)
        page = reader.page
        problems += [
            f"{rel}: {p}" for p in reader.wait_until_rendered((site / rel).read_text())
        ]
        broken_imgs = page.evaluate(
            "() => Array.from(document.images).filter(i => !i.complete || "
            "i.naturalWidth === 0).map(i => i.src)"
        )
        text = page.evaluate(
            "() => (document.querySelector('main') || document.body).innerText"
        )
        if "\\(" in text or "\\[" in text:
            problems.append(f"{rel}: raw TeX delimiters left in the text")
        if broken_imgs:
            problems.append(f"{rel}: images failed to load: {broken_imgs[:3]}")
        too_wide = page.evaluate(_OVERFLOW_JS)
        if too_wide:
            problems.append(
                f"{rel} at {viewport['width']}px: wider than the screen: {too_wide[:4]}"
            )
        if (
            rel.removesuffix(".html") in chapters
        ):  # the rocket and download menus open on a click (or tap)
            menus = [
                (".dropdown-download-buttons", f'a[href$="{Path(rel).stem}.ipynb"]')
            ]
            if published():
                menus.append(
                    (
                        ".dropdown-launch-buttons",
                        f'a[href="{_colab_url(rel.removesuffix(".html"))}"]',
                    )
                )
            for menu, link in menus:
                page.click(f"{menu} > button")
                if not page.locator(f"{menu} {link}").is_visible():
                    problems.append(f"{rel}: clicking {menu} does not show {link}")
                page.keyboard.press("Escape")
            page.mouse.move(
                0, viewport["height"] - 1
            )  # no menu left open by hovering in the screenshot
        errors = [e for e in reader.errors if "favicon" not in e]
        if errors:
            problems.append(f"{rel}: console errors: {errors[:3]}")
        if reader.external:
            problems.append(f"{rel}: requests to the network: {reader.external[:3]}")
        page.screenshot(path=str(shots / _shot_name(rel)), full_page=kind == "phone")
        reader.close()
    assert not problems, "\n".join(problems)


def test_navigation_reaches_every_chapter(site, server, browser):
    """From the front page, the sidebar lists every page of the table of contents, and
    following 'next' from the first page visits them all, in order.
    (The sidebar and the next links are plain HTML, so JavaScript is off here: MathJax
    and the widgets of every chapter would only make the walk slow.)"""
    want = [f"{server}/{name}.html" for name in toc_files()]
    reader = Reader(
        browser, f"{server}/index.html", javascript=False
    )  # the redirect a reader lands on
    page = reader.page
    page.wait_for_url(re.compile(re.escape(want[0])), timeout=20000)
    sidebar = page.evaluate(
        "() => Array.from(document.querySelectorAll('nav.bd-docs-nav "
        "a.reference.internal')).map(a => a.href)"
    )
    sidebar = {urldefrag(h)[0] for h in sidebar}
    missing = [u for u in want[1:] if u not in sidebar]
    assert not missing, f"the sidebar does not link to {missing}"
    visited = [urldefrag(page.url)[0]]
    for _ in range(len(want) + 2):
        nxt = page.query_selector("a.right-next")
        if nxt is None:
            break
        nxt.click()
        page.wait_for_load_state("load")
        visited.append(urldefrag(page.url)[0])
    reader.close()
    assert visited == want, f"'next' visits {visited}, the table of contents is {want}"


def _prose(html: str) -> str:
    """The paragraphs of a page as plain text (no math, no code)."""
    text = " ".join(re.findall(r"<p(?:\s[^>]*)?>(.*?)</p>", html, flags=re.S))
    text = re.sub(r"<span class=\"math[^\"]*\">.*?</span>", " ", text, flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", text))


def _distinctive_words(site: Path) -> dict[str, str]:
    """For each chapter, the word of its prose used most often in it and in no other
    page's prose.
    """
    words = {
        str(p.relative_to(site)): Counter(
            w.lower() for w in re.findall(r"\b[A-Za-z]{7,}\b", _prose(p.read_text()))
        )
        for p in pages(site)
    }
    out = {}
    for name in toc_chapters():
        rel = f"{name}.html"
        others = set().union(*(set(c) for r, c in words.items() if r != rel))
        unique = sorted(((-n, w) for w, n in words[rel].items() if w not in others))
        assert unique, f"{name}: no word of its prose is unique to it"
        out[name] = unique[0][1]
    return out


def test_search_finds_each_chapter_by_a_word_in_it(site, server, browser):
    """The site's search page, queried for a word that only one chapter uses, lists that
    chapter.
    """
    problems = []
    for name, word in _distinctive_words(site).items():
        reader = Reader(browser, f"{server}/search.html?q={word}")
        page = reader.page
        page.wait_for_function(
            "() => "
            "{ const s = document.querySelector('#search-results .search-summary');"
            " return s && /finished|did not match/.test(s.innerText); }",
            timeout=30000,
        )
        found = page.evaluate(
            "() => Array.from(document.querySelectorAll('#search-results ul.search li "
            "a'))"
            ".map(a => a.href)"
        )
        if f"{server}/{name}.html" not in {urldefrag(h)[0] for h in found}:
            problems.append(
                f"searching {word!r} does not list {name} (found {found[:5]})"
            )
        if reader.errors:
            problems.append(f"search for {word!r}: console errors {reader.errors[:3]}")
        reader.close()
    assert not problems, "\n".join(problems)


# Every image of the article: is it opaque (its corners), and what is the colour behind
# it?
_IMAGES_JS = (JS / "images.js").read_text().strip()


def _light(css_colour: str) -> bool:
    nums = [float(x) for x in re.findall(r"[\d.]+", css_colour)]
    if len(nums) < 3 or (len(nums) == 4 and nums[3] < 1):
        return False
    r, g, b = nums[:3]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b >= 180


def test_dark_mode_keeps_every_figure_readable(site, server, browser):
    """In the dark theme every figure keeps a light background: the image is opaque (the
    book's figures have a white face) or the theme paints a light colour behind it."""
    shots = SHOTS / "dark"
    shots.mkdir(parents=True, exist_ok=True)
    problems = []
    for rel in _page_ids(site):
        html = (site / rel).read_text()
        if "<img" not in html:
            continue
        reader = Reader(browser, f"{server}/{rel}", dark=True)
        page = reader.page
        reader.wait_until_rendered(html)
        assert (
            page.evaluate("() => document.documentElement.dataset.theme") == "dark"
        ), f"{rel}: not in dark mode"
        for img in page.evaluate(_IMAGES_JS):
            if not (img["opaque"] or _light(img["background"])):
                problems.append(
                    f"{rel}: {img['src']} is transparent on {img['background']}"
                )
        first = page.query_selector("article div.cell_output img")
        if first:
            first.scroll_into_view_if_needed()
            page.screenshot(path=str(shots / _shot_name(rel)))
        reader.close()
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ the student edition


@pytest.fixture(scope="session")
def student_site(site) -> Path:
    """The student edition, built by tools/student.py (``./book.sh student``) after the
    site, whose executed chapters it reuses."""
    given = os.environ.get("LAWLIB_STUDENT_SITE")
    if given:
        return Path(given)
    out_dir = ROOT / "_build" / "student" / "html"
    _build(
        [sys.executable, str(ROOT / "tools" / "student.py"), "--out", str(out_dir)],
        "student-build.log",
        "student build",
    )
    return out_dir


def _solution_texts(html: str) -> list[str]:
    """The opening words of the first paragraph of every solution of a page
    (plain text).
    """
    out = []
    for block in re.findall(
        r"<div class=\"solution[^\"]*\"[^>]*>(.*?)</section>", html, flags=re.S
    ):
        first = re.search(
            r"<p(?:\s[^>]*)?>(.*?)</p>",
            block.split('id="solution-content">', 1)[-1],
            flags=re.S,
        )
        text = " ".join(_prose(first.group(0)).split()) if first else ""
        if len(text) >= 20:
            out.append(text[:60])
    return out


def _plain(html: str) -> str:
    return " ".join(
        htmllib.unescape(
            re.sub(
                r"<[^>]+>",
                " ",
                re.sub(r"<span class=\"math[^\"]*\">.*?</span>", " ", html, flags=re.S),
            )
        ).split()
    )


def test_student_edition_has_every_exercise_and_no_solution(site, student_site):
    """Each chapter of the student edition has the same exercises as the book and none
    of the solutions, on the page or in the notebook its download button serves; the
    book has them."""
    total = 0
    for name in toc_chapters():
        book = (site / f"{name}.html").read_text()
        student = (student_site / f"{name}.html").read_text()
        assert "Student edition" in student, f"{name}: no student-edition banner"
        exercises = sorted(
            re.findall(r"<div class=\"exercise[^\"]*\" id=\"([^\"]+)\"", book)
        )
        assert exercises, f"{name}: the book has no exercises"
        assert (
            sorted(
                re.findall(r"<div class=\"exercise[^\"]*\" id=\"([^\"]+)\"", student)
            )
            == exercises
        )
        solutions = _solution_texts(book)
        assert solutions, f"{name}: the book has no solutions"
        assert 'class="solution' not in student, (
            f"{name}: a solution block is left in the student edition"
        )
        plain = _plain(student)
        for text in solutions:
            assert text in _plain(book)
            assert text not in plain, (
                f"{name}: solution text {text!r} is in the student edition"
            )
        source = json.loads((student_site / "_sources" / f"{name}.ipynb").read_text())
        markdown = "\n".join(
            "".join(c["source"])
            for c in source["cells"]
            if c["cell_type"] == "markdown"
        )
        assert "{exercise}" in markdown and "{solution}" not in markdown, (
            f"{name}: downloadable notebook"
        )
        total += len(solutions)
    assert total > 0


# ------------------------------------------------------------------- what a reader sees
#
# Each page at desktop and phone width, read once (the `readings` fixture) and checked
# for the
# defects a reader meets: TeX left as text, formulas that do not fit or scroll without a
# cue,
# inline math in a scroll box, figures without a number, caption or alt text, numbers of
# the
# book's own exercises/theorems/figures written by hand, build noise in the outputs,
# exercises
# that do not say what kind they are, chapters without a summary. Each test lists every
# offending page with a count, then the first examples.

# Elements whose text is not prose: code, MathJax's output, scripts.
_NOT_PROSE = (
    "script, style, noscript, template, textarea, pre, code, kbd, samp, mjx-container, "
    ".cell_input, .MathJax_Preview"
)
# Leaf-ish text blocks of the article (each block's own text, without nested blocks).
_BLOCKS = (
    "p, li, dt, dd, td, th, figcaption, caption, summary, h1, h2, h3, h4, h5, h6, "
    ".admonition-title, blockquote"
)

_READ_JS = (JS / "read.js").read_text().strip()


def _toggles(page, kind: str, viewport: dict) -> list[str]:
    """Click each sidebar toggle a reader can see: on a phone it must open its sidebar
    (as a dialog) and a tap outside must close it; on a desktop the primary toggle must
    hide the chapter list and bring it back."""
    problems = []

    def visible(sel: str) -> bool:
        return page.evaluate(
            "(sel) => Array.from(document.querySelectorAll(sel)).some(e => "
            "{ const r = e.getBoundingClientRect();"
            " return r.width > 0 && r.height > 0 && r.right > 0 && r.left < innerWidth"
            " && getComputedStyle(e).visibility !== 'hidden'; })",
            sel,
        )

    if kind == "phone":
        for which, dialog, tap_x in (
            ("primary", "pst-primary-sidebar-modal", viewport["width"] - 8),
            ("secondary", "pst-secondary-sidebar-modal", 8),
        ):
            has_content = page.evaluate(
                f"() => !!document.querySelector('#pst-{which}-sidebar a, "
                f"#pst-{which}-sidebar-modal a')"
            )
            button = page.locator(f".{which}-toggle:visible")
            if button.count() == 0:
                if which == "primary" or has_content:
                    problems.append(f"no visible {which} sidebar toggle")
                continue
            button.first.click()
            page.wait_for_timeout(400)
            opened = page.evaluate(
                f"() => document.getElementById('{dialog}')?.open === true"
            )
            if not opened or not visible(f"#{dialog} a"):
                problems.append(
                    f"tapping the {which} toggle does not open the {which} sidebar"
                )
                continue
            page.mouse.click(tap_x, viewport["height"] // 2)
            page.wait_for_timeout(400)
            if page.evaluate(
                f"() => document.getElementById('{dialog}')?.open === true"
            ):
                problems.append(
                    f"a tap outside the open {which} sidebar does not close it"
                )
                page.keyboard.press("Escape")
    else:
        button = page.locator(".primary-toggle:visible")
        if button.count() == 0:
            return ["no visible primary sidebar toggle"]

        def shown() -> bool:
            return visible(
                "#pst-primary-sidebar .bd-sidenav a, #pst-primary-sidebar nav a"
            )

        if not shown():
            return ["the chapter list is not shown at desktop width"]
        button.first.click()
        page.wait_for_timeout(700)
        if shown():
            problems.append("the primary toggle does not hide the chapter list")
        button.first.click()
        page.wait_for_timeout(700)
        if not shown():
            problems.append("the primary toggle does not bring the chapter list back")
    return problems


@pytest.fixture(scope="session")
def readings(site, server, browser) -> dict:
    """``{(page, "desktop"|"phone"): what the reader sees}`` for every page
    (see _READ_JS).

    Saved to ``test-artifacts/readings.json``; ``LAWLIB_READINGS=that file`` reuses it
    instead of opening every page again (to rerun the checks alone while editing them).
    """
    saved = os.environ.get("LAWLIB_READINGS")
    if saved:
        return {
            tuple(k.split("|")): v
            for k, v in json.loads(Path(saved).read_text()).items()
        }
    chapters = {f"{c}.html" for c in toc_chapters()}
    out = {}
    for kind, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        for rel in _page_ids(site):
            reader = Reader(browser, f"{server}/{rel}", viewport)
            reader.wait_until_rendered((site / rel).read_text())
            seen = reader.page.evaluate(
                _READ_JS,
                {"notProse": _NOT_PROSE, "blocks": _BLOCKS, "chapter": rel in chapters},
            )
            seen["toggles"] = _toggles(reader.page, kind, viewport)
            out[(rel, kind)] = seen
            reader.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "readings.json").write_text(
        json.dumps({"|".join(k): v for k, v in out.items()}, indent=1)
    )
    return out


def _report(found: dict[str, list[str]], what: str) -> str:
    found = {k: v for k, v in found.items() if v}
    lines = [f"{what}: {sum(map(len, found.values()))} on {len(found)} page(s)"]
    lines += [f"  {page}: {len(items)}" for page, items in sorted(found.items())]
    for page, items in sorted(found.items()):
        lines += [f"  {page}: {item}" for item in items[:6]]
    return "\n".join(lines)


def _fail_if(found: dict[str, list[str]], what: str) -> None:
    found = {k: v for k, v in found.items() if v}
    if found:
        pytest.fail(_report(found, what), pytrace=False)


def _collect(
    readings: dict, key: str, kinds=("desktop", "phone")
) -> dict[str, list[str]]:
    """``{page: [finding, ...]}`` for one kind of finding, at the given widths
    (tagged when several).
    """
    found: dict[str, list[str]] = {}
    for (rel, kind), seen in readings.items():
        if kind not in kinds:
            continue
        for item in seen[key]:
            item = f"[{kind}] {item}" if len(kinds) > 1 else item
            if item not in found.setdefault(rel, []):
                found[rel].append(item)
    return {k: v for k, v in found.items() if v}


def test_reader_sees_no_tex_or_dollar_as_text(readings):
    """(a) Every formula is typeset: no "$", no TeX command (\\delta, \\sqrt{...}), no
    x_{i} left in the text of a page, outside code and MathJax's output.
    (A "$" before a digit is a price.)"""
    found = _collect(readings, "rawTex", kinds=("desktop",))
    _fail_if(found, "TeX or $ left as text")


def test_reader_sees_no_myst_markup_as_text(readings):
    """(a') Every directive and role is rendered: no ```{name} or :::{name} fence and no
    {doc}`...` left in the text of a page (a backtick fence whose title holds a backtick
    is not a fence: the API page's source dropdowns once rendered as a paragraph
    followed by every module's whole source)."""
    found = _collect(readings, "rawMarkup", kinds=("desktop",))
    _fail_if(found, "MyST markup left as text")


def test_reader_display_math_fits_and_inline_math_never_scrolls(readings):
    """(b) No display formula and no line of code or printed output is wider than its
    box at desktop width (printed lines wrap); at phone width a formula that must
    scroll shows a cue (a shadow at the hidden edge); inline math never sits in a
    scroll box (it would be clipped with no sign of it)."""
    problems = {}
    for page, items in _collect(readings, "wideMath", kinds=("desktop",)).items():
        problems.setdefault(page, []).extend(
            f"wider than the column: {x}" for x in items
        )
    for page, items in _collect(readings, "noCue", kinds=("phone",)).items():
        problems.setdefault(page, []).extend(
            f"scrolls with no visible cue at 390px: {x}" for x in items
        )
    for page, items in _collect(readings, "wideCode", kinds=("desktop",)).items():
        problems.setdefault(page, []).extend(
            f"code or printed output cut off at 1280px: {x}" for x in items
        )
    for page, items in _collect(readings, "inlineBox").items():
        problems.setdefault(page, []).extend(
            f"inline math in a scroll box: {x}" for x in items
        )
    _fail_if(problems, "formulas a reader cannot see whole")


def test_reader_can_open_and_close_both_sidebars(readings):
    """(c) On a phone both sidebar toggles (chapter list, page contents) open their
    sidebar and a tap outside closes it; on a desktop the primary toggle hides and
    restores the chapter list."""
    found = _collect(readings, "toggles")
    _fail_if(found, "sidebar toggles that do not work")


def test_reader_figures_are_numbered_captioned_and_described(readings):
    """(d) Every content image (not a widget's saved frame, not an icon) sits in a
    numbered figure with a caption, and its alt text says what it shows
    (not the image's file path)."""
    found = _collect(readings, "images", kinds=("desktop",))
    _fail_if(found, "images that cannot be cited or read aloud")


def test_reader_meets_no_hand_written_numbers(readings):
    """(e) "Exercise 3", "Theorem 5", "Figure 2", "chapter 4" in prose are generated
    references ({ref}, {prf:ref}, {numref}, {doc}), never typed by hand
    (they drift: the numbering is automatic); a number of someone else's says whose it
    is, after it ("Theorem 3 of Bubeck and Sellke [2021]") or just before it
    ("Bubeck–Li–Nagaraj, Conjecture 1", "[2021] (section 5)")."""
    found = _collect(readings, "handRefs", kinds=("desktop",))
    _fail_if(found, "numbers typed by hand")


def test_reader_meets_no_build_noise(readings):
    """(f) No configuration dumps (namespace(...)), model reprs (Sequential(...)), scale
    field names (S.exp2_n), constant names, developer notes ("not yet validated", "has
    not yet been run"), function or object reprs (a widget cell's
    ``<function explore ...>``) or doubled reference words ("Exercise Exercise 9.5",
    written before a {numref} that adds its own) in the prose or the outputs a reader
    sees."""
    found = _collect(readings, "devStrings", kinds=("desktop",))
    _fail_if(found, "build noise and developer notes")


def test_every_exercise_says_pen_and_paper_or_computational(readings):
    """(g) Each exercise title ends with "(pen and paper)" or "(computational)"."""
    found = {}
    for (rel, kind), seen in readings.items():
        if kind == "desktop":
            bad = [
                t
                for t in seen["exerciseTitles"]
                if not re.search(r"\((?:pen and paper|computational)\)", t, re.I)
            ]
            if bad:
                found[rel] = bad
    _fail_if(found, "exercises that do not say pen and paper or computational")


def test_every_chapter_has_a_summary(readings):
    """(h) Every chapter has a "Summary" section, before its exercises."""
    found = {}
    for name in toc_chapters():
        h2 = readings[(f"{name}.html", "desktop")]["h2"]
        if "Summary" not in h2:
            found[f"{name}.html"] = [f"no Summary section (sections: {h2})"]
        elif "Exercises" in h2 and h2.index("Summary") > h2.index("Exercises"):
            found[f"{name}.html"] = ["the Summary comes after the Exercises"]
    _fail_if(found, "chapters without a summary")


def _placeholder_urls() -> tuple[str, ...]:
    """Addresses known not to be the book's (tools/release.py keeps the list)."""
    sys.path.insert(0, str(ROOT / "tools"))
    import release

    return release.PLACEHOLDER_URLS


def test_launch_buttons_never_point_at_a_placeholder(site):
    """(i) While _config.yml says ``repository.published: false`` no page links to the
    repository address (Colab, Binder, repository, issues buttons would lead nowhere)
    and every chapter says it is not yet published; once published, the address is not a
    placeholder."""
    repo = repository()
    url = repo["url"].rstrip("/")
    slug = urlparse(url).path.strip("/")
    published = bool(repo.get("published", False))
    found: dict[str, list[str]] = {}
    chapters = {f"{c}.html" for c in toc_chapters()}
    for page in pages(site):
        rel = str(page.relative_to(site))
        hrefs = _parse(page).hrefs
        if published:
            bad = [
                h
                for h in hrefs
                if any(
                    h.startswith(p) or urlparse(p).path.strip("/") in h
                    for p in _placeholder_urls()
                )
            ]
        else:
            bad = [h for h in hrefs if slug and slug in h]
            if rel in chapters and "not yet published" not in page.read_text():
                bad.append("no 'not yet published' note")
        if bad:
            found[rel] = sorted(set(bad))
    _fail_if(found, f"links to an address that is not published ({url})")


def test_every_chapter_says_which_release_it_was_built_from(site):
    """Every chapter's footer names the version (release tag or commit) the page was
    built from.
    """
    missing = [
        c
        for c in toc_chapters()
        if not re.search(
            r"Built from (?:release v\d|version \d)", (site / f"{c}.html").read_text()
        )
    ]
    assert not missing, f"no build/release line on {missing}"
