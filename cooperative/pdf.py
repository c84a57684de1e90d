"""PDF rendering with WeasyPrint: one entry point, fonts and styles from the project only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

# The shared letter stylesheet (page box, letterhead, addressee) of every letter the system mails.
LETTER_STYLESHEET = "css/letter.css"


def static_file_path(relative: str) -> Path:
    """A project static file on disk: from the app or project folders (no collectstatic needed),
    else from STATIC_ROOT."""
    found = finders.find(relative)
    if isinstance(found, str):
        return Path(found)
    return Path(settings.STATIC_ROOT) / relative


def letter_stylesheet() -> SafeString:
    """The shared letter styles, to inline in a letter's <style> (the file is the project's own CSS)."""
    return mark_safe(static_file_path(LETTER_STYLESHEET).read_text())  # noqa: S308


def render_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    """Render a template to PDF bytes. Stylesheets and images resolve against STATIC_ROOT
    through file URLs (no network: WeasyPrint never fetches from the internet here)."""
    from weasyprint import HTML

    html = render_to_string(template_name, context)
    base_url = str(settings.STATIC_ROOT) + "/"
    return HTML(string=html, base_url=base_url).write_pdf()
