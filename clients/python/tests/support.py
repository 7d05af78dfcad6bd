"""The real `signalbox` binary for the client's tests: found through $SIGNALBOX_BIN (a test
fails, never skips, without it), started on a free loopback port, stopped with SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

# Signals whose answers the tests can recompute from the events they send.
CONFIG = """\
server: {{ http: 127.0.0.1:{port} }}
storage: {{ kind: rocksdb, path: {store} }}
event_store: {{ retention: 7d }}
signals:
  - {{ name: saves, aggregator: count, actions: {{ save: 1 }}, windows: [1h, 1d] }}
  - {{ name: by_surface, aggregator: count, group_by: attrs.surface, windows: [1h, 1d] }}
  - {{ name: recent_items, aggregator: last_k, value: item_id, k: 3 }}
views:
  - {{ name: surface_mix_1d, signal: by_surface, window: 1d, transform: normalize }}
"""


def binary() -> str:
    """The signalbox executable named by $SIGNALBOX_BIN; raises (so the test fails) when
    there is none."""
    path = os.environ.get("SIGNALBOX_BIN")
    if not path:
        raise RuntimeError(
            "SIGNALBOX_BIN is not set: point it at the built binary "
            "(build/src/signalbox/cli/signalbox); ctest sets it"
        )
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RuntimeError(f"SIGNALBOX_BIN={path}: no such executable")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(folder: str, port: int = 8080) -> str:
    path = os.path.join(folder, "signalbox.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(CONFIG.format(port=port, store=json.dumps(os.path.join(folder, "store"))))
    return path


class Server:
    """`signalbox serve` on a fresh store and a free port; use as a context manager."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="signalbox-python-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = write_config(self.folder, self.port)
        self.log_path = os.path.join(self.folder, "serve.log")
        self.process = None

    def __enter__(self) -> "Server":
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [binary(), "serve", "--config", self.config], stdout=log, stderr=log
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"signalbox serve exited {self.process.returncode}: {self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"signalbox serve did not answer /healthz in 60 s: {self.log()}")

    def __exit__(self, *exc) -> None:
        self.stop()
        self.cleanup()

    def stop(self) -> int:
        """SIGTERM, then the exit status (the server drains and exits 0)."""
        status = 0
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                status = self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                status = self.process.wait()
        elif self.process:
            status = self.process.returncode
        return status

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def log(self) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""
