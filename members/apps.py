from django.apps import AppConfig


class MembersConfig(AppConfig):
    """Members, memberships, PCP assignments, dues and payments."""

    name = "members"

    def ready(self) -> None:
        from cooperative import hooks

        from .tasks import pcp_standing_review_later

        hooks.register(hooks.PCP_STANDING_CHANGED, pcp_standing_review_later)
        from .selectors import dashboard_figures_for, pcp_choice_for, provider_home_panel

        hooks.register(hooks.DASHBOARD_FIGURES, dashboard_figures_for)
        hooks.register(hooks.PROVIDER_HOME_SECTIONS, provider_home_panel)
        hooks.register(hooks.PCP_CHOICE, pcp_choice_for)
        from cooperative.demo import SEEDERS

        from .demo import seed_members

        if not any(name == "members" for name, _ in SEEDERS):
            SEEDERS.append(("members", seed_members))
