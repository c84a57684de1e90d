from django.apps import AppConfig


class CooperativeConfig(AppConfig):
    """The shared kernel."""

    name = "cooperative"
    verbose_name = "Cooperative"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (audit of logins and failed logins)
