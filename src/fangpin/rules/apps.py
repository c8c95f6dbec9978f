from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RulesConfig(AppConfig):
    name = "fangpin.rules"
    verbose_name = "规则与筛查"

    def ready(self) -> None:
        from .parameters import sync_defaults

        # default parameter values (with their sources) come from catalogue/parameters.toml
        post_migrate.connect(sync_defaults, sender=self, dispatch_uid="rules-parameter-defaults")
