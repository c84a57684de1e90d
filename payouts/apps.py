from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    """Month-end payout runs, provider statements (checks) and the ledger of paid-out months."""

    name = "payouts"

    def ready(self) -> None:
        from cooperative import hooks
        from cooperative.demo import SEEDERS

        from .selectors import dashboard_figures_for, provider_home_statement

        hooks.register(hooks.DASHBOARD_FIGURES, dashboard_figures_for)
        hooks.register(hooks.PROVIDER_HOME_SECTIONS, provider_home_statement)

        from .demo import seed_payouts

        if not any(name == "payouts" for name, _ in SEEDERS):
            SEEDERS.append(("payouts", seed_payouts))
