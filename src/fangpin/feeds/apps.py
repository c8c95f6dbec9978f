from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "fangpin.feeds"
    verbose_name = "部门数据"
