"""video2gif serve end to end in a real headless browser: Debian's chromium driven by Playwright.

Playwright's own browser download is not used; the test launches /usr/bin/chromium (installed by
``make test``'s setup) and skips when it is absent.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import media
from .test_batch import SETTINGS, clip

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PAGE_TIMEOUT = 120_000  # milliseconds for the GIFs of a 10 s clip to appear on a busy machine

for module in ("fastapi", "uvicorn"):
    pytest.importorskip(module, reason="the web app is an extra: pip install 'video2gif[serve]'")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright (the test extra)")

from video2gif.serve import BackgroundServer, ServeConfig  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium, or a skip when it is not installed."""
    path = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    if not path:
        pytest.skip("chromium is not installed (make test installs it: apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(path), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    config = ServeConfig(settings=SETTINGS, workers=1, queue=2,
                         work_dir=str(tmp_path_factory.mktemp("browser-root")))
    with BackgroundServer(config) as server:
        yield server


def wait_until(page, expression: str, timeout: float = 10_000) -> None:
    """Poll a JavaScript expression until it is true. Playwright's wait_for_function evaluates
    its predicate with eval(), which the page's Content-Security-Policy rightly forbids."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.1)


def test_a_dropped_video_becomes_gifs_in_the_browser(browser, server, tmp_path):
    clip = media("moviepy/chaplin.mp4")
    context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    outside = []  # every request the page makes must stay on this server
    page.on("request", lambda r: None if r.url.startswith(server.url) or
            r.url.startswith(("data:", "blob:")) else outside.append(r.url))
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/")
    wait_until(page, "document.getElementById('limit').textContent.includes('MB')"
                     " || document.getElementById('limit').textContent.includes('GB')")
    page.fill("#opt-k", "3")
    page.set_input_files("#file", str(clip))

    page.wait_for_selector("#results figure img", timeout=PAGE_TIMEOUT)
    wait_until(page, "[...document.querySelectorAll('#results img')].every(i => i.complete && "
                     "i.naturalWidth > 0)", timeout=PAGE_TIMEOUT)
    cards = page.query_selector_all("#results figure")
    assert 1 <= len(cards) <= 3
    captions = [c.inner_text() for c in cards]
    picks = [c.query_selector(".rank").inner_text() for c in cards]
    assert picks == [f"#{n}" for n in range(1, len(cards) + 1)]
    assert all("score" in c and " – " in c for c in captions)  # the score and the time range
    assert page.inner_text("#status").startswith(f"{len(cards)} GIFs")
    assert not page.is_visible("#error")

    with page.expect_download() as info:
        cards[0].query_selector("a.download").click()
    download = info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.name == "chaplin-01.gif" and saved.read_bytes()[:6] == b"GIF89a"

    with page.expect_download() as info:
        page.click("#segments")
    segments = tmp_path / "segments.json"
    info.value.save_as(segments)
    doc = json.loads(segments.read_text())
    assert doc["video"]["path"] == "chaplin.mp4"
    assert sum(1 for s in doc["segments"] if s["pick"]) == len(cards)

    assert outside == [] and errors == []
    context.close()


def test_the_page_explains_a_refusal(browser, server, tmp_path):
    """A file that is not a video: the job fails and the page says why."""
    page = browser.new_page()
    page.goto(server.url + "/")
    fake = tmp_path / "notes.mp4"
    fake.write_text("these are my notes, not a video\n" * 20)
    page.set_input_files("#file", str(fake))
    page.wait_for_selector("#error", state="visible", timeout=PAGE_TIMEOUT)
    assert "not a readable media file" in page.inner_text("#error")
    assert page.query_selector_all("#results figure") == []
    page.close()


def test_a_video_dropped_on_the_page_is_uploaded(browser, server, tmp_path):
    """Drag and drop: a real drop event carrying the file, as a browser makes one."""
    import base64

    video = clip(tmp_path / "dropped clip.mp4", 71)
    page = browser.new_page()
    page.goto(server.url + "/")
    transfer = page.evaluate_handle(
        """([name, data]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "video/mp4" }));
            return transfer;
        }""", [video.name, base64.b64encode(video.read_bytes()).decode()])
    page.dispatch_event("#drop", "dragover", {"dataTransfer": transfer})
    assert "over" in page.get_attribute("#drop", "class")
    page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})
    page.wait_for_selector("#results figure img", timeout=PAGE_TIMEOUT)
    assert page.inner_text("#jobname") == "dropped clip.mp4"
    assert "over" not in (page.get_attribute("#drop", "class") or "")
    page.close()


def controls(page) -> dict[str, str]:
    """The page's option controls: query parameter name → the value shown."""
    return page.evaluate("Object.fromEntries([...document.querySelectorAll('#options [name], "
                         "#more-options [name]')].map((e) => [e.name, e.value]))")


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def test_the_page_offers_every_option_with_the_servers_values(browser, server):
    """A control per per-job option, showing what a job gets when it is left alone."""
    page = browser.new_page()
    page.goto(server.url + "/")
    wait_until(page, "document.querySelector('#opt-quality') !== null")
    offered = get_json(server.url + "/api/config")["options"]
    shown = controls(page)
    assert list(shown) == [o["name"] for o in offered]
    for o in offered:
        value = "" if o["value"] is None else str(o["value"])
        if o["kind"] == "size":
            value = f"{o['value'] // 10**6}M" if o["value"] % 10**6 == 0 else value
        assert shown[o["name"]] == value or float(shown[o["name"]]) == o["value"], o["name"]
    options = page.evaluate("[...document.querySelectorAll('#opt-aspect option')]"
                            ".map((o) => o.value)")
    assert options == next(o["choices"] for o in offered if o["name"] == "aspect")
    assert page.get_attribute("#opt-quality", "max") == "100"
    assert page.is_visible("#opt-loop") and not page.is_visible("#opt-stride")  # folded away
    page.click("#more summary")
    assert page.is_visible("#opt-stride")
    page.close()


def test_quality_aspect_and_loop_set_on_the_page_make_the_gifs(browser, server, tmp_path):
    """Set on the page, the three options reach the job: the GIF has the aspect's shape, the
    encoder used the quality, segments.json records the loop mode."""
    video = clip(tmp_path / "options clip.mp4", 73)
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/")
    wait_until(page, "document.querySelector('#opt-quality') !== null")
    page.fill("#opt-quality", "35")
    page.select_option("#opt-aspect", "9:16")
    page.select_option("#opt-loop", "bounce")
    assert page.is_visible("#reset")  # changed options are marked and can be undone
    page.set_input_files("#file", str(video))

    page.wait_for_selector("#results figure img", timeout=PAGE_TIMEOUT)
    wait_until(page, "[...document.querySelectorAll('#results img')].every(i => i.complete && "
                     "i.naturalWidth > 0)", timeout=PAGE_TIMEOUT)
    assert not page.is_visible("#error") and errors == []
    width, height = page.evaluate("[document.querySelector('#results img').naturalWidth, "
                                  "document.querySelector('#results img').naturalHeight]")
    assert abs(width / height - 9 / 16) < 0.03, (width, height)
    assert "quality 35" in page.inner_text("#results figcaption")
    job_url = page.get_attribute("#results img", "src").split("/files/")[0]
    job = get_json(f"{server.url}/{job_url}")
    assert job["options"] == {"quality": 35, "aspect": "9:16", "loop": "bounce"}
    assert [g["quality"] for g in job["gifs"]] == [35] * len(job["gifs"])
    picks = [s for s in get_json(f"{server.url}/{job['segments_url']}")["segments"] if s["pick"]]
    assert picks and all(p["loop"]["mode"] == "bounce" and p["crop"]["aspect"] == "9:16"
                         for p in picks)
    page.close()


def test_a_bad_option_is_refused_before_anything_is_uploaded(browser, server, tmp_path):
    """The server's one-line refusal, naming the option, shows on the page; no job is made."""
    video = clip(tmp_path / "never sent.mp4", 74)
    page = browser.new_page()
    page.goto(server.url + "/")
    wait_until(page, "document.querySelector('#opt-quality') !== null")
    before = set(server.board.jobs)
    page.fill("#opt-quality", "500")
    page.set_input_files("#file", str(video))
    page.wait_for_selector("#error", state="visible", timeout=10_000)
    assert "quality: " in page.inner_text("#error") and "1<=x<=100" in page.inner_text("#error")
    assert set(server.board.jobs) == before and not page.is_visible("#job")

    page.fill("#opt-quality", "")
    page.fill("#opt-width", "")
    page.locator("#opt-width").press_sequentially("1e")  # not a number: the field reads empty
    page.set_input_files("#file", str(video))
    wait_until(page, "document.getElementById('error').textContent.includes('width')")
    assert page.inner_text("#error") == "Check the options: width: not a number"
    assert set(server.board.jobs) == before
    page.close()


def test_options_of_the_gif_palette_are_off_for_other_formats(browser, server, tmp_path):
    """Quality, colours and dither apply to GIFs only: with mp4 chosen their controls are off
    and not sent, so the job asks for the format alone; choosing gif again turns them on."""
    offered = {o["name"]: o for o in get_json(server.url + "/api/config")["options"]}
    palette_only = sorted(n for n, o in offered.items() if o["formats"])
    assert palette_only == ["colours", "dither", "quality"]
    page = browser.new_page()
    page.goto(server.url + "/")
    wait_until(page, "document.querySelector('#opt-quality') !== null")
    page.fill("#opt-quality", "35")
    page.select_option("#opt-format", "mp4")
    assert all(page.is_disabled(f"#opt-{n}") for n in palette_only)
    assert not page.is_disabled("#opt-width")
    page.select_option("#opt-format", "gif")
    assert not any(page.is_disabled(f"#opt-{n}") for n in palette_only)
    page.select_option("#opt-format", "mp4")
    page.set_input_files("#file", str(clip(tmp_path / "as video.mp4", 75)))
    page.wait_for_selector("#results figure video", timeout=PAGE_TIMEOUT)
    job_url = page.get_attribute("#results video", "src").split("/files/")[0]
    assert get_json(f"{server.url}/{job_url}")["options"] == {"format": "mp4"}
    page.close()
