from django.apps import AppConfig


class CredentialingConfig(AppConfig):
    """Credentialing: applications, verification, committee decisions and monitoring."""

    name = "credentialing"

    def ready(self) -> None:
        from cooperative.demo import SEEDERS

        from .demo import seed_credentialing

        if not any(name == "credentialing" for name, _ in SEEDERS):
            SEEDERS.append(("credentialing", seed_credentialing))
