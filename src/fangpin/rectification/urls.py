from django.urls import path

from . import views

app_name = "rectification"
urlpatterns = [
    path("", views.ledger, name="ledger"),
    path("batches/new/", views.new_batch, name="new_batch"),
    path("batches/new/mapping/", views.list_mapping, name="list_mapping"),
    path("batches/<int:pk>/", views.batch_detail, name="batch"),
    path("batches/<int:pk>/export/", views.export, name="export"),
    path("batches/<int:pk>/items/", views.add_item, name="add_item"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("items/<int:pk>/progress/", views.progress, name="progress"),
    path("items/<int:pk>/apply/", views.apply, name="apply"),
    path("items/<int:pk>/review/", views.review, name="review"),
    path("items/<int:pk>/extend/", views.extend, name="extend"),
    path("evidence/<int:pk>/", views.evidence, name="evidence"),
]
