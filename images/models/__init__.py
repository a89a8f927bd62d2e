from images.models.build_log import BuildLogLine
from images.models.image_version import ImageVersion, ImmutableVersion
from images.models.promotion import Promotion
from images.models.registry_provisioning import RegistryProvisioning
from images.models.rollout import Rollout, RolloutStep
from images.models.rollout_event import RolloutEvent
from images.models.run_step import RunStep
from images.models.status import Status

__all__ = ["ImageVersion", "ImmutableVersion", "RunStep", "BuildLogLine", "Status", "Rollout", "RolloutStep", "RolloutEvent",
           "RegistryProvisioning", "Promotion"]
