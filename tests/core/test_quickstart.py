"""The README's first command: `socius serve --demo` on the embedded database, from nothing."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_demo_starts_everything_and_prints_working_logins(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIUS_")}
    env.update(SOCIUS_DATA_DIR=str(tmp_path / "var"), SOCIUS_LOG_LEVEL="WARNING")
    server = subprocess.Popen([sys.executable, "-m", "socius", "serve", "--demo", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    output = ""
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read()
                time.sleep(0.5)
        else:
            raise AssertionError("socius serve --demo did not answer /healthz within 120 s")

        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Accept-Language": "zh-TW"}) as browser:
            login = browser.get("/login")
            assert '<html lang="zh-Hant">' in login.text
            token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
            signed_in = browser.post("/login", data={"username": "demo-employee", "password": "demo-employee-pass",
                                                     "csrf_token": token})
            assert signed_in.status_code == 303
            directory = browser.get("/people", params={"q": "chen"})
            assert directory.status_code == 200 and "陳" in directory.text
            assert browser.get("/orgchart").status_code == 200
    finally:
        server.send_signal(signal.SIGINT)
        try:
            output, _ = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    assert "demo-admin" in output and "demo-employee" in output and "demo-guest" in output
    # The private PostgreSQL stopped with Socius.
    assert not (Path(tmp_path) / "var" / "pgdata" / "postmaster.pid").exists()
