from django.apps import AppConfig


class SocialAidConfig(AppConfig):
    name = "fangpin.socialaid"
    verbose_name = "农村社会救助"

    def ready(self) -> None:
        from . import jobs  # noqa: F401  (registers the job handler)
