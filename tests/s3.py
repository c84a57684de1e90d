"""A real S3-compatible server for the tests (moto's standalone server, a subprocess speaking
HTTP on 127.0.0.1), and a fixture that points the default storage at a fresh bucket on it.

Each pytest-xdist worker starts its own server on a free port; each test gets its own bucket.
The storage is django-storages' S3Storage with the options production uses (settings.py's
S3_STORAGE_OPTIONS): only the endpoint, bucket and keys differ.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ACCESS_KEY = "coopcare-test"
SECRET_KEY = "coopcare-test-secret"
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _moto_start(log: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    """moto's server on a free port, once it answers; None when it exited (the port was taken
    between the probe and its bind: another try picks another port)."""
    port = _free_port()
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=os.environ | {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY},
        )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()  # noqa: S310
            return process, endpoint
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    process.kill()
    process.wait()
    return None


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: Any) -> Iterator[str]:
    """moto's S3-compatible server on 127.0.0.1, for this test session (or xdist worker)."""
    log = Path(tmp_path_factory.mktemp("s3")) / "moto.log"
    for _attempt in range(3):
        started = _moto_start(log)
        if started is not None:
            break
    else:
        pytest.fail("moto's S3 server did not start: " + log.read_text())
    process, endpoint = started
    yield endpoint
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@dataclass
class S3Bucket:
    """The bucket a test's default storage writes to, read back with boto3 directly."""

    name: str
    client: Any

    def names(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.name, Key=key)["Body"].read())


@pytest.fixture
def s3_storage(settings: Any, s3_endpoint: str) -> S3Bucket:
    """The default storage switched to S3Storage on a new private bucket for this test.

    Changing STORAGES through the settings fixture sends setting_changed, on which Django
    drops its cached storages (django.core.files.storage.storages) and default_storage's
    wrapped instance; FileFields use default_storage, so they follow."""
    import boto3
    from django.core.files.storage import default_storage, storages

    from cooperative import settings as project_settings

    bucket = f"coopcare-{uuid.uuid4().hex[:20]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    client.create_bucket(Bucket=bucket)
    options = project_settings.S3_STORAGE_OPTIONS | {
        "bucket_name": bucket,
        "endpoint_url": s3_endpoint,
        "region_name": REGION,
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    assert type(storages["default"]).__name__ == "S3Storage"
    assert default_storage.bucket_name == bucket
    return S3Bucket(bucket, client)


def media_files(settings: Any) -> list[str]:
    """Every file under MEDIA_ROOT (the per-test folder): none when the bucket holds them."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
