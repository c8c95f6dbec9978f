from django.urls import path

from . import views

app_name = "rules"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("rule/<str:rule_id>/", views.rule_detail, name="rule"),
    path("rule/<str:rule_id>/toggle/", views.toggle_rule, name="toggle"),
    path("parameter/<str:name>/", views.add_parameter_value, name="add_parameter"),
    path("findings/", views.findings, name="findings"),
    path("findings/export/", views.export_findings, name="export_findings"),
    path("findings/<int:pk>/", views.finding_detail, name="finding"),
    path("screening/", views.screening, name="screening"),
]
