from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ClinicsConfig(AppConfig):
    name = "clinics"
    verbose_name = "Clinics: organisations, staff, units, venues, services and patients"

    def ready(self) -> None:
        from clinics import checks  # noqa: F401  (registers the system checks)
        from clinics.roles import ensure_role_groups

        # Permissions exist only after every app has migrated, so the groups are built then.
        post_migrate.connect(ensure_role_groups, dispatch_uid="clinics.ensure_role_groups")
