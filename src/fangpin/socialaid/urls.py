from django.urls import path

from . import views

app_name = "socialaid"
urlpatterns = [
    path("", views.index, name="index"),
    path("upload/", views.upload, name="upload"),
    path("lists/", views.lists, name="lists"),
    path("export/", views.export, name="export"),
]
