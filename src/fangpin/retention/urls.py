from django.urls import path

from . import views

app_name = "retention"
urlpatterns = [
    path("", views.file_list, name="files"),
    path("<int:pk>/delete/", views.file_delete, name="delete"),
]
