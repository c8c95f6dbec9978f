from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("households/", views.household_list, name="household_list"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("households/<int:pk>/reveal/", views.reveal_household_phone, name="reveal_household_phone"),
    path("members/<int:pk>/reveal/<str:field>/", views.reveal_member, name="reveal_member"),
    path("id-corrections/", views.id_corrections, name="id_corrections"),
    path("members/<int:pk>/correct-id/", views.correct_id, name="correct_id"),
    path("import/", views.import_page, name="import"),
    path("import/<int:pk>/confirm/", views.confirm_import, name="confirm_import"),
    path("export/", views.export_page, name="export"),
    path("income-policies/", views.income_policies, name="income_policies"),
    path("income-policies/<int:year>/", views.income_policy_edit, name="income_policy_edit"),
]
