from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("", views.audit_log, name="log"),
    path("verify/", views.verify_chain, name="verify"),
    path("anchors/", views.anchors, name="anchors"),
    path("anchors/<str:name>", views.anchor_download, name="anchor_download"),
]
