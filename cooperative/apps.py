from django.apps import AppConfig


class CooperativeConfig(AppConfig):
    """The shared kernel."""

    name = "cooperative"
    verbose_name = "Cooperative"

    def ready(self) -> None:
        # System checks; the OpenAPI auth scheme; audit of logins.
        from . import checks, schema, signals  # noqa: F401
