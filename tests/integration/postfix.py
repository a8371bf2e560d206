"""A private Postfix for integration tests: its own config, queue and log in a temp dir, run as
root with `postfix -c DIR` (the system's Postfix and /etc/postfix are left alone).

Its main.cf, master.cf and lookup tables are the README's recipe, read from contrib/postfix/
with the example paths replaced by the test's, so the recipe is what the tests deliver through.
"""

from __future__ import annotations

import re
import shutil
import smtplib
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

POSTFIX_MISSING = "postfix not installed: apt-get install postfix"
HOST = "127.0.0.1"
CONTRIB = Path(__file__).resolve().parents[2] / "contrib" / "postfix"
RECIPE_CONFIG_DIR = "/etc/postfix/"
RECIPE_QUEUE_DIR = "/var/spool/postfix/"
DEADLINE = 60.0  # seconds: for Postfix to log what a test waits for, on a busy machine

_MAIN = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = {host}
inet_protocols = ipv4
myhostname = mx.desk.example.com
mydestination = localhost
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
smtputf8_enable = yes
"""

# Postfix 3.7's required services, none chrooted; postlog receives what maillog_file holds.
_MASTER = """\
{host}:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def postfix_binary() -> str | None:
    return shutil.which("postfix") or (
        "/usr/sbin/postfix" if Path("/usr/sbin/postfix").exists() else None
    )


def _run(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=DEADLINE, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def transport_entry(kind: str) -> str:
    """The one line of the recipe's transport map whose next hop starts with `kind`."""
    for line in (CONTRIB / "maildesk-transport").read_text().splitlines():
        entry = line.lstrip("#").split()
        if len(entry) == 2 and entry[1].startswith(kind):
            return " ".join(entry) + "\n"
    raise LookupError(f"contrib/postfix/maildesk-transport has no {kind!r} line")


class PostfixServer:
    """`postfix -c ROOT/conf`, delivering the desk's domain by the recipe's `transport`."""

    def __init__(self, root: Path, *, port: int, transport: str, pipe: Callable[[str], str]):
        self.root = root
        self.conf = root / "conf"
        self.queue = root / "queue"
        self.port = port
        self._transport = transport
        self._pipe = pipe  # rewrites the recipe's master.cf for this test's paths and user

    def start(self) -> None:
        for folder in (self.conf, self.queue, self.root / "data"):
            folder.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.root / "data", user="postfix")
        self._write_config()
        _run("postmap", "-c", str(self.conf), f"hash:{self.conf}/maildesk-recipients")
        _run("postmap", "-c", str(self.conf), f"hash:{self.conf}/maildesk-transport")
        _run("postfix", "-c", str(self.conf), "start")
        self.wait_for_log(r"daemon started")

    def stop(self) -> None:
        subprocess.run(
            ["postfix", "-c", str(self.conf), "stop"], capture_output=True, timeout=DEADLINE
        )

    def _write_config(self) -> None:
        values = {"root": self.root, "host": HOST, "port": self.port}
        recipe = (CONTRIB / "main.cf").read_text().replace(RECIPE_CONFIG_DIR, f"{self.conf}/")
        (self.conf / "main.cf").write_text(_MAIN.format(**values) + recipe)
        pipes = self._pipe((CONTRIB / "master.cf").read_text())
        (self.conf / "master.cf").write_text(_MASTER.format(**values) + pipes)
        shutil.copy(CONTRIB / "maildesk-recipients", self.conf / "maildesk-recipients")
        (self.conf / "maildesk-transport").write_text(self._transport)

    def send(self, raw: bytes, recipients: list[str], sender: str) -> dict[str, tuple[int, bytes]]:
        with smtplib.SMTP(HOST, self.port, timeout=DEADLINE) as client:
            return client.sendmail(sender, recipients, raw)

    def maillog(self) -> str:
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_for_log(self, pattern: str, count: int = 1) -> list[str]:
        """The maillog lines matching `pattern`, once there are `count`; fails after DEADLINE."""
        end = time.monotonic() + DEADLINE
        while True:
            lines = [line for line in self.maillog().splitlines() if re.search(pattern, line)]
            if len(lines) >= count:
                return lines
            if time.monotonic() > end:
                raise TimeoutError(f"no {count} line(s) {pattern!r} in maillog:\n{self.maillog()}")
            time.sleep(0.1)

    def queue_listing(self) -> str:
        return _run("postqueue", "-c", str(self.conf), "-p")

    def flush(self) -> None:
        _run("postqueue", "-c", str(self.conf), "-f")
