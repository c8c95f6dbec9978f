from django.urls import path

from . import views

app_name = "regimes"
urlpatterns = [path("", views.index, name="index")]
