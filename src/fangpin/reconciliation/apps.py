from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "fangpin.reconciliation"
    verbose_name = "账账比对"

    def ready(self) -> None:
        from . import jobs  # noqa: F401  (registers the job handlers)
