from django.apps import AppConfig


class AdvocacyConfig(AppConfig):
    """Advocacy: cases, care coordination with notices and penalties, claim disputes, billing review."""

    name = "advocacy"

    def ready(self) -> None:
        from cooperative.demo import SEEDERS

        from .demo import seed_advocacy

        if not any(name == "advocacy" for name, _ in SEEDERS):
            SEEDERS.append(("advocacy", seed_advocacy))
