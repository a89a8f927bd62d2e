"""`kato config get` as a stand-in that counts its reads (config_read tests)."""
import threading

TARGET = "registry.example:5000/acme/base:2.0"


class CountingKato:
    """`kato config get`: answers `value` after `takes` seconds, or raises."""

    def __init__(self, value=TARGET, takes=0.0, error=None):
        self.value, self.takes, self.error, self.reads = value, takes, error, 0
        self._lock, self.sent = threading.Lock(), threading.Event()

    def desired_image(self, setting):
        with self._lock:
            self.reads += 1
        self.sent.set()
        if self.takes:
            threading.Event().wait(self.takes)  # the command's own time on the node
        if self.error:
            raise self.error
        return self.value
