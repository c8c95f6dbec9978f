from django.apps import AppConfig


class RegimesConfig(AppConfig):
    name = "fangpin.regimes"
    verbose_name = "政策口径"
