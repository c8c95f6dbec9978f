from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "fangpin.audit"
    verbose_name = "审计"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (audit capture is the one job signals do)
        from .triggers import ensure_append_only

        # SQLite rebuilds a table for most schema changes and drops its triggers on the way; putting
        # them back after every migrate means no later migration can leave the log editable.
        post_migrate.connect(ensure_append_only, sender=self, dispatch_uid="audit-append-only")
