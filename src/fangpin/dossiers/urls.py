from django.urls import path

from . import views

app_name = "dossiers"
urlpatterns = [
    path("", views.index, name="index"),
    path("households/<int:pk>.pdf", views.household_pdf, name="pdf"),
    path("households/<int:pk>.zip", views.household_archive, name="archive"),
    path("regions/<str:region_code>/print/", views.batch, name="batch"),
]
