from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import accounts, views

# Swagger UI's files are our own static files (drf-spectacular-sidecar); its page's two inline
# blocks carry this response's CSP nonce (config/templates/drf_spectacular/swagger_ui.html).
api_docs = SpectacularSwaggerView.as_view(url_name="api-schema")

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", accounts.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # --- Authentication: two-factor pages (config/accounts.py) ---
    path("account/two-factor/", accounts.VerifyView.as_view(), name="two-factor-verify"),
    path("account/two-factor/setup/", accounts.SetupView.as_view(), name="two-factor-setup"),
    path(
        "account/two-factor/backup-codes/",
        accounts.BackupCodesView.as_view(),
        name="two-factor-backup-codes",
    ),
    path("healthz/", views.healthz, name="healthz"),
    # The API before the pages: Django tries the patterns in order, and every page include
    # below matches any path's empty prefix before failing on its own patterns. Booking and
    # slot search come first within it; no two of these share a prefix.
    path(
        "api/v1/",
        include(
            [
                path("", include("outreach.api.urls")),
                path("", include("clinics.api.urls")),
                path("", include("outreach.messaging.urls")),
                path("", include("referrals.api.urls")),
                path("", include("referrals.api.reports_urls")),
            ]
        ),
    ),
    # The admin signs in through the same throttled page as everyone else.
    path("admin/login/", accounts.SignInView.as_view()),
    path("", include("outreach.web.urls")),
    path("", include("clinics.web.urls")),
    path("", include("referrals.web.urls")),
    path("admin/", admin.site.urls),
    path("", include("outreach.web.planner_urls")),
    path("", include("referrals.web.board_urls")),
    path("", include("referrals.web.reports_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
]

admin.site.site_header = "Outreach administration"
admin.site.site_title = "Outreach"
admin.site.index_title = "Clinics, sessions, bookings and referrals"

handler404 = "config.errors.not_found"
