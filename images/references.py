"""Docker image references: the grammar of distribution/reference
(reference/regexp.go), written out as Python regular expressions.

Every pattern is ASCII-only and matched with fullmatch, so a look-alike
character (Cyrillic 'а', a fullwidth colon) or a trailing newline can never
pass: Python's `$` would accept "name\\n", fullmatch does not.
"""
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

_ALNUM = r"[a-z0-9]+"
# distribution's separator: one '.' or '_', two '_', or any run of '-'.
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_PATH = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[[a-fA-F0-9:]+\]"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|{_IPV6})(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

PATH_RE = re.compile(_PATH, re.ASCII)
TAG_RE = re.compile(_TAG, re.ASCII)
REFERENCE_RE = re.compile(
    rf"(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_PATH})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?", re.ASCII)

NAME_MAX = 255  # distribution's limit on the whole name (domain and path)
REFERENCE_MAX = 512


@dataclass(frozen=True)
class Reference:
    domain: str | None
    path: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        return f"{self.domain}/{self.path}" if self.domain else self.path


def _looks_like_domain(component: str) -> bool:
    # How docker splits "a/b": the first component is a registry host only
    # if it has a '.' or ':' or is "localhost" (reference/normalize.go).
    return "." in component or ":" in component or component == "localhost" or component != component.lower()


def parse(text: str) -> Reference:
    """A reference as docker reads it; ValueError with a reason otherwise."""
    if not isinstance(text, str) or not text:
        raise ValueError("an image reference is required")
    if len(text) > REFERENCE_MAX:
        raise ValueError(f"an image reference is at most {REFERENCE_MAX} characters (this one has {len(text)})")
    match = REFERENCE_RE.fullmatch(text)
    if not match:
        raise ValueError(f"{_shown(text)} is not a Docker image reference ([registry-host[:port]/]name[:tag][@digest], "
                         "name in lowercase letters, digits and . _ - separators)")
    domain, path = match["domain"], match["path"]
    # The regex takes any first component as a host when it can; docker
    # takes it as a host only when it looks like one ("exampleco/x" is a path).
    if domain is not None and not _looks_like_domain(domain):
        domain, path = None, f"{domain}/{path}"
        if not PATH_RE.fullmatch(path):
            raise ValueError(f"{_shown(text)} is not a Docker image reference: {path!r} is not a valid name")
    ref = Reference(domain, path, match["tag"], match["digest"])
    if len(ref.name) > NAME_MAX:
        raise ValueError(f"an image name is at most {NAME_MAX} characters (this one has {len(ref.name)})")
    return ref


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:80] + "...")


def validate_reference(value) -> None:
    try:
        parse(value)
    except ValueError as error:
        raise ValidationError(str(error)) from None


def validate_repository(value) -> None:
    """A repository path without registry host or tag: the registry is the
    cluster's and is prefixed at push time."""
    if not isinstance(value, str) or not PATH_RE.fullmatch(value):
        raise ValidationError(
            f"{_shown(str(value))} is not a repository name: lowercase letters and digits in components separated "
            "by '/', with '.', '_', '__' or '-' between letters (e.g. exampleco/newimg).")
    first, _, rest = value.partition("/")
    if rest and _looks_like_domain(first):
        raise ValidationError(f"{_shown(value)} starts with what docker reads as a registry host ({first!r}); "
                              "give the repository without a host: the cluster registry is added when pushing.")
    if len(value) > NAME_MAX:
        raise ValidationError(f"a repository name is at most {NAME_MAX} characters (this one has {len(value)}).")


def validate_tag(value) -> None:
    if not isinstance(value, str) or not TAG_RE.fullmatch(value):
        raise ValidationError(f"{_shown(str(value))} is not a tag: 1 to 128 of A-Z a-z 0-9 _ . -, "
                              "not starting with '.' or '-'.")
