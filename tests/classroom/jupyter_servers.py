"""Real Jupyter servers on loopback for the collection tests and the benchmark (never another address).

``start_servers(specs)`` starts one ``jupyter_server`` process per spec at once, each on a free
loopback port with its own root folder, logging in with a password (as PYNQ images do:
``xilinx``) or a token, and waits -- bounded in time -- until every one answers ``/api/status``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 120.0
# A board's server would load JupyterLab too; the contents API needs none of it, and 40 servers
# loading JupyterLab, LSP and terminals on 2 cores would measure their start-up, not the collection.
_NO_EXTENSIONS = ("--ServerApp.jpserver_extensions={'jupyterlab': False, 'jupyter_lsp': False, "
                  "'notebook_shim': False, 'jupyter_server_terminals': False}")  # 40 servers starting at once on 2 busy cores take a while


@dataclass
class Server:
    url: str
    root: Path
    process: subprocess.Popen
    password: str | None = None
    token: str | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def _hashed(password: str) -> str:
    from jupyter_server.auth import passwd

    return passwd(password)


def start_servers(specs: list[dict], base: Path, timeout: float = START_TIMEOUT_S) -> list[Server]:
    """Start a server per spec (``{"password": ...}`` or ``{"token": ...}``, ``"files": {path: text}``).

    Every server is started before any is waited for; all are stopped again if one fails to start.
    """
    servers: list[Server] = []
    hashes: dict[str, str] = {}
    try:
        for n, spec in enumerate(specs):
            root = base / f"server{n:02d}"
            for rel, text in (spec.get("files") or {}).items():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_text(text, encoding="utf-8")
            root.mkdir(parents=True, exist_ok=True)
            port = free_port()
            password, token = spec.get("password"), spec.get("token")
            auth = []
            if password is not None:
                hashes.setdefault(password, _hashed(password))
                auth = [f"--PasswordIdentityProvider.hashed_password={hashes[password]}",
                        "--IdentityProvider.token="]
            else:
                auth = [f"--IdentityProvider.token={token}"]
            runtime = base / f"runtime{n:02d}"
            cmd = [sys.executable, "-m", "jupyter_server", f"--ServerApp.ip={LOOPBACK}", f"--ServerApp.port={port}",
                   "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
                   "--ServerApp.log_level=WARN", "--allow-root", _NO_EXTENSIONS, *auth]
            env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(runtime), JUPYTER_CONFIG_DIR=str(base / "config"),
                       JUPYTER_DATA_DIR=str(base / "data"), JUPYTER_PLATFORM_DIRS="1")
            process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                       stderr=open(base / f"server{n:02d}.log", "wb"))
            servers.append(Server(f"http://{LOOPBACK}:{port}", root, process, password, token))
        deadline = time.monotonic() + timeout
        waiting = list(servers)
        while waiting:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(waiting)} Jupyter server(s) did not answer within {timeout} s: "
                                   f"{[s.url for s in waiting]}")
            for server in list(waiting):
                if server.process.poll() is not None:
                    raise RuntimeError(f"the Jupyter server for {server.url} exited ({server.process.returncode});"
                                       f" see {base}")
                try:
                    with urllib.request.urlopen(server.url + "/api/status", timeout=2) as r:
                        r.read()
                    waiting.remove(server)
                except (urllib.error.HTTPError,):
                    waiting.remove(server)  # it answers (403 without login): it is up
                except OSError:
                    pass
            time.sleep(0.1)
    except BaseException:
        stop_servers(servers)
        raise
    return servers


def stop_servers(servers: list[Server], timeout: float = 10.0) -> None:
    for server in servers:
        if server.process.poll() is None:
            server.process.terminate()
    deadline = time.monotonic() + timeout
    for server in servers:
        try:
            server.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(5)


def records_text(records: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)
