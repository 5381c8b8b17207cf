from django.urls import path
from rest_framework.routers import SimpleRouter

from outreach.api import views

router = SimpleRouter()
router.register("series", views.SessionSeriesViewSet, basename="series")
router.register("sessions", views.SessionViewSet, basename="session")
router.register("bookings", views.BookingViewSet, basename="booking")
router.register("waitlist", views.WaitlistViewSet, basename="waitlist")

urlpatterns = [
    path("slots/", views.SlotSearchView.as_view(), name="slot-search"),
    *router.urls,
]
