from django.urls import path

from clinics.web import views

app_name = "clinics_web"

urlpatterns = [
    path("people/", views.people, name="people"),
    path("people/register/", views.register, name="register"),
]
