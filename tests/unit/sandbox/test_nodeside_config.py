"""kato config without a server: type guessing, output formats, slash paths."""
import pytest

from sandbox.nodeside import config_store, versions
from sandbox.nodeside.kato_config import format_value, guess_type


@pytest.mark.parametrize("text, value, kind", [
    ("exampleco/newimg:1.0.0", "exampleco/newimg:1.0.0", "string"),
    ("42", 42, "int"), ("-7", -7, "int"), ("true", True, "bool"), ("false", False, "bool"),
    ('["a", "b"]', ["a", "b"], "struct"), ('{"k": 1}', {"k": 1}, "struct"),
    ("[not json", "[not json", "string"), ("True", "True", "string"), ("3.0", "3.0", "string"),
    ("", "", "string"), ('"quoted"', '"quoted"', "string"), ("1e3", "1e3", "string"),
])
def test_guess_type_like_kato(text, value, kind):
    assert guess_type(text) == (value, kind)


def test_type_name_matches_the_guess_words():
    assert [config_store.type_name(v) for v in ("s", 1, True, [], {})] == [
        "string", "int", "bool", "struct", "struct"]


def test_scalars_print_bare_and_structs_as_yaml():
    assert format_value("stackato/app-holophonor:3.0.0") == "stackato/app-holophonor:3.0.0"
    assert format_value("true") == "true"  # a string stays bare, no quotes
    assert format_value(5) == "5"
    assert format_value(False) == "false"
    assert format_value(["a:1", "b:2"]) == "- a:1\n- b:2"
    assert format_value({"image": "x"}) == "image: x"


def test_json_output():
    assert format_value("x", as_json=True) == '"x"'
    assert format_value(3, as_json=True) == "3"
    assert format_value({"a": [1]}, as_json=True) == '{\n  "a": [\n    1\n  ]\n}'


@pytest.mark.parametrize("path, parts", [
    ("docker/image", ["docker", "image"]), ("/docker/image/", ["docker", "image"]),
    ("endpoint", ["endpoint"])])
def test_split_path(path, parts):
    assert config_store.split_path(path) == parts


@pytest.mark.parametrize("path", ["", "/", "docker//image"])
def test_split_path_rejects_empty_segments(path):
    with pytest.raises(config_store.ConfigError):
        config_store.split_path(path)


def test_get_in_walks_maps_and_list_indexes():
    doc = {"docker": {"images": ["a", "b"]}}
    assert config_store.get_in(doc, ["docker", "images", "1"]) == "b"
    for missing in (["docker", "image"], ["docker", "images", "2"], ["docker", "images", "x"],
                    ["docker", "images", "0", "deeper"]):
        with pytest.raises(KeyError):
            config_store.get_in(doc, missing)


def test_set_in_creates_maps_and_replaces_list_items():
    doc = {}
    config_store.set_in(doc, ["docker", "image"], "a")
    assert doc == {"docker": {"image": "a"}}
    doc = {"docker": {"images": ["a", "b"]}}
    config_store.set_in(doc, ["docker", "images", "0"], "c")
    assert doc == {"docker": {"images": ["c", "b"]}}


@pytest.mark.parametrize("parts", [["docker", "image", "x"], ["docker", "images", "5"]])
def test_set_in_refuses_to_go_through_a_scalar_or_past_a_list(parts):
    with pytest.raises(config_store.ConfigError, match="cannot set"):
        config_store.set_in({"docker": {"image": "a", "images": ["a"]}}, parts, "v")


def test_error_messages():
    assert str(config_store.KeyNotFound("fence", "docker/image")) == \
        "key docker/image not found in fence"
    assert str(config_store.ComponentNotFound("nope")) == "component nope not found"


@pytest.mark.parametrize("version, key, listed, follows, strict", [
    ("3.0", "docker/image", False, False, False),
    ("3.0.1", "docker/image", False, True, False),
    ("3.4", "docker/images", True, True, False),
    ("3.4.1", "docker/images", True, True, True)])
def test_version_behaviours(version, key, listed, follows, strict):
    assert versions.image_key(version) == key
    assert versions.image_is_list(version) is listed
    assert versions.fence_follows_changes(version) is follows
    assert versions.strict_exit_codes(version) is strict


def test_unknown_version_is_refused():
    with pytest.raises(ValueError):
        versions.check("3.2")
