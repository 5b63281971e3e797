"""What the browser tests share: the system's Chromium driven by Playwright, a local server.

Chromium is ``CHROMIUM`` (default /usr/bin/chromium), driven through ``executable_path``,
so ``playwright install`` is never needed. Without Chromium or Playwright a browser test is
skipped, unless ``REQUIRE_BOOK_HTML=1`` (set by ``make test``), which makes it fail.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("REQUIRE_BOOK_HTML", "") == "1"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def unavailable(reason: str) -> None:
    """Skip, or fail when the caller (``make test``) requires the browser check to run."""
    if REQUIRED:
        pytest.fail(reason + " (REQUIRE_BOOK_HTML=1)")
    pytest.skip(reason)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


@contextlib.contextmanager
def serve(directory: Path):
    """Serve ``directory`` over HTTP on 127.0.0.1 (a free port); yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def require_chromium() -> None:
    """Skip (or fail) now unless Chromium and Playwright are there."""
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} not found (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("playwright is not installed (pip install playwright; no `playwright install`)")


@contextlib.contextmanager
def launch_chromium():
    """Headless Chromium (a Playwright Browser), closed on exit."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                      timeout=60_000)
        try:
            yield chromium
        finally:
            chromium.close()
