"""What a node's engine holds (images/rollouts/node_engine.py), from what
`docker inspect` answers: a missing image, a busy engine asked again, and
an image held under the tag but not by the pinned digest, each said as it
is (a 50-DEA bench run once called a verified restart "does not hold" with
nothing to tell why)."""
from nodes.ssh import CommandResult
from images.rollouts import node_engine

TAG = "127.0.0.11:5000/acme/base:2.0"
PINNED = "127.0.0.11:5000/acme/base@sha256:" + "a" * 64


class ScriptedSession:
    """Answers each command with the next (exit code, stdout, stderr)."""

    def __init__(self, *answers):
        self.answers, self.calls = list(answers), 0

    def run(self, argv, *, timeout=None, check=False, stdin=None):
        self.calls += 1
        code, out, err = self.answers.pop(0)
        return CommandResult(tuple(argv), code, out, err)


def test_held_by_the_pinned_digest():
    session = ScriptedSession((0, f'["{PINNED}"]\n', ""))
    assert node_engine.says(session, TAG, PINNED) is None and session.calls == 1


def test_a_missing_image_is_said_at_once():
    session = ScriptedSession((1, "", f"Error: No such image: {TAG}\n"))
    assert node_engine.says(session, TAG, PINNED) == f"the node's engine does not hold {TAG}"
    assert session.calls == 1


def test_an_engine_that_does_not_answer_is_asked_once_more():
    busy = (1, "", "Error response from daemon: i/o timeout\n")
    assert node_engine.says(ScriptedSession(busy, (0, f'["{PINNED}"]\n', "")), TAG, PINNED) is None
    said = node_engine.says(ScriptedSession(busy, busy), TAG, PINNED)
    assert said == f"docker inspect {TAG} failed: Error response from daemon: i/o timeout"


def test_held_under_the_tag_but_not_by_the_digest():
    other = "127.0.0.11:5000/acme/base@sha256:" + "b" * 64
    said = node_engine.says(ScriptedSession((0, f'["{other}"]\n', "")), TAG, PINNED)
    assert said.startswith(f"the node's engine holds {TAG}, but not as {PINNED}") and other in said
