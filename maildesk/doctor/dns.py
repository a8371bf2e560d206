"""A tiny DNS client for one question, MX over UDP, with the stdlib: the desk needs no resolver
library to ask where mail for its domain goes. The server is the first of /etc/resolv.conf."""

from __future__ import annotations

import ipaddress
import secrets
import socket
import struct
import time
from pathlib import Path

RESOLV_CONF = Path("/etc/resolv.conf")
DNS_PORT = 53
MX, IN = 15, 1
NXDOMAIN = 3
_HEADER = struct.Struct(">HHHHHH")
_MAX_POINTERS = 20  # a name that jumps more often than this loops


class DnsError(OSError):
    """The answer cannot be used: malformed, or the server failed (SERVFAIL, REFUSED…)."""


def nameserver(resolv_conf: Path = RESOLV_CONF) -> tuple[str, int]:
    """The first `nameserver` of resolv.conf; OSError when there is none."""
    for line in resolv_conf.read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            return fields[1].split("%")[0], DNS_PORT
    raise DnsError(f"no nameserver in {resolv_conf}")


def lookup_mx(domain: str, timeout: float) -> list[str]:
    """The MX hosts of `domain`, most preferred first, from the system's nameserver."""
    return query_mx(domain, timeout, nameserver())


def query_mx(domain: str, timeout: float, server: tuple[str, int]) -> list[str]:
    """Ask `server` once; TimeoutError when no answer comes within `timeout` seconds."""
    ident = secrets.randbits(16)
    family = socket.AF_INET6 if ipaddress.ip_address(server[0]).version == 6 else socket.AF_INET
    deadline = time.monotonic() + timeout
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.sendto(question(ident, domain), server)
        while True:  # a stray datagram with another id is not our answer
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            data, _ = sock.recvfrom(4096)
            if len(data) >= 2 and struct.unpack(">H", data[:2])[0] == ident:
                return mx_hosts(data)


def question(ident: int, domain: str) -> bytes:
    """A query for the MX records of `domain`, recursion desired."""
    return (
        _HEADER.pack(ident, 0x0100, 1, 0, 0, 0) + encode_name(domain) + struct.pack(">HH", MX, IN)
    )


def encode_name(domain: str) -> bytes:
    labels = [label.encode("idna") for label in domain.strip(".").split(".") if label]
    return b"".join(bytes([len(label)]) + label for label in labels) + b"\0"


def mx_hosts(data: bytes) -> list[str]:
    """The exchanges of an answer's MX records by preference; none for NXDOMAIN or no MX."""
    try:
        _ident, flags, questions, answers, _ns, _extra = _HEADER.unpack_from(data)
        rcode = flags & 0x000F
        if rcode == NXDOMAIN:
            return []
        if rcode:
            raise DnsError(f"the nameserver answered with error code {rcode}")
        offset = _HEADER.size
        for _ in range(questions):
            offset = read_name(data, offset)[1] + 4
        found = []
        for _ in range(answers):
            offset, record = _record(data, offset)
            if record is not None:
                found.append(record)
    except (struct.error, IndexError) as exc:
        raise DnsError(f"malformed DNS answer: {exc}") from None
    return [host for _preference, host in sorted(found)]


def _record(data: bytes, offset: int) -> tuple[int, tuple[int, str] | None]:
    """The offset after one resource record, and (preference, exchange) if it is an MX."""
    offset = read_name(data, offset)[1]
    kind, klass, _ttl, length = struct.unpack_from(">HHIH", data, offset)
    offset += 10
    if kind != MX or klass != IN:
        return offset + length, None
    preference = struct.unpack_from(">H", data, offset)[0]
    return offset + length, (preference, read_name(data, offset + 2)[0])


def read_name(data: bytes, offset: int) -> tuple[str, int]:
    """The name at `offset` (following compression pointers) and the offset after it."""
    labels: list[str] = []
    end = None
    for _ in range(_MAX_POINTERS):
        length = data[offset]
        while 0 < length < 0xC0:
            labels.append(data[offset + 1 : offset + 1 + length].decode("ascii", "replace"))
            offset += 1 + length
            length = data[offset]
        if length == 0:
            return ".".join(labels), end if end is not None else offset + 1
        pointer = struct.unpack_from(">H", data, offset)[0] & 0x3FFF
        end = end if end is not None else offset + 2
        offset = pointer
    raise DnsError("a DNS name whose pointers loop")
