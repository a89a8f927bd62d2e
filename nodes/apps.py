from django.apps import AppConfig


class NodesConfig(AppConfig):
    verbose_name = "Cluster nodes"
    name = "nodes"
