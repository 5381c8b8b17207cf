from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Referrals"

    def ready(self) -> None:
        # Referral sections on outreach's pages (outreach cannot import referrals).
        from outreach.web import panels
        from referrals.web import panels as referral_panels

        panels.register_person_panel(referral_panels.open_referrals)
        panels.register_outcome_panel(referral_panels.suggested_referrals)
