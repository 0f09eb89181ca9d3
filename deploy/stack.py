"""The production stack on one machine: PostgreSQL, Redis, two platform processes and nginx.

``make production`` runs ``deploy/stack.py start`` and ``make production-stop`` runs ``stop``;
``status`` says which parts answer. It is the topology of a real installation (deploy/README
section of the project's README), started by hand instead of by systemd:

- PostgreSQL and Redis of this machine (started if they stopped), a database ``learnplatform``
  migrated and loaded with the demo data;
- N processes (2 unless ``--processes``) of ``gunicorn -c deploy/gunicorn.conf.py``, each one
  gevent worker on its own port from 8001, with the environment file that systemd's units read
  (``instance/stack/environment`` here, ``/etc/learnplatform/environment`` there);
- the background worker (``flask worker``, deploy/systemd/learnplatform-worker.service), its
  queue in Redis;
- an SMTP server standing for the machine's mail relay (aiosmtpd on 127.0.0.1:8025), which keeps
  what the platform sends in the Maildir ``instance/stack/mail/`` instead of sending it on;
- Debian's nginx with ``deploy/nginx/learnplatform.conf``, its ports, certificate and folders put
  in place of the production ones: HTTPS on 8443 with a self-signed certificate for localhost,
  HTTP on 8080 sending browsers there, static files from ``static/``, stored files after the
  platform's check, sticky routing between the processes.

Everything it makes lives in ``instance/stack/`` (``STACK_DIR``): the secret key and the key
credentials are signed with (made once), the certificate, the logs (``app-<port>.log``,
``nginx-error.log``), the pid files. The tests that run through the stack
(``TEST_STACK=instance/stack/environment``) read that environment file too.
"""

import argparse
import contextlib
import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "learnplatform.conf"
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
BIN = Path(sys.executable).parent
NGINX = "/usr/sbin/nginx"
SERVER_NAME = "localhost"
#: the host SCORM package content is served from (docs/scorm.md): another name for this machine
CONTENT_HOST = "127.0.0.1"
#: PostgreSQL's own limit on this machine (max_connections) less what administration keeps
DATABASE_CONNECTIONS = 90
#: where the stack's mail catcher listens
MAIL_PORT = 8025


# Pieces the tests use too: the production site with other ports and paths, and an nginx of its
# own around it.
def site(replacements: dict[str, str]) -> str:
    """deploy/nginx/learnplatform.conf with each production value replaced; each must be there
    exactly once, so that a change to the file cannot silently leave one behind."""
    text = SITE.read_text()
    for production, here in replacements.items():
        if text.count(production) != 1:
            raise ValueError(f"{SITE.name} no longer holds {production!r} exactly once")
        text = text.replace(production, here)
    return text


def upstream_servers(ports: list[int]) -> dict[str, str]:
    """The replacement of the site's two process addresses by ``ports``."""
    servers = "\n".join(f"    server 127.0.0.1:{port};" for port in ports)
    return {"    server 127.0.0.1:8001;\n    server 127.0.0.1:8002;": servers}


def nginx_configuration(folder: Path, site_text: str, connections: int = 64) -> Path:
    """``site_text`` inside the http block of an nginx that keeps its pid, logs and temporary
    files in ``folder``; the path of its main configuration."""
    (folder / "site.conf").write_text(site_text)
    # As root, the workers would run as "nobody", who cannot enter a private folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp_paths = "".join(
        f"    {kind}_temp_path {folder}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    configuration = folder / "nginx.conf"
    configuration.write_text(
        f"{user}pid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\n"
        f"worker_rlimit_nofile {connections * 2 + 100};\n"
        f"events {{\n    worker_connections {connections};\n}}\n"
        f"http {{\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
        f"    access_log {folder}/access.log;\n{temp_paths}"
        f"    include {folder}/site.conf;\n}}\n"
    )
    return configuration


def self_signed_certificate(folder: Path, name: str = SERVER_NAME) -> tuple[Path, Path]:
    """A certificate for ``name`` and its key, made with openssl: (certificate, key)."""
    certificate, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(  # noqa: S603
        [shutil.which("openssl") or "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-days", "365", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name},IP:{CONTENT_HOST}",
         "-keyout", str(key), "-out", str(certificate)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return certificate, key


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def healthy(port: int) -> bool:
    """The process answers /healthz (gunicorn listens before its worker has loaded the app)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def read_environment(path: Path) -> dict[str, str]:
    """An environment file as systemd reads it (KEY=value lines, # comments)."""
    pairs = (
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    )
    return {name.strip(): value.strip() for name, value in pairs}


# The stack.
class Stack:
    def __init__(self, folder: Path, processes: int, https_port: int, http_port: int,
                 app_port: int, database: str, redis_url: str):  # fmt: skip
        self.folder = folder
        self.ports = [app_port + number for number in range(processes)]
        self.https_port, self.http_port = https_port, http_port
        self.database, self.redis_url = database, redis_url
        self.origin = f"https://{SERVER_NAME}:{https_port}"

    @property
    def environment_file(self) -> Path:
        return self.folder / "environment"

    def start(self, demo: bool) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        if self.running():
            raise SystemExit(f"The stack is running already ({self.origin}); stop it first.")
        _start_postgresql()
        _start_redis()
        database_url = self._create_database()
        self._write_environment(database_url)
        environment = {**os.environ, **read_environment(self.environment_file)}
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        _run([*flask, "db", "upgrade"], environment)
        _run([*flask, "credentials-key"], environment)  # made once, kept in the stack's folder
        if demo:
            _run([*flask, "demo-data"], environment)
        self._start_mail_catcher()
        for port in self.ports:
            self._start_process(port, environment)
        self._start_worker(environment)
        self._start_nginx()
        if demo:
            _run([*flask, "demo-accounts", "--url", self.origin], environment, quiet=False)
        print(
            f"The stack serves {self.origin} (a self-signed certificate for {SERVER_NAME}: "
            f"{self.folder / 'tls' / 'fullchain.pem'}), through nginx to "
            f"{len(self.ports)} processes on ports {', '.join(map(str, self.ports))}, "
            f"with a background worker.\nE-mails it sends land in {self.mail_folder} "
            f"(a Maildir). Logs in {self.folder}; stop it with: make production-stop"
        )

    def _create_database(self) -> str:
        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{self.database}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.database}"

    def _write_environment(self, database_url: str) -> None:
        key_file = self.folder / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        # Each process keeps at most twice DATABASE_POOL_SIZE connections (the pool and as many
        # more when busy); greenlets beyond wait for one. All processes together stay under
        # PostgreSQL's limit.
        pool = max(2, DATABASE_CONNECTIONS // (2 * len(self.ports)))
        settings = {
            "LEARNPLATFORM_ENV": "production",
            "SECRET_KEY": key_file.read_text().strip(),
            "DATABASE_URL": database_url,
            "DATABASE_POOL_SIZE": pool,
            "REDIS_URL": self.redis_url,
            "PUBLIC_ORIGIN": self.origin,
            "SCORM_CONTENT_ORIGIN": self.origin.replace(SERVER_NAME, CONTENT_HOST, 1),
            "TRUSTED_PROXIES": 1,
            "STORAGE_DIR": self.folder / "storage",
            # The key credentials are signed with (courses.credentials), made once.
            "CREDENTIALS_KEY_FILE": self.folder / "credentials-ed25519.pem",
            "STORAGE_SENDFILE": "x-accel-redirect",
            # The machine's mail relay (here the stack's catcher, in production postfix or the
            # organisation's server).
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": MAIL_PORT,
            "MAIL_USE_TLS": "false",
            "TLS_CA_FILE": self.folder / "tls" / "fullchain.pem",  # for the tests' clients
        }
        self.environment_file.write_text(
            "# Written by deploy/stack.py; the format of systemd's EnvironmentFile.\n"
            + "".join(f"{name}={value}\n" for name, value in settings.items())
        )
        self.environment_file.chmod(0o600)

    def _start_process(self, port: int, environment: dict) -> None:
        log = self.folder / f"app-{port}.log"
        with log.open("ab") as output:
            process = subprocess.Popen(  # noqa: S603
                [str(BIN / "gunicorn"), "--config", str(GUNICORN_CONFIG),
                 "--pid", str(self.folder / f"app-{port}.pid")],
                cwd=ROOT,
                env={**environment, "BIND": f"127.0.0.1:{port}"},
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives this command, as a service does
            )  # fmt: skip
        _wait(lambda: healthy(port), f"the process on port {port}", process, log)

    @property
    def mail_folder(self) -> Path:
        return self.folder / "mail"

    def _start_mail_catcher(self) -> None:
        """aiosmtpd keeping each message in a Maildir, as a relay would pass it on."""
        log = self.folder / "mail.log"
        with log.open("ab") as output:
            process = subprocess.Popen(  # noqa: S603
                [str(BIN / "python"), "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{MAIL_PORT}",
                 "-c", "aiosmtpd.handlers.Mailbox", str(self.mail_folder)],
                cwd=ROOT, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        (self.folder / "mail.pid").write_text(str(process.pid))
        _wait(lambda: listening(MAIL_PORT), "the mail catcher", process, log)

    def _start_worker(self, environment: dict) -> None:
        """``flask worker``: the jobs (e-mail, reminders, digests), from the Redis queue."""
        log = self.folder / "worker.log"
        with log.open("ab") as output:
            process = subprocess.Popen(  # noqa: S603
                [str(BIN / "flask"), "--app", "wsgi", "worker"],
                cwd=ROOT, env=environment,
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        (self.folder / "worker.pid").write_text(str(process.pid))
        _wait(lambda: b"consumer started" in log.read_bytes(), "the worker", process, log)

    def _start_nginx(self) -> None:
        folder = self.folder / "nginx"
        folder.mkdir(exist_ok=True)
        tls = self.folder / "tls"
        tls.mkdir(exist_ok=True)
        certificate, key = tls / "fullchain.pem", tls / "privkey.pem"
        if not certificate.exists():
            self_signed_certificate(tls)
        replacements = {
            "listen 80;": f"listen 127.0.0.1:{self.http_port};",
            "listen 443 ssl;": f"listen 127.0.0.1:{self.https_port} ssl;",
            "return 301 https://$host$request_uri;": (
                f"return 301 https://$host:{self.https_port}$request_uri;"
            ),
            "server_name learn.example.org content.learn.example.org;\n    return": (
                f"server_name {SERVER_NAME} {CONTENT_HOST};\n    return"
            ),
            "server_name learn.example.org content.learn.example.org;\n\n": (
                f"server_name {SERVER_NAME} {CONTENT_HOST};\n\n"
            ),
            "/etc/ssl/learnplatform/fullchain.pem": str(certificate),
            "/etc/ssl/learnplatform/privkey.pem": str(key),
            "/srv/learnplatform/static/": f"{ROOT / 'static'}/",
            "/srv/learnplatform/instance/storage/": f"{self.folder / 'storage'}/",
            **upstream_servers(self.ports),
        }
        configuration = nginx_configuration(folder, site(replacements), connections=8192)
        log = folder / "error.log"
        process = subprocess.Popen(  # noqa: S603
            [NGINX, "-p", f"{folder}/", "-c", str(configuration), "-e", str(log)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        process.wait(timeout=30)  # nginx forks its master and returns
        _wait(lambda: listening(self.https_port), "nginx", process, log)

    def _pid_files(self) -> list[Path]:
        return [self.folder / f"app-{port}.pid" for port in self.ports] + [
            self.folder / "worker.pid",
            self.folder / "mail.pid",
            self.folder / "nginx" / "nginx.pid",
        ]

    def running(self) -> list[Path]:
        """The pid files of parts still running."""
        return [path for path in self._pid_files() if _alive(path)]

    def stop(self) -> None:
        """Stop nginx and the processes (PostgreSQL and Redis are the machine's: they stay)."""
        parts = self.running()
        for path in parts:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(path.read_text()), signal.SIGTERM)
        deadline = time.monotonic() + 30
        while any(_alive(path) for path in parts) and time.monotonic() < deadline:
            time.sleep(0.2)
        for path in parts:
            if _alive(path):
                os.kill(int(path.read_text()), signal.SIGKILL)
            path.unlink(missing_ok=True)
        print(f"Stopped {len(parts)} of the stack's parts." if parts else "Nothing was running.")

    def status(self) -> bool:
        parts = {f"process on {port}": healthy(port) for port in self.ports}
        parts["worker"] = _alive(self.folder / "worker.pid")
        parts[f"mail catcher on {MAIL_PORT}"] = listening(MAIL_PORT)
        parts[f"nginx on {self.https_port}"] = listening(self.https_port)
        for part, up in parts.items():
            print(f"{part}: {'answers' if up else 'down'}")
        return all(parts.values())


def _alive(pid_file: Path) -> bool:
    try:
        os.kill(int(pid_file.read_text()), 0)
        return True
    except (OSError, ValueError):
        return False


def _run(command: list[str], environment: dict, quiet: bool = True) -> None:
    output = subprocess.run(  # noqa: S603
        command, cwd=ROOT, env=environment, capture_output=quiet, text=True, check=False
    )
    if output.returncode:
        raise SystemExit(f"{' '.join(command[1:])} failed:\n{output.stdout}{output.stderr}")


def _wait(ready, what: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() not in (None, 0) or time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start; its log ({log}):\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def _start_postgresql() -> None:
    """This machine's PostgreSQL, started if it stopped (as .ci/run does)."""
    if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False).returncode == 0:  # noqa: S607
        return
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(  # noqa: S603
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],  # noqa: S607
        check=True,
    )


def _start_redis() -> None:
    """This machine's Redis, started if it stopped (as .ci/run does)."""
    if listening(6379):
        return
    subprocess.run(
        ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",  # noqa: S607
         "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
         "--logfile", "/var/log/redis/ci.log"],
        check=True,
    )  # fmt: skip


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--processes", type=int, default=int(os.environ.get("STACK_PROCESSES", 2)))
    parser.add_argument("--https-port", type=int, default=8443)
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--app-port", type=int, default=8001, help="the first process's port")
    parser.add_argument("--database", default="learnplatform")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--no-demo", action="store_true", help="no demo data")
    options = parser.parse_args(arguments)
    stack = Stack(
        Path(os.environ.get("STACK_DIR") or ROOT / "instance" / "stack"),
        options.processes,
        options.https_port,
        options.http_port,
        options.app_port,
        options.database,
        options.redis,
    )
    if options.action == "start":
        stack.start(demo=not options.no_demo)
    elif options.action == "stop":
        stack.stop()
    else:
        return 0 if stack.status() else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
