"""A live server on a committed database, and headless Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time

import pytest
import uvicorn

from socius.app import create_app
from socius.config import Settings
from tests import pg

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run should install Debian's chromium")
        pytest.skip("Debian's chromium is not installed here (apt-get install chromium)")
    return path


async def signed_in_page(playwright, base_url: str, username: str, password: str = "correct-horse-battery"):
    """(browser, page): headless Chromium in English, signed in through the login form."""
    browser = await playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    page = await (await browser.new_context(locale="en-US")).new_page()
    await page.goto(base_url + "/login")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.get_by_role("button", name="Sign in").click()
    return browser, page


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, app, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("live server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_database(tmp_path_factory):
    name = pg.unique_name("socius_browser")
    url = pg.fresh_database(name)
    yield url
    pg.drop_database(name)


@pytest.fixture(scope="module")
def live_server(live_database, tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("live"), secret_key="browser-secret", default_locale="en")
    app = create_app(settings, live_database)
    with LiveServer(app, _free_port()) as server:
        server.database_url = live_database
        yield server


def run(coro):
    """Run setup code on its own loop (the live server has another, in its thread)."""
    return asyncio.run(coro)
