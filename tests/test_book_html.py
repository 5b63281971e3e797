"""Open every page of the built HTML book in headless Chromium and check what a reader sees.

A page fails when it shows

* an error output of a cell: myst-nb renders tracebacks as ``div.output.traceback`` and
  stderr streams as ``div.output.stderr`` (a stderr stream fails only when it holds a
  traceback or an ``...Error:`` / ``...Exception:`` line, so warnings and tqdm bars pass);
* an ``<img>`` that did not load (``naturalWidth == 0`` / ``img.decode()`` rejects);
* math that MathJax did not typeset: an element of class ``math`` with no
  ``mjx-container`` inside, a MathJax error (``mjx-merror``), or raw TeX delimiters
  (``$$``, ``\\(``, ``\\[``, ``\\begin{``, ``$...\\cmd...$``) left in the text outside code.

The book is served from ``BOOK_HTML`` (default ``_build/html``) by a local HTTP server on
127.0.0.1 with a free port. The page would fetch MathJax 3 from jsdelivr; CI has no network
beyond package registries, so those requests are answered from the npm package ``mathjax@3``
in ``MATHJAX_DIR`` (default ``.cache/npm/node_modules/mathjax``, installed by ``make mathjax``
or, failing that, by this module with ``npm``). Every other external request (thebe, fonts,
Binder, ...) is aborted, so an external ``<img>`` counts as broken: the book must be
self-contained.

Chromium is the system's ``/usr/bin/chromium`` (``CHROMIUM``), driven by Playwright through
``executable_path``; ``playwright install`` is never needed. Without a built book, Chromium,
Playwright or MathJax these tests are skipped, unless ``REQUIRE_BOOK_HTML=1`` (set by
``make test``), which turns every such skip into a failure.

Run: ``make browser`` (after ``make book``), or
``REQUIRE_BOOK_HTML=1 python -m pytest -m browser tests/test_book_html.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import struct
import zlib
from pathlib import Path

import pytest

from headless_chromium import launch_chromium, require_chromium, serve, unavailable

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]


def _path_from_env(name: str, default: Path) -> Path:
    path = Path(os.environ.get(name, default))
    return path if path.is_absolute() else REPO / path


BOOK_HTML = _path_from_env("BOOK_HTML", REPO / "_build" / "html")
NPM_DIR = REPO / ".cache" / "npm"
MATHJAX_DIR = _path_from_env("MATHJAX_DIR", NPM_DIR / "node_modules" / "mathjax")

# MathJax 3 as Sphinx / Jupyter Book link it (jsdelivr), and the other usual CDNs.
MATHJAX_URL = re.compile(
    r"^https?://(?:cdn\.jsdelivr\.net/npm|unpkg\.com)/mathjax@3[^/]*/(?P<path>[^?#]*)"
    r"|^https?://cdnjs\.cloudflare\.com/ajax/libs/mathjax/3[^/]*/(?P<path2>[^?#]*)"
)

_META_REFRESH = re.compile(r"<meta[^>]+http-equiv=[\"']?refresh", re.IGNORECASE)

PAGE_TIMEOUT_MS = 60_000
MATHJAX_TIMEOUT_MS = 30_000


# --------------------------------------------------------------------------- serving
def _ensure_mathjax() -> Path | None:
    """Return the local MathJax 3 package, installing it with npm into .cache/npm if needed."""
    if (MATHJAX_DIR / "es5" / "tex-mml-chtml.js").is_file():
        return MATHJAX_DIR
    npm = shutil.which("npm")
    if npm and MATHJAX_DIR == NPM_DIR / "node_modules" / "mathjax":
        NPM_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--prefix", str(NPM_DIR), "--no-save", "--no-package-lock",
             "--no-audit", "--no-fund", "mathjax@3"],
            check=False, capture_output=True, timeout=300,
        )
    return MATHJAX_DIR if (MATHJAX_DIR / "es5" / "tex-mml-chtml.js").is_file() else None


# --------------------------------------------------------------------------- browser
@pytest.fixture(scope="module")
def browser():
    require_chromium()
    mathjax = _ensure_mathjax()
    if mathjax is None:
        unavailable(f"MathJax 3 not found in {MATHJAX_DIR} (make mathjax)")
    with launch_chromium() as chromium:
        yield chromium


class PageChecker:
    """Loads pages of one local site and lists what is wrong with each."""

    def __init__(self, browser, base_url: str, mathjax_dir: Path | None):
        self.base_url = base_url
        self.mathjax_dir = mathjax_dir
        self.blocked: list[str] = []
        self.context = browser.new_context(java_script_enabled=True)
        self.context.set_default_timeout(PAGE_TIMEOUT_MS)
        self.context.route("**/*", self._route)

    def close(self) -> None:
        self.context.close()

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(self.base_url + "/") or url == self.base_url:
            route.continue_()
            return
        match = MATHJAX_URL.match(url)
        if match and self.mathjax_dir is not None:
            local = self.mathjax_dir / (match.group("path") or match.group("path2") or "")
            if local.is_file():
                route.fulfill(path=str(local))
            else:
                route.fulfill(status=404, body=f"not in local MathJax: {local}")
            return
        self.blocked.append(url)  # thebe, fonts, analytics, Binder ...: not needed offline
        route.abort()

    def check(self, relpath: str) -> list[str]:
        """Open ``base_url/relpath``; return a list of problems (empty when the page is fine)."""
        page = self.context.new_page()
        try:
            url = f"{self.base_url}/{relpath}"
            raw = self.context.request.get(url)  # the HTML as served, before any script runs
            if not raw.ok:
                return [f"HTTP {raw.status}"]
            redirects = bool(_META_REFRESH.search(raw.text()))  # e.g. Jupyter Book's index.html
            page.goto(url, wait_until="load")
            if redirects:
                page.wait_for_url(lambda now: now != url)
                page.wait_for_load_state("load")
                target = self.context.request.get(page.url)
                if not target.ok:
                    return [f"redirect to {page.url}: HTTP {target.status}"]
            problems: list[str] = []
            problems += self._math_problems(page)
            problems += self._image_problems(page)
            problems += self._error_output_problems(page)
            return problems
        finally:
            page.close()

    # -- math ---------------------------------------------------------------
    def _math_problems(self, page) -> list[str]:
        state = page.evaluate(
            """async (timeoutMs) => {
                if (!document.querySelector('.math, mjx-container')) return 'no math';
                if (!window.MathJax) return 'MathJax not on page';
                const t0 = Date.now();
                while (!(window.MathJax && window.MathJax.version && window.MathJax.startup
                         && window.MathJax.startup.promise)) {
                    if (Date.now() - t0 > timeoutMs) return 'MathJax did not load';
                    await new Promise(r => setTimeout(r, 50));
                }
                await window.MathJax.startup.promise;
                return 'typeset';
            }""",
            MATHJAX_TIMEOUT_MS,
        )
        found = page.evaluate(
            r"""() => {
                const short = s => s.replace(/\s+/g, ' ').trim().slice(0, 120);
                const out = {untypeset: [], merror: [], raw: []};
                for (const el of document.querySelectorAll('.math')) {
                    if (!el.querySelector('mjx-container') && !el.closest('mjx-container'))
                        out.untypeset.push(short(el.textContent));
                }
                for (const el of document.querySelectorAll('mjx-merror'))
                    out.merror.push(short(el.getAttribute('data-mjx-error') || el.textContent));
                const skip = 'script, style, pre, code, textarea, kbd, samp, mjx-container, '
                           + '.highlight, .math, .output';
                const raw = /\$\$|\\\(|\\\[|\\begin\{|\$[^$\n]*\\[A-Za-z]+[^$\n]*\$/;
                const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    const parent = node.parentElement;
                    if (!parent || parent.closest(skip)) continue;
                    if (raw.test(node.textContent)) out.raw.push(short(node.textContent));
                }
                return out;
            }"""
        )
        problems = []
        if state == "MathJax did not load":
            problems.append("MathJax did not load (is the local MathJax served?)")
        elif state == "MathJax not on page":
            problems.append("page has math but does not load MathJax")
        problems += [f"math not typeset: {t!r}" for t in found["untypeset"][:5]]
        problems += [f"MathJax error: {t!r}" for t in found["merror"][:5]]
        problems += [f"raw TeX in text: {t!r}" for t in found["raw"][:5]]
        return problems

    # -- images -------------------------------------------------------------
    def _image_problems(self, page) -> list[str]:
        broken = page.evaluate(
            """async () => {
                const imgs = Array.from(document.images);
                const timeout = ms => new Promise((_, no) => setTimeout(() => no('timeout'), ms));
                const results = await Promise.all(imgs.map(async img => {
                    if (img.loading === 'lazy') img.loading = 'eager';
                    try {
                        await Promise.race([img.decode(), timeout(15000)]);
                    } catch (e) { /* decode() rejects for images that failed */ }
                    const ok = img.complete && img.naturalWidth > 0;
                    return ok ? null : (img.getAttribute('src') || img.outerHTML.slice(0, 120));
                }));
                return results.filter(r => r !== null);
            }"""
        )
        return [f"image did not load: {src}" for src in broken]

    # -- cell outputs -------------------------------------------------------
    def _error_output_problems(self, page) -> list[str]:
        found = page.evaluate(
            r"""() => {
                const short = s => s.replace(/\s+/g, ' ').trim().slice(0, 200);
                const errorLine = /Traceback \(most recent call last\)|(^|\s)[\w.]*(Error|Exception)(:|\s*$)/m;
                const out = [];
                for (const el of document.querySelectorAll('.output.traceback, .output.error'))
                    out.push('error output: ' + short(el.textContent));
                for (const el of document.querySelectorAll('.output.stderr'))
                    if (errorLine.test(el.textContent))
                        out.push('error on stderr: ' + short(el.textContent));
                return out;
            }"""
        )
        return list(found)


# --------------------------------------------------------------------------- the book
def _book_pages() -> list[str]:
    if not BOOK_HTML.is_dir():
        return []
    skip_dirs = {"_static", "_sources", "_images", "_panels_static", ".doctrees", "jupyter_execute"}
    pages = []
    for path in sorted(BOOK_HTML.rglob("*.html")):
        rel = path.relative_to(BOOK_HTML)
        if skip_dirs.intersection(rel.parts[:-1]):
            continue
        pages.append(rel.as_posix())
    return pages


BOOK_PAGES = _book_pages()


@pytest.fixture(scope="module")
def book_checker(browser):
    if not BOOK_PAGES:
        unavailable(f"no built book in {BOOK_HTML} (make book)")
    with serve(BOOK_HTML) as base_url:
        checker = PageChecker(browser, base_url, _ensure_mathjax())
        try:
            yield checker
        finally:
            checker.close()


def test_book_was_built():
    if not BOOK_PAGES:
        unavailable(f"no built book in {BOOK_HTML} (make book)")
    assert "index.html" in BOOK_PAGES
    assert any(p.startswith("book/") for p in BOOK_PAGES), BOOK_PAGES


@pytest.mark.parametrize("relpath", BOOK_PAGES or ["<no built book>"])
def test_book_page(book_checker, relpath):
    problems = book_checker.check(relpath)
    assert not problems, f"{relpath}:\n  " + "\n  ".join(problems)


# --------------------------------------------------------------------------- the checker
def _png(width: int = 2, height: int = 2) -> bytes:
    """A small valid red PNG, written with zlib (no imaging library needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


# MathJax configured the way Sphinx/myst-nb configure it for a Jupyter Book page.
_MATHJAX_HEAD = """
<script>window.MathJax = {options: {processHtmlClass: "tex2jax_process|mathjax_process|math|output_area",
                                    ignoreHtmlClass: "tex2jax_ignore|mathjax_ignore|document"}}</script>
<script defer src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>
"""

_GOOD_PAGE = f"""<!DOCTYPE html><html><head><meta charset="utf-8">{_MATHJAX_HEAD}</head>
<body><div class="document">
<p>Inline <span class="math notranslate nohighlight">\\(\\lambda(q) = \\mathrm{{eig}}(J - q^2 D)\\)</span>.</p>
<div class="math notranslate nohighlight">\\[\\partial_t u = D_u \\nabla^2 u - u v^2 + F(1 - u)\\]</div>
<img src="ok.png" alt="ok">
<div class="cell_output docutils container">
  <div class="output stderr highlight-myst-ansi notranslate"><pre>/x.py:3: RuntimeWarning: overflow encountered
100%|##########| 10/10 [00:01&lt;00:00]</pre></div>
</div>
<pre><code>print("$$ and \\( in code are fine")</code></pre>
</div></body></html>"""

_BAD_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head>
<body><div class="document">
<p>Unrendered display math: $$F = 4(F + k)^2$$</p>
<p>Inline math that no MathJax typeset: <span class="math notranslate nohighlight">\\(x^2\\)</span></p>
<img src="missing.png" alt="broken">
<div class="cell_output docutils container">
  <div class="output traceback highlight-ipythontb notranslate"><pre>---------------------------------------------------------------------------
ZeroDivisionError                         Traceback (most recent call last)
ZeroDivisionError: division by zero</pre></div>
  <div class="output stderr highlight-myst-ansi notranslate"><pre>ValueError: F must be positive</pre></div>
</div>
</div></body></html>"""


@pytest.fixture(scope="module")
def handmade_site(tmp_path_factory, browser):
    site = tmp_path_factory.mktemp("handmade_site")
    (site / "good.html").write_text(_GOOD_PAGE, encoding="utf-8")
    (site / "bad.html").write_text(_BAD_PAGE, encoding="utf-8")
    (site / "ok.png").write_bytes(_png())
    with serve(site) as base_url:
        checker = PageChecker(browser, base_url, _ensure_mathjax())
        try:
            yield checker
        finally:
            checker.close()


def test_checker_passes_a_good_page(handmade_site):
    """MathJax comes from the local npm copy, the image loads, a warning on stderr is fine."""
    assert handmade_site.check("good.html") == []


def test_checker_catches_a_broken_page(handmade_site):
    problems = "\n".join(handmade_site.check("bad.html"))
    assert "image did not load: missing.png" in problems
    assert "math not typeset: '\\\\(x^2\\\\)'" in problems
    assert "raw TeX in text" in problems and "$$F = 4(F + k)^2$$" in problems
    assert "error output:" in problems and "ZeroDivisionError" in problems
    assert "error on stderr: ValueError: F must be positive" in problems


def test_checker_catches_a_missing_page(handmade_site):
    assert handmade_site.check("no-such-page.html") == ["HTTP 404"]
