from django.urls import path

from . import views

app_name = "reconciliation"
urlpatterns = [
    path("", views.index, name="index"),
    path("upload/", views.upload, name="upload"),
    path("export/", views.export, name="export"),
    path("recompare/", views.recompare, name="recompare"),
    path("households/<int:pk>/", views.entry, name="entry"),
    path("households/<int:pk>/check/", views.check, name="check"),
]
