from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "fangpin.registry"
    verbose_name = "户籍台账"

    def ready(self) -> None:
        from fangpin.audit.signals import audited

        from .models import IncomePolicy

        # the monitoring line and the formula's switches: every save in the audit log with before/after,
        # which is also the history the 收入参数 page shows (registered here, like a decorator on the model)
        audited()(IncomePolicy)
