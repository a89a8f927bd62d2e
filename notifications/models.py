"""Per cluster: where rollout events are announced (webhooks, e-mail), and
the log of every delivery. Secrets never enter the database: a webhook names
the environment variable that holds its signing secret."""
import re
import urllib.parse
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models


class Event(models.TextChoices):
    STARTED = "rollout.started", "rollout started"
    APPROVAL_NEEDED = "rollout.approval_needed", "approval needed"
    GATE_WAITING = "rollout.gate_waiting", "manual gate waiting"
    SUCCEEDED = "rollout.succeeded", "rollout succeeded"
    FAILED = "rollout.failed", "rollout failed (or errored)"
    ROLLED_BACK = "rollout.rolled_back", "rollout rolled back"


def all_events() -> list[str]:
    return list(Event.values)


def validate_events(value):
    if not isinstance(value, list) or not value or set(value) - set(Event.values):
        raise ValidationError(f"A non-empty list of: {', '.join(Event.values)}.")


def validate_env_name(value: str):
    if not re.fullmatch(r"[A-Z_][A-Z0-9_]{0,99}", value):
        raise ValidationError("An environment variable name (capitals, digits, _), e.g. WEBHOOK_SECRET_PROD.")


def validate_no_credentials(value: str):
    """A login in the URL would be stored, shown in the delivery log and
    carried in job descriptions and error messages: refused."""
    if urllib.parse.urlsplit(value).username is not None:
        raise ValidationError("No user or password in the URL: a receiver trusts the body by its signature "
                              "(the secret environment variable).")


def validate_addresses(value: str):
    addresses = [a.strip() for a in value.split(",") if a.strip()]
    if not addresses:
        raise ValidationError("At least one address.")
    for address in addresses:
        validate_email(address)


class Webhook(models.Model):
    cluster = models.ForeignKey("nodes.Cluster", on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500, blank=True, validators=[validate_no_credentials],
                          help_text="Receives a POST with a JSON body per event. Leave it empty and name a URL "
                                    "environment variable instead when the URL itself is a secret.")
    # A chat webhook (Slack, Teams, Mattermost) carries its token in the URL's
    # path: such a URL is a secret, so it stays in the workers' environment,
    # out of the database, the delivery log and the error messages.
    url_env = models.CharField(
        "URL environment variable", max_length=100, blank=True, validators=[validate_env_name],
        help_text="The name of the environment variable (of the workers) holding the URL, for a URL that "
                  "carries a token; the URL is then never stored.")
    secret_env = models.CharField(
        "secret environment variable", max_length=100, validators=[validate_env_name],
        help_text="The name of the environment variable (of the workers) holding the HMAC-SHA256 secret; "
                  "the secret itself is never stored.")
    events = models.JSONField(default=all_events, validators=[validate_events])
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["cluster__name", "url"]

    def __str__(self):
        return f"{self.shown_url} ({self.cluster})"

    def clean(self):
        if bool(self.url) == bool(self.url_env):
            raise ValidationError("Give either the URL or the name of the environment variable that holds it.")

    @property
    def shown_url(self) -> str:
        """What the console shows and logs: the URL, or only where it is."""
        return self.url or f"URL in ${self.url_env}"


class MailNotification(models.Model):
    cluster = models.ForeignKey("nodes.Cluster", on_delete=models.CASCADE, related_name="mail_notifications")
    addresses = models.CharField(max_length=1000, validators=[validate_addresses], help_text="Comma-separated.")
    events = models.JSONField(default=all_events, validators=[validate_events])
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["cluster__name"]

    def __str__(self):
        return f"mail to {self.addresses} ({self.cluster})"

    @property
    def recipients(self) -> list[str]:
        return [a.strip() for a in self.addresses.split(",") if a.strip()]


class Channel(models.TextChoices):
    WEBHOOK = "webhook", "webhook"
    MAIL = "mail", "e-mail"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    RETRYING = "retrying", "failed, will retry"
    DELIVERED = "delivered", "delivered"
    FAILED = "failed", "failed (no retry left)"


class Delivery(models.Model):
    """One event to one webhook or mail list. Its id is the delivery id the
    receiver sees (X-Stackato-Dash-Delivery), the same on every retry."""
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    webhook = models.ForeignKey(Webhook, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    mail = models.ForeignKey(MailNotification, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    target = models.CharField(max_length=1000, help_text="The URL or the addresses, copied when it was queued.")
    event = models.CharField(max_length=32, choices=Event.choices)
    rollout_id = models.UUIDField(db_index=True)
    payload = models.JSONField(help_text="The JSON body sent (no secret in it).")
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"

    def __str__(self):
        return f"{self.event} to {self.target}: {self.status}"
