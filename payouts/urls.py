"""Page routes of the payouts app."""

app_name = "payouts"

urlpatterns: list = []
