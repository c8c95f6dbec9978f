from django.contrib.auth import views as auth_views
from django.urls import include, path

from fangpin.accounts.views import FangpinLoginView, lockouts, unlock
from fangpin.api import api
from fangpin.web import views as web_views

urlpatterns = [
    path("", web_views.home, name="home"),
    path("login/", FangpinLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("security/lockouts/", lockouts, name="lockouts"),
    path("security/unlock/", unlock, name="unlock"),
    path("accounts/", include("fangpin.accounts.urls")),
    path("registry/", include("fangpin.registry.urls")),
    path("jobs/", include("fangpin.jobs.urls")),
    path("audit/", include("fangpin.audit.urls")),
    path("rules/", include("fangpin.rules.urls")),
    path("rosters/", include("fangpin.feeds.urls")),
    path("rectification/", include("fangpin.rectification.urls")),
    path("cases/", include("fangpin.monitoring.urls")),
    path("sensitive-files/", include("fangpin.retention.urls")),
    path("reconciliation/", include("fangpin.reconciliation.urls")),
    path("dossiers/", include("fangpin.dossiers.urls")),
    path("reports/", include("fangpin.reports.urls")),
    path("field/", include("fangpin.field.urls")),
    path("socialaid/", include("fangpin.socialaid.urls")),
    path("classification/", include("fangpin.classification.urls")),
    path("regimes/", include("fangpin.regimes.urls")),
    path("api/", api.urls),
]
handler404 = "fangpin.web.views.not_found"
handler403 = "fangpin.web.views.forbidden"
