from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("password/", views.password_change, name="password"),
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_new, name="user_new"),
    path("users/placement/", views.region_picker, name="region_picker"),
    path("users/<int:user_id>/", views.user_edit, name="user_edit"),
    path("users/<int:user_id>/status/", views.user_status, name="user_status"),
    path("users/<int:user_id>/reset-password/", views.user_reset, name="user_reset"),
]
