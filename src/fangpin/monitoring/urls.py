from django.urls import path

from . import views

app_name = "monitoring"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/<int:household_id>/", views.open_case, name="open"),
    path("<int:pk>/", views.case_detail, name="case"),
    path("<int:pk>/advance/", views.advance, name="advance"),
    path("<int:pk>/return/", views.return_case, name="return"),
]
