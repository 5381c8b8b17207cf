"""Seed the referral suggestions the issue names; they are rows, so they can be changed."""

from django.db import migrations

RULES = [
    # A reactive dry blood spot test (blood-borne viruses): hepatitis C treatment or sexual health.
    ("dry-blood-spot", "reactive", "hepatitis_c", "urgent", "Reactive blood-borne virus test"),
    ("dry-blood-spot", "reactive", "sexual_health", "urgent", "Reactive blood-borne virus test"),
    # An abnormal cervical screening result: colposcopy, on the two-week pathway.
    (
        "cervical-screening",
        "abnormal",
        "colposcopy",
        "two_week_wait",
        "Abnormal cervical screening result",
    ),
]


def seed(apps, schema_editor):
    rule_model = apps.get_model("referrals", "ReferralRule")
    for code, result, category, priority, reason in RULES:
        rule_model.objects.get_or_create(
            service_code=code,
            result=result,
            destination_category=category,
            defaults={"priority": priority, "reason": reason},
        )


def unseed(apps, schema_editor):
    rule_model = apps.get_model("referrals", "ReferralRule")
    for code, result, category, *_ in RULES:
        rule_model.objects.filter(
            service_code=code, result=result, destination_category=category
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("referrals", "0003_worklists_and_rules")]

    operations = [migrations.RunPython(seed, unseed)]
