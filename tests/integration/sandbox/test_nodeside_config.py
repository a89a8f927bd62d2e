"""kato config against a real redis-server: set/get, types, publish, versions."""
import json
import threading

from sandbox.nodeside import config_store

BASE = config_store.BASE_IMAGE


def test_config_set_is_seen_by_get_on_every_node(nodeside_cluster):
    sb = nodeside_cluster("3.0", start=False)
    r = sb.kato("core", "config", "set", "fence", "docker/image", "exampleco/newimg:1.0.0")
    assert (r.returncode, r.stdout, r.stderr) == (
        0, "WARNING: Assumed type string\nexampleco/newimg:1.0.0\n", "")
    for node in ("core", "dea1", "dea2"):
        r = sb.kato(node, "config", "get", "fence", "docker/image")
        assert r.stdout == "exampleco/newimg:1.0.0\n"
    assert sb.kato("dea1", "config", "get", "fence").stdout == \
        "docker:\n  image: exampleco/newimg:1.0.0\n"
    assert sb.kato("dea1", "config", "get", "fence", "-j").stdout == \
        '{\n  "docker": {\n    "image": "exampleco/newimg:1.0.0"\n  }\n}\n'


def test_guessed_types_are_announced_and_stored(nodeside_cluster):
    sb = nodeside_cluster("3.0", start=False)
    cases = [("5", "int", "5"), ("true", "bool", "true"), ("hello", "string", "hello"),
             ('["a:1", "b:2"]', "struct", "- a:1\n- b:2")]
    for text, kind, shown in cases:
        r = sb.kato("core", "config", "set", "cluster", f"t/{kind}", text)
        assert r.stdout == f"WARNING: Assumed type {kind}\n{shown}\n"
    r = sb.kato("core", "config", "get", "cluster", "t", "--json")
    assert json.loads(r.stdout) == {"int": 5, "bool": True, "string": "hello",
                                    "struct": ["a:1", "b:2"]}
    r = sb.kato("core", "config", "set", "cluster", "t/raw", '{"k": [1]}', "--json")
    assert r.stdout == '{\n  "k": [\n    1\n  ]\n}\n'  # no WARNING: the type was given
    assert sb.kato("core", "config", "get", "cluster", "t/raw/k/0").stdout == "1\n"


def test_each_write_publishes_component_changes(nodeside_cluster):
    sb = nodeside_cluster("3.0", start=False)
    client = sb.redis()
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe("fence:_changes")
    pubsub.get_message(timeout=1)  # the subscribe confirmation
    sb.kato("core", "config", "set", "fence", "docker/image", "a/b:1")
    message = pubsub.get_message(timeout=5)
    assert message["channel"] == "fence:_changes" and message["data"] == "docker/image"
    pubsub.close()


def test_missing_key_and_exit_policy(nodeside_cluster):
    for version, code in (("3.0", 0), ("3.4.1", 1)):
        sb = nodeside_cluster(version, start=False)
        r = sb.kato("core", "config", "get", "fence", "docker/nope")
        assert (r.returncode, r.stdout, r.stderr) == (
            code, "", "Error: key docker/nope not found in fence\n")
        r = sb.kato("core", "config", "set", "cluster", "endpoint/deeper", "x")
        assert r.returncode == code and r.stderr.startswith("Error: cannot set")


def test_seed_writes_node_cluster_and_fence(nodeside_cluster):
    sb = nodeside_cluster("3.0", start=False)
    assert sb.kato("core", "node", "list").stdout == (
        "127.0.0.11 primary controller router\n127.0.0.12 dea\n127.0.0.13 dea\n")
    assert sb.kato("core", "config", "get", "cluster", "endpoint").stdout == \
        "api.stackato.local\n"
    assert sb.kato("core", "config", "get", "fence", "docker/image").stdout == BASE + "\n"


def test_34_keeps_images_in_a_list(nodeside_cluster):
    sb = nodeside_cluster("3.4", start=False)
    assert sb.kato("core", "config", "get", "fence", "docker/images").stdout == f"- {BASE}\n"
    r = sb.kato("core", "config", "get", "fence", "docker/image")
    assert (r.returncode, r.stderr) == (0, "Error: key docker/image not found in fence\n")
    assert sb.kato("core", "config", "get", "fence", "docker/images/0").stdout == BASE + "\n"


def test_concurrent_sets_of_one_component_all_land(nodeside_cluster):
    sb = nodeside_cluster("3.0", start=False)

    def writer(prefix):
        client = sb.redis()
        for i in range(25):
            config_store.set_value(client, "cluster", f"{prefix}/{i}", i)
        client.close()

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    doc = config_store.get_value(sb.redis(), "cluster")
    assert all(doc[f"w{n}"] == {str(i): i for i in range(25)} for n in range(4))
