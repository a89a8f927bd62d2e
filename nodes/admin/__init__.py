from nodes.admin import cluster_admin, fence_restart_admin, node_admin  # noqa: F401 - registers the admins
