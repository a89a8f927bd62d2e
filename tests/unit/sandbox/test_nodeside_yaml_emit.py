"""The tiny YAML emitter `kato config get` prints maps and lists with."""
import json

import pytest
import yaml

from sandbox.nodeside import yaml_emit


def test_nested_map_and_list_layout():
    doc = {"docker": {"images": ["stackato/app-holophonor:3.0.0", "a/b:1"]},
           "limits": {}, "tags": [], "count": 3, "on": True, "x": None}
    assert yaml_emit.dump(doc) == (
        "docker:\n"
        "  images:\n"
        "    - stackato/app-holophonor:3.0.0\n"
        "    - a/b:1\n"
        "limits: {}\n"
        "tags: []\n"
        "count: 3\n"
        '"on": true\n'
        "x: null")


def test_list_of_maps_shares_the_dash_line():
    assert yaml_emit.dump([{"a": 1, "b": [1, 2]}, [3]]) == (
        "- a: 1\n"
        "  b:\n"
        "    - 1\n"
        "    - 2\n"
        "- - 3")


@pytest.mark.parametrize("text", [
    "stackato/app-holophonor:3.0.0", "127.0.0.11", "127.0.0.11:5000/newimg:1.0.0",
    "api.stackato.local", "3.0.0", "dea", "a-b_c", "x+y"])
def test_unambiguous_strings_are_plain(text):
    assert yaml_emit.scalar(text) == text


@pytest.mark.parametrize("text", [
    "", " lead", "trail ", "3.0", "42", "-1", "0x1F", "1e3", "1_000", "1:20", ".5", ".inf",
    "true", "False", "yes", "NO", "on", "off", "y", "null", "~", "2024-01-01",
    "2026-11-28T19:41:38Z", "a: b", "key:", "#c", "- x", "@x", "*x", "&x", "!x", "%x",
    "a b", "{x}", "[1]", "'q'", '"q"', "line\nbreak", "tab\there", "é", "a,b", "|", ">"])
def test_ambiguous_strings_are_double_quoted(text):
    out = yaml_emit.scalar(text)
    assert out.startswith('"') and json.loads(out) == text


def test_scalars_of_other_types():
    assert [yaml_emit.scalar(v) for v in (None, True, False, 7, -7, 1.5)] == [
        "null", "true", "false", "7", "-7", "1.5"]
    assert yaml_emit.scalar(float("inf")) == ".inf"
    assert yaml_emit.scalar(float("-inf")) == "-.inf"
    assert yaml_emit.scalar(float("nan")) == ".nan"


def test_top_level_scalars_and_empty_containers():
    assert yaml_emit.dump("x") == "x"
    assert yaml_emit.dump({}) == "{}"
    assert yaml_emit.dump([]) == "[]"


ROUND_TRIP = {
    "docker": {"image": "stackato/app-holophonor:3.0.0",
               "images": ["127.0.0.11:5000/newimg:1.0.0", "3.0", "true", "", "1:20"]},
    "127.0.0.12": {"roles": ["dea"]},
    "1.5": {"2024-01-01": [{"a": 1, "b": [True, None, 2.5]}, [], {}, [["x"]]]},
    "quotes": "say \"hi\"\\ and\nnew line", "unicode": "é✓", "neg": -3,
}


def test_pyyaml_reads_back_what_was_written():
    # PyYAML is a test dependency (requirements-dev.txt): the reader kato's users would use.
    assert yaml.safe_load(yaml_emit.dump(ROUND_TRIP)) == ROUND_TRIP
