"""The stdlib MX query, against a DNS server on loopback UDP that answers as we tell it."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from maildesk.doctor.dns import DnsError, encode_name, nameserver, query_mx

Answer = Callable[[bytes], bytes | None]  # the query in, the datagram to send back (or none)


@pytest.fixture
def dns_server() -> Iterator[Callable[[Answer], tuple[str, int]]]:
    """Start a UDP server on port 0 that answers each query with `answer(query)`."""
    sockets: list[socket.socket] = []

    def start(answer: Answer) -> tuple[str, int]:
        server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        server.bind(("127.0.0.1", 0))
        sockets.append(server)

        def serve() -> None:
            try:
                query, client = server.recvfrom(512)
            except OSError:
                return  # closed by the test's end
            reply = answer(query)
            if reply is not None:
                server.sendto(reply, client)

        threading.Thread(target=serve, daemon=True).start()
        return "127.0.0.1", server.getsockname()[1]

    yield start
    for server in sockets:
        server.close()


def reply(query: bytes, records: list[tuple[int, bytes]], rcode: int = 0) -> bytes:
    """A response echoing the question, with MX records (preference, exchange as wire name);
    the answers' owner name is a pointer to the question's name, as servers compress it."""
    ident = query[:2]
    question = query[12:]
    header = ident + struct.pack(">HHHHH", 0x8180 | rcode, 1, len(records), 0, 0)
    answers = b""
    for preference, exchange in records:
        rdata = struct.pack(">H", preference) + exchange
        answers += struct.pack(">HHHIH", 0xC00C, 15, 1, 300, len(rdata)) + rdata
    return header + question + answers


def test_the_mx_hosts_come_back_most_preferred_first(
    dns_server: Callable[[Answer], tuple[str, int]],
) -> None:
    # the second exchange is "mx2." followed by a pointer to the domain in the question
    compressed = b"\x03mx2\xc0\x0c"
    server = dns_server(
        lambda q: reply(q, [(20, compressed), (10, encode_name("mx1.desk.example"))])
    )

    assert query_mx("desk.example", 2.0, server) == ["mx1.desk.example", "mx2.desk.example"]


def test_a_domain_that_does_not_exist_or_has_no_mx_has_no_hosts(
    dns_server: Callable[[Answer], tuple[str, int]],
) -> None:
    missing = dns_server(lambda q: reply(q, [], rcode=3))
    bare = dns_server(lambda q: reply(q, []))

    assert query_mx("nowhere.example", 2.0, missing) == []
    assert query_mx("bare.example", 2.0, bare) == []


def test_a_failing_nameserver_is_an_error_and_a_silent_one_a_timeout(
    dns_server: Callable[[Answer], tuple[str, int]],
) -> None:
    failing = dns_server(lambda q: reply(q, [], rcode=2))
    silent = dns_server(lambda q: None)

    with pytest.raises(DnsError, match="error code 2"):
        query_mx("desk.example", 2.0, failing)
    with pytest.raises(TimeoutError):
        query_mx("desk.example", 0.2, silent)


def test_an_answer_cut_short_is_malformed(
    dns_server: Callable[[Answer], tuple[str, int]],
) -> None:
    server = dns_server(lambda q: reply(q, [(10, encode_name("mx1.desk.example"))])[:-6])

    with pytest.raises(DnsError, match="malformed"):
        query_mx("desk.example", 2.0, server)


def test_the_nameserver_is_the_first_of_resolv_conf(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text("# local\nsearch example\nnameserver 10.0.0.53\nnameserver 10.0.0.54\n")
    empty = tmp_path / "empty.conf"
    empty.write_text("search example\n")

    assert nameserver(conf) == ("10.0.0.53", 53)
    with pytest.raises(DnsError, match="no nameserver"):
        nameserver(empty)
