from django.urls import path

from . import views

app_name = "monitoring"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/new/<int:household_id>/", views.new_clue, name="new_clue"),
    path("inbox/warning/<int:finding_id>/", views.take_warning, name="take_warning"),
    path("clues/<int:pk>/", views.clue_detail, name="clue"),
    path("clues/<int:pk>/refer/", views.refer_clue, name="refer"),
    path("referrals/", views.referrals, name="referrals"),
    path("referrals/<int:pk>/outcome/", views.referral_outcome, name="referral_outcome"),
    path("referrals/<int:pk>/withdraw/", views.referral_withdraw, name="referral_withdraw"),
    path("new/<int:household_id>/", views.open_case, name="open"),
    path("<int:pk>/", views.case_detail, name="case"),
    path("<int:pk>/advance/", views.advance, name="advance"),
    path("<int:pk>/return/", views.return_case, name="return"),
    path("<int:pk>/close/", views.close_case, name="close"),
    path("<int:pk>/objections/", views.add_objection, name="add_objection"),
    path("objections/<int:pk>/answer/", views.answer_objection, name="answer_objection"),
    path("notice/<str:village_code>/<str:kind>.<str:fmt>", views.notice_document, name="notice"),
    path("monitored/", views.monitored, name="monitored"),
    path("households/<int:pk>/", views.household_assistance, name="assistance"),
    path("households/<int:pk>/pair/", views.pair, name="pair"),
    path("households/<int:pk>/measures/", views.add_measure, name="add_measure"),
    path("measures/<int:pk>/end/", views.end_measure, name="end_measure"),
    path("households/<int:pk>/visit/", views.visit, name="visit"),
    path("households/<int:pk>/eliminate/", views.open_elimination, name="eliminate"),
    path("households/<int:pk>/revert/", views.revert, name="revert"),
    path("households/<int:pk>/timeline/", views.household_timeline, name="timeline"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
]
