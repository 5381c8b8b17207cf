from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = "Outreach: sessions, bookings and messages"

    def ready(self) -> None:
        from outreach import data_protection  # noqa: F401  (registers what it holds about patients)
