"""Calendar feed tokens and background export jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class FeedToken(models.Model):
    """A secret calendar-feed address: a user's bookings, or one resource's.

    Only a SHA-256 of the token is stored (the token is 32 random bytes, nothing to guess);
    the address is shown once. Regenerating revokes the old token and makes a new one.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_tokens"
    )
    resource = models.ForeignKey(
        "resources.Resource",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="feed_tokens",
    )
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one live feed per user and subject (their own bookings, or a resource).
            models.UniqueConstraint(
                fields=["user", "resource"],
                condition=Q(revoked_at__isnull=True, resource__isnull=False),
                name="feedtoken_one_live_per_resource",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(revoked_at__isnull=True, resource__isnull=True),
                name="feedtoken_one_live_personal",
            ),
        ]

    def __str__(self) -> str:
        subject = self.resource.name if self.resource is not None else "my bookings"
        return f"{self.user} feed: {subject}"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


class ExportJob(models.Model):
    """An export run by the worker, for exports too big to wait for in a page load."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs"
    )
    format = models.CharField(max_length=8)
    filters = models.JSONField(default=dict)
    status = models.CharField(
        max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="exportjob_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ExportStatus]),
                name="exportjob_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(format__in=["csv", "xlsx", "ics"]), name="exportjob_format_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | ~Q(file_name=""), name="exportjob_done_has_file"
            ),
        ]

    def __str__(self) -> str:
        return f"export #{self.pk} ({self.format}, {self.status})"

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)
