"""A real `fangpin serve` (web + job worker) on a demo county, driven by Debian's Chromium."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.cli_helpers import fangpin, fangpin_env

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DEMO_PASSWORD = "Demo@2026fp"


def pytest_collection_modifyitems(items):
    for item in items:
        if "browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip(
            "!!! Debian's chromium is not installed: BROWSER TESTS SKIPPED (apt-get install chromium)"
        )
    data = tmp_path_factory.mktemp("browser-data")
    fangpin(data, "migrate", "--no-input", "-v0")
    fangpin(data, "demo", "--people", "2000", "--seed", "11")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = fangpin_env(data) | {"FANGPIN_JOBS_IMMEDIATE": "0"}
    log = open(data / "server.log", "wb")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen(
        [sys.executable, "-m", "fangpin", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(url + "/login/", timeout=1)
            break
        except OSError:
            assert server.poll() is None, (data / "server.log").read_text()
            time.sleep(0.2)
    yield {"url": url, "data": Path(data)}
    server.terminate()
    server.wait(timeout=20)
    log.close()


@pytest.fixture(scope="session")
def browser(demo_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, demo_server):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.base = demo_server["url"]
    yield page
    context.close()


def login(page, username: str) -> None:
    page.goto(page.base + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(page.base + "/")
