"""Open an HTML page in headless Chromium: what loaded, what text shows, and a screenshot.

The page is copied beside a small inline script that runs after the ``load`` event and writes
each image's ``naturalWidth`` and the page's visible text into the DOM; ``--dump-dom`` then
brings that back. No browser driver or Python package beyond the standard library is needed.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]

_PROBE = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.map.call(document.images, function (im) {
    return {alt: im.alt, naturalWidth: im.naturalWidth, naturalHeight: im.naturalHeight,
            complete: im.complete, scheme: im.src.split(":")[0]};
  });
  var result = {images: images, text: document.body.innerText};
  var out = document.createElement("pre");
  out.id = "torchann-probe";
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
});
</script>
"""

CHROMIUM_MISSING = ("headless Chromium is not installed (Debian: apt-get install chromium); "
                    "the browser test of report.html needs it")


def chromium() -> str | None:
    """Return the Chromium executable, or None where it is absent."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(page: Path, work: Path, *args: str) -> str:
    exe = chromium()
    assert exe, CHROMIUM_MISSING
    profile = work / "chromium-profile"
    profile.mkdir(parents=True, exist_ok=True)
    cmd = [exe, *_FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"chromium failed ({done.returncode}): {done.stderr[-2000:]}"
    return done.stdout


def inspect_page(page, work) -> dict:
    """Load ``page`` and return ``{"images": [...], "text": str}`` as the browser saw it.

    Each image entry has ``naturalWidth``, ``naturalHeight``, ``complete``, ``alt`` and the
    URI ``scheme`` of its source (``data`` for an embedded picture).
    """
    page, work = Path(page), Path(work)
    work.mkdir(parents=True, exist_ok=True)
    probed = work / ("probed-" + page.name)
    source = page.read_text(encoding="utf-8")
    probed.write_text(source.replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    dom = _run(probed, work, "--virtual-time-budget=10000", "--dump-dom")
    match = re.search(r'<pre id="torchann-probe">(.*?)</pre>', dom, re.S)
    assert match, "the probe script did not run in the browser"
    return json.loads(html.unescape(match.group(1)))


def screenshot(page, png, width: int = 1200, height: int = 3000) -> Path:
    """Save a screenshot of ``page`` to ``png`` and return its path."""
    png = Path(png)
    _run(Path(page), png.parent, f"--screenshot={png.resolve()}",
         f"--window-size={width},{height}")
    assert png.is_file() and png.stat().st_size > 0, "chromium wrote no screenshot"
    return png
