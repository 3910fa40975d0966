"""Render an evaluation report page in headless Chromium and save a screenshot.

Usage::

    python scripts/render_report.py REPORT_DIR/report.html SCREENSHOT.png

The page must be self-contained, so Chromium runs with networking features
off and a fresh profile directory, and it loads the page from a file:// URL.
Exits with Chromium's status, or 1 when no screenshot was written.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)

# Rendering a page of four embedded PNGs takes a few seconds (an estimate on a
# 2-core machine), so a browser that runs past this limit has hung.
TIMEOUT_SECONDS = 120


def render(page: Path, screenshot: Path, *, width: int, height: int) -> int:
    """Run Chromium on ``page`` and write a ``width`` x ``height`` PNG screenshot."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print(
            "chromium not found; install it with: apt-get install -y chromium",
            file=sys.stderr,
        )
        return 1
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="botwatch-chromium-") as profile:
        command = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={screenshot.resolve()}",
            f"--window-size={width},{height}",
            page.resolve().as_uri(),
        ]
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    if completed.returncode != 0 or not screenshot.is_file():
        print(completed.stderr[-2000:], file=sys.stderr)
        return completed.returncode or 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path, help="report.html to render")
    parser.add_argument("screenshot", type=Path, help="PNG file to write")
    parser.add_argument(
        "--width", type=int, default=1400, help="viewport width in pixels"
    )
    parser.add_argument(
        "--height", type=int, default=3000, help="viewport height in pixels"
    )
    args = parser.parse_args()
    if not args.page.is_file():
        print(f"report page not found: {args.page}", file=sys.stderr)
        return 1
    return render(args.page, args.screenshot, width=args.width, height=args.height)


if __name__ == "__main__":
    sys.exit(main())
