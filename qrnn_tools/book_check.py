"""Open every page of a built Jupyter Book in a real headless browser and report problems.

The built HTML folder (e.g. ``_build/html``) is served over http on 127.0.0.1, and each page
is loaded in Debian's chromium driven by Playwright. A page has a problem when it has

* an uncaught JavaScript error, or a console message of type ``error``;
* an ``<img>`` that did not load (``naturalWidth == 0``), or a same-origin request that failed
  or answered HTTP >= 400;
* TeX math (elements with class ``math``) that MathJax did not turn into ``mjx-container``,
  or MathJax that failed to load at all. Pages without math need no MathJax;
* a content figure (an ``<img>`` in the page's article) without a numbered caption, or whose alt
  text is empty or a hash file name;
* content wider than the window at 1,280 px (the page scrolls sideways), or a table wider than its
  container (its box scrolls, or clips, sideways: the table must fit the column);
* caption text (a figure's or a table's) below WCAG AA contrast (4.5:1) against its background;
* an unrendered citation or glue (``{cite:p}``, ``{glue:text}``, a citation key left as ``[key]``).

The front page (the target of ``index.html``'s redirect) is also opened at a laptop's 1,366 x 768: its
answer's tally (``.qrnn-tally``) and its arm x protocol table (``table.qrnn-first-table``) must lie wholly
inside that first viewport, before any scrolling.

Requests to other origins are blocked, so the check is hermetic and works offline.

Usage: ``python -m qrnn_tools.book_check _build/html`` (exit status 1 when there are problems).
Needs ``apt-get install chromium`` and ``pip install playwright`` (no ``playwright install``).
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import sys
import threading
import urllib.parse
from pathlib import Path
from typing import Iterable

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync",
]
SKIP_NAMES = {"genindex.html", "search.html"}
SKIP_DIRS = {"_static", "_sources"}
# Harmless errors of a stock Jupyter Book 1.0.x build, not of the book's content (regexes):
KNOWN_BENIGN = (
    # Sphinx 7.4 emits sphinx-thebe 0.3.1's inline config <script> twice on every page.
    r"^JavaScript error: Identifier 'THEBE_JS_URL' has already been declared$",
)
MATHJAX_LOAD_GRACE_S = 3.0  # after the page's load event, how long MathJax may take to appear
_HAS_MATH = re.compile(r"""class=["'](?:[^"']*\s)?math(?:\s[^"']*)?["']""")
_META_REFRESH = re.compile(r"""<meta[^>]+http-equiv=["']refresh["'][^>]*url=([^"'>\s]+)""", re.I)

# Runs in the page after load: wait (bounded) for pending images, then list the broken ones.
_BROKEN_IMAGES_JS = """async (ms) => {
  const imgs = Array.from(document.images);
  imgs.forEach(i => { i.loading = 'eager'; });
  const pending = imgs.filter(i => !i.complete)
    .map(i => new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); }));
  await Promise.race([Promise.all(pending), new Promise(r => setTimeout(r, ms))]);
  return imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src'));
}"""
_MATHJAX_READY_JS = "() => !!(window.MathJax && MathJax.startup && MathJax.startup.promise)"
# Runs after MathJax is present: await its startup promise (bounded), then list what failed.
_MATH_JS = """async (ms) => {
  const timeout = new Promise((_, no) => setTimeout(() => no(new Error('timed out')), ms));
  try { await Promise.race([MathJax.startup.promise, timeout]); }
  catch (e) { return {error: String(e && e.message || e)}; }
  const els = Array.from(document.querySelectorAll('.math'));
  return {
    unrendered: els.filter(e => !e.querySelector('mjx-container'))
                   .map(e => e.textContent.trim().slice(0, 60)),
    texErrors: Array.from(document.querySelectorAll('mjx-merror'))
                    .map(e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 80)),
  };
}"""


# Runs in the page: what a reader would see wrong with the figures, the width and the text.
_READER_JS = r"""() => {
  const article = document.querySelector('article') || document.body;
  const figures = [];
  for (const img of article.querySelectorAll('img')) {
    if (img.closest('.sidebar, nav, header, footer')) continue;
    const alt = (img.getAttribute('alt') || '').trim();
    const fig = img.closest('figure');
    const caption = fig ? (fig.querySelector('figcaption') || {}).textContent || '' : '';
    figures.push({src: (img.getAttribute('src') || '').split('/').pop(), alt: alt,
                  caption: caption.trim(), numbered: !!(fig && fig.querySelector('.caption-number')),
                  shown: img.clientWidth, natural: img.naturalWidth});
  }
  const tables = [];
  for (const t of article.querySelectorAll('table')) {
    const box = t.parentElement;
    const over = box.scrollWidth - box.clientWidth;
    if (over > 1) {
      const name = (t.querySelector('caption') || t.querySelector('th') || {}).textContent || '';
      tables.push({name: name.trim().replace(/\s+/g, ' ').slice(0, 60), over: over});
    }
  }
  const background = el => {  // the first opaque background up the tree (white if none)
    for (let e = el; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      if (c && !/rgba\(.*,\s*0\)$/.test(c) && c !== 'transparent') return c;
    }
    return 'rgb(255, 255, 255)';
  };
  const captions = [];
  for (const c of article.querySelectorAll('figcaption, caption, p.caption')) {
    for (const e of [c, ...c.querySelectorAll('*')]) {
      if (!Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim())) continue;
      if (e.closest('a.headerlink')) continue;  // the permalink sign, shown on hover only
      captions.push({text: e.textContent.trim().slice(0, 40), color: getComputedStyle(e).color, background: background(e)});
    }
  }
  const text = article.innerText || '';
  const raw = (text.match(/\{(cite|glue)(:[a-z]+)?\}`[^`]*`/g) || []).slice(0, 3);
  return {figures: figures, overflow: document.documentElement.scrollWidth - window.innerWidth, raw: raw,
          tables: tables, captions: captions};
}"""
# Runs in the front page at scroll 0: where the first screen's tally and table end, in page pixels.
_FIRST_SCREEN_JS = """() => {
  const box = sel => { const e = document.querySelector(sel); if (!e) return null;
                       const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom}; };
  return {tally: box('.qrnn-tally'), table: box('table.qrnn-first-table'), height: window.innerHeight};
}"""
_HASH_NAME = re.compile(r"^[0-9a-f]{16,}(\.(png|jpg|svg))?$", re.I)
VIEWPORT = {"width": 1280, "height": 900}
#: The column width the figures' text is sized for (qrnn_study.figures.COLUMN_PX, kept in step by a test).
COLUMN_PX = 672
#: A laptop's screen: the front page's answer, tally and table must fit it before any scrolling.
FIRST_SCREEN = {"width": 1366, "height": 768}


#: WCAG 2 AA: the least contrast ratio of body-size text against its background.
AA_CONTRAST = 4.5
_RGB = re.compile(r"rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)")


def luminance(css_color: str) -> float:
    """WCAG relative luminance of a computed CSS colour (``rgb(r, g, b)`` or ``rgba(...)``, alpha ignored)."""
    m = _RGB.match(css_color)
    if not m:
        raise ValueError(f"not a computed rgb colour: {css_color!r}")
    lin = [(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4) for c in (float(x) / 255 for x in m.groups())]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two computed CSS colours, from 1 (same) to 21 (black on white)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def reader_problems(found: dict) -> list[str]:
    """Problems a reader would see, from what :data:`_READER_JS` found on one page."""
    out = []
    for f in found["figures"]:
        if not f["numbered"] or not f["caption"]:
            out.append(f"figure {f['src']} has no numbered caption")
        if not f["alt"] or _HASH_NAME.match(f["alt"]) or f["alt"] == f["src"]:
            out.append(f"figure {f['src']} has no alt text that describes it (alt={f['alt']!r})")
        # The figures' text is sized for a column of COLUMN_PX (qrnn_study.figures.rendered_sizes): shown
        # narrower than that, or than its own width, it would render below the 9 pt the tests check.
        if f.get("natural") and f.get("shown") is not None and f["shown"] < min(f["natural"], COLUMN_PX) - 2:
            out.append(f"figure {f['src']} is shown {f['shown']} px wide, narrower than the "
                       f"{min(f['natural'], COLUMN_PX)} px its text is sized for")
    if found["overflow"] > 2:
        out.append(f"the page is {found['overflow']} px wider than a 1,280 px window")
    out += [f"unrendered role: {r}" for r in found["raw"]]
    out += [f"table {t['name']!r} is {t['over']} px wider than its container (it scrolls or is clipped "
            f"sideways)" for t in found.get("tables", [])]
    for c in found.get("captions", []):
        ratio = contrast(c["color"], c["background"])
        if ratio < AA_CONTRAST:
            out.append(f"caption text {c['text']!r} has contrast {ratio:.1f}:1, below WCAG AA's {AA_CONTRAST}:1")
            break  # one per page: the captions of a page share their style
    return out


def first_screen_problems(found: dict) -> list[str]:
    """What is missing from the front page's first screen, from what :data:`_FIRST_SCREEN_JS` found: the
    tally and the table must exist and end (their bounding box's bottom) within the window's height."""
    out = []
    for key, what in (("tally", "the tally of verdicts (.qrnn-tally)"),
                      ("table", "the arm x protocol table (table.qrnn-first-table)")):
        box = found.get(key)
        if box is None:
            out.append(f"the front page has no {what}")
        elif box["bottom"] > found["height"]:
            out.append(f"{what} ends at {box['bottom']:.0f} px, below the first screen "
                       f"({found['height']} px high): the reader must scroll to see it")
    return out


def find_chromium() -> str:
    """Path of Debian's chromium: /usr/bin/chromium, else ``chromium`` on PATH."""
    path = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
    if not path:
        raise RuntimeError("chromium not found (/usr/bin/chromium or on PATH): "
                           "install it with `apt-get install chromium`")
    return path


def book_pages(html_dir: Path) -> list[Path]:
    """Every *.html page of the book, less the index/search pages and _static/, _sources/."""
    return sorted(p for p in html_dir.rglob("*.html")
                  if p.name not in SKIP_NAMES
                  and not SKIP_DIRS.intersection(p.relative_to(html_dir).parts[:-1]))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no access log on stderr
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # The browser may drop a connection early (e.g. its favicon.ico request): not a problem.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _check_page(page, url: str, source: str, timeout_s: float) -> list[str]:
    """Load one page in ``page`` (a Playwright Page) and return its problems (no page prefix)."""
    problems: list[str] = []
    origin, seen = url.split("/", 3)[:3], set()

    def bad_request(u: str, why: str) -> None:  # same-origin only, each URL once
        if u.split("/", 3)[:3] == origin and u not in seen:
            seen.add(u)
            problems.append(f"{why} for {u.split('/', 3)[-1]}")

    def on_console(msg) -> None:
        # A failed load is also reported as a bad request; do not report it twice.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            problems.append(f"console error: {msg.text}")

    page.on("pageerror", lambda err: problems.append(f"JavaScript error: {err}"))
    page.on("console", on_console)
    page.on("response", lambda r: r.status >= 400 and bad_request(r.url, f"HTTP {r.status}"))
    page.on("requestfailed", lambda r: bad_request(r.url, f"request failed ({r.failure})"))
    ms = timeout_s * 1000
    try:
        page.goto(url, wait_until="load", timeout=ms)
        for src in page.evaluate(_BROKEN_IMAGES_JS, ms):
            problems.append(f"image did not load: {src}")
        problems += reader_problems(page.evaluate(_READER_JS))
        if _HAS_MATH.search(source):
            try:
                grace_ms = min(ms, MATHJAX_LOAD_GRACE_S * 1000)
                page.wait_for_function(_MATHJAX_READY_JS, timeout=grace_ms)
            except Exception:
                problems.append("math on the page, but MathJax did not load")
            else:
                res = page.evaluate(_MATH_JS, ms)
                if "error" in res:
                    problems.append(f"MathJax failed: {res['error']}")
                else:
                    problems += [f"math not rendered: {t!r}" for t in res["unrendered"]]
                    problems += [f"TeX error: {t}" for t in res["texErrors"]]
    except Exception as err:  # navigation timeout, crashed page, ...
        problems.append(f"could not check the page: {err}".splitlines()[0])
    return problems


def _check_first_screen(browser, url: str, base: str, timeout_s: float) -> list[str]:
    """Open the front page at :data:`FIRST_SCREEN` in its own context and return its first-screen problems."""
    context = browser.new_context(viewport=FIRST_SCREEN)
    context.route(lambda u: not u.startswith(base), lambda route: route.abort())
    page = context.new_page()
    try:
        page.goto(url, wait_until="load", timeout=timeout_s * 1000)
        page.evaluate("async () => { await document.fonts.ready; return true; }")  # the layout with the book's own fonts
        return first_screen_problems(page.evaluate(_FIRST_SCREEN_JS))
    except Exception as err:
        return [f"could not check the first screen: {err}".splitlines()[0]]
    finally:
        context.close()


def check_book(html_dir: str | Path, *, timeout_s: float = 30,
               ignore: Iterable[str] = KNOWN_BENIGN) -> list[str]:
    """Check every page of the built book in ``html_dir``; return the problems, [] if none.

    Each problem is a readable string starting with the page's path relative to ``html_dir``.
    ``timeout_s`` bounds each page's load, its images and MathJax's typesetting.
    A page's problem that matches (``re.search``) one of the regexes ``ignore`` is dropped;
    pass ``ignore=()`` to see everything.
    Raises RuntimeError when chromium or playwright is missing, ValueError for a bad folder.
    """
    html_dir = Path(html_dir).resolve()
    if not html_dir.is_dir():
        raise ValueError(f"{html_dir} is not a folder of built HTML")
    chromium = find_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:
        raise RuntimeError("the Python package playwright is needed: "
                           "pip install playwright") from err

    problems: list[str] = []
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(viewport=VIEWPORT)
                # Hermetic: anything not served by our server is blocked.
                context.route(lambda u: not u.startswith(base), lambda route: route.abort())
                front = None
                for path in book_pages(html_dir):
                    rel = path.relative_to(html_dir).as_posix()
                    source = path.read_text(encoding="utf-8", errors="replace")
                    redirect = _META_REFRESH.search(source)
                    if redirect:  # a redirect stub such as index.html: its local target must exist
                        target = redirect.group(1).split("#")[0]
                        if "://" not in target and not (path.parent / target).is_file():
                            problems.append(f"{rel}: redirects to missing {target}")
                        elif rel == "index.html" and "://" not in target:
                            front = (path.parent / target).resolve().relative_to(html_dir).as_posix()
                        continue
                    page = context.new_page()
                    try:
                        found = _check_page(page, base + urllib.parse.quote(rel), source, timeout_s)
                        problems += [f"{rel}: {p}" for p in found
                                     if not any(re.search(pattern, p) for pattern in ignore)]
                    finally:
                        page.close()
                if front is not None:
                    problems += [f"{front}: {p}" for p in _check_first_screen(browser, base + urllib.parse.quote(front),
                                                                              base, timeout_s)]
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m qrnn_tools.book_check HTML_DIR``; 1 when there are problems."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m qrnn_tools.book_check HTML_DIR", file=sys.stderr)
        return 2
    problems = check_book(argv[0])
    print("\n".join(problems) if problems else
          f"{len(book_pages(Path(argv[0]).resolve()))} pages checked, no problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
