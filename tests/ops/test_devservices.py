"""The embedded default: with no PostgreSQL or Redis answering, devservices starts its own and stops them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration

PROBE = """
import os, environ, psycopg2, redis
config = environ.Env.db_url_config(os.environ["DATABASE_URL"])
connection = psycopg2.connect(dbname=config["NAME"], user=config["USER"], host=config["OPTIONS"]["host"])
cursor = connection.cursor()
cursor.execute("SELECT current_database(), current_setting('server_version_num')::int >= 150000")
print("database", *cursor.fetchone())
client = redis.Redis.from_url(os.environ["REDIS_URL"].replace("redis+socket://", "unix://"))
print("redis", client.ping())
"""


def _environment(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        # `make test` runs inside devservices, which exports the outer servers' URLs: drop them.
        if k not in ("DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL")
        and not k.startswith(("COOPCARE_", "DATABASE_APP_"))
    }
    # Port 1 never answers: devservices must start its own servers.
    env.update(
        COOPCARE_PROBE_PG_PORT="1", COOPCARE_PROBE_REDIS_PORT="1", COOPCARE_DATA_DIR=str(data_dir)
    )
    return env


def test_embedded_postgres_and_redis_start_serve_and_stop(tmp_path):
    data_dir = Path("/tmp") / f"coopcare-devservices-{os.getpid()}"
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "cooperative.devservices",
                "exec",
                "--",
                sys.executable,
                "-c",
                PROBE,
            ],
            cwd=ROOT,
            env=_environment(data_dir),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "database coopcare True" in result.stdout
        assert "redis True" in result.stdout
        assert "created database coopcare" in result.stdout
        assert "stopped the project Redis" in result.stdout
        assert "stopped the project PostgreSQL" in result.stdout
        # Nothing is left running: no postmaster pid file, no Redis socket.
        assert not (data_dir / "postgres" / "postmaster.pid").exists()
        assert not (data_dir / "redis" / "redis.sock").exists()
    finally:
        subprocess.run(["rm", "-rf", str(data_dir)], check=False)


def test_exec_returns_the_command_exit_code_and_stops_services():
    data_dir = Path("/tmp") / f"coopcare-devservices-exit-{os.getpid()}"
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "cooperative.devservices",
                "exec",
                "--",
                sys.executable,
                "-c",
                "raise SystemExit(7)",
            ],
            cwd=ROOT,
            env=_environment(data_dir),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 7
        assert "stopped the project PostgreSQL" in result.stdout
        assert not (data_dir / "postgres" / "postmaster.pid").exists()
    finally:
        subprocess.run(["rm", "-rf", str(data_dir)], check=False)


def test_existing_servers_are_used_when_they_answer():
    from cooperative.devservices import answers

    if not (answers("127.0.0.1", 5432) and answers("127.0.0.1", 6379)):
        pytest.skip("no PostgreSQL and Redis on their standard ports here")
    env = {
        k: v
        for k, v in os.environ.items()
        # `make test` runs inside devservices, which exports the outer servers' URLs: drop them.
        if k not in ("DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL")
        and not k.startswith(("COOPCARE_", "DATABASE_APP_"))
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cooperative.devservices",
            "exec",
            "--",
            sys.executable,
            "-c",
            "import os; print(os.environ['DATABASE_URL']); print(os.environ['REDIS_URL'])",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-2:] == [
        "postgres://postgres@127.0.0.1:5432/coopcare",
        "redis://127.0.0.1:6379/0",
    ]
    assert "starting a project" not in result.stdout


def test_url_with_user_keeps_the_server_and_database():
    from cooperative.devservices import url_with_user

    assert (
        url_with_user("postgres://postgres@127.0.0.1:5432/coopcare", "coopcare_app")
        == "postgres://coopcare_app@127.0.0.1:5432/coopcare"
    )
    assert (
        url_with_user("postgresql://postgres:@/coopcare?host=/tmp/pg", "coopcare_app", "p@ss:w")
        == "postgresql://coopcare_app:p%40ss%3Aw@/coopcare?host=/tmp/pg"
    )


def test_the_app_role_is_made_and_web_worker_beat_get_its_url():
    """`make test` runs as the owner; the app role exists (created when missing) with nothing
    but LOGIN, and DATABASE_APP_URL (what `make run` gives web, worker and beat) signs in as it."""
    from cooperative.devservices import answers

    if not (answers("127.0.0.1", 5432) and answers("127.0.0.1", 6379)):
        pytest.skip("no PostgreSQL and Redis on their standard ports here")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DATABASE_OWNER_URL", "DATABASE_APP_ROLE")
        and not k.startswith("COOPCARE_")
    }
    probe = (
        "import os, psycopg2\n"
        "print(os.environ['DATABASE_URL']); print(os.environ['DATABASE_APP_URL'])\n"
        "c = psycopg2.connect(os.environ['DATABASE_APP_URL']).cursor()\n"
        "c.execute('SELECT current_user, rolsuper, rolcreatedb, rolcreaterole "
        "FROM pg_roles WHERE rolname = current_user')\n"
        "print(*c.fetchone())\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cooperative.devservices",
            "exec",
            "--",
            sys.executable,
            "-c",
            probe,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-3:] == [
        "postgres://postgres@127.0.0.1:5432/coopcare",
        "postgres://coopcare_app@127.0.0.1:5432/coopcare",
        "coopcare_app False False False",
    ]
