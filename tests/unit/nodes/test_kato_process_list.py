"""Every `kato process list` layout the product accepts, and the error it gives
for the rest (nodes/kato_output.py). kato's text layout is undocumented, so
the parser takes names and states and nothing else, wherever the columns are."""
import pytest

from nodes.kato_output import KatoOutputError, Process, parse_process_list, parse_ready

FENCE_UP = [Process("dea_ng", "RUNNING"), Process("fence", "RUNNING")]

ACCEPTED = [
    ("one space", "dea_ng RUNNING\nfence RUNNING\n", FENCE_UP),
    ("padded columns (the sandbox's kato)", "dea_ng               RUNNING\nfence                RUNNING\n", FENCE_UP),
    ("tabs", "dea_ng\tRUNNING\nfence\t\tRUNNING\n", FENCE_UP),
    ("indented, with blank lines", "\n  dea_ng   RUNNING\n\n  fence    RUNNING\n\n", FENCE_UP),
    ("colon after the name", "dea_ng: RUNNING\nfence: RUNNING\n", FENCE_UP),
    ("node header with colon", "10.0.0.7:\n  dea_ng RUNNING\n  fence RUNNING\n", FENCE_UP),
    ("bare address header", "10.0.0.7\n  dea_ng RUNNING\n  fence RUNNING\n", FENCE_UP),
    ("hostname header", "dea-3.example:\n  dea_ng RUNNING\n  fence RUNNING\n", FENCE_UP),
    ("column header", "PROCESS  STATE\ndea_ng   RUNNING\nfence    RUNNING\n", FENCE_UP),
    ("lower-case column header", "Name    Status\ndea_ng  RUNNING\nfence   RUNNING\n", FENCE_UP),
    ("terminal colours", "dea_ng \x1b[32mRUNNING\x1b[0m\nfence \x1b[32mRUNNING\x1b[0m\n", FENCE_UP),
    ("extra columns after the state are ignored",
     "dea_ng RUNNING pid 10, uptime 1:00:00\nfence RUNNING pid 4242, image x/y:1, started 2026-01-01T00:00:00Z\n",
     FENCE_UP),
    ("a known state in lower case", "dea_ng running\nfence Running\n", FENCE_UP),
    ("unknown extra processes", "dea_ng RUNNING\nfence RUNNING\nnew_thing_4_0 RUNNING\n",
     FENCE_UP + [Process("new_thing_4_0", "RUNNING")]),
    ("unknown states kept as printed", "dea_ng RUNNING\nfence WARMING_UP\n",
     [Process("dea_ng", "RUNNING"), Process("fence", "WARMING_UP")]),
    ("ROGUE (the cloud controller's state)", "fence ROGUE\n", [Process("fence", "ROGUE")]),
    ("the same line twice", "fence RUNNING\nfence RUNNING\n", [Process("fence", "RUNNING")]),
    ("JSON name to state (the sandbox's -j)", '{"dea_ng": "RUNNING", "fence": "RUNNING"}', FENCE_UP),
    ("JSON name to object", '{"dea_ng": {"state": "RUNNING"}, "fence": {"status": "RUNNING", "pid": 1}}', FENCE_UP),
    ("JSON supervisord-style record", '{"dea_ng": {"statename": "RUNNING"}, "fence": {"statename": "RUNNING"}}',
     FENCE_UP),
    ("JSON list", '[{"name": "dea_ng", "state": "RUNNING"}, {"name": "fence", "status": "RUNNING"}]', FENCE_UP),
    ("JSON under the node address", '{"10.0.0.7": {"dea_ng": "RUNNING", "fence": "RUNNING"}}', FENCE_UP),
    ("JSON under processes", '{"processes": [{"name": "dea_ng", "state": "RUNNING"}, '
                             '{"name": "fence", "state": "RUNNING"}]}', FENCE_UP),
]


@pytest.mark.parametrize("text, expected", [case[1:] for case in ACCEPTED], ids=[case[0] for case in ACCEPTED])
def test_accepted_layouts(text, expected):
    assert parse_process_list(text) == expected


def test_only_running_counts_as_running():
    assert [p.running for p in parse_process_list("a RUNNING\nb STARTING\nc WARMING_UP\nd ROGUE\n")] == [
        True, False, False, False]


REFUSED = [
    ("nothing", "", "no process at all"),
    ("headers only", "10.0.0.7:\nPROCESS STATE\n", "no process at all"),
    ("a name without a state", "fence\n", "not a `name STATE` line: 'fence'"),
    ("a state that is not a word in capitals", "fence running-ish\n", "not a `name STATE` line"),
    ("a traceback", "Traceback (most recent call last):\n  File \"kato\"\n", "not a `name STATE` line"),
    ("binary junk", "\x00\xff junk\n", "not a `name STATE` line"),
    ("an upper-case name", "FENCE RUNNING\n", "not a `name STATE` line"),
    ("the same process with two states", "fence RUNNING\nfence FATAL\n", "fence listed twice, RUNNING and FATAL"),
    ("broken JSON", '{"fence": ', "looks like JSON but is not"),
    ("JSON that is not a list of processes", '{"processes": 5}', "not a process list"),
    ("JSON without a state", '{"fence": {"pid": 4}}', "not a process name and state"),
    ("JSON list of strings", '["fence"]', "not an object"),
]


@pytest.mark.parametrize("text, message", [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED])
def test_refused_output_says_what_is_wrong(text, message):
    with pytest.raises(KatoOutputError) as caught:
        parse_process_list(text)
    assert message in str(caught.value)


@pytest.mark.parametrize("text, ready", [("READY\n", True), ("fence: READY", True), ("fence READY\n", True),
                                         ("NOT READY\n", False), ("fence: NOT READY\n", False)])
def test_ready_answers(text, ready):
    assert parse_ready(text, "fence") is ready


@pytest.mark.parametrize("text", ["", "ready?", "RUNNING", "apptail: READY"])
def test_other_ready_answers_are_refused(text):
    with pytest.raises(KatoOutputError, match="neither READY nor NOT READY"):
        parse_ready(text, "fence")
