from django.apps import AppConfig


class FieldConfig(AppConfig):
    name = "fangpin.field"
    label = "field"
    verbose_name = "移动采集（ODK Collect）"
