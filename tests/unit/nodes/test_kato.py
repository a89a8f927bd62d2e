"""nodes.kato against a fake session
with canned kato output in the formats of sandbox/README.md."""
import json

import pytest

from nodes.image_setting import IMAGE_LIST
from nodes.kato import Kato, KatoError, NodeEntry, Process
from nodes.ssh import BadArgument, CommandResult, Endpoint

BASE = "stackato/app-holophonor:3.0.0"


class FakeSession:
    """Answers each argv from a table; a list of answers is used in order."""

    endpoint = Endpoint("10.0.0.5", 22, "root", None)

    def __init__(self, answers):
        self.answers = {tuple(argv): value for argv, value in answers}
        self.calls = []

    def run(self, argv, *, timeout=None, check=False):
        argv = tuple(argv)
        self.calls.append(argv)
        answer = self.answers[argv]
        if isinstance(answer, list):
            answer = answer.pop(0)
        code, out, err = answer
        return CommandResult(argv, code, out, err)


def kato(*answers):
    session = FakeSession(answers)
    return Kato(session), session


GET = ("kato", "config", "get", "fence", "docker/image", "--json")
SET = ("kato", "config", "set", "fence", "docker/image", "exampleco/new:1")


def test_config_get_reads_json():
    client, session = kato((GET, (0, json.dumps(BASE) + "\n", "")))
    assert client.config_get("fence", "docker/image") == BASE
    assert session.calls == [GET]


@pytest.mark.parametrize("answer, words", [
    ((0, "", "Error: key docker/image not found in fence\n"), "not found in fence"),  # old kato: exit 0
    ((1, "", "Error: component fence not found\n"), "component fence not found"),
    ((0, "stackato/app-holophonor:3.0.0\n", ""), "did not print JSON"),
    ((0, "", ""), "did not print JSON"),
])
def test_config_get_failures_name_the_command_and_what_kato_said(answer, words):
    client, _ = kato((GET, answer))
    with pytest.raises(KatoError) as caught:
        client.config_get("fence", "docker/image")
    message = str(caught.value)
    assert words in message and "kato config get fence docker/image --json" in message
    assert message.startswith("10.0.0.5: ") and caught.value.result.argv == GET


@pytest.mark.parametrize("component, key", [
    ("-j", "docker/image"), ("fence", "--json"), ("fence;id", "x"), ("fence", "a b"), ("", "x"),
    ("fence", "docker/$(id)"), ("fence", "docker\nimage"), (None, "x"), ("fence", 5),
])
def test_config_names_are_validated_before_anything_is_sent(component, key):
    client, session = kato()
    with pytest.raises(BadArgument):
        client.config_get(component, key)
    with pytest.raises(ValueError):
        client.config_set(component, key, "x")
    assert session.calls == []


def test_config_set_writes_then_reads_back():
    client, session = kato(
        (SET, (0, "WARNING: Assumed type string\nexampleco/new:1\n", "")),
        (GET, (0, '"exampleco/new:1"\n', "")),
    )
    assert client.config_set("fence", "docker/image", "exampleco/new:1") == "exampleco/new:1"
    assert session.calls == [SET, GET]


def test_config_set_of_a_list_is_a_struct_read_back_as_a_list():
    images = ["exampleco/new:1", BASE]
    set_list = ("kato", "config", "set", "fence", "docker/images", json.dumps(images))
    client, _ = kato(
        (set_list, (0, f"WARNING: Assumed type struct\n- exampleco/new:1\n- {BASE}\n", "")),
        (("kato", "config", "get", "fence", "docker/images", "--json"), (0, json.dumps(images, indent=2), "")),
    )
    assert client.config_set("fence", "docker/images", images) == images


def test_config_set_that_did_not_stick_is_an_error_even_with_exit_0():
    client, _ = kato(
        (SET, (0, "WARNING: Assumed type string\nexampleco/new:1\n", "")),
        (GET, (0, json.dumps(BASE), "")),  # the write was lost
    )
    with pytest.raises(KatoError) as caught:
        client.config_set("fence", "docker/image", "exampleco/new:1")
    assert "reported success" in str(caught.value) and BASE in str(caught.value)


@pytest.mark.parametrize("answer, words", [
    ((0, "exampleco/new:1\n", ""), "did not confirm"),
    ((0, "WARNING: Assumed type int\n1\n", ""), "as int, not string"),
    ((0, "", "Error: config_redis not answering\n"), "config_redis not answering"),
    ((2, "", "usage: kato ...\n"), "exit 2"),
])
def test_config_set_output_it_does_not_understand_is_an_error(answer, words):
    client, session = kato((SET, answer))
    with pytest.raises(KatoError, match=words.replace("(", r"\(")):
        client.config_set("fence", "docker/image", "exampleco/new:1")
    assert session.calls == [SET]  # no read-back of a write that already failed


@pytest.mark.parametrize("value", ["true", "123", "-5", "[a]", "{}", "-x", "two\nlines", 5, ["a", 1], None])
def test_config_set_refuses_values_kato_would_not_store_as_given(value):
    client, session = kato()
    with pytest.raises(BadArgument):
        client.config_set("fence", "docker/image", value)
    assert session.calls == []


def test_desired_image_for_each_behaviour():
    client, _ = kato((GET, (0, json.dumps(BASE), "")),
                     (("kato", "config", "get", "fence", "docker/images", "--json"),
                      [(0, json.dumps(["a/b:2", BASE]), ""), (0, "[]", "")]))
    assert client.desired_image() == BASE
    assert client.desired_image(IMAGE_LIST) == "a/b:2"
    with pytest.raises(KatoError, match="non-empty list"):
        client.desired_image(IMAGE_LIST)


def test_set_desired_image_on_3_4_puts_the_new_image_first_and_keeps_the_others():
    get = ("kato", "config", "get", "fence", "docker/images", "--json")
    wanted = ["c/d:3", "a/b:2", BASE]
    client, session = kato(
        (get, [(0, json.dumps(["a/b:2", "c/d:3", BASE]), ""), (0, json.dumps(wanted), "")]),
        (("kato", "config", "set", "fence", "docker/images", json.dumps(wanted)),
         (0, "WARNING: Assumed type struct\n...\n", "")),
    )
    assert client.set_desired_image("c/d:3", IMAGE_LIST) == wanted


LIST = ("kato", "process", "list")
# Every accepted layout and the errors: tests/unit/nodes/test_kato_process_list.py.
DEA_LIST = "dea_ng               RUNNING\ndir_server           RUNNING\nfence                RUNNING\napptail              RUNNING\n"


def test_process_list_gives_names_and_states_only():
    client, _ = kato((LIST, (0, DEA_LIST, "")))
    processes = client.process_list()
    assert processes == [Process("dea_ng", "RUNNING"), Process("dir_server", "RUNNING"),
                         Process("fence", "RUNNING"), Process("apptail", "RUNNING")]


def test_process_list_on_another_node():
    client, session = kato((LIST + ("-n", "10.0.0.7"), (0, "fence FATAL\n", "")))
    assert client.process("fence", node_ip="10.0.0.7") == Process("fence", "FATAL")
    with pytest.raises(BadArgument):
        client.process_list(node_ip="10.0.0.256")
    with pytest.raises(BadArgument):
        client.process_list(node_ip="10.0.0.7; id")


def test_a_node_without_fence_is_an_error():
    client, _ = kato((LIST, (0, "dea_ng RUNNING\n", "")))
    with pytest.raises(KatoError, match="no process fence"):
        client.process("fence")


@pytest.mark.parametrize("output", [
    "fence running-ish\n",
    "Traceback (most recent call last):\n  File \"kato\", line 1\n",
    "\x00\xff garbage",
    "",
])
def test_process_list_garbage_is_an_error(output):
    client, _ = kato((LIST, (0, output, "")))
    with pytest.raises(KatoError, match="does not understand"):
        client.process_list()


def test_process_list_error_lines_are_errors_even_with_exit_0():
    client, _ = kato((LIST + ("-n", "10.0.0.7"), (0, "", "Error: node 10.0.0.7 unreachable\n")))
    with pytest.raises(KatoError, match="unreachable"):
        client.process_list("10.0.0.7")


READY = ("kato", "process", "ready", "fence")


@pytest.mark.parametrize("printed, ready", [("READY\n", True), ("fence: READY\n", True), ("NOT READY\n", False)])
def test_process_ready(printed, ready):
    client, _ = kato((READY, (0, printed, "")))
    assert client.process_ready("fence") is ready


@pytest.mark.parametrize("answer", [(0, "", "Error: unknown command ready\n"), (2, "", "usage: kato process ...\n"),
                                    (0, "maybe\n", "")])
def test_process_ready_where_kato_lacks_it_or_says_something_else(answer):
    client, _ = kato((READY, answer))
    with pytest.raises(KatoError):
        client.process_ready("fence")


RESTART = ("kato", "process", "restart", "fence")


def test_process_restart_returns_what_kato_printed():
    client, _ = kato((RESTART, (0, "fence: stopped\nfence: started\n", "")))
    assert client.process_restart("fence").stdout == "fence: stopped\nfence: started\n"


@pytest.mark.parametrize("answer", [
    (0, "fence: stopped\n", "fence: ERROR (spawn error)\n"),  # 3.0: exit 0 on failure
    (1, "fence: stopped\n", "fence: ERROR (spawn error)\n"),
    (0, "", "Error: no node with address 10.0.0.9 in the cluster\n"),
    (0, "fence: stopped\n", ""),  # never said started
])
def test_process_restart_failures(answer):
    client, _ = kato((RESTART, answer))
    with pytest.raises(KatoError) as caught:
        client.process_restart("fence")
    assert "kato process restart fence" in str(caught.value)


@pytest.mark.parametrize("name", ["Fence", "fence;id", "-n", "", "fe nce", None])
def test_process_names_are_validated(name):
    client, session = kato()
    with pytest.raises(BadArgument):
        client.process_restart(name)
    assert session.calls == []


NODES = ("kato", "node", "list")


def test_node_list():
    client, _ = kato((NODES, (0, "127.0.0.11 primary controller router\n127.0.0.12 dea\n10.1.2.3\n", "")))
    assert client.node_list() == [NodeEntry("127.0.0.11", ("primary", "controller", "router")),
                                  NodeEntry("127.0.0.12", ("dea",)), NodeEntry("10.1.2.3", ())]


@pytest.mark.parametrize("output, words", [
    ("core primary\n", "IPv4"),
    ("127.0.0.300 dea\n", "IPv4"),
    ("127.0.0.12 dea wizard\n", "unknown role"),
    ("127.0.0.12 dea\n127.0.0.12 dea\n", "twice"),
])
def test_node_list_garbage_is_an_error(output, words):
    client, _ = kato((NODES, (0, output, "")))
    with pytest.raises(KatoError, match=words):
        client.node_list()


def test_info():
    client, _ = kato((("kato", "info"), [(0, "address: 127.0.0.12\nname: dea1\nroles: dea\nversion: 3.0\n", ""),
                                         (0, "this is not kato\n", "")]))
    assert client.info() == {"address": "127.0.0.12", "name": "dea1", "roles": ["dea"], "version": "3.0"}
    with pytest.raises(KatoError):
        client.info()
