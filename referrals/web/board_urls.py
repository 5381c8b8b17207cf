"""The referral board and the destination directory: included from config/urls.py."""

from django.urls import path

from referrals.web import board, directory

urlpatterns = [
    path("referrals/board/", board.board, name="referral-board"),
    path("referrals/board/<int:pk>/", board.referral_detail, name="board-referral"),
    path(
        "referrals/board/<int:pk>/move/<slug:to>/", board.referral_move, name="board-referral-move"
    ),
    path("referrals/board/<int:pk>/chases/", board.referral_chase, name="board-referral-chase"),
    path("directory/", directory.directory, name="directory"),
    path("directory/new/", directory.destination_create, name="directory-add"),
    path("directory/<int:pk>/", directory.destination_detail, name="directory-detail"),
    path("directory/<int:pk>/edit/", directory.destination_edit, name="directory-edit"),
]
