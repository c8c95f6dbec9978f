from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "fangpin.reports"
    verbose_name = "统计报表"
