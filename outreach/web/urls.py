from django.urls import path

from outreach.web import views

app_name = "outreach_web"

urlpatterns = [
    path("today/", views.today, name="today"),
    path("today/sessions/<int:pk>/counts/", views.session_counts, name="session_counts"),
    path("today/sessions/<int:pk>/walk-in/", views.walk_in, name="walk_in"),
    path("bookings/<int:pk>/", views.booking_detail, name="booking"),
    path("bookings/<int:pk>/check-in/", views.check_in, name="check_in"),
    path("bookings/<int:pk>/no-show/", views.no_show, name="no_show"),
    path("bookings/<int:pk>/outcome/", views.record_outcome, name="record_outcome"),
    path("bookings/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("bookings/<int:pk>/seen/", views.outcome, name="outcome"),
    path("people/<int:pk>/", views.person, name="person"),
    path("people/<int:pk>/book-next/", views.book_next, name="book_next"),
    path("people/<int:pk>/walk-in/", views.person_walk_in, name="person_walk_in"),
]
