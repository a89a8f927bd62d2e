import pytest

from images.tags import next_free_tag, next_tag


@pytest.mark.parametrize("tag, expected", [
    ("3.0.0", "3.0.1"), ("1.2.9", "1.2.10"), ("v1.0.0", "v1.0.1"), ("0.0.0", "0.0.1"),
    ("latest", "latest-1"), ("3.0", "3.0-1"), ("3.0-1", "3.0-2"), ("1.0.0-rc1", "1.0.0-rc1-1"),
    ("1.0.0-9", "1.0.0-10"), (None, "1.0.0"), ("", "1.0.0"), ("x" * 128, "x" * 126 + "-1"),
])
def test_next_tag(tag, expected):
    assert next_tag(tag) == expected
    assert len(next_tag(tag)) <= 128


def test_next_free_tag_skips_taken_tags():
    assert next_free_tag("3.0.0", {"3.0.1", "3.0.2"}) == "3.0.3"
    assert next_free_tag("latest", {"latest-1"}) == "latest-2"
