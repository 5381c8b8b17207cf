from django.urls import path

from outreach.web.views import bookings, people, today

app_name = "outreach_web"

urlpatterns = [
    path("today/", today.today, name="today"),
    path("today/sessions/<int:pk>/counts/", today.session_counts, name="session_counts"),
    path("today/sessions/<int:pk>/walk-in/", today.walk_in, name="walk_in"),
    path("bookings/<int:pk>/", bookings.booking_detail, name="booking"),
    path("bookings/<int:pk>/check-in/", bookings.check_in, name="check_in"),
    path("bookings/<int:pk>/no-show/", bookings.no_show, name="no_show"),
    path("bookings/<int:pk>/outcome/", bookings.record_outcome, name="record_outcome"),
    path("bookings/<int:pk>/cancel/", bookings.cancel, name="cancel"),
    path("bookings/<int:pk>/seen/", bookings.outcome, name="outcome"),
    path("people/<int:pk>/", people.person, name="person"),
    path("people/<int:pk>/book-next/", people.book_next, name="book_next"),
    path("people/<int:pk>/walk-in/", people.person_walk_in, name="person_walk_in"),
]
