"""Files attached to bookings. The bytes live on disk (storage.py); this is their record."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Attachment(models.Model):
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.CASCADE, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attachments"
    )
    # Our own name on disk (uuid hex); the user's name is only ever shown.
    stored_name = models.CharField(max_length=32, unique=True)
    display_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["uploaded_by", "size"], name="attachment_user_size_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(size__gt=0), name="attachment_size_positive"),
            models.CheckConstraint(
                condition=~Q(display_name=""), name="attachment_display_name_present"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name
