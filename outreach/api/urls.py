from django.urls import path
from rest_framework.routers import SimpleRouter

from outreach.api import records, views, waitlist

# In the order of use: Django tries each pattern in turn, and booking is the busiest.
router = SimpleRouter()
router.register("bookings", views.BookingViewSet, basename="booking")
router.register("sessions", views.SessionViewSet, basename="session")
router.register("series", views.SessionSeriesViewSet, basename="series")
router.register("waitlist", waitlist.WaitlistViewSet, basename="waitlist")
router.register("visit-outcomes", records.VisitOutcomeViewSet, basename="visitoutcome")
router.register("message-templates", records.MessageTemplateViewSet, basename="messagetemplate")

urlpatterns = [
    path("slots/", views.SlotSearchView.as_view(), name="slot-search"),
    *router.urls,
]
