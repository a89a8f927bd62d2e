"""Run one writer in several threads at once, each on its own database
connection (as several RQ workers would be), starting together; what they
raise is returned for the test to assert on, not lost in a thread."""
import threading

from django.db import connection


def run_at_once(writer, count: int = 4) -> list[Exception]:
    """writer(n) for n in 0..count-1, concurrently; the exceptions they raised."""
    start, errors = threading.Barrier(count), []

    def run(n):
        try:
            start.wait()
            writer(n)
        except Exception as error:  # noqa: BLE001  returned to the test, which asserts there are none
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def actions_at_once(*actions, refusals: tuple[type[Exception], ...] = ()) -> list:
    """Each action in its own thread, released together: what each returned,
    or the refusal (one of `refusals`) it raised."""
    release, results = threading.Barrier(len(actions)), [None] * len(actions)

    def run(index, action):
        try:
            release.wait()
            results[index] = action()
        except refusals as refused:
            results[index] = refused
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
