"""WSGI entry point (gunicorn cooperative.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cooperative.settings")

application = get_wsgi_application()
