"""A private Dovecot 2.3 on 127.0.0.1 for integration tests, in a temp dir, run as root.

`DovecotServer` starts, stops and restarts it (same data), and talks to it with stdlib imaplib.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DOVECOT_MISSING = "dovecot not installed: apt-get install dovecot-imapd"
HOST = "127.0.0.1"
MAIL_USER = "nobody"  # any non-root account; owns the mail home
PORT_ATTEMPTS = 5  # first starts that may find a port taken before Dovecot binds it
_PORT_TAKEN = "Address already in use"

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = maildesk-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = {host}
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {tls_port}
    ssl = yes
  }}
}}
"""
_TLS = "ssl = yes\nssl_cert = <{root}/cert.pem\nssl_key = <{root}/key.pem\n"


def dovecot_binary() -> str | None:
    """The dovecot binary, also looked for in sbin dirs a non-root PATH may lack."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    return shutil.which("dovecot", path=path)


def dovecot_version(binary: str) -> str:
    """E.g. "2.3.19.1"; the config written here uses 2.3 syntax (2.4 renamed most settings)."""
    result = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    return result.stdout.split()[0]


def _port_from_kernel() -> int:
    """A port the kernel just picked, free until someone else binds it (Dovecot cannot bind 0)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class StoredMessage:
    """One message as the server holds it: its bytes and its flags."""

    uid: int
    raw: bytes
    flags: frozenset[str]


class DovecotServer:
    """One private Dovecot; `start()`/`stop()` keep the same data dir and ports."""

    username = "desk"
    password = "desk-secret"
    host = HOST

    def __init__(self, binary: str, *, imap_capability: str | None = None, tls: bool = False):
        self.binary = binary
        self.tls = tls
        self.imap_capability = imap_capability
        self.root = Path(tempfile.mkdtemp(prefix="maildesk-dovecot-"))
        self.cert_file = self.root / "cert.pem"
        self.port = self.tls_port = 0
        self._ports_in_use = False  # once a client may know them, restarts keep the ports
        self._process: subprocess.Popen[bytes] | None = None
        self._make_account()
        if self.tls:
            self._make_certificate()
        self._pick_ports()

    def _make_account(self) -> None:
        self.root.chmod(0o755)  # login and mail processes run as other users
        account = pwd.getpwnam(MAIL_USER)
        home = self.root / "home"
        home.mkdir()
        os.chown(home, account.pw_uid, account.pw_gid)
        (self.root / "passwd").write_text(
            f"{self.username}:{{PLAIN}}{self.password}:{account.pw_uid}:{account.pw_gid}"
            f"::{home}::\n"
        )

    def _pick_ports(self) -> None:
        """New ports from the kernel, written into a fresh dovecot.conf."""
        self.port = _port_from_kernel()
        self.tls_port = _port_from_kernel() if self.tls else 0  # 0: no imaps listener
        fields = {"root": self.root, "host": HOST, "port": self.port}
        config = _CONFIG.format(**fields, tls_port=self.tls_port)
        config += _TLS.format(**fields) if self.tls else "ssl = no\n"
        if self.imap_capability is not None:
            config += f"protocol imap {{\n  imap_capability = {self.imap_capability}\n}}\n"
        (self.root / "dovecot.conf").write_text(config)

    def _make_certificate(self) -> None:
        """A self-signed certificate for 127.0.0.1; clients trust it through `cert_file`."""
        key, san = self.root / "key.pem", f"subjectAltName=IP:{HOST}"
        request = f"req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN={HOST} -addext {san}"
        command = ["openssl", *request.split(), "-keyout", str(key), "-out", str(self.cert_file)]
        subprocess.run(command, check=True, capture_output=True)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Run Dovecot in the foreground as our child and wait for its IMAP greeting.

        Dovecot cannot be told to listen on port 0, so the kernel picks the ports and Dovecot
        binds them a moment later; should another process take one in between, the first start
        tries new ports. Later starts keep the ports, which clients already know.
        """
        attempts = 1 if self._ports_in_use else PORT_ATTEMPTS
        for _ in range(attempts):
            taken = self._log_text().count(_PORT_TAKEN)
            if self._run(timeout):
                self._ports_in_use = True
                return
            if self._log_text().count(_PORT_TAKEN) == taken:
                break  # it failed for another reason
            self._pick_ports()
        raise RuntimeError(f"dovecot did not start:\n{self.log_tail()}")

    def _run(self, timeout: float) -> bool:
        """Start Dovecot; True once it logged its start (so the ports are its own) and greets."""
        started = self._log_text().count(" starting up ")
        command = [self.binary, "-F", "-c", str(self.root / "dovecot.conf")]
        with (self.root / "stderr.log").open("ab") as stderr:
            self._process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while self._log_text().count(" starting up ") == started or not self._greets():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                return False
            time.sleep(0.05)  # polling Dovecot's log and port, within the deadline
        return True

    def _greets(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=1) as sock:
                return sock.recv(100).startswith(b"* OK")
        except OSError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        """Stop our Dovecot and its children, which say BYE to their clients; data stays.

        Dovecot runs in a process group of its own, so its IMAP processes (which outlive a
        terminated master by ~10s) are stopped with it, and nothing else is.
        """
        if self._process is None:
            return
        group, deadline = self._process.pid, time.monotonic() + timeout
        _signal_group(group, signal.SIGTERM)
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal_group(group, signal.SIGKILL)
            self._process.wait(timeout)
        while _group_alive(group) and time.monotonic() < deadline:  # orphaned children
            time.sleep(0.02)
        _signal_group(group, signal.SIGKILL)
        self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self._log_text().splitlines()[-lines:])

    def _log_text(self) -> str:
        logs = [self.root / "stderr.log", self.root / "dovecot.log"]
        return "".join(log.read_text(errors="replace") for log in logs if log.exists())

    # --- test-side IMAP helpers (stdlib imaplib, one short session each) ---

    def _session(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(HOST, self.port, timeout=10)
        client.login(self.username, self.password)
        return client

    def append(self, raw: bytes, folder: str = "INBOX", flags: str = "") -> None:
        """Deliver one raw message into `folder` (flags like "\\Seen")."""
        with self._session() as client:
            _check(client.append(_quote(folder), f"({flags})" if flags else None, None, raw))

    def create_folder(self, folder: str) -> None:
        with self._session() as client:
            _check(client.create(_quote(folder)))

    def delete_folder(self, folder: str) -> None:
        with self._session() as client:
            _check(client.delete(_quote(folder)))

    def messages(self, folder: str = "INBOX") -> list[StoredMessage]:
        """What `folder` holds now, in UID order, read without changing any flag."""
        with self._session() as client:
            _check(client.select(_quote(folder), readonly=True))
            typ, data = client.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
            _check((typ, data))
            return [_stored(item) for item in data if isinstance(item, tuple)]

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self._session() as client:
            typ, data = client.status(_quote(folder), "(UIDVALIDITY)")
            _check((typ, data))
            found = re.search(rb"UIDVALIDITY (\d+)", data[0] or b"")
            assert found is not None, data
            return int(found.group(1))


def _signal_group(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signum)


def _group_alive(group: int) -> bool:
    """Whether a live (not zombie) process is left in the group; orphans are reaped lazily."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (comm)"
            if int(fields[2]) == group and fields[0] != "Z":
                return True
    return False


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(result: tuple[str, object]) -> None:
    if result[0] != "OK":
        raise RuntimeError(f"IMAP command failed: {result}")


def _stored(item: tuple[bytes, bytes]) -> StoredMessage:
    header, raw = item
    uid = re.search(rb"UID (\d+)", header)
    flags = re.search(rb"FLAGS \(([^)]*)\)", header)
    assert uid is not None and flags is not None, header
    return StoredMessage(int(uid.group(1)), raw, frozenset(flags.group(1).decode().split()))
