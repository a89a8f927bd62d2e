from nodes.models.audit_chain_check import AuditChainCheck
from nodes.models.cluster import Cluster
from nodes.models.fence_restart import FenceRestart
from nodes.models.maintenance_window import MaintenanceWindow
from nodes.models.node import Node

__all__ = ["Cluster", "Node", "FenceRestart", "AuditChainCheck", "MaintenanceWindow"]
