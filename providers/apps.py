from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    """The provider network and its public directory."""

    name = "providers"

    def ready(self) -> None:
        from cooperative.demo import SEEDERS

        from .demo import seed_providers

        if not any(name == "providers" for name, _ in SEEDERS):
            SEEDERS.append(("providers", seed_providers))
