from django.apps import AppConfig


class CooperativeConfig(AppConfig):
    """The shared kernel."""

    name = "cooperative"
    verbose_name = "Cooperative"

    def ready(self) -> None:
        from . import schema, signals  # noqa: F401  (OpenAPI auth scheme; audit of logins)
