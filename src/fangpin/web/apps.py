from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "fangpin.web"
    verbose_name = "界面"
