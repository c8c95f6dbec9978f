from django.urls import path

from . import views

app_name = "field"
urlpatterns = [
    path("", views.index, name="index"),
    path("issue/", views.issue, name="issue"),
    path("tokens/<int:pk>/revoke/", views.revoke, name="revoke"),
    path("conflicts/", views.conflicts, name="conflicts"),
    path("conflicts/<int:pk>/resolve/", views.resolve, name="resolve"),
    path("conflicts/<int:pk>/photos/<int:index>", views.conflict_photo, name="conflict_photo"),
    # the OpenRosa server of one token (the Collect server URL is /field/<token>/)
    path("<str:token>/", views.server, name="server"),
    path("<str:token>/formList", views.form_list, name="form_list"),
    path("<str:token>/forms/<slug:form_id>.xml", views.form_xml, name="form_xml"),
    path("<str:token>/forms/<slug:form_id>/manifest", views.manifest, name="manifest"),
    # the lists a form reads (views.LISTS)
    path(
        "<str:token>/forms/<slug:form_id>/households.csv",
        views.entity_list,
        {"name": "households.csv"},
        name="households",
    ),
    path(
        "<str:token>/forms/<slug:form_id>/clues.csv", views.entity_list, {"name": "clues.csv"}, name="clues"
    ),
    path("<str:token>/submission", views.submission, name="submission"),
]
