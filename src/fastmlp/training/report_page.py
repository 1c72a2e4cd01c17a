"""The HTML page of a :class:`~fastmlp.training.report.Report`: one file, its style,
script and data inline. The Content-Security-Policy forbids every load from outside the
page (``default-src 'none'``), so the page cannot reach the network even by mistake; the
script draws SVG and canvas figures from the embedded JSON."""
from __future__ import annotations

import functools
import html
import json
import os
from typing import Any

__all__ = ["render", "CSP"]

CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src data:; base-uri 'none'; form-action 'none'")
_ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "report_assets")


@functools.lru_cache(maxsize=None)
def _asset(name: str) -> str:
    with open(os.path.join(_ASSETS, name), encoding="utf-8") as f:
        return f.read()


def embed_json(data: Any) -> str:
    """JSON safe inside a <script> element: no NaN (an error: the caller maps them to
    null), no '</' that could close the element, no line separators JavaScript rejects."""
    text = json.dumps(data, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    return (text.replace("</", "<\\/").replace("<!--", "<\\!--")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def render(data: dict[str, Any]) -> str:
    """The whole page for ``data`` (:meth:`Report.data`)."""
    title = html.escape(str(data.get("title", "fastmlp report")))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"generator\" content=\"fastmlp\">\n"
        f"<title>{title} - fastmlp training report</title>\n"
        f"<style>\n{_asset('report.css')}</style>\n</head>\n<body>\n"
        f"<header><h1>{title}</h1><p class=\"sub\">fastmlp training report</p></header>\n"
        "<main id=\"report\"><noscript>This report draws its figures with JavaScript; the "
        "data is in the report-data element of this file.</noscript></main>\n"
        f"<script type=\"application/json\" id=\"report-data\">{embed_json(data)}</script>\n"
        f"<script>\n{_asset('report.js')}</script>\n</body>\n</html>\n")
