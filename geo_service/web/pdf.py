"""Print a page's HTML to PDF with headless Chromium (Debian's, driven by Playwright).

The service never downloads a browser: it uses the Chromium at ``GEO_SERVICE_CHROMIUM`` or
``/usr/bin/chromium`` (``make browser`` installs Debian's). The HTML is served to the browser
from memory at a made-up origin and the stylesheets from ``geo_service/static``; every other
request is refused, so printing never touches the network.

A4 portrait, 14 mm margins; Chromium's own header and footer carry the report's title, the
edition line (on every page) and "pagina N van M". A contents list (``nav.toc``, links to the
sections) gets the page number of each section: the page is printed once, the pages of the
headings are read from the PDF's outline (which Chromium writes from the headings), written
beside the links, and the page printed again (the numbers change no page break: they sit
on lines the links already fill).
"""

from __future__ import annotations

import html
import io
import os
import shutil
from pathlib import Path
from typing import Any, Final

from geo_service.errors import GeoServiceError

STATIC_DIR: Final = Path(__file__).resolve().parents[1] / "static"
#: The origin the HTML is served from inside the browser (never resolved: requests are
#: answered by the route handler below).
ORIGIN: Final = "http://veiligheidskaart.invalid"
#: Debian's Chromium (``make browser``).
DEFAULT_CHROMIUM = "/usr/bin/chromium"
ARGS: Final = ("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run")


class ChromiumMissingError(GeoServiceError):
    """No usable Chromium (the PDF cannot be printed)."""


def chromium_path() -> Path:
    """Return the Chromium to use.

    Raises
    ------
    ChromiumMissingError
        Neither ``$GEO_SERVICE_CHROMIUM`` nor ``/usr/bin/chromium`` (nor ``chromium`` on the
        PATH) is an executable file.
    """
    candidates = [os.environ.get("GEO_SERVICE_CHROMIUM"), DEFAULT_CHROMIUM]
    found = shutil.which("chromium")
    candidates.append(found)
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return Path(c)
    raise ChromiumMissingError(
        "Chromium ontbreekt: installeer het met `make browser` (Debian-pakket chromium) of "
        "wijs het aan met GEO_SERVICE_CHROMIUM / chromium not found"
    )


def _header(title: str, edition: str) -> str:
    style = "font-size:8px;width:100%;margin:0 14mm;display:flex;justify-content:space-between"
    return (
        f'<div style="{style}"><span>{html.escape(title)}</span>'
        f"<span>{html.escape(edition)}</span></div>"
    )


def _footer(edition: str) -> str:
    style = "font-size:8px;width:100%;margin:0 14mm;display:flex;justify-content:space-between"
    return (
        f'<div style="{style}"><span>{html.escape(edition)}</span><span>pagina '
        '<span class="pageNumber"></span> van <span class="totalPages"></span></span></div>'
    )


#: Writes the page number of each contents entry (``nav.toc a[href="#id"]``) beside it: the
#: page of the first heading in the linked element, looked up by its text in ``pages``.
_FILL_CONTENTS: Final = """(pages) => {
  const norm = (s) => s.replace(/\\s+/g, " ").trim();
  let filled = 0;
  for (const a of document.querySelectorAll('nav.toc a[href^="#"]')) {
    const target = document.getElementById(decodeURIComponent(a.getAttribute("href").slice(1)));
    if (!target) continue;
    const h = target.matches("h1,h2,h3") ? target : target.querySelector("h1,h2,h3");
    const page = h ? pages[norm(h.textContent)] : undefined;
    if (page === undefined) continue;
    let span = a.parentElement.querySelector(".toc-page");
    if (!span) {
      span = document.createElement("span");
      span.className = "toc-page";
      a.after(span);
    }
    span.textContent = String(page);
    filled += 1;
  }
  return filled;
}"""


def outline_pages(pdf: bytes) -> dict[str, int]:
    """Return ``{heading text: page number (1-based)}`` of a PDF's outline (first occurrence).

    Titles are whitespace-normalised, as the contents filler normalises the headings.
    """
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    pages: dict[str, int] = {}

    def walk(items: list[Any]) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
                continue
            title = " ".join(str(item.title).split())
            number = reader.get_destination_page_number(item)
            if number is not None and number >= 0:
                pages.setdefault(title, number + 1)

    walk(list(reader.outline))
    return pages


def print_pdf(page_html: str, out: Path, *, title: str, edition: str, path: str = "/") -> int:
    """Print ``page_html`` to ``out`` (A4, page numbers); return the PDF's size in bytes.

    Parameters
    ----------
    page_html
        The page's whole HTML document (stylesheets under ``/static/`` are served).
    out
        The PDF file to write (its folder must exist).
    title, edition
        Header text of every page: the report's title and the edition line.
    path
        The path the page is served at (relative links resolve against it).

    Raises
    ------
    ChromiumMissingError
        No Chromium, or it would not start.
    """
    exe = chromium_path()
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import Route, sync_playwright

    def answer(route: Route) -> None:
        url = route.request.url
        if url.split("#")[0] == ORIGIN + path:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=page_html)
            return
        if url.startswith(ORIGIN + "/static/"):
            rel = url[len(ORIGIN + "/static/") :].split("?")[0]
            file = (STATIC_DIR / rel).resolve()
            if file.is_relative_to(STATIC_DIR) and file.is_file():
                route.fulfill(path=str(file))
                return
        route.abort()

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(exe), args=list(ARGS))
            try:
                page = browser.new_page()
                page.route("**/*", answer)
                page.goto(ORIGIN + path, wait_until="load")
                page.emulate_media(media="print")
                options: dict[str, Any] = {
                    "path": str(out),
                    "format": "A4",
                    "print_background": True,
                    "display_header_footer": True,
                    "header_template": _header(title, edition),
                    "footer_template": _footer(edition),
                    "margin": {"top": "16mm", "bottom": "16mm", "left": "14mm", "right": "14mm"},
                    "outline": True,
                    "tagged": True,
                }
                draft = page.pdf(**{k: v for k, v in options.items() if k != "path"})
                has_contents = page.evaluate(
                    "() => document.querySelector('nav.toc a[href^=\"#\"]') !== null"
                )
                if has_contents and page.evaluate(_FILL_CONTENTS, outline_pages(draft)):
                    page.pdf(**options)
                else:
                    out.write_bytes(draft)
            finally:
                browser.close()
    except PlaywrightError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ChromiumMissingError(
            f"Chromium kon de PDF niet maken ({first[:160]}) / chromium failed"
        ) from exc
    return out.stat().st_size
