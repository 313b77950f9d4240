"""Headless Chromium, to look at the report as a person does: the tests' screenshots and the
README's picture.

The browser is Debian's `chromium-headless-shell` (or a `chromium` already installed),
installed with apt-get when missing and we are root; Playwright drives it through
`executable_path` (its own browser download is not used: it cannot reach its servers here).

    python -m local.browser report.html docs/report.png     # a full-page screenshot
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from local.emulators import INSTALL_DIR, MissingPrerequisiteError

if TYPE_CHECKING:
    from playwright.sync_api import Page

PACKAGE = "chromium-headless-shell"
EXECUTABLES = ("chromium-headless-shell", "chromium")
# As root in a container Chromium needs --no-sandbox; without a GPU, screenshots hang
# unless GPU compositing is off.
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu"]
APT_LOCK_WAIT_SECONDS = 300


def find() -> Path | None:
    for name in EXECUTABLES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def ensure() -> Path:
    """The browser's path, installing the Debian package first when it is missing."""
    found = find()
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise MissingPrerequisiteError(f"headless Chromium not found: install the Debian package {PACKAGE} (as root)")
    INSTALL_DIR.mkdir(parents=True, exist_ok=True)
    with (INSTALL_DIR / ".chromium.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install at a time, between processes
        found = find()
        if found:
            return found
        print(f"[browser] installing {PACKAGE} with apt-get (~100 MB, about 30 s)", file=sys.stderr, flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        wait = f"DPkg::Lock::Timeout={APT_LOCK_WAIT_SECONDS}"
        for command in (
            ["apt-get", "-o", wait, "update", "-qq"],
            ["apt-get", "-o", wait, "install", "-y", "-qq", "--no-install-recommends", PACKAGE],
        ):
            result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise MissingPrerequisiteError(
                    f"{' '.join(command)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
                )
        found = find()
        if found is None:
            raise MissingPrerequisiteError(f"{PACKAGE} installed but none of {EXECUTABLES} is on PATH")
        print(f"[browser] {found} ready", file=sys.stderr, flush=True)
        return found


@contextlib.contextmanager
def page(width: int = 1280, height: int = 900) -> Iterator[Page]:
    """A page of a fresh headless browser, closed on exit."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415  # tests and tools only

    executable = ensure()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=LAUNCH_ARGS)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def screenshot(html: Path, png: Path, width: int = 1280) -> Path:
    """A full-page screenshot of a local HTML file."""
    with page(width) as opened:
        opened.goto(html.resolve().as_uri())
        opened.screenshot(path=str(png), full_page=True)
    return png


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.browser", description="Full-page screenshot of an HTML file."
    )
    parser.add_argument("html", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--width", type=int, default=1280)
    args = parser.parse_args(argv)
    print(screenshot(args.html, args.png, args.width))
    return 0


if __name__ == "__main__":
    sys.exit(main())
