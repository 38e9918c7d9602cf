"""The built book in a real browser: headless Chromium, driven through the DevTools protocol.

Every page of ``_build/html`` (served from a localhost ``http.server``) is opened, and we check that

* the maths is rendered: every MathJax element holds a rendered ``mjx-container``, with no TeX error and no
  raw TeX (``$$``, ``\\(``, ``\\[``, ``\\begin{``, ``$x$``) left in the text;
* every image loads (``naturalWidth > 0``);
* the console stays clean (no exception, no ``console.error``, no failed load) and nothing is requested from
  another host;
* no table or output is wider than the content column;
* no printed output (``pre``) is taller than ``MAX_PRE_PX``, folded outputs aside;
* no paragraph of mostly bold text runs over ``MAX_BOLD_LINES`` lines;
* no visible code cell only imports, sets up or glues (:func:`only_plumbing`): those cells are hidden with
  the ``remove-cell``, ``remove-input`` or ``hide-input`` tags;
* figure text is at least ``MIN_FIGURE_TEXT_PX`` CSS px at 100% zoom (and the house 9 pt on the pages in
  ``NINE_POINT_PAGES``). An image's text is its PNG's smallest text (the stamp that ``present.setup_notebook``
  writes, :data:`modscale_lib.present.TEXT_SIZE_KEY`, in image pixels) times the image's drawn width over its
  natural width; an image without the stamp cannot be measured and fails. A canvas's text is every
  ``fillText`` call's font size times the canvas's transform and CSS scale, recorded as the page draws;
* no word in a table is broken across lines inside itself (code aside);
* no sentence of eight words or more appears twice on a page (prose, captions and printed outputs);
* every page's footer carries the package version of ``pyproject.toml``;

and a full-page screenshot of each goes to ``_build/screenshots/`` for a person to look at. The linear-model
chapter's kernel-free explorer is also driven: its numbers at several slider positions must equal
:func:`modscale_lib.theory.expected_losses`.

The HTML is built (``jupyter-book build .``) when it is missing or older than the sources; CI builds it strictly
first. ``MODSCALE_BOOK_HTML`` points the test at another build. The browser is ``MODSCALE_CHROMIUM``, or
``chromium`` / ``chromium-browser`` / ``google-chrome`` on the PATH (Debian: ``apt-get install chromium``);
without one the browser tests skip, saying so. The whole module takes well under two minutes.
"""

from __future__ import annotations

import ast
import functools
import http.server
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HTML = Path(os.environ.get("MODSCALE_BOOK_HTML", ROOT / "_build" / "html")).resolve()
SCREENSHOTS = HTML.parent / "screenshots"
WIDTH, HEIGHT, MAX_SHOT_HEIGHT = 1280, 900, 14000


def _toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]] + [ch["file"] for part in toc.get("parts", []) for ch in part.get("chapters", [])]
    return pages + ["genindex", "search"]


PAGES = _toc_pages()

MAX_PRE_PX = 600  # tallest printed output block
MAX_BOLD_LINES = 3  # longest paragraph of (mostly) bold text
MIN_FIGURE_TEXT_PX = 9  # smallest figure text, CSS px at 100% zoom
HOUSE_TEXT_PX = 12  # 9 pt, the house minimum, in CSS px; required on NINE_POINT_PAGES
NINE_POINT_PAGES = {
    "book/using_this_book",
    "book/theory_linear_model",
    "book/theory_dimension",
    "book/theory_modular",
    "book/sine_wave_task",
}
MIN_REPEATED_WORDS = 8  # a repeated sentence this long is a defect

# Pages whose content is wider than the column for reasons owned by other work (not by the book's chrome).
# Each entry names the offending content; delete an entry once its page passes (an XPASS says so).
KNOWN_TOO_WIDE: dict[str, str] = {}  # page -> why it may still overflow; every page fits now

# TEMPORARY: pages owned by other work that failed a check when it was added, check -> page -> what fails.
# They are expected failures (xfail, not strict); delete an entry once its page passes (an XPASS says so).
# Do not add pages here; fix them.
KNOWN_FAILURES: dict[str, dict[str, str]] = {
    "tall_output": {},
    "bold_walls": {},
    "plumbing_shown": {},
    "figure_text": {},
    "broken_words": {},
    "repeated_sentences": {},
}


# ---------------------------------------------------------------------------------------------------------
# Checks that need no browser
# ---------------------------------------------------------------------------------------------------------
def test_notebooks_store_no_widget_state():
    """Stored widget state makes jupyter-book embed require.js and the widget manager from CDNs."""
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        assert "application/vnd.jupyter.widget-state+json" not in nb["metadata"].get("widgets", {}), (
            f'{path.name} stores ipywidgets state; drop it after executing: python -c "import json,sys; '
            f"p=sys.argv[1]; nb=json.load(open(p)); nb['metadata'].pop('widgets', None); "
            f"json.dump(nb, open(p, 'w'), indent=1, ensure_ascii=False); open(p, 'a').write(chr(10))\" {path}"
        )


_REMOTE_ASSET = re.compile(
    r"<(?:script|img|iframe|source|audio|video|embed)\b[^>]*\bsrc=[\"']((?:https?:)?//[^\"']+)"
    r"|<link\b(?=[^>]*\brel=[\"'](?:stylesheet|preload|modulepreload|icon|manifest)[\"'])[^>]*\bhref=[\"']"
    r"((?:https?:)?//[^\"']+)",
    re.IGNORECASE,
)


def _built_html() -> Path:
    """The built book, built first when missing or older than its sources."""
    sources = [
        ROOT / "_config.yml",
        ROOT / "_toc.yml",
        ROOT / "references.bib",
        ROOT / "pyproject.toml",
        *ROOT.glob("book/*"),
        *ROOT.glob("_ext/*.py"),
        *ROOT.glob("modscale_lib/**/*.py"),
        *ROOT.glob("_static/*.css"),
    ]
    marker = HTML / "book" / "intro.html"
    stale = not marker.exists() or max(p.stat().st_mtime for p in sources if p.exists()) > marker.stat().st_mtime
    if stale and "MODSCALE_BOOK_HTML" not in os.environ:
        jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or shutil.which("jupyter-book")
        if jb is None:
            pytest.skip("the book is not built and jupyter-book is not installed")
        subprocess.run([jb, "build", str(ROOT)], check=True, capture_output=True, timeout=600)
    if not marker.exists():
        pytest.skip(f"no built book at {HTML}")
    return HTML


def test_no_page_loads_from_another_host():
    html = _built_html()
    offenders = []
    for page in sorted(html.rglob("*.html")):
        for match in _REMOTE_ASSET.finditer(page.read_text(errors="replace")):
            offenders.append(f"{page.relative_to(html)}: {match.group(1) or match.group(2)}")
    assert not offenders, "pages load scripts, styles or images from other hosts:\n" + "\n".join(offenders)


# ---------------------------------------------------------------------------------------------------------
# A minimal DevTools-protocol client
# ---------------------------------------------------------------------------------------------------------
def _find_chromium() -> str | None:
    for candidate in (os.environ.get("MODSCALE_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


class Page:
    """One browser tab, over one websocket."""

    def __init__(self, ws_url: str):
        import websocket

        self._websocket = websocket
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.events: list[dict] = []
        self._id = 0

    def _recv(self, deadline: float) -> dict:
        self.ws.settimeout(max(deadline - time.monotonic(), 0.05))
        try:
            return json.loads(self.ws.recv())
        except self._websocket.WebSocketTimeoutException:
            raise TimeoutError("the browser did not answer in time") from None

    def send(self, method: str, timeout: float = 60, **params):
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = self._recv(deadline)
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_for(self, event: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for message in self.events[seen:]:
                if message["method"] == event:
                    return message
            seen = len(self.events)
            message = self._recv(deadline)
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression: str, timeout: float = 60):
        result = self.send(
            "Runtime.evaluate", timeout=timeout, expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {json.dumps(result['exceptionDetails'])[:2000]}")
        return result["result"].get("value")

    def close(self):
        self.ws.close()


class Browser:
    def __init__(self, executable: str):
        self.profile = tempfile.mkdtemp(prefix="modscale-chromium-")
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            f"--window-size={WIDTH},{HEIGHT}",
            f"--user-data-dir={self.profile}",
            "--remote-debugging-port=0",
            "about:blank",
        ]
        self.process = subprocess.Popen(
            [executable, *flags], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                err = self.process.stderr.read().decode(errors="replace")[-2000:] if self.process.stderr else ""
                self.quit()
                raise RuntimeError(f"Chromium did not start: {err}")
            time.sleep(0.1)
        self.port = int(port_file.read_text().split()[0])

    def new_page(self) -> Page:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/json/new?about:blank", method="PUT")
        with urllib.request.urlopen(request, timeout=30) as response:
            target = json.load(response)
        return Page(target["webSocketDebuggerUrl"])

    def quit(self):
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)  # the group this test started, Chromium's helpers
                self.process.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with __import__("contextlib").suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
        shutil.rmtree(self.profile, ignore_errors=True)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    html = _built_html()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=html))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def tab(site):
    pytest.importorskip("websocket", reason="the browser tests need websocket-client (pip install websocket-client)")
    executable = _find_chromium()
    if executable is None:
        pytest.skip(
            "no Chromium to run the browser tests: install it (apt-get install chromium) or set "
            "MODSCALE_CHROMIUM to a Chromium or Chrome executable"
        )
    browser = Browser(executable)
    page = browser.new_page()
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.send(f"{domain}.enable")
        page.send("Page.addScriptToEvaluateOnNewDocument", source=_CANVAS_TEXT_JS)
        page.send("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False)
        yield page
    finally:
        page.close()
        browser.quit()


# ---------------------------------------------------------------------------------------------------------
# What each page is checked for (run in the page once it has loaded and MathJax has typeset)
# ---------------------------------------------------------------------------------------------------------
_PAGE_REPORT_JS = r"""
(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  const images = Array.from(document.images);
  images.forEach(img => { img.loading = "eager"; });
  await Promise.all(images.map(img => img.complete ? null :
    new Promise(done => { img.addEventListener("load", done); img.addEventListener("error", done);
                          setTimeout(done, 15000); })));
  if (document.fonts) await document.fonts.ready;
  const article = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
  function describe(el) {
    let heading = "", node = el;
    while (node && node !== article && !heading) {
      let prev = node.previousElementSibling;
      while (prev && !heading) {
        const h = prev.matches("h1,h2,h3,h4") ? prev : prev.querySelector && prev.querySelector("h1,h2,h3,h4");
        if (h) heading = h.textContent.replace(/[#¶]/g, "").trim();
        prev = prev.previousElementSibling;
      }
      node = node.parentElement;
    }
    const cls = typeof el.className === "string" && el.className ? "." + el.className.trim().split(/\s+/).join(".") : "";
    return el.tagName.toLowerCase() + cls + (heading ? " under '" + heading.slice(0, 60) + "'" : "") +
      ": " + JSON.stringify(el.textContent.trim().replace(/\s+/g, " ").slice(0, 70));
  }
  // maths
  const unrendered = [], tex_errors = [], raw_tex = [];
  document.querySelectorAll(".math").forEach(el => {
    if (!el.querySelector("mjx-container")) unrendered.push(describe(el));
  });
  document.querySelectorAll("mjx-merror").forEach(el => tex_errors.push(describe(el.closest("mjx-container") || el)));
  const skip = "script,style,pre,code,textarea,mjx-container,.highlight,.cell_input,.modscale-explorer";
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {acceptNode: n =>
    n.parentElement && n.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  const pattern = /\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\\end\{|\$[^\s$][^$]{0,80}?[^\s$\\]\$/;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const m = node.textContent.match(pattern);
    if (m) raw_tex.push(describe(node.parentElement) + " contains " + JSON.stringify(m[0]));
  }
  // images
  const broken_images = images.filter(img => !(img.complete && img.naturalWidth > 0))
    .map(img => img.currentSrc || img.src);
  // widths
  const style = getComputedStyle(article);
  const column = article.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const too_wide = [];
  article.querySelectorAll("table, .cell_output, .cell_output pre, .cell_output img, .cell_output table, " +
                           ".output, mjx-container[display='true']").forEach(el => {
    const width = Math.max(el.scrollWidth, el.getBoundingClientRect().width);
    if (width > column + 2) too_wide.push(describe(el) + " is " + Math.round(width) + " px wide");
  });
  // tall printed outputs (a folded one has no height)
  const tall_pre = [];
  article.querySelectorAll(".cell_output pre, .output pre").forEach(el => {
    const height = el.getBoundingClientRect().height;
    if (height > %(max_pre)d) tall_pre.push(describe(el) + " is " + Math.round(height) + " px tall");
  });
  // paragraphs of mostly bold text
  const bold_walls = [];
  // (table headers are bold by design, and a narrow column wraps them: they are not paragraphs)
  article.querySelectorAll("p, li, dd, dt, figcaption, blockquote, td").forEach(el => {
    if (el.querySelector("p, li, dd, dt, figcaption, blockquote, td")) return;  // judged by its children
    let total = 0, bold = 0;
    const texts = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = texts.nextNode(); node; node = texts.nextNode()) {
      const n = node.textContent.replace(/\s+/g, "").length;
      total += n;
      // code (signatures, cross-references to functions) is set bold by the theme: it is not a bold wall
      if (n && !node.parentElement.closest("code, pre, kbd, samp, .sig") &&
          parseInt(getComputedStyle(node.parentElement).fontWeight, 10) >= 600) bold += n;
    }
    if (!total || bold / total < 0.5) return;
    // lines of text (not the height of the box: a table row's), maths aside (its glyphs sit on many baselines)
    const bottoms = new Set(), words = document.createTreeWalker(el, NodeFilter.SHOW_TEXT, {acceptNode: n =>
      n.parentElement.closest("mjx-container") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
    for (let node = words.nextNode(); node; node = words.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(node);
      Array.from(range.getClientRects()).filter(r => r.width > 0).forEach(r => bottoms.add(Math.round(r.bottom / 6)));
    }
    const lines = bottoms.size;
    if (lines > %(max_bold)d) bold_walls.push(describe(el) + ": " + lines + " lines, " + Math.round(100 * bold / total) + "%% bold");
  });
  // code cells a reader sees, with whether they show an output
  const code_cells = [];
  article.querySelectorAll("div.cell").forEach(cell => {
    const input = cell.querySelector(".cell_input");
    if (!input || !input.checkVisibility()) return;
    const output = cell.querySelector(".cell_output");
    code_cells.push({where: describe(input), source: (input.querySelector("pre") || input).textContent,
                     has_output: !!(output && output.checkVisibility() && output.textContent.trim() +
                                    output.querySelectorAll("img, canvas, svg, table").length)});
  });
  // figures: each image's drawn and natural width; each canvas's text as drawn (recorded by fillText)
  const figures = images.filter(img => article.contains(img)).map(img => ({
    src: img.currentSrc || img.src, where: describe(img), natural: img.naturalWidth,
    drawn: img.getBoundingClientRect().width}));
  const canvas_text = (window.__modscaleCanvasText || []).filter(t => t.px > 0);
  // words broken inside themselves in tables (code and maths aside)
  const broken_words = [];
  article.querySelectorAll("td, th").forEach(cellEl => {
    const texts = document.createTreeWalker(cellEl, NodeFilter.SHOW_TEXT, {acceptNode: n =>
      n.parentElement.closest("code, pre, .math, mjx-container") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
    for (let node = texts.nextNode(); node; node = texts.nextNode()) {
      for (const token of node.textContent.matchAll(/\S+/g)) {
        if (/[_./\\\d=()\[\]{}<>:]/.test(token[0])) continue;   // identifiers, paths and numbers may break
        for (const m of token[0].matchAll(/[A-Za-z\u00C0-\u024F]{2,}/g)) {
          const range = document.createRange(), start = token.index + m.index;
          range.setStart(node, start); range.setEnd(node, start + m[0].length);
          const tops = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top)));
          if (tops.size > 1) broken_words.push(JSON.stringify(m[0]) + " in " + describe(cellEl));
        }
      }
    }
  });
  // sentences, for repeats: prose blocks, captions and printed outputs
  const blocks = [];
  const block = "p, li, dd, figcaption, caption, .cell_output pre, .output pre";
  article.querySelectorAll(block).forEach(el => {
    if (el.querySelector(block)) return;   // its children are the blocks
    if (el.closest(".cell_input, .toctree-wrapper, nav")) return;
    blocks.push(el.textContent);
  });
  const footer = document.querySelector(".modscale-version");
  return {title: document.title, column: column, height: document.documentElement.scrollHeight,
          n_math: document.querySelectorAll(".math").length,
          mathjax_scripts: Array.from(document.scripts).filter(s => /mathjax/i.test(s.src)).map(s => s.src),
          unrendered, tex_errors, raw_tex, broken_images, too_wide: Array.from(new Set(too_wide)),
          tall_pre, bold_walls: Array.from(new Set(bold_walls)), code_cells, figures, canvas_text,
          broken_words: Array.from(new Set(broken_words)), blocks, version: footer ? footer.textContent : null};
})()
""" % {"max_pre": MAX_PRE_PX, "max_bold": MAX_BOLD_LINES}

# Recorded in every page before its scripts run: the size at which each canvas text is drawn, in CSS px.
_CANVAS_TEXT_JS = r"""
(() => {
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  window.__modscaleCanvasText = [];
  CanvasRenderingContext2D.prototype.fillText = function (text, x, y, maxWidth) {
    try {
      const px = parseFloat((/([\d.]+)px/.exec(this.font) || [])[1]);
      const t = this.getTransform(), canvas = this.canvas;
      const css = canvas.getBoundingClientRect().width / canvas.width;   // CSS px per canvas pixel
      window.__modscaleCanvasText.push({text: String(text), px: px * Math.hypot(t.a, t.b) * css});
    } catch (e) { /* never break a page's drawing */ }
    return fillText.apply(this, arguments);
  };
})();
"""


def _console_errors(events: list[dict]) -> list[str]:
    errors = []
    for event in events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            errors.append(f"exception: {text} ({details.get('url', '')}:{details.get('lineNumber', '')})")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            errors.append(f"console.{params['type']}: {args}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            if urlparse(entry.get("url", "")).path == "/favicon.ico":
                continue  # the browser asks for it by itself; the book declares no icon
            errors.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}".strip())
        elif method == "Network.loadingFailed" and not params.get("canceled") and params.get("type") != "Other":
            errors.append(f"failed load: {params.get('errorText')} (request {params.get('requestId')})")
    return errors


def _foreign_requests(events: list[dict]) -> list[str]:
    urls = []
    for event in events:
        if event["method"] == "Network.requestWillBeSent":
            url = event["params"]["request"]["url"]
            parsed = urlparse(url)
            if parsed.scheme not in ("data", "blob", "about") and parsed.hostname != "127.0.0.1":
                urls.append(url)
    return urls


@pytest.fixture(scope="module")
def reports(tab, site):
    """Each page loaded once: its report, console errors and foreign requests, and a screenshot."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    cache: dict[str, dict] = {}

    def load(page: str) -> dict:
        if page in cache:
            return cache[page]
        path = HTML / f"{page}.html"
        if not path.exists():
            pytest.fail(f"{page}.html is not in the built book")
        tab.events.clear()
        tab.send("Page.navigate", url=f"{site}/{page}.html")
        tab.wait_for("Page.loadEventFired", timeout=60)
        report = tab.evaluate(_PAGE_REPORT_JS, timeout=60)
        time.sleep(0.2)  # let late console messages arrive
        tab.send("Runtime.evaluate", expression="0")
        report["console"] = _console_errors(tab.events)
        report["foreign"] = _foreign_requests(tab.events)
        height = min(int(report["height"]), MAX_SHOT_HEIGHT)
        # a viewport as tall as the page, so the whole page is laid out and painted as a reader scrolls it
        tab.send("Emulation.setDeviceMetricsOverride", width=WIDTH, height=height, deviceScaleFactor=1, mobile=False)
        tab.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        shot = tab.send("Page.captureScreenshot", timeout=120, format="png")
        tab.send("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False)
        import base64

        (SCREENSHOTS / f"{page.replace('/', '__')}.png").write_bytes(base64.b64decode(shot["data"]))
        cache[page] = report
        return report

    return load


def _ids(pages):
    return [p.split("/")[-1] for p in pages]


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_page_maths_rendered(reports, page):
    report = reports(page)
    problems = (
        [f"not typeset: {x}" for x in report["unrendered"]]
        + [f"TeX error: {x}" for x in report["tex_errors"]]
        + [f"raw TeX: {x}" for x in report["raw_tex"]]
    )
    assert not problems, f"{page}:\n" + "\n".join(problems)
    if report["n_math"]:
        assert len(report["mathjax_scripts"]) == 1, f"{page} loads MathJax {len(report['mathjax_scripts'])} times"
        assert urlparse(report["mathjax_scripts"][0]).path == "/_static/mathjax/tex-chtml-full.js", (
            f"{page} loads MathJax from {report['mathjax_scripts'][0]}"
        )


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_page_images_load(reports, page):
    assert not reports(page)["broken_images"], f"{page}: images that did not load: {reports(page)['broken_images']}"


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_page_console_clean_and_offline(reports, page):
    report = reports(page)
    assert not report["console"], f"{page}: console errors:\n" + "\n".join(report["console"])
    assert not report["foreign"], f"{page}: requests to other hosts:\n" + "\n".join(report["foreign"])


@pytest.mark.parametrize(
    "page",
    [
        pytest.param(p, marks=pytest.mark.xfail(reason=KNOWN_TOO_WIDE[p], strict=False)) if p in KNOWN_TOO_WIDE else p
        for p in PAGES
    ],
    ids=_ids(PAGES),
)
def test_page_fits_the_column(reports, page):
    report = reports(page)
    assert not report["too_wide"], f"{page}: wider than the {report['column']:.0f} px content column:\n" + "\n".join(
        report["too_wide"]
    )


def _params(check: str):
    known = KNOWN_FAILURES[check]
    return [pytest.param(p, marks=pytest.mark.xfail(reason=known[p], strict=False)) if p in known else p for p in PAGES]


@pytest.mark.parametrize("page", _params("tall_output"), ids=_ids(PAGES))
def test_page_has_no_tall_output(reports, page):
    tall = reports(page)["tall_pre"]
    assert not tall, (
        f"{page}: printed outputs taller than {MAX_PRE_PX} px (fold them with the hide-output tag, "
        f"or print less):\n" + "\n".join(tall)
    )


@pytest.mark.parametrize("page", _params("bold_walls"), ids=_ids(PAGES))
def test_page_has_no_bold_wall(reports, page):
    walls = reports(page)["bold_walls"]
    assert not walls, f"{page}: paragraphs of bold text over {MAX_BOLD_LINES} lines:\n" + "\n".join(walls)


# Calls that set a notebook up or glue a value for the prose: a reader of the book does not need to see them.
PLUMBING_CALLS = {"glue", "setup_notebook", "use_style", "set_matplotlib_formats", "filterwarnings", "simplefilter"}


def _called(node) -> str | None:
    call = node.value if isinstance(node, ast.Expr) else None
    if isinstance(call, ast.Call):
        func = call.func
        return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return None


def only_plumbing(source: str, has_output: bool = False) -> bool:
    """Whether a code cell only imports, sets up or glues: every statement is an import, a call of
    ``PLUMBING_CALLS``, or an assignment, assertion or loop feeding them, with at least one import or such
    call, and the cell shows nothing (a cell with an output is a result, whatever it imports)."""
    if has_output:
        return False
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        body = ast.parse("\n".join(lines)).body
    except SyntaxError:
        return False

    def plumbing(node, top=True) -> tuple[bool, bool]:  # (allowed, is plumbing proper)
        if isinstance(node, (ast.Import, ast.ImportFrom)) or _called(node) in PLUMBING_CALLS:
            return True, True
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Assert)):
            return True, False
        if isinstance(node, (ast.For, ast.If, ast.With)):
            parts = [plumbing(child, False) for child in node.body + getattr(node, "orelse", [])]
            return all(a for a, _ in parts), any(b for _, b in parts)
        return False, False

    judged = [plumbing(node) for node in body]
    return bool(body) and all(a for a, _ in judged) and any(b for _, b in judged)


def test_the_plumbing_rule():
    assert only_plumbing("import numpy as np\nfrom myst_nb import glue\nplotting.setup_notebook()")
    assert only_plumbing("x = res['a'].max()\nglue('x', float(x), display=False)")
    assert only_plumbing("for k in ('a', 'b'):\n    glue(k, 1, display=False)")
    assert not only_plumbing("import numpy as np\nplt.show()")
    assert not only_plumbing("present.table({'a': [1]})")
    assert not only_plumbing("x = 1")  # a computation, not plumbing
    assert not only_plumbing("import numpy as np", has_output=True)


@pytest.mark.parametrize("page", _params("plumbing_shown"), ids=_ids(PAGES))
def test_page_hides_plumbing(reports, page):
    shown = [cell["where"] for cell in reports(page)["code_cells"] if only_plumbing(cell["source"], cell["has_output"])]
    assert not shown, (
        f"{page}: visible code cells that only import, set up or glue (tag them remove-cell, "
        f"remove-input or hide-input):\n" + "\n".join(shown)
    )


def _smallest_text_px(url: str) -> float | None:
    """The smallest text of a built image, in its own pixels, from the stamp present.setup_notebook writes
    (None without one, inf for a figure without text)."""
    from PIL import Image

    from modscale_lib.present import TEXT_SIZE_KEY

    path = HTML / urlparse(url).path.lstrip("/")
    try:
        with Image.open(path) as image:
            stamp = getattr(image, "text", {}).get(TEXT_SIZE_KEY)
    except OSError:
        return None
    if stamp is None:
        return None
    return math.inf if stamp == "none" else float(stamp.split()[0])


@pytest.mark.parametrize("page", _params("figure_text"), ids=_ids(PAGES))
def test_page_figure_text_is_legible(reports, page):
    report = reports(page)
    floor = HOUSE_TEXT_PX if page in NINE_POINT_PAGES else MIN_FIGURE_TEXT_PX
    problems = []
    for fig in report["figures"]:
        smallest = _smallest_text_px(fig["src"])
        if smallest is None:
            problems.append(
                f"{fig['where']}: no text-size stamp (re-execute the notebook after present.setup_notebook())"
            )
        elif fig["natural"] and smallest * fig["drawn"] / fig["natural"] < floor:
            problems.append(
                f"{fig['where']}: smallest text {smallest * fig['drawn'] / fig['natural']:.1f} px "
                f"(drawn at {fig['drawn'] / fig['natural']:.2f} of its pixels)"
            )
    problems += [f"canvas text {t['text']!r} at {t['px']:.1f} px" for t in report["canvas_text"] if t["px"] < floor]
    assert not problems, f"{page}: figure text below {floor} px at 100% zoom:\n" + "\n".join(dict.fromkeys(problems))


@pytest.mark.parametrize("page", _params("broken_words"), ids=_ids(PAGES))
def test_page_tables_break_no_word(reports, page):
    broken = reports(page)["broken_words"]
    assert not broken, f"{page}: table cells that break a word across lines:\n" + "\n".join(broken[:40])


def repeated_sentences(blocks: list[str]) -> list[str]:
    """Sentences of at least MIN_REPEATED_WORDS words that occur more than once among the blocks."""
    counts: dict[str, int] = {}
    for block in blocks:
        for sentence in re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", block)):
            words = re.findall(r"\w+", sentence.lower())
            if len(words) >= MIN_REPEATED_WORDS:
                key = " ".join(words)
                counts[key] = counts.get(key, 0) + 1
    return [sentence for sentence, count in counts.items() if count > 1]


def test_the_repeat_rule():
    text = "The rule finds both modules in most seeds. It is fast."
    assert repeated_sentences([text, "Also so. The rule finds both modules  in most seeds!"]) == [
        "the rule finds both modules in most seeds"
    ]
    assert repeated_sentences([text]) == []


@pytest.mark.parametrize("page", _params("repeated_sentences"), ids=_ids(PAGES))
def test_page_repeats_no_sentence(reports, page):
    repeated = repeated_sentences(reports(page)["blocks"])
    assert not repeated, f"{page}: sentences that appear more than once:\n" + "\n".join(repeated)


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_page_carries_the_version(reports, page):
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    footer = reports(page)["version"]
    assert footer and f"modscale {version}" in footer, f"{page}: footer {footer!r} does not name modscale {version}"


# ---------------------------------------------------------------------------------------------------------
# The kernel-free explorer computes the closed forms
# ---------------------------------------------------------------------------------------------------------
_SET_SLIDERS_JS = r"""
(async () => {
  const root = document.querySelector(".modscale-explorer");
  const positions = %s, results = [];
  for (const position of positions) {
    for (const [name, value] of Object.entries(position)) {
      const input = root.querySelector("input[name=" + name + "]");
      input.value = String(value);
      input.dispatchEvent(new Event("input", {bubbles: true}));
    }
    const out = root.querySelector(".modscale-readout").dataset;
    const canvas = root.querySelector("canvas"), ctx = canvas.getContext("2d");
    const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked++;
    results.push({n: +out.n, p: +out.p, d: +out.d, m: +out.m, alpha: +out.alpha, noise: +out.noise,
                  train: out.train, test: out.test, text: root.querySelector(".modscale-readout").textContent,
                  inked: inked, canvas_width: canvas.getBoundingClientRect().width,
                  column: root.getBoundingClientRect().width});
  }
  return results;
})()
"""

_POSITIONS = [
    {},  # as the page loads
    {"n": 100, "p": 100, "d": 1, "m": 2, "alpha": 1, "noise": -1.3},  # d*n = p: the interpolation peak
    {"n": 50, "p": 101, "d": 2, "m": 3, "alpha": 1.5, "noise": -2},  # |d*n - p| = 1: still the peak
    {"n": 400, "p": 37, "d": 1, "m": 1, "alpha": 0.25, "noise": 0},  # under-parameterised, noise 1
    {"n": 7, "p": 400, "d": 4, "m": 12, "alpha": 4, "noise": -4},  # over-parameterised
    {"n": 250, "p": 400, "d": 3, "m": 5, "alpha": 2.5, "noise": -0.7},  # d*n = 750: beyond the p slider
    {"n": 400, "p": 400, "d": 4, "m": 12, "alpha": 0.25, "noise": -4},  # d*n = 1600
]


def test_static_explorer_matches_theory(tab, site):
    from modscale_lib import theory
    from modscale_lib.present import LINEAR_MODEL_SLIDERS

    tab.events.clear()
    tab.send("Page.navigate", url=f"{site}/book/theory_linear_model.html")
    tab.wait_for("Page.loadEventFired", timeout=60)
    results = tab.evaluate(_SET_SLIDERS_JS % json.dumps(_POSITIONS))
    assert len(results) == len(_POSITIONS)
    for position, got in zip(_POSITIONS, results):
        for name, value in position.items():
            expected = 10.0**value if name == "noise" else value
            assert math.isclose(got[name], expected, rel_tol=1e-12), (name, got)
        spectrum = theory.power_law_spectrum(400, got["m"], got["alpha"])
        train, test = theory.expected_losses(int(got["n"]), int(got["p"]), spectrum, int(got["d"]), got["noise"])
        for label, js, py in (("train", got["train"], float(train)), ("test", got["test"], float(test))):
            js = float("inf") if js == "Infinity" else float(js)
            assert (js == py) if not np.isfinite(py) else math.isclose(js, py, rel_tol=1e-9, abs_tol=1e-15), (
                f"{label} loss at {got}: explorer {js!r}, theory.expected_losses {py!r}"
            )
        assert got["inked"] > 2000, f"the explorer's canvas looks blank at {got}"
        # the readout names no n or p outside the sliders' ranges (the p slider ends at the spectrum's size)
        ranges = {"n": LINEAR_MODEL_SLIDERS["n"][1:3], "p": (LINEAR_MODEL_SLIDERS["p"][1], 400)}
        for name, value in re.findall(r"\b([np]) = ([\d.]+)", got["text"]):
            low, high = ranges[name]
            assert low <= float(value) <= high, (
                f"the readout names {name} = {value}, outside [{low}, {high}]: {got['text']}"
            )
        assert "alpha" not in got["text"] and "\u03b1 = " in got["text"], got["text"]
        assert got["canvas_width"] <= got["column"] + 1, "the explorer's canvas is wider than its column"
    drawn = tab.evaluate("(window.__modscaleCanvasText || []).map(t => t.text)")
    for label in ("samples n", "parameters p", "expected loss"):  # both axes of both panels are labelled
        assert any(text.startswith(label) for text in drawn), f"the explorer draws no {label!r} label: {set(drawn)}"
    assert not _console_errors(tab.events), _console_errors(tab.events)
