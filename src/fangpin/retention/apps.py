from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "fangpin.retention"
    verbose_name = "敏感文件"
