"""The test helpers every job test leans on, against a real Redis: an idle
worker stays registered past RQ's worker TTL for as long as the test holds
it, and clean_queue empties a started job out of rq 2.x's registries."""
from rq import Worker
from rq.registry import StartedJobRegistry

from stackato_dash import queueing
from support.job_runs import dead_worker
from support.rq import end_idle_workers, register_idle_worker
from support.waiting import wait_until


def test_an_idle_worker_beats_its_heartbeat_until_its_death(clean_queue):
    worker = register_idle_worker(beat_interval=0.2)
    connection = clean_queue.connection
    connection.expire(worker.key, 2)  # as if its TTL had nearly run out
    wait_until(lambda: connection.ttl(worker.key) > 60, "the idle worker's heartbeat to renew its key")
    assert worker.name in {w.name for w in Worker.all(queue=clean_queue)}

    worker.register_death()
    assert worker.name not in {w.name for w in Worker.all(queue=clean_queue)}
    assert connection.ttl(worker.key) <= 60  # RQ's death expiry, not pushed back by a late beat


def test_clean_queue_empties_a_started_job_out_of_the_registries(request):
    queue = queueing.get_queue()
    job = queue.enqueue("os.getpid")
    taker = dead_worker(queue, name="taker")
    queue.remove(job.id)
    taker.prepare_execution(job)  # what a worker does as it takes a job: an execution in the started registry
    assert StartedJobRegistry(queue=queue).get_job_ids() == [job.id]

    request.getfixturevalue("clean_queue")  # the fixture's clean-up before a test: no NotImplementedError

    assert StartedJobRegistry(queue=queue).get_job_ids() == []
    assert queue.fetch_job(job.id) is None
    taker.register_death()


def test_an_idle_worker_a_failed_test_left_alive_is_ended_by_clean_queue_after_it(clean_queue):
    left = register_idle_worker()  # as a test that failed before its register_death() leaves it
    end_idle_workers()  # what clean_queue's teardown calls
    assert left.name not in {w.name for w in Worker.all(queue=clean_queue)}
    assert not left._beating.is_alive()
