"""Real OpenLDAP servers for the tests: Debian's slapd on 127.0.0.1, an mdb database in a temporary directory."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SLAPD = shutil.which("slapd") or ("/usr/sbin/slapd" if os.path.exists("/usr/sbin/slapd") else None)
SCHEMA = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")
PASSWORD = "ldap-admin-secret"


def require_slapd() -> str:
    if SLAPD and shutil.which("ldapadd") and (SCHEMA / "msuser.schema").exists():
        return SLAPD
    reason = "OpenLDAP slapd and ldap-utils are not installed (apt-get install slapd ldap-utils)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Slapd:
    url: str
    suffix: str
    admin_dn: str
    process: subprocess.Popen
    password: str = PASSWORD

    def ldapadd(self, ldif: str) -> None:
        self._run("ldapadd", ldif)

    def ldapmodify(self, ldif: str) -> None:
        self._run("ldapmodify", ldif)

    def delete(self, *dns: str) -> None:
        subprocess.run(["ldapdelete", "-x", "-H", self.url, "-D", self.admin_dn, "-w", self.password, *dns],
                       check=True, capture_output=True)

    def _run(self, tool: str, ldif: str) -> None:
        result = subprocess.run([tool, "-x", "-H", self.url, "-D", self.admin_dn, "-w", self.password],
                                input=ldif.encode(), capture_output=True)
        assert result.returncode == 0, result.stderr.decode()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(tmp: Path, suffix: str, *, ad: bool = False) -> Slapd:
    """Start slapd with `suffix` (and Microsoft's schema if `ad`), wait until it answers, add the suffix entry."""
    binary = require_slapd()
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "db").mkdir(exist_ok=True)
    schemas = ["core", "cosine", "inetorgperson", "nis"] + (["msuser"] if ad else [])
    admin_dn = f"cn=admin,{suffix}"
    conf = "\n".join([
        *(f"include {SCHEMA / name}.schema" for name in schemas),
        f"modulepath {MODULES}", "moduleload back_mdb", f"pidfile {tmp / 'slapd.pid'}",
        "database mdb", f'suffix "{suffix}"',
        # Anonymous paged searches stop after 10 entries (the administrator has no limit): a cut-short search.
        "limits anonymous size.prtotal=10", f'rootdn "{admin_dn}"', f"rootpw {PASSWORD}",
        f"directory {tmp / 'db'}", "maxsize 104857600", "index objectClass eq", "",
    ])
    (tmp / "slapd.conf").write_text(conf)
    port = free_port()
    url = f"ldap://127.0.0.1:{port}"
    # -d 0 keeps slapd in the foreground, so it is our child and dies with the fixture.
    with open(tmp / "slapd.log", "wb") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen([binary, "-f", str(tmp / "slapd.conf"), "-h", f"{url}/", "-d", "0"],
                                   stdout=subprocess.DEVNULL, stderr=log)
    server = Slapd(url, suffix, admin_dn, process)
    deadline = time.monotonic() + 15
    while True:
        probe = subprocess.run(["ldapwhoami", "-x", "-H", url, "-D", admin_dn, "-w", PASSWORD], capture_output=True)
        if probe.returncode == 0:
            break
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"slapd did not start: {(tmp / 'slapd.log').read_text()[-2000:]}")
        time.sleep(0.05)
    dc = suffix.split(",")[0].split("=")[1]
    server.ldapadd(f"dn: {suffix}\nobjectClass: dcObject\nobjectClass: organization\no: {dc}\ndc: {dc}\n")
    return server
