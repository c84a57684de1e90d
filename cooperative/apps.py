from django.apps import AppConfig


class CooperativeConfig(AppConfig):
    """The shared kernel."""

    name = "cooperative"
    verbose_name = "Cooperative"

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401  (system checks; audit of logins)
