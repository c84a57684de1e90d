"""No code reaches a stored file by a local path: every file goes through Django's storage API,
so the same code runs on local files and on an S3-compatible bucket (DESIGN.md §7).

The project's source (not the tests) is read as Python syntax trees and refused when it has:
- `.path` on a stored file (any model FileField's name, `*file*`, `upload`, `handle`) or on a
  storage (`*storage*`), and any `.path(...)` call (Storage.path(name)) but settings'
  `env.path`: FieldFile.path and Storage.path fail on S3 (NotImplementedError); a URL's or a
  request's `.path` is not a file's;
- the built-in `open()` (or `io.open`, `os.open`): a file in storage is opened by the storage;
- `MEDIA_ROOT` or `FileSystemStorage` outside settings.py: the storage says where files are.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("cooperative", "providers", "credentialing", "members", "advocacy", "payouts")
SETTINGS = Path("cooperative/settings.py")
FILE_OWNERS = {"upload", "uploaded", "handle"}


def _file_field_names() -> set[str]:
    """The names of every model FileField (ImageField included): `statement.pdf`, `photo`."""
    from django.apps import apps
    from django.db import models

    return {
        field.name
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    }


def _is_file_owner(name: str, file_fields: set[str]) -> bool:
    lowered = name.lower()
    return name in file_fields or name in FILE_OWNERS or "storage" in lowered or "file" in lowered


OPENERS = {("io", "open"), ("os", "open"), ("codecs", "open")}


def _owner(node: ast.expr) -> str:
    """The last name of an attribute's owner: `self.request.path` -> "request"."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def local_file_access(source: str, filename: Path) -> list[str]:
    """Every place in `source` that reaches a file by a local path, as 'file:line: what'."""
    found: list[str] = []
    is_settings = filename == SETTINGS
    file_fields = _file_field_names()
    tree = ast.parse(source, filename=str(filename))
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Attribute):
            owner = _owner(node.value)
            if node.attr == "path" and (
                _is_file_owner(owner, file_fields) or (id(node) in called and owner != "env")
            ):
                found.append(f"{where}: .path on {ast.unparse(node.value)}")
            elif node.attr in ("MEDIA_ROOT", "FileSystemStorage") and not is_settings:
                found.append(f"{where}: {node.attr}")
            elif isinstance(node.value, ast.Name) and (node.value.id, node.attr) in OPENERS:
                found.append(f"{where}: {node.value.id}.open()")
        elif isinstance(node, ast.Name) and not is_settings:
            if node.id in ("MEDIA_ROOT", "FileSystemStorage"):
                found.append(f"{where}: {node.id}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "open":
                found.append(f"{where}: built-in open()")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "FileSystemStorage" in node.value
            and not is_settings
        ):
            found.append(f"{where}: {node.value!r}")
    return found


def _project_sources() -> list[Path]:
    return sorted(
        path.relative_to(ROOT)
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    )


def test_no_project_code_reaches_a_stored_file_by_a_local_path():
    sources = _project_sources()
    assert len(sources) > 100  # the walk found the project
    found = [
        problem
        for path in sources
        for problem in local_file_access((ROOT / path).read_text(), path)
    ]
    assert found == []


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("data = open(statement.pdf.path, 'rb').read()", "built-in open(); .path on statement.pdf"),
        ("name = statement.pdf.path", ".path on statement.pdf"),
        ("local = default_storage.path(name)", ".path on default_storage"),
        ("local = storages['default'].path(name)", ".path on storages['default']"),
        ("size = os.stat(run.print_batch.path)", ".path on run.print_batch"),
        ("local = attachment.file.path", ".path on attachment.file"),
        ("local = anything.path(name)", ".path on anything"),
        ("target = settings.MEDIA_ROOT / 'payouts'", "MEDIA_ROOT"),
        ("shutil.copy(name, MEDIA_ROOT)", "MEDIA_ROOT"),
        ("handle = io.open(name, 'rb')", "io.open()"),
        ("storage = FileSystemStorage(location='/srv')", "FileSystemStorage"),
    ],
)
def test_the_guard_finds_local_file_access(code, problem):
    found = local_file_access(code, Path("payouts/example.py"))
    assert found == [f"payouts/example.py:1: {each}" for each in problem.split("; ")]


@pytest.mark.parametrize(
    "code",
    [
        "handle = statement.pdf.open('rb')",
        "handle = default_storage.open(name, 'rb')",
        "here = request.path",
        "here = self.request.path",
        "folder = os.path.join('a', 'b')",
        "route = urlsplit(url).path",
        "MEDIA = env.path('MEDIA_ROOT', default='media')",
        "field.save(name, ContentFile(content), save=False)",
    ],
)
def test_the_guard_lets_the_storage_api_through(code):
    assert local_file_access(code, Path("payouts/example.py")) == []
