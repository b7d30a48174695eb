"""Screenshots of the training report and the monitoring report, taken in headless Chromium.

    .venv/bin/python docs/screenshots.py REPORT.html MONITORING.html -o docs/img

writes ``report.png`` and ``monitoring.png`` (1280 px wide; the top 2400 px of each page unless
``--height`` says otherwise). Chromium (``chromium`` or ``chromium-browser`` on PATH) renders
each page offline: every host name resolves to nothing, so a page that needed the network would
show it. With Pillow installed, the page is shot in a tall window and the empty background under
it is cropped; without it, the window is exactly as tall as the picture.

Make the two pages with ``verdict demo``: it writes ``.verdict/demo/run/report.html`` and
``.verdict/monitoring/penguins-v*.html`` (the report of ``verdict monitor``).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser")
TALL = 16_000  # px: a window taller than any page, when Pillow can crop what is left over
TIMEOUT = 120  # s per page
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: a page must carry everything it shows
)
# A resource fetched over the network: src/href attributes, CSS url() and @import (the SVG
# namespaces in xmlns attributes are names, not fetches).
_REMOTE = re.compile(
    r"""(?:\b(?:src|href)\s*=\s*["']?|url\(\s*["']?|@import\s+["']?)(?:https?:)?//""",
    re.IGNORECASE,
)


class ScreenshotError(Exception):
    """A page that cannot be shot: the message says why and what to do."""


def find_browser() -> str:
    """The Chromium executable on PATH."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise ScreenshotError(
        f"no Chromium on PATH (looked for {', '.join(BROWSERS)}). To fix: install it, e.g. "
        "`apt-get install -y chromium` on Debian, and run this script again."
    )


def remote_resources(page: Path) -> list[str]:
    """The places where ``page`` would fetch something over the network (should be none)."""
    text = page.read_text(encoding="utf-8", errors="replace")
    return [text[max(0, m.start() - 20) : m.end() + 40] for m in _REMOTE.finditer(text)]


def shoot(browser: str, page: Path, out: Path, width: int, height: int) -> Path:
    """Render ``page`` at ``width`` px and save the top ``height`` px (0: all of it) to ``out``."""
    if not page.is_file():
        raise ScreenshotError(f"{page} does not exist. To fix: run `verdict demo` first.")
    crop = _pillow() is not None
    window = TALL if crop else (height or TALL)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="verdict-chromium-") as profile:
        command = [
            browser,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{window}",
            f"--screenshot={out.resolve()}",
            page.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise ScreenshotError(
                f"Chromium took more than {TIMEOUT} s on {page}. To fix: open the page in a "
                "browser to see what hangs."
            ) from None
    if done.returncode != 0 or not out.is_file():
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise ScreenshotError(
            f"Chromium could not shoot {page} (exit {done.returncode}):\n{tail}\nTo fix: run "
            "the command by hand to see the whole message."
        )
    if crop:
        _crop(out, height)
    return out


def _pillow() -> object | None:
    try:
        from PIL import Image
    except ImportError:
        return None
    return Image


def _crop(path: Path, height: int) -> None:
    """Cut the empty page background below the content, then keep the top ``height`` px."""
    from PIL import Image, ImageChops

    with Image.open(path) as shot:
        image = shot.convert("RGB")
    width, full = image.size
    background = Image.new("RGB", image.size, image.getpixel((width - 1, full - 1)))
    box = ImageChops.difference(image, background).getbbox()
    bottom = full if box is None else min(full, box[3] + 24)
    if height:
        bottom = min(bottom, height)
    image.crop((0, 0, width, bottom)).save(path, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="the training report (report.html)")
    parser.add_argument("monitoring", type=Path, help="the monitoring report (NAME-vN.html)")
    parser.add_argument("-o", "--out", type=Path, default=Path("docs/img"), help="folder")
    parser.add_argument("--width", type=int, default=1280, help="window width in px")
    parser.add_argument(
        "--height", type=int, default=2400, help="keep the top HEIGHT px (0: the whole page)"
    )
    args = parser.parse_args(argv)
    try:
        browser = find_browser()
        for page, name in ((args.report, "report.png"), (args.monitoring, "monitoring.png")):
            for place in remote_resources(page) if page.is_file() else []:
                print(f"warning: {page} fetches from the network: {place!r}", file=sys.stderr)
            path = shoot(browser, page, args.out / name, args.width, args.height)
            print(f"{path} ({path.stat().st_size / 1024:,.0f} KiB) from {page}")
    except ScreenshotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
