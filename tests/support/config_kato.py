"""kato as a config step uses it (steps.set_config), with no node behind it."""


class FakeKato:
    """The cluster config on the Core node: one value, read and written."""
    config = {}

    def __init__(self, session):
        pass

    def desired_image(self, setting):
        return self.config["image"]

    def set_desired_image(self, ref, setting):
        self.config["image"] = ref
