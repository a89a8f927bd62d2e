"""The node page's recent fence restarts, newest first, with a link to the
whole history in the audit changelist (a node may have thousands)."""
from django.urls import reverse
from django.utils.html import format_html, format_html_join

RECENT = 20


def table(node):
    recent = list(node.fence_restarts.order_by("-started_at", "-id")[:RECENT])
    if not recent:
        return "No fence restart recorded."
    url = reverse("admin:nodes_fencerestart_changelist") + f"?node_address={node.address}"
    rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code> &rarr; <code>{}</code></td>"
                                "<td>{}</td></tr>",
                            ((r.started_at.strftime("%Y-%m-%d %H:%M:%S"), r.get_outcome_display(),
                              r.requested_by_username, r.image_before, r.image_after, r.reason) for r in recent))
    return format_html('<table id="restart-history"><thead><tr><th>Started</th><th>Outcome</th><th>By</th>'
                       '<th>Image</th><th>Reason</th></tr></thead><tbody>{}</tbody></table>'
                       '<p><a href="{}">All fence restarts on {}</a></p>', rows, url, node.address)
