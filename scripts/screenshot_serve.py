"""Take the README's picture of the web page (docs/images/serve.png).

Starts ``video2gif serve`` on a free loopback port, opens its page in Debian's headless chromium
through Playwright (as tests/test_serve_browser.py does; Playwright's own browser download is not
used), sets options the way a user would (3 GIFs, 320 px wide; the rest left at the server's
settings), uploads the bundled example through the page's file input, waits for the GIFs and
saves a full-page screenshot. The server is then stopped with Ctrl-C, as a user stops it.

    .venv/bin/python scripts/screenshot_serve.py              # rewrite docs/images/serve.png
    .venv/bin/python scripts/screenshot_serve.py -o page.png  # somewhere else

Needs the serve and test extras (pip install -e '.[serve,test]') and chromium
(apt-get install chromium). The server's uploads, results and feature cache go to a temporary
folder that is deleted afterwards.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "big_buck_bunny_0_30.webm"
OUTPUT = ROOT / "docs" / "images" / "serve.png"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1200, "height": 900}  # the page's column is 1080 px: three cards a row
CHOSEN = {"k": "3", "width": "320"}  # typed into the page's option fields, as a user would
START_TIMEOUT = 60.0  # seconds for the server to answer
GIFS_TIMEOUT = 600.0  # seconds for a 30 s video's GIFs on a busy 2-core machine
MAX_PNG_BYTES = 600_000  # above this the picture is re-saved as an optimised palette PNG


def free_port() -> int:
    """A loopback port nothing listens on now (the server binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(page, expression: str, timeout: float) -> None:
    """Poll a JavaScript expression until it is true. Playwright's wait_for_function evaluates
    its predicate with eval(), which the page's Content-Security-Policy forbids."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {expression}")
        time.sleep(0.2)


def start_server(port: int, tmp: Path) -> subprocess.Popen:
    """``video2gif serve`` with its work folder (TMPDIR) and feature cache under tmp."""
    exe = Path(sys.executable).with_name("video2gif")
    command = [str(exe) if exe.exists() else "video2gif", "serve", "--port", str(port),
               "--cache", str(tmp / "cache")]
    env = dict(os.environ, TMPDIR=str(tmp))
    with open(tmp / "serve.log", "wb") as log:  # the child keeps its own copy of the handle
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/config", timeout=2):
                return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                stop_server(server)
                raise RuntimeError("video2gif serve did not start:\n" +
                                   (tmp / "serve.log").read_text(errors="replace")) from None
            time.sleep(0.3)


def stop_server(server: subprocess.Popen) -> None:
    """Ctrl-C, then wait for the workers to finish and the work folder to go."""
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def screenshot(url: str, video: Path, output: Path) -> None:
    from playwright.sync_api import sync_playwright

    path = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    if not path:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(path), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT, color_scheme="light")
            page = context.new_page()
            page.goto(url)
            wait_until(page, "document.querySelector('#opt-k') !== null", timeout=30)
            for name, value in CHOSEN.items():
                page.fill(f"#opt-{name}", value)
            page.set_input_files("#file", str(video))
            page.wait_for_selector("#results figure img", timeout=GIFS_TIMEOUT * 1000)
            wait_until(page, "[...document.querySelectorAll('#results img')].every("
                             "i => i.complete && i.naturalWidth > 0)", timeout=GIFS_TIMEOUT)
            if page.is_visible("#error"):
                raise RuntimeError("the page shows an error: " + page.inner_text("#error"))
            # the progress bar's width is animated: wait until it has filled its track
            wait_until(page, "(() => { const b = document.getElementById('bar'); return "
                             "b.offsetWidth >= b.parentElement.clientWidth; })()", timeout=10)
            page.evaluate("document.activeElement.blur()")  # show the changed fields' accent,
            page.mouse.move(0, 0)                             # not a focus ring or hover state
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_bytes(small_png(page.screenshot(full_page=True)))
            print(f"{output}: {page.inner_text('#status')}; {output.stat().st_size:,} bytes")
        finally:
            browser.close()


def small_png(data: bytes) -> bytes:
    """The screenshot as is, or as an optimised 256-colour PNG when it is over MAX_PNG_BYTES."""
    if len(data) <= MAX_PNG_BYTES:
        return data
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    out = io.BytesIO()
    image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        out, "PNG", optimize=True)
    return min(data, out.getvalue(), key=len)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT, help="PNG to write")
    parser.add_argument("--video", type=Path, default=EXAMPLE, help="video to upload")
    args = parser.parse_args()
    if not args.video.is_file():
        raise SystemExit(f"{args.video}: no such file")
    with tempfile.TemporaryDirectory(prefix="video2gif-screenshot-") as tmp:
        port = free_port()
        server = start_server(port, Path(tmp))
        try:
            screenshot(f"http://127.0.0.1:{port}/", args.video, args.output)
        finally:
            stop_server(server)


if __name__ == "__main__":
    main()
