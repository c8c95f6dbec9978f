from django.apps import AppConfig


class ClassificationConfig(AppConfig):
    name = "fangpin.classification"
    verbose_name = "脱贫人口分类管理"
