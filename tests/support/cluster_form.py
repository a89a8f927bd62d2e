"""The cluster change page's POST (nodes/admin/cluster_admin.py) as the
browser sends it for a user who may edit every field: each field as stored,
no maintenance window, `changes` on top. Protected is a checkbox: ticked, it
is posted as "on"; unticked, it is absent."""


def cluster_form(cluster, *, protected: bool, **changes) -> dict:
    data = {"name": cluster.name, "core_address": cluster.core_address, "api_endpoint": cluster.api_endpoint,
            "registry": cluster.registry, "kato_behaviour": cluster.kato_behaviour,
            "config_component": cluster.config_component, "config_key": cluster.config_key,
            "ssh_user": cluster.ssh_user, "ssh_port": cluster.ssh_port,
            "approval_expiry_minutes": cluster.approval_expiry_minutes, "windows_timezone": cluster.windows_timezone,
            "maintenance_windows-TOTAL_FORMS": "0", "maintenance_windows-INITIAL_FORMS": "0", **changes}
    if protected:
        data["protected"] = "on"
    return data
