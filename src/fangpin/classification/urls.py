from django.urls import path

from . import views

app_name = "classification"
urlpatterns = [
    path("", views.assessment_list, name="list"),
    path("progress/", views.progress, name="progress"),
    path("parameter/", views.parameter, name="parameter"),
    path("start/<int:household_id>/", views.start, name="start"),
    path("start-village/", views.start_village, name="start_village"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/advance/", views.advance, name="advance"),
    path("<int:pk>/return/", views.return_assessment, name="return"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/upload/", views.upload, name="upload"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
]
