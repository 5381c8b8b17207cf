from django.urls import path
from rest_framework.routers import SimpleRouter

from outreach.messaging import api, reply_api

router = SimpleRouter()
router.register("messages", api.MessageViewSet, basename="message")
router.register("replies", reply_api.ReplyViewSet, basename="reply")

urlpatterns = [
    path("webhooks/notify/receipts/", api.NotifyReceiptView.as_view(), name="notify-receipts"),
    path("webhooks/notify/inbound/", api.NotifyInboundView.as_view(), name="notify-inbound"),
    *router.urls,
]
