"""The rendered files: self-contained HTML (phone and print CSS, no network), Markdown
with PNG figures beside it, data labels escaped in both."""

from __future__ import annotations

import base64
import re

import pytest
from conftest import LABEL

from bayescount.reports.render import markdown_escape


def test_html_is_self_contained(full_html):
    _, html = full_html
    # no resource from the network: every src/href is a data: URI or an in-page anchor
    refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', html)
    assert refs, "the report has no figures or links"
    assert all(r.startswith(("data:", "#")) for r in refs), [r[:40] for r in refs
                                                            if not r.startswith(("data:", "#"))]
    assert not re.search(r"(?:src|href)\s*=\s*['\"]?(?:https?:)?//", html)
    assert "@import" not in html and "url(" not in html.split("</style>")[0]
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "default-src 'none'; img-src data:" in html  # CSP: no script, no network
    assert "@media print" in html and "@media (max-width: 600px)" in html
    assert 'class="table-wrap"' in html and "overflow-x: auto" in html


def test_every_figure_is_an_inline_svg(full_html):
    result, html = full_html
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert len(sources) >= len(result.sections)  # at least one figure per computed section
    for src in sources:
        assert src.startswith("data:image/svg+xml;base64,")
        svg = base64.b64decode(src.split(",", 1)[1]).decode()
        assert "<svg" in svg and "</svg>" in svg
        assert "<script" not in svg.lower()  # matplotlib escapes the label in SVG text


def test_markdown_has_the_same_sections_and_png_figures_beside_it(full_markdown, full_html):
    result, text = full_markdown
    assert result.format == "markdown"
    assert result.sections == full_html[0].sections
    assert result.path.name == "postmortem.md"
    folder = result.path.with_name("postmortem_files")
    assert result.figures and all(p.parent == folder for p in result.figures)
    for png in result.figures:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"](postmortem_files/{png.name})" in text
    assert len(re.findall(r"!\[", text)) == len(result.figures) == text.count(".png)")
    html_titles = re.findall(r"<h2>([^<]+)", full_html[1])
    md_titles = re.findall(r"^## (.+)$", text, re.M)
    assert [t.strip() for t in html_titles] == [t.replace("\\", "") for t in md_titles]


def test_markdown_escapes_the_label(full_markdown):
    _, text = full_markdown
    assert LABEL not in text
    assert "<script" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("a|b", r"a\|b"),
        ("x & y", "x &amp; y"),
        ("two\nlines", "two lines"),
        ("*bold* _it_ [link](x) `code`", r"\*bold\* \_it\_ \[link\](x) \`code\`"),
        (None, ""),
        (0.5, "0.5"),
    ],
)
def test_markdown_escape(value, expected):
    assert markdown_escape(value) == expected


def test_markdown_table_rows_keep_their_columns(full_markdown):
    _, text = full_markdown
    for block in re.findall(r"((?:^\|.*\|\n)+)", text, re.M):
        lines = block.strip().splitlines()
        widths = {len(re.findall(r"(?<!\\)\|", line)) for line in lines}
        assert len(widths) == 1, lines[:3]  # an escaped pipe never adds a column
