from rest_framework.routers import SimpleRouter

from clinics.api import tokens, views

router = SimpleRouter()
router.register("patients", views.PatientViewSet, basename="patient")
router.register("service-types", views.ServiceTypeViewSet, basename="servicetype")
router.register("venues", views.VenueViewSet, basename="venue")
router.register("mobile-units", views.MobileUnitViewSet, basename="mobileunit")
router.register("staff", views.StaffMemberViewSet, basename="staffmember")
router.register("tokens", tokens.ApiTokenViewSet, basename="apitoken")

urlpatterns = router.urls
