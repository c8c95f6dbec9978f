from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "fangpin.audit"
    verbose_name = "审计"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (audit capture is the one job signals do)
