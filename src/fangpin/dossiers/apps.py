from django.apps import AppConfig


class DossiersConfig(AppConfig):
    name = "fangpin.dossiers"
    verbose_name = "一户一档"

    def ready(self) -> None:
        from . import jobs  # noqa: F401  (registers the batch print with the job worker)
