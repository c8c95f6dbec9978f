from django.urls import path

from . import views

app_name = "feeds"
urlpatterns = [
    path("", views.roster_list, name="list"),
    path("upload/", views.upload, name="upload"),
    path("<int:pk>/", views.roster_detail, name="detail"),
    path("<int:pk>/mapping/", views.mapping, name="mapping"),
]
