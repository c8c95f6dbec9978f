from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("households/", views.households, name="households"),
    path("crosstab/", views.crosstab_page, name="crosstab"),
    path("crosstab/export/", views.crosstab_export, name="crosstab_export"),
    path("tables/", views.tables_page, name="tables"),
    path("tables/export/", views.tables_export, name="tables_export"),
    path("briefing/", views.briefing_page, name="briefing"),
    path("briefing/download/", views.briefing_download, name="briefing_download"),
    path("briefing/template/", views.briefing_template_file, name="briefing_template"),
]
