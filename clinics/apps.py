from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ClinicsConfig(AppConfig):
    name = "clinics"
    verbose_name = "Clinics: organisations, staff, units, venues, services and patients"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.db.backends.signals import connection_created
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from clinics import checks  # noqa: F401  (registers the system checks)
        from clinics.auth import permissions_changed
        from clinics.catalogue import catalogue_changed
        from clinics.models import ServiceType
        from clinics.roles import ensure_role_groups
        from config.database import use_compiled_timestamps

        # PostgreSQL timestamps read by psycopg's compiled loader (config/database.py).
        connection_created.connect(use_compiled_timestamps, dispatch_uid="compiled-timestamps")
        # Permissions exist only after every app has migrated, so the groups are built then.
        post_migrate.connect(ensure_role_groups, dispatch_uid="clinics.ensure_role_groups")
        # Cached permission sets go stale whenever anything they were computed from changes.
        user_model = get_user_model()
        for sender in (
            user_model.groups.through,
            user_model.user_permissions.through,
            Group.permissions.through,
        ):
            m2m_changed.connect(permissions_changed, sender=sender, dispatch_uid=f"perms-{sender}")
        for sender in (user_model, Group):
            post_save.connect(
                permissions_changed, sender=sender, dispatch_uid=f"perms-save-{sender}"
            )
            post_delete.connect(
                permissions_changed, sender=sender, dispatch_uid=f"perms-delete-{sender}"
            )
        # The cached service catalogue goes stale whenever a service type changes.
        post_save.connect(catalogue_changed, sender=ServiceType, dispatch_uid="catalogue-save")
        post_delete.connect(catalogue_changed, sender=ServiceType, dispatch_uid="catalogue-delete")
