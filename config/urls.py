from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from config import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz/", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "Outreach administration"
admin.site.site_title = "Outreach"
admin.site.index_title = "Clinics, sessions, bookings and referrals"
