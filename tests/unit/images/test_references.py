"""Docker's reference grammar (distribution/reference), table-driven."""
import pytest
from django.core.exceptions import ValidationError

from images.references import parse, validate_reference, validate_repository, validate_tag

HOSTILE = [
    "", " ", "a b", "x;reboot", "x&&id", "x|sh", "$(id)", "`id`", "x>y", "x\n", "x\nADD / /", "x\rFROM evil",
    "x\\", "x\x00", "-x", "x" * 10_000, "\u0430pp",  # Cyrillic 'а'
    "app\uff1a1.0",  # fullwidth colon
    "ａpp",  # fullwidth 'a'
]


@pytest.mark.parametrize("text, domain, path, tag, digest", [
    ("stackato/app-holophonor:3.0.0", None, "stackato/app-holophonor", "3.0.0", None),
    ("exampleco/newimg:1.0.0", None, "exampleco/newimg", "1.0.0", None),
    ("busybox", None, "busybox", None, None),
    ("api.paas.example.com:49153/newimg:1.0.0", "api.paas.example.com:49153", "newimg", "1.0.0", None),
    ("127.0.8.11:5000/stackato/app-holophonor:3.0.1", "127.0.8.11:5000", "stackato/app-holophonor", "3.0.1", None),
    ("localhost/a_b__c-d---e.f", "localhost", "a_b__c-d---e.f", None, None),
    ("x@sha256:" + "a" * 64, None, "x", None, "sha256:" + "a" * 64),
    ("[::1]:5000/x:T_9.-", "[::1]:5000", "x", "T_9.-", None),
    ("Host/x", "Host", "x", None, None),  # docker reads an uppercase first component as a host
])
def test_valid_references_parse_as_docker_reads_them(text, domain, path, tag, digest):
    ref = parse(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (domain, path, tag, digest)


@pytest.mark.parametrize("text", HOSTILE + [
    "upper/Case", "UPPER", "a__-b", "a..b", "a/", "/a", "a//b", "a:", "a:.x", "a:-x", "a:" + "t" * 129, "a@sha256:abc",
    "FROM x", "x AS y", "--platform=linux/amd64 x", "x:1.0 ADD . /", "http://x/y",
])
def test_hostile_or_invalid_references_are_refused(text):
    with pytest.raises(ValidationError):
        validate_reference(text)


@pytest.mark.parametrize("text", ["exampleco/newimg", "a", "a.b", "a-b/c__d/e.f-g"])
def test_valid_repositories(text):
    validate_repository(text)


@pytest.mark.parametrize("text, message", [
    *[(text, "not a repository name") for text in HOSTILE if not text.startswith("x" * 100)],
    ("x" * 10_000, "at most 255"),
    ("a" * 256, "at most 255"),
    ("exampleco/newimg:1.0", "not a repository name"),  # no tag here
    ("127.0.0.1:5000/x", "not a repository name"),
    ("my.registry/x", "registry host"),
    ("localhost/x", "registry host"),
])
def test_bad_repositories_are_refused_with_a_reason(text, message):
    with pytest.raises(ValidationError, match=message):
        validate_repository(text)


@pytest.mark.parametrize("text", ["1.0.0", "v1", "_x", "A" * 128, "a-b_c.d"])
def test_valid_tags(text):
    validate_tag(text)


@pytest.mark.parametrize("text", HOSTILE + [".x", "-x", "A" * 129, "1.0;id", "1.0\n", "1:0", "1/0", "1\u00a00"])
def test_bad_tags_are_refused(text):
    with pytest.raises(ValidationError, match="not a tag"):
        validate_tag(text)
