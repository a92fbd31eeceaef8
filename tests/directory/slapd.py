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
class Certificates:
    """A test CA, a server certificate it signed for 127.0.0.1 and localhost, and a CA that signed nothing here."""

    ca_file: str
    cert_file: str
    key_file: str
    other_ca_file: str


def make_certificates(tmp: Path) -> Certificates:
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    tmp.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def ca(cn: str):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(cn)).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
                .not_valid_after(now + dt.timedelta(days=2))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                             content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, encipher_only=False,
                                             decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        return key, cert

    def pem(cert) -> bytes:
        return cert.public_bytes(serialization.Encoding.PEM)

    ca_key, ca_cert = ca("Socius Test CA")
    _, other_cert = ca("Some Other CA")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name("localhost")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    files = {"ca.pem": pem(ca_cert), "other-ca.pem": pem(other_cert), "server.pem": pem(cert),
             "server.key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())}
    for filename, data in files.items():
        (tmp / filename).write_bytes(data)
    return Certificates(str(tmp / "ca.pem"), str(tmp / "server.pem"), str(tmp / "server.key"),
                        str(tmp / "other-ca.pem"))


@dataclass
class Slapd:
    url: str
    suffix: str
    admin_dn: str
    process: subprocess.Popen
    password: str = PASSWORD
    ldaps_url: str | None = None  # with TLS: LDAPS here, StartTLS on `url`

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


def _ad_schema(tmp: Path) -> Path:
    """Microsoft's schema as Debian ships it, but with uSNChanged comparable (AD can filter on it; the file gives
    it no matching rules, so slapd would match nothing for `(uSNChanged>=N)`)."""
    text = (SCHEMA / "msuser.schema").read_text()
    patched = text.replace("NAME 'uSNChanged'\n\tSYNTAX",
                           "NAME 'uSNChanged'\n\tEQUALITY integerMatch\n\tORDERING integerOrderingMatch\n\tSYNTAX")
    assert patched != text, "msuser.schema's uSNChanged definition changed"
    (tmp / "msuser.schema").write_text(patched)
    return tmp / "msuser.schema"


def start(tmp: Path, suffix: str, *, ad: bool = False, tls: Certificates | None = None,
          preload: str | None = None) -> Slapd:
    """Start slapd with `suffix` (and Microsoft's schema if `ad`; LDAPS and StartTLS with `tls`), wait until it
    answers, add the suffix entry. `preload` (LDIF) is loaded offline with slapadd first: for the benchmark's
    100,000 entries that takes seconds, where ldapadd takes minutes."""
    binary = require_slapd()
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "db").mkdir(exist_ok=True)
    schemas = [SCHEMA / f"{name}.schema" for name in ("core", "cosine", "inetorgperson", "nis")]
    if ad:
        schemas.append(_ad_schema(tmp))
    admin_dn = f"cn=admin,{suffix}"
    tls_lines = [f"TLSCACertificateFile {tls.ca_file}", f"TLSCertificateFile {tls.cert_file}",
                 f"TLSCertificateKeyFile {tls.key_file}"] if tls else []
    conf = "\n".join([
        *(f"include {path}" for path in schemas), *tls_lines,
        f"modulepath {MODULES}", "moduleload back_mdb", f"pidfile {tmp / 'slapd.pid'}",
        "database mdb", f'suffix "{suffix}"',
        # Anonymous paged searches stop after 10 entries (the administrator has no limit): a cut-short search.
        "limits anonymous size.prtotal=10", f'rootdn "{admin_dn}"', f"rootpw {PASSWORD}",
        f"directory {tmp / 'db'}", "maxsize 2147483648", "index objectClass eq", "",
    ])
    (tmp / "slapd.conf").write_text(conf)
    dc = suffix.split(",")[0].split("=")[1]
    top = f"dn: {suffix}\nobjectClass: dcObject\nobjectClass: organization\no: {dc}\ndc: {dc}\n"
    if preload is not None:
        (tmp / "preload.ldif").write_text(top + "\n" + preload)
        slapadd = shutil.which("slapadd") or "/usr/sbin/slapadd"
        subprocess.run([slapadd, "-q", "-f", str(tmp / "slapd.conf"), "-l", str(tmp / "preload.ldif")],
                       check=True, capture_output=True)
    port = free_port()
    url = f"ldap://127.0.0.1:{port}"
    ldaps_url = f"ldaps://127.0.0.1:{free_port()}" if tls else None
    listen = f"{url}/ {ldaps_url}/" if ldaps_url else f"{url}/"
    # -d 0 keeps slapd in the foreground, so it is our child and dies with the fixture.
    with open(tmp / "slapd.log", "wb") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen([binary, "-f", str(tmp / "slapd.conf"), "-h", listen, "-d", "0"],
                                   stdout=subprocess.DEVNULL, stderr=log)
    server = Slapd(url, suffix, admin_dn, process, ldaps_url=ldaps_url)
    deadline = time.monotonic() + 15
    while True:
        probe = subprocess.run(["ldapwhoami", "-x", "-H", url, "-D", admin_dn, "-w", PASSWORD], capture_output=True)
        if probe.returncode == 0:
            break
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"slapd did not start: {(tmp / 'slapd.log').read_text()[-2000:]}")
        time.sleep(0.05)
    if preload is None:
        server.ldapadd(top)
    return server
