from rest_framework.routers import SimpleRouter

from referrals.api import directory, views

router = SimpleRouter()
router.register("destinations", directory.DestinationViewSet, basename="destination")
router.register("referrals", views.ReferralViewSet, basename="referral")

urlpatterns = router.urls
