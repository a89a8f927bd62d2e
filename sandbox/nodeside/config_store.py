"""The kato config in config_redis: one JSON document per component.

Key = component name (`fence`, `node`, `cluster`, ...), value = the whole
component as one JSON document, like Stackato's config_redis. Every write
also PUBLISHes `<component>:_changes` (message: the slash path written, or
"" for a whole-component write) so subscribers such as 3.0.1+ fence react.

The path helpers (split_path, get_in, set_in) are pure so they are unit
tested without a server; redis is imported lazily because `kato info` and
`kato process` never need it.
"""
import json
from pathlib import Path

from . import versions

NODE_COMPONENT = "node"
CLUSTER_COMPONENT = "cluster"
FENCE_COMPONENT = "fence"
BASE_IMAGE = "stackato/app-holophonor:3.0.0"
ENDPOINT = "api.stackato.local"


class ConfigError(Exception):
    """A config read or write that cannot be done; str() is the user message."""


class ComponentNotFound(ConfigError):
    def __init__(self, component):
        super().__init__(f"component {component} not found")


class KeyNotFound(ConfigError):
    def __init__(self, component, path):
        super().__init__(f"key {path} not found in {component}")


class StoreUnavailable(ConfigError):
    pass


def split_path(path):
    """`docker/image` -> ["docker", "image"]; surrounding slashes are ignored."""
    parts = path.strip("/").split("/") if path else []
    if any(not p for p in parts) or not parts:
        raise ConfigError(f"bad key path {path!r}")
    return parts


def _child(node, part):
    # lists are indexed by position (`docker/images/0`), maps by key
    if isinstance(node, dict):
        return node[part]
    if isinstance(node, list) and part.isdigit():
        return node[int(part)]
    raise KeyError(part)


def get_in(doc, parts):
    node = doc
    for part in parts:
        try:
            node = _child(node, part)
        except (KeyError, IndexError):
            raise KeyError("/".join(parts)) from None
    return node


def set_in(doc, parts, value):
    """Set value at parts inside doc (in place), creating missing maps on the way."""
    node = doc
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
        else:
            where = "/".join(parts[:i]) or "the component"
            raise ConfigError(f"cannot set {'/'.join(parts)}: {where} is a "
                              f"{type_name(node)} without a {part!r} entry")
    return doc


def type_name(value):
    """kato's name for a value's type (the `Assumed type` words)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, (dict, list)):
        return "struct"
    return "string" if isinstance(value, str) else type(value).__name__


def channel(component):
    return f"{component}:_changes"


def password(where):
    """config_redis's password, read from the file the layout names (the
    sandbox makes it when config_redis starts); None for a layout without one."""
    path = where.get("password_file")
    return Path(path).read_text().strip() if path else None


def connect(cluster, timeout=5.0):
    import redis  # lazy: ~0.2 s to import
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    where = cluster["config_redis"]
    # one quick retry, not redis-py's default backoff (seconds per call):
    # a kato call against a stopped config_redis must fail fast
    return redis.Redis(host=where["host"], port=where["port"], password=password(where), decode_responses=True,
                       socket_timeout=timeout, socket_connect_timeout=timeout,
                       retry=Retry(NoBackoff(), 1))


def _unavailable(client, exc):
    kw = client.connection_pool.connection_kwargs
    return StoreUnavailable(f"config_redis at {kw.get('host')}:{kw.get('port')} "
                            f"is unreachable ({exc})")


def load_component(client, component):
    """The component document, or None when the component does not exist."""
    import redis

    try:
        raw = client.get(component)
    except redis.RedisError as exc:
        raise _unavailable(client, exc) from None
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ConfigError(f"component {component} does not hold JSON") from None


def save_component(client, component, doc, changed=""):
    import redis

    try:
        with client.pipeline(transaction=True) as pipe:
            pipe.set(component, json.dumps(doc))
            pipe.publish(channel(component), changed)
            pipe.execute()
    except redis.RedisError as exc:
        raise _unavailable(client, exc) from None


def get_value(client, component, path=None):
    doc = load_component(client, component)
    if doc is None:
        raise ComponentNotFound(component)
    if not path:
        return doc
    parts = split_path(path)
    try:
        return get_in(doc, parts)
    except KeyError:
        raise KeyNotFound(component, "/".join(parts)) from None


def set_value(client, component, path, value):
    """Write one key; WATCH/MULTI so two concurrent sets of one component both land."""
    import redis

    parts = split_path(path)
    try:
        with client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(component)
                    raw = pipe.get(component)
                    try:
                        doc = {} if raw is None else json.loads(raw)
                    except ValueError:
                        raise ConfigError(f"component {component} does not hold JSON") from None
                    set_in(doc, parts, value)
                    pipe.multi()
                    pipe.set(component, json.dumps(doc))
                    pipe.publish(channel(component), "/".join(parts))
                    pipe.execute()
                    return value
                except redis.WatchError:
                    continue
    except redis.RedisError as exc:
        raise _unavailable(client, exc) from None


def seed(redis_client, cluster):
    """Write the `node`, `cluster` and `fence` components for a new sandbox.

    Overwrites them: the orchestrator calls this at `sandbox up`, when the
    config must match sandbox.json and the base image every engine holds.
    """
    nodes = {n["address"]: {"roles": list(n["roles"])} for n in cluster["nodes"]}
    if versions.image_is_list(cluster["kato_version"]):
        docker = {"images": [BASE_IMAGE]}
    else:
        docker = {"image": BASE_IMAGE}
    save_component(redis_client, NODE_COMPONENT, nodes)
    save_component(redis_client, CLUSTER_COMPONENT, {"endpoint": ENDPOINT})
    save_component(redis_client, FENCE_COMPONENT, {"docker": docker})


def fence_image_from(doc, version):
    """The image fence must run: docker/image, or docker/images[0] from 3.4."""
    key = versions.image_key(version)
    try:
        value = get_in(doc, split_path(key))
    except KeyError:
        raise KeyNotFound(FENCE_COMPONENT, key) from None
    if versions.image_is_list(version):
        if not isinstance(value, list) or not value:
            raise ConfigError(f"fence {key} must be a non-empty list")
        value = value[0]
    if not isinstance(value, str) or not value:
        raise ConfigError(f"fence image must be a non-empty string, got {value!r}")
    return value
