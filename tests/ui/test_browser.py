"""End to end in headless Chromium: the API and `marquee ui` started as `make demo` starts them (over a
slice of real data), a profile created and onboarded, rows seen, a chat turn answered with cards, both
screens saved as screenshots, then Ctrl-C stopping both processes.

`MARQUEE_UPDATE_SCREENSHOTS=1` also writes the README's screenshots to docs/ (downscaled).
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from engine import Settings
from tests.conftest import DATASET
from tests.ui.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
# Debian's chromium first, then other builds (Ubuntu's name, Chrome on PATH or in macOS's Applications).
BROWSERS = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1440,1000",
)
README_WIDTH = 1200  # px of the PNGs committed for the README
TOP_BAR = 56  # px of empty header above the app, cropped from them

pytestmark = pytest.mark.slow


class Demo:
    """`python -m ui.launch` in its own process group, its output collected line by line."""

    def __init__(self, env: dict[str, str], api_port: int, ui_port: int) -> None:
        self.api_port, self.ui_port = api_port, ui_port
        command = [sys.executable, "-m", "ui.launch", "--dataset", DATASET]
        command += ["--api-port", str(api_port), "--ui-port", str(ui_port), "--ready-timeout", "120"]
        self.proc = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own group: the test can press "Ctrl-C" on it like a terminal
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for_line(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if text in line:
                return line
        raise AssertionError(f"no {text!r} from the demo; its output:\n{''.join(self.output)[-4000:]}")

    def ctrl_c(self, timeout: float = 30) -> int:
        os.killpg(self.proc.pid, signal.SIGINT)  # what a terminal sends the foreground group
        return self.proc.wait(timeout=timeout)

    def close(self) -> None:
        """Kill whatever is left of the group (after a failure) and release the pipe."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._reader.join(timeout=10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def demo(api_settings: Settings, tmp_path: Path) -> Iterator[Demo]:
    # The servers get their own copy of the built artifacts: the in-process test API may hold them open.
    artifacts = tmp_path / "artifacts"
    shutil.copytree(api_settings.artifacts_dir, artifacts)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARQUEE_")}
    env |= {
        "MARQUEE_DATA_DIR": str(api_settings.data_dir),
        "MARQUEE_ARTIFACTS_DIR": str(artifacts),
        "MARQUEE_STATE_DIR": str(tmp_path / "state"),
        "OPENBLAS_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
    }
    started = Demo(env, free_port(), free_port())
    try:
        yield started
    finally:
        started.close()


def find_browser() -> tuple[str, str]:
    """Chromium and its driver, or a skip saying what is missing and how `make test` would install it."""
    chromium = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    chromedriver = shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        missing = [n for n, found in (("Chromium", chromium), ("chromedriver", chromedriver)) if not found]
        pytest.skip(
            f"{' and '.join(missing)} not found on PATH: `make test` installs Debian's chromium and "
            "chromium-driver only as root or with password-less sudo (.ci/browser); install them to run this"
        )
    return chromium, chromedriver


@pytest.fixture
def browser(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[WebDriver]:
    chromium, chromedriver = find_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp_path)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    try:
        yield driver
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:  # what the page looked like when it went wrong
            driver.save_screenshot(str(tmp_path / "failure.png"))
            (tmp_path / "failure.txt").write_text(driver.find_element(By.TAG_NAME, "body").text)
            print(f"browser state at failure: {tmp_path / 'failure.png'}")
    finally:
        driver.quit()


def text_xpath(text: str) -> str:
    return (
        f"//*[contains(normalize-space(.), {text!r}) and not(.//*[contains(normalize-space(.), {text!r})])]"
    )


def wait_for(driver: WebDriver, css: str | None = None, *, text: str | None = None, timeout: float = 60):
    """The first element matching `css` or holding `text`, once it is displayed."""
    by, what = (By.CSS_SELECTOR, css) if css else (By.XPATH, text_xpath(text or ""))

    def found(d: WebDriver) -> WebElement | bool:
        hits = [e for e in d.find_elements(by, what) if e.is_displayed()]
        return hits[0] if hits else False

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.2).until(found)
    except TimeoutException:
        raise AssertionError(f"nothing like {css or text!r} within {timeout} s") from None


def click_button(driver: WebDriver, label: str, timeout: float = 60) -> None:
    button = wait_for(driver, text=label, timeout=timeout).find_element(
        By.XPATH, "./ancestor-or-self::button"
    )
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()


def loaded_artwork(driver: WebDriver, scope: str) -> int:
    """How many SVG artwork images under `scope` the browser has decoded."""
    script = """return [...document.querySelectorAll(arguments[0] + ' img')]
        .filter(i => i.src.startsWith('data:image/svg+xml') && i.complete && i.naturalWidth > 0).length"""
    return int(driver.execute_script(script, scope))


def settle(driver: WebDriver) -> None:
    """Wait out toasts and the "running" indicator, and scroll every pane back to the top."""
    WebDriverWait(driver, 20, poll_frequency=0.2).until(
        lambda d: (
            not d.find_elements(By.CSS_SELECTOR, '[data-testid="stToast"]')
            and not d.find_elements(
                By.CSS_SELECTOR, '[data-testid="stStatusWidget"] [data-testid="stSpinner"]'
            )
        )
    )
    driver.execute_script(
        "document.querySelectorAll('*').forEach(e => { if (e.scrollTop && !e.closest("
        "'.st-key-chat-history')) e.scrollTop = 0; });"
    )


def save(driver: WebDriver, path: Path) -> Path:
    assert driver.save_screenshot(str(path)), f"no screenshot at {path}"
    with Image.open(path) as shot:
        assert shot.size[0] >= 1000 and len(set(shot.convert("L").getdata())) > 50, "a blank screenshot"
    return path


def publish(shot: Path, name: str) -> None:
    """Downscaled 256-colour PNG for the README (about 50 KB), without Streamlit's empty top bar."""
    docs = REPO / "docs"
    docs.mkdir(exist_ok=True)
    with Image.open(shot) as image:
        image = image.convert("RGB").crop((0, TOP_BAR, image.size[0], image.size[1]))
        height = round(image.size[1] * README_WIDTH / image.size[0])
        small = image.resize((README_WIDTH, height), Image.Resampling.LANCZOS)
        palette = small.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        palette.save(docs / name, optimize=True)


# `browser` comes first so that a missing browser skips before the servers start.
def test_demo_in_a_real_browser(browser: WebDriver, demo: Demo, tmp_path: Path) -> None:
    demo.wait_for_line("Marquee UI", timeout=150)
    assert listening(demo.api_port) and listening(demo.ui_port)
    browser.get(f"http://127.0.0.1:{demo.ui_port}")

    # Who's watching? -> a new profile -> onboarding with one genre and one title.
    wait_for(browser, text="Who's watching?")
    wait_for(browser, "input[aria-label='Name']").send_keys("Ana")
    click_button(browser, "Create profile")
    wait_for(browser, text="What do you like?", timeout=90)
    click_button(browser, "Comedy", timeout=90)
    title_box = wait_for(browser, "[class*='st-key-onboarding-title-'] label")
    picked = title_box.text.rsplit(" (", 1)[0]
    title_box.click()
    click_button(browser, "Continue")

    # Home: personalized rows with their artwork.
    wait_for(browser, text=f"Because You Watched {picked}")
    wait_for(browser, text="Top Picks for You")
    WebDriverWait(browser, 30, poll_frequency=0.2).until(
        lambda d: loaded_artwork(d, ".st-key-rows-pane") >= 10
    )
    settle(browser)
    home = save(browser, tmp_path / "home.png")

    # The assistant: a streamed reply whose picks are cards with artwork.
    box = wait_for(browser, "textarea[data-testid='stChatInputTextArea']")
    box.send_keys("a funny animated movie for tonight")
    box.send_keys(Keys.ENTER)
    wait_for(browser, '[data-testid="stChatMessage"] [class*="st-key-card-chat"]', timeout=120)
    WebDriverWait(browser, 30, poll_frequency=0.2).until(
        lambda d: loaded_artwork(d, ".st-key-chat-history") >= 1
    )
    wait_for(browser, text="Offline assistant")
    settle(browser)
    browser.execute_script(  # the question at the top of the pane, the reply and its cards below
        """const pane = document.querySelector('.st-key-chat-history');
        const said = pane.querySelectorAll('[data-testid="stChatMessage"]');
        pane.scrollTop = said[said.length - 2].offsetTop - pane.offsetTop - 8;"""
    )
    chat = save(browser, tmp_path / "chat.png")

    if os.environ.get("MARQUEE_UPDATE_SCREENSHOTS") == "1":
        publish(home, "ui-home.png")
        publish(chat, "ui-chat.png")

    # Ctrl-C stops both servers, and the launcher says so.
    try:
        code = demo.ctrl_c()
    except (subprocess.TimeoutExpired, WebDriverException) as exc:
        raise AssertionError(f"the demo did not stop on Ctrl-C: {exc}") from exc
    assert code == 0, "".join(demo.output)[-3000:]
    assert not listening(demo.api_port) and not listening(demo.ui_port)
    assert "stopping the API and the UI" in "".join(demo.output)
