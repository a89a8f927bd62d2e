"""Waiting on a state or an event, never on the clock: poll a condition
until it holds, with a generous deadline that only bounds a hang."""
import time


def wait_until(condition, what: str, timeout: float = 90, interval: float = 0.1):
    """condition()'s first truthy value; fails the test naming `what` (and the
    last value seen) if it never comes within timeout seconds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what} (last: {value!r})"
        time.sleep(interval)
    return value
