"""GET /metrics for Prometheus. Not behind the admin login (Prometheus
cannot log in): with METRICS_TOKEN set, a scrape must send it as a bearer
token (Prometheus' `authorization` / `bearer_token_file`); without it, only
a scraper on this machine's loopback is answered."""
import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from stackato_dash.metrics.collector import FleetCollector


def allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@require_GET
def metrics(request):
    if not allowed(request):
        return HttpResponse("Forbidden: send METRICS_TOKEN as a bearer token, or scrape from loopback "
                            "when it is not set (README: Metrics).\n", status=403, content_type="text/plain")
    # A registry per scrape, not the global one: only our collector, none of
    # the per-process defaults (they would differ from process to process).
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
