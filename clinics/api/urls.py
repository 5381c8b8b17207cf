from rest_framework.routers import SimpleRouter

from clinics.api import reference, sharing, tokens, views

router = SimpleRouter()
router.register("organisations", reference.OrganisationViewSet, basename="organisation")
router.register("staff", reference.StaffMemberViewSet, basename="staffmember")
router.register("mobile-units", reference.MobileUnitViewSet, basename="mobileunit")
router.register("venues", reference.VenueViewSet, basename="venue")
router.register("service-types", reference.ServiceTypeViewSet, basename="servicetype")
router.register("patients", views.PatientViewSet, basename="patient")
router.register("contact-points", views.ContactPointViewSet, basename="contactpoint")
router.register("sharing-agreements", sharing.SharingAgreementViewSet, basename="sharingagreement")
router.register("tokens", tokens.ApiTokenViewSet, basename="apitoken")

urlpatterns = router.urls
