"""PDF rendering with WeasyPrint: one entry point, fonts and styles from the project only."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string


def render_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    """Render a template to PDF bytes. Stylesheets and images resolve against STATIC_ROOT
    through file URLs (no network: WeasyPrint never fetches from the internet here)."""
    from weasyprint import HTML

    html = render_to_string(template_name, context)
    base_url = str(settings.STATIC_ROOT) + "/"
    return HTML(string=html, base_url=base_url).write_pdf()
