"""A real Learning Record Store for the tests: Ralph (PyPI ``ralph-malph``), on its file-system
backend, in the virtual environment ``.lrs-venv`` that ``make test`` makes (Ralph pins old
versions of click, FastAPI and others, so it does not live in the platform's).

``LearningRecordStore(folder)`` writes a credentials file with ``ralph auth``, starts the LRS
on a free port of 127.0.0.1 with its statements under ``folder``, and reads them back through
its xAPI API, as an organisation's dashboard would; ``stop()`` and ``start()`` again take it
away and bring it back on the same address.

Ralph 5.1's file-system backend writes its statements file only once (each later write is
refused with a 500, "already exists"), so the server is Ralph's own application started by this
file, run by ``.lrs-venv/bin/python``, with that backend set to append. Nothing else of Ralph is
changed.
"""

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".lrs-venv"
PYTHON = VENV / "bin" / "python"
RALPH = VENV / "bin" / "ralph"
#: ``make test`` (the ``lrs-venv`` target) makes the environment and then this file
INSTALLED = VENV / ".installed"


class LearningRecordStore:
    """Ralph serving the xAPI API at ``url`` with HTTP Basic ``key``/``secret``."""

    key = "platform"

    def __init__(self, folder: Path):
        self.folder = folder
        self.data = folder / "data"
        self.secret = secrets.token_urlsafe(16)
        self.port = _free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.origin}/xAPI/"
        self.process: subprocess.Popen | None = None

    @property
    def config(self) -> dict:
        """The platform's settings that send statements here."""
        return {"LRS_URL": self.url, "LRS_KEY": self.key, "LRS_SECRET": self.secret}

    def _environment(self) -> dict:
        return {
            **os.environ,
            "RALPH_APP_DIR": str(self.folder),  # its history file too, not the home folder's
            "RALPH_AUTH_FILE": str(self.folder / "auth.json"),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.data),
        }

    def start(self, timeout: float = 30) -> None:
        """Start the LRS (with its credentials, made the first time) and wait until it answers."""
        self.data.mkdir(parents=True, exist_ok=True)
        if not (self.folder / "auth.json").exists():
            credentials = ["-u", self.key, "-p", self.secret, "-s", "all"]
            agent = ["-A", self.key, "http://127.0.0.1"]
            subprocess.run(  # noqa: S603 - our own arguments
                [str(RALPH), "auth", *credentials, *agent, "-w"],
                cwd=self.folder,
                env=self._environment(),
                check=True,
                capture_output=True,
            )
        self.log = (self.folder / "ralph.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            [str(PYTHON), __file__, str(self.port)],
            cwd=self.folder,  # Ralph reads a .env file where it runs
            env=self._environment(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Ralph stopped at start: see {self.folder / 'ralph.log'}")
            try:
                if self._request("GET", "/whoami")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Ralph did not answer within {timeout} s")

    def stop(self) -> None:
        """Stop the LRS; its statements stay for the next ``start``."""
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None
        self.log.close()

    def clear(self) -> None:
        """Forget every statement (between tests)."""
        for path in self.data.glob("*"):
            path.unlink()

    def statements(self) -> list[dict]:
        """Every statement the LRS holds, through its xAPI API, in the order it stored them."""
        found: list[dict] = []
        address = "/xAPI/statements?" + urllib.parse.urlencode({"limit": 100})
        while address:
            status, body = self._request("GET", address)
            assert status == 200, body
            page = json.loads(body)
            found.extend(page["statements"])
            more = page.get("more")
            address = (
                urllib.parse.urlsplit(more)._replace(scheme="", netloc="").geturl() if more else ""
            )
        return sorted(found, key=lambda statement: statement["stored"])

    def post(self, statements: list[dict]) -> int:
        """Send statements as another system would; the LRS's status."""
        return self._request("POST", "/xAPI/statements", json.dumps(statements).encode())[0]

    def _request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, str]:
        pair = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - our own server on 127.0.0.1
            self.origin + path,
            data=body,
            method=method,
            headers={
                "Authorization": f"Basic {pair}",
                "X-Experience-API-Version": "1.0.3",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read().decode()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(port: int) -> None:
    """Run Ralph's application (in ``.lrs-venv``), its file-system backend appending."""
    import uvicorn
    from ralph.backends.data.base import BaseOperationType
    from ralph.backends.lrs.fs import FSLRSBackend

    FSLRSBackend.default_operation_type = BaseOperationType.APPEND
    from ralph.api import app

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
