"""Render sections as one self-contained HTML file or a Markdown file with PNG figures.

Jinja2 templates ship in ``bayescount/reports/templates``. HTML is rendered with
autoescape on, so every label that came from data is text, never markup; the page
carries a Content-Security-Policy that forbids scripts and every network request
(figures are inline ``data:`` SVG images, the CSS is inline). Markdown is rendered with
an escaping ``finalize`` hook: every value written into the document has ``& < >``
HTML-escaped and the Markdown punctuation (backslash, backtick, ``* _ [ ] |``) escaped
with a backslash, so a service called ``<script>alert(1)</script>`` stays text in any
Markdown renderer.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import re
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import jinja2
import markupsafe

from bayescount.io.atomic import atomic_write
from bayescount.reports.content import Figure, Section

__all__ = ["markdown_escape", "render_html", "render_markdown", "write_report"]

#: Figures wider than this (inches) scroll sideways on a phone instead of shrinking.
WIDE_INCHES = 8.5

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|])")


def markdown_escape(value: Any) -> str:
    """Escape text for Markdown: HTML-escape ``& < >``, backslash Markdown punctuation.

    Newlines become spaces (a table cell is one line).

    Parameters
    ----------
    value : object
        Anything; ``None`` becomes the empty string.

    Returns
    -------
    str
    """
    if value is None:
        return ""
    if isinstance(value, markupsafe.Markup):  # the renderer's own links, already safe
        return str(value)
    text = html.escape(str(value), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.splitlines()))


def _environment(fmt: Literal["html", "markdown"]) -> jinja2.Environment:
    loader = jinja2.PackageLoader("bayescount.reports", "templates")
    if fmt == "html":
        env = jinja2.Environment(loader=loader, autoescape=True, trim_blocks=True,
                                 lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    else:
        env = jinja2.Environment(loader=loader, autoescape=False, finalize=markdown_escape,
                                 trim_blocks=True, lstrip_blocks=True,
                                 undefined=jinja2.StrictUndefined)
    env.filters["id"] = id  # figures are looked up by identity
    return env


def _svg(figure: Any) -> str:
    """Return the figure as a base64 ``data:image/svg+xml`` URI, then close it."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "bayescount"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _png(figure: Any, path: Path) -> Path:
    """Write the figure as a PNG at ``path`` (atomically), then close it."""
    import matplotlib.pyplot as plt

    def write(fh):
        figure.savefig(fh, format="png", dpi=110, bbox_inches="tight",
                       metadata={"Software": None})

    atomic_write(path, write)
    plt.close(figure)
    return path


def _context(title: str, subtitle: str, sections: Sequence[Section], gate: str,
             figures: dict[int, str]) -> dict[str, Any]:
    return {
        "title": title,
        "subtitle": subtitle,
        "gate": gate,
        "sections": sections,
        "figure_src": figures,
        "generated": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _all_figures(sections: Sequence[Section]) -> list[Figure]:
    return [f for s in sections for f in s.figures]


def render_html(title: str, subtitle: str, sections: Sequence[Section], gate: str) -> str:
    """Return the report as one self-contained HTML document (figures closed after).

    Parameters
    ----------
    title, subtitle : str
        Heading and the line under it.
    sections : sequence of Section
        In order.
    gate : str
        The gate colour, shown in the header.

    Returns
    -------
    str
    """
    figures = _all_figures(sections)
    # figures wider than WIDE_INCHES keep a legible size on a phone and scroll sideways
    wide = {id(f) for f in figures if f.figure.get_size_inches()[0] > WIDE_INCHES}
    sources = {id(f): _svg(f.figure) for f in figures}
    template = _environment("html").get_template("report.html.j2")
    return template.render(_context(title, subtitle, sections, gate, sources) | {"wide": wide})


def render_markdown(
    title: str, subtitle: str, sections: Sequence[Section], gate: str, figure_dir: Path,
    link_prefix: str,
) -> tuple[str, list[Path]]:
    """Return the report as Markdown and the PNG figures written into ``figure_dir``.

    Parameters
    ----------
    title, subtitle : str
        Heading and the line under it.
    sections : sequence of Section
        In order.
    gate : str
        The gate colour.
    figure_dir : Path
        Folder for the PNG files (created).
    link_prefix : str
        Relative path of ``figure_dir`` from the Markdown file (``"report_files"``).

    Returns
    -------
    text : str
    paths : list of Path
        The PNG files, in order.
    """
    figure_dir.mkdir(parents=True, exist_ok=True)
    links, paths, used = {}, [], set()
    for i, f in enumerate(_all_figures(sections), start=1):
        name = f"{i:02d}-{f.slug}.png"
        while name in used:  # slugs are the builders' own, but never overwrite one
            name = f"{i:02d}-{f.slug}-{len(used)}.png"
        used.add(name)
        paths.append(_png(f.figure, figure_dir / name))
        links[id(f)] = markupsafe.Markup(urllib.parse.quote(f"{link_prefix}/{name}"))
    template = _environment("markdown").get_template("report.md.j2")
    return template.render(_context(title, subtitle, sections, gate, links)), paths


def write_report(
    path: Path, fmt: Literal["html", "markdown"], title: str, subtitle: str,
    sections: Sequence[Section], gate: str,
) -> list[Path]:
    """Render and write the report; return the files written (the report first).

    Markdown figures go to ``<stem>_files/`` beside the report.
    """
    if fmt == "html":
        atomic_write(path, render_html(title, subtitle, sections, gate).encode("utf-8"))
        return [path]
    folder = path.with_name(f"{path.stem}_files")
    text, figures = render_markdown(title, subtitle, sections, gate, folder, folder.name)
    atomic_write(path, text.encode("utf-8"))
    return [path, *figures]
