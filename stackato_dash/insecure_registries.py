"""INSECURE_REGISTRIES: the registries the console speaks plain HTTP to, with
the grammar of Docker's daemon.json insecure-registries (host:port entries or
address ranges). Checked when settings load, so a bad entry stops the web
server and the workers at start rather than a page or a job later."""
import ipaddress
import re

# host:port as Cluster.registry takes it, or [IPv6]:port.
_LOCATION = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}", re.ASCII)


def parse(entries: list[str]) -> list[str]:
    """The entries as given; ValueError names the first that is neither."""
    for entry in entries:
        if "/" in entry:
            try:
                ipaddress.ip_network(entry, strict=False)
                continue
            except ValueError:
                pass
        elif _LOCATION.fullmatch(entry):
            continue
        raise ValueError(f"{entry!r:.80} is neither host:port nor an address range (e.g. 10.0.0.11:5000 or "
                         "10.0.0.0/24)")
    return entries


def covers(entries: list[str], location: str) -> bool:
    """An entry equal to location (host:port), or a range holding its host, an
    IP address: a name is not resolved to match a range (name it host:port)."""
    host = location.rsplit(":", 1)[0].strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in entries:
        if "/" not in entry:
            if entry.lower() == location.lower():
                return True
        elif address is not None:
            network = ipaddress.ip_network(entry, strict=False)
            if address.version == network.version and address in network:
                return True
    return False
