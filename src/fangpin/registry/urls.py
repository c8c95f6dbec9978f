from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("households/", views.household_list, name="household_list"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("households/<int:pk>/reveal/", views.reveal_household_phone, name="reveal_household_phone"),
    path("members/<int:pk>/reveal/<str:field>/", views.reveal_member, name="reveal_member"),
    path("import/", views.import_page, name="import"),
    path("export/", views.export_page, name="export"),
]
