"""Where a cluster's config names the image fence runs: the component, the
key, and whether the key holds one reference or a list (3.4+, the default
first). The cluster answers it (Cluster.image_setting); the kato client
reads and writes what it is given, knowing no Stackato version."""
from dataclasses import dataclass


@dataclass(frozen=True)
class ImageSetting:
    component: str = "fence"
    key: str = "docker/image"
    is_list: bool = False

    def __str__(self):
        return f"{self.component} {self.key}"


# Stackato 3.4+ (`kato config get fence docker/images`).
IMAGE_LIST = ImageSetting(key="docker/images", is_list=True)
