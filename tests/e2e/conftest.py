"""One small synthetic city, one service and one headless Debian chromium for the e2e tests.

The city is prepared once per session through the real CLI (synth → ingest → indicators →
classes and alerts), the service runs with uvicorn on a free
127.0.0.1 port, and every request to another host is refused and recorded.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
AS_OF = "2025-06-30"
PASSWORD = "Passw0rd!2025x"
USERS = {"admin": ("admin", "410100"), "zhongyuan": ("analyst", "410102")}
VENDOR = Path(__file__).resolve().parents[2] / "src/riskwatch/web/static/vendor/echarts.min.js"
RISKWATCH = [sys.executable, "-c", "from riskwatch.cli import main; main()"]


def _cli(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RISKWATCH_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run(
        [*RISKWATCH, *args], env=env, input=stdin, text=True, capture_output=True, check=True
    )


def prepare_city(root: Path, enterprises: int) -> Path:
    """A city loaded, with indicators, classes and alerts; returns RISKWATCH_HOME."""
    home, city = root / "home", root / "city"
    _cli(home, "synth", "--enterprises", str(enterprises), "--as-of", AS_OF, "--seed", "7",
         "--out", str(city))  # fmt: skip
    _cli(home, "ingest", str(city))
    _cli(home, "indicators", "--as-of", AS_OF)
    _cli(home, "run", "--as-of", AS_OF)
    _cli(home, "alerts", "scan", "--as-of", AS_OF)
    for name, (role, region) in USERS.items():
        _cli(home, "users", "add", name, "--role", role, "--region", region, stdin=PASSWORD)
    return home


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """The service in a child process."""

    home: Path
    url: str
    proc: subprocess.Popen[bytes]
    log: Any = None

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        if self.log is not None:
            self.log.close()


def start_server(home: Path) -> Server:
    port = free_port()
    env = {**os.environ, "RISKWATCH_HOME": str(home)}
    log = (home.parent / "serve.log").open("wb")  # read it when a page shows a server error
    proc = subprocess.Popen(
        [*RISKWATCH, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"{url}/api/web/whoami", timeout=2):
                return Server(home, url, proc, log)
        except OSError:
            if proc.poll() is not None:
                log.close()
                raise RuntimeError("the service did not start") from None
            time.sleep(0.2)
    proc.kill()
    log.close()
    raise RuntimeError("the service did not answer in 120 s")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian chromium missing: make browser-deps")
    if not VENDOR.exists():
        pytest.skip("dashboard assets missing: make web-assets")
    prepared = os.environ.get("RISKWATCH_E2E_HOME")  # a home made by prepare_city, reused
    if prepared:
        home = tmp_path_factory.mktemp("e2e") / "home"
        shutil.copytree(prepared, home)
    else:
        home = prepare_city(tmp_path_factory.mktemp("e2e"), 2500)
    srv = start_server(home)
    yield srv
    srv.stop()


@dataclass
class Watch:
    """What the page did that it must not: console errors, requests to other hosts."""

    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium missing: make browser-deps")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def open_page(browser: Any, watch: Watch, width: int = 1366, height: int = 768) -> Any:
    """A page in a fresh context that refuses and records any request to another host."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True, locale="zh-CN"
    )

    def guard(route: Any) -> None:
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            watch.foreign.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.errors.append(str(e)))
    page.on(
        "response",
        lambda r: watch.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return page


def login(page: Any, url: str, name: str) -> None:
    page.goto(f"{url}/ui/")
    page.wait_for_selector("body[data-ready='login']")
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector("body[data-ready='cockpit']", timeout=60_000)
    assert page.locator("main .error").count() == 0, page.locator("main").inner_text()


def ready(page: Any, view: str, timeout: float = 60_000) -> None:
    page.wait_for_selector(f"body[data-ready='{view}']", timeout=timeout)
    assert page.locator("main > .error").count() == 0, page.locator("main").inner_text()
