"""Checks on what operators type, shared by the models and the kato client."""
import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

from nodes.kato import KNOWN_ROLES as _ROLES

# Roles a Stackato node can report in `kato node list` (one list, the kato client's).
KNOWN_ROLES = tuple(sorted(_ROLES))

port_validators = [MinValueValidator(1), MaxValueValidator(65535)]

_USER = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")
_CONFIG_PATH = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
_HOST_PORT = re.compile(r"(?P<host>[A-Za-z0-9.-]+):(?P<port>[0-9]{1,5})")


def validate_roles(roles):
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise ValidationError("Roles must be a list of role names.")
    unknown = sorted(set(roles) - set(KNOWN_ROLES))
    if unknown:
        raise ValidationError(f"Unknown role(s): {', '.join(unknown)}. Known roles: {', '.join(KNOWN_ROLES)}.")


def validate_ssh_user(value):
    if not _USER.fullmatch(value or ""):
        raise ValidationError(f"{value!r} is not a valid Unix user name.")


def validate_config_path(value):
    if not _CONFIG_PATH.fullmatch(value or ""):
        raise ValidationError(f"{value!r} is not a kato config name or key path (letters, digits, _ . - and /).")


def validate_registry_location(value):
    match = _HOST_PORT.fullmatch(value or "")
    if not match or not 1 <= int(match["port"]) <= 65535:
        raise ValidationError(f"{value!r} is not host:port (e.g. 10.0.0.5:5000).")
