from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz/", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("clinics.api.urls")),
    path("api/v1/", include("outreach.api.urls")),
    path("api/v1/", include("outreach.messaging.urls")),
    path("api/v1/", include("referrals.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

admin.site.site_header = "Outreach administration"
admin.site.site_title = "Outreach"
admin.site.index_title = "Clinics, sessions, bookings and referrals"

handler404 = "config.errors.not_found"
