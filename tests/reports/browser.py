"""Headless Chromium helpers for the report tests (Debian's ``chromium``; .ci/run installs it).

``chromium()`` returns the binary, skips the test when there is none, and fails instead
under ``CI`` (a missing browser must not pass silently there). ``load`` dumps the DOM
of a page after its ``load`` event, with Chromium's console messages (``--enable-logging
--v=0`` writes each as an ``INFO:CONSOLE`` line on stderr); ``probe`` first injects a
script that records ``window.onerror``, the loaded images and the page overflow into
the ``<body>`` attributes; ``screenshot`` writes a PNG at a window size.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

#: Recorder injected as the first element of <head>, before the report's CSP meta tag
#: (a meta CSP applies only to what follows it).
PROBE = """<head>
<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  window.__errors.push(String(e.message || e.type));
}, true);
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  var b = document.body;
  b.setAttribute("data-images", imgs.length);
  b.setAttribute("data-broken", broken.length);
  b.setAttribute("data-errors", window.__errors.join("|"));
  b.setAttribute("data-overflow", document.documentElement.scrollWidth - window.innerWidth);
});
</script>"""


def chromium() -> str:
    """Return the Chromium binary; skip without one (fail under CI)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        if "CI" in os.environ:
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


def _run(url: str, *flags: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
             "--virtual-time-budget=10000", *flags, url],
            capture_output=True, text=True, timeout=180, check=False,
        )


def console_lines(stderr: str) -> list[str]:
    """The page's console messages in Chromium's log (errors, CSP violations, logs)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def load(path: Path, width: int = 1280) -> tuple[str, list[str]]:
    """Return ``(dom, console messages)`` of the page at ``path``."""
    done = _run(path.resolve().as_uri(), f"--window-size={width},2000", "--dump-dom")
    return done.stdout, console_lines(done.stderr)


def probe(path: Path, width: int) -> dict[str, str]:
    """Open a copy of ``path`` with the recorder; return its ``<body data-*>`` values."""
    text = path.read_text().replace("<head>", PROBE, 1)
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "probe.html"
        copy.write_text(text)
        dom, _ = load(copy, width)
    body = re.search(r"<body([^>]*)>", dom)
    assert body, dom[:500]
    return dict(re.findall(r'data-([a-z]+)="([^"]*)"', body.group(1)))


def screenshot(path: Path, png: Path, width: int, height: int = 2000) -> Path:
    """Write a screenshot of the page at ``path`` (window ``width`` x ``height``) to ``png``."""
    png.parent.mkdir(parents=True, exist_ok=True)
    done = _run(path.resolve().as_uri(), f"--window-size={width},{height}",
                f"--screenshot={png}")
    assert png.exists(), done.stderr[-2000:]
    return png
