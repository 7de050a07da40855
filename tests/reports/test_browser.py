"""The HTML report in a real browser (headless Chromium): no console error, every figure
loaded, no page-wide horizontal scrolling on a phone, non-blank screenshots."""

from __future__ import annotations

import re

import pytest
from browser import console_lines, load, probe, screenshot
from PIL import Image

DESKTOP, PHONE = 1280, 390


def test_the_console_check_can_fail(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<html><head><meta http-equiv=\"Content-Security-Policy\" "
                   "content=\"default-src 'none'\"></head><body>"
                   "<img src=\"https://example.com/x.png\"></body></html>")
    _, console = load(bad)
    assert any("Content Security Policy" in line for line in console), console


def test_report_opens_without_console_messages_and_shows_every_figure(full_html):
    result, html = full_html
    dom, console = load(result.path)
    assert console == []
    figures = re.findall(r'<img src="data:image/svg\+xml;base64,', html)
    assert len(re.findall(r'<img src="data:image/svg\+xml;base64,', dom)) == len(figures) > 0
    for key in result.sections:
        assert f'<section id="{key}"' in dom


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_every_figure_loads_and_the_page_fits_the_width(full_html, width):
    result, html = full_html
    seen = probe(result.path, width)
    assert int(seen["images"]) == html.count("<img ") > 0
    assert seen["broken"] == "0"
    assert seen["errors"] == ""
    assert int(seen["overflow"]) <= 0  # wide tables scroll inside their own box


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_screenshots_are_not_blank(full_html, tmp_path, width):
    png = screenshot(full_html[0].path, tmp_path / f"{width}.png", width)
    with Image.open(png) as image:
        assert image.size == (width, 2000)
        small = image.convert("RGB").resize((64, 200))
        colours = small.getcolors(maxcolors=64 * 200)
        assert len(colours) > 20  # text, badges and figures, not a blank page
        white = max(count for count, rgb in colours if rgb == (255, 255, 255)) \
            if any(rgb == (255, 255, 255) for _, rgb in colours) else 0
        assert white < 0.95 * 64 * 200


def test_console_lines_reads_chromium_log():
    log = ('[1:1:1130/0:INFO:CONSOLE:1] "Uncaught ReferenceError: foo", source: x (1)\n'
           "[1:1:1130/0:ERROR:dbus/bus.cc:405] Failed to connect to the bus")
    assert console_lines(log) == [log.splitlines()[0]]
