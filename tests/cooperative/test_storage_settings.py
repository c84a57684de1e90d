"""STORAGE_BACKEND chooses the default storage from the environment: local files by default,
a private S3-compatible bucket with `s3`; anything else stops the process with one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRINT = (
    "import json, django; django.setup(); from django.conf import settings; "
    "from django.core.files.storage import default_storage as s; s._setup(); "
    "print(json.dumps([settings.STORAGES['default'], type(s._wrapped).__name__]))"
)


def _settings_with(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if k != "STORAGE_BACKEND" and not k.startswith("AWS_")
    }
    return subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", PRINT],
        cwd=ROOT, env=clean | {"DJANGO_SETTINGS_MODULE": "cooperative.settings"} | env,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_local_files_are_the_default():
    result = _settings_with()
    assert result.returncode == 0, result.stderr
    default, wrapped = json.loads(result.stdout)
    assert default == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert wrapped == "FileSystemStorage"


def test_s3_takes_the_bucket_endpoint_region_and_keys_from_the_environment():
    result = _settings_with(
        STORAGE_BACKEND="s3", AWS_STORAGE_BUCKET_NAME="coop-files",
        AWS_S3_ENDPOINT_URL="http://minio:9000", AWS_S3_REGION_NAME="us-east-2",
        AWS_ACCESS_KEY_ID="key-id", AWS_SECRET_ACCESS_KEY="secret", AWS_QUERYSTRING_EXPIRE="45",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    default, wrapped = json.loads(result.stdout)
    assert wrapped == "S3Storage"
    assert default == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "coop-files",
            "endpoint_url": "http://minio:9000",
            "region_name": "us-east-2",
            "access_key": "key-id",
            "secret_key": "secret",
            "addressing_style": None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 45,
            "file_overwrite": False,
            "max_memory_size": 8 * 1024 * 1024,
        },
    }


def test_an_unknown_backend_stops_the_process_with_one_line():
    result = _settings_with(STORAGE_BACKEND="ftp")
    assert result.returncode != 0
    assert (
        "django.core.exceptions.ImproperlyConfigured: STORAGE_BACKEND must be 'local' or 's3', "
        "not 'ftp'." in result.stderr
    )
