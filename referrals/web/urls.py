from django.urls import path

from referrals.web import views

app_name = "referrals_web"

urlpatterns = [
    path("people/<int:pk>/refer/", views.refer, name="refer"),
]
