"""What a cluster's Stackato version means for a rollout, answered by the
cluster: does fence reload on a config change, which key names its image."""
import pytest

from nodes.models import Cluster


@pytest.mark.parametrize("behaviour, config_key, reloads, image_key", [
    ("3.0", "docker/image", False, "docker/image"),
    ("3.0.1", "docker/image", True, "docker/image"),
    ("3.4", "docker/image", True, "docker/images"),   # 3.4 keeps a list under its own key
    ("3.4", "custom/images", True, "custom/images"),  # a key the operator set is kept
    ("3.0", "custom/image", False, "custom/image"),
])
def test_the_cluster_answers_for_its_version(behaviour, config_key, reloads, image_key):
    cluster = Cluster(name="prod", core_address="10.0.0.11", kato_behaviour=behaviour, config_key=config_key)
    assert cluster.fence_reloads_on_change is reloads
    assert cluster.image_setting.key == image_key
    assert cluster.image_setting.is_list is (behaviour == "3.4")
    assert cluster.image_setting.component == "fence"
