from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "fangpin.monitoring"
    verbose_name = "监测识别"
