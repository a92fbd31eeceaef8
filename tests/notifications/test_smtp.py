"""The pipelining SMTP client (`core.smtp`) against a real SMTP server (aiosmtpd): many messages over one connection,
pipelined or command by command, refusals for good and for now, STARTTLS with AUTH, an idle connection the server
closed, and leading dots kept."""

from __future__ import annotations

import asyncio
import ssl

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from socius.core import smtp
from socius.notifications import mailing
from tests.notifications.conftest import Sink, free_port


def _messages(*recipients: str) -> list[smtp.Message]:
    return [smtp.Message("socius@example.com", r,
                         f"To: {r}\r\nSubject: n{i}\r\nMessage-ID: <{i}@x>\r\n\r\nHello {i}\r\n".encode())
            for i, r in enumerate(recipients)]


def _connection(port: int, **options) -> smtp.Connection:
    return smtp.Connection("127.0.0.1", port, starttls=False, timeout=5, **options)


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "command by command"])
async def test_many_messages_over_one_connection_and_a_refused_recipient_does_not_stop_the_rest(
        smtp_sink, pipelining):
    sink, port = smtp_sink
    sink.pipelining = pipelining
    sink.refuse = {"nobody@example.com"}
    connection = _connection(port)
    recipients = [f"p{n}@example.com" for n in range(6)]
    recipients.insert(3, "nobody@example.com")
    results: list = []
    await connection.send(_messages(*recipients), results)
    await connection.send(_messages("later@example.com"), results)  # the same connection, kept open
    await connection.quit()

    assert [r is None for r in results] == [True, True, True, False, True, True, True, True]
    assert results[3].code == 550 and results[3].permanent
    assert sink.recipients == [[r] for r in recipients if r != "nobody@example.com"] + [["later@example.com"]]
    assert [m["Subject"] for m in sink.messages][:3] == ["n0", "n1", "n2"]
    assert sink.sessions == 1


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "command by command"])
async def test_an_address_that_cannot_be_written_into_a_command_is_refused_and_the_rest_go(smtp_sink, pipelining):
    sink, port = smtp_sink
    sink.pipelining = pipelining
    connection = _connection(port)
    results: list = []
    await connection.send(_messages("a@example.com", "x@example.com>\r\nRCPT TO:<spy@example.com",
                                    "陳@example.com", "b@example.com"), results)
    await connection.quit()
    assert [r.code if r else None for r in results] == [None, 553, 553, None]
    assert sink.recipients == [["a@example.com"], ["b@example.com"]]


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "command by command"])
async def test_a_temporary_refusal_stops_the_run_and_says_what_was_delivered_before_it(smtp_sink, pipelining):
    sink, port = smtp_sink
    sink.pipelining = pipelining
    sink.defer = {"busy@example.com"}
    connection = _connection(port)
    results: list = []
    with pytest.raises(smtp.SMTPError) as raised:
        await connection.send(_messages("a@example.com", "b@example.com", "busy@example.com", "c@example.com"),
                              results)
    assert raised.value.code == 451 and not raised.value.permanent
    assert results == [None, None]
    assert sink.recipients == [["a@example.com"], ["b@example.com"]]
    assert not connection.open  # the conversation's state is unknown: the next send opens a new one


async def test_content_arrives_with_its_leading_dots_and_crlf_line_ends(smtp_sink):
    sink, port = smtp_sink
    raw = b"To: a@example.com\r\nSubject: dots\r\nMessage-ID: <d@x>\r\n\r\n.starts with a dot\n..two\r\n.\r\nend"
    connection = _connection(port)
    results: list = []
    await connection.send([smtp.Message("s@example.com", "a@example.com", raw)], results)
    await connection.quit()
    assert results == [None]
    [message] = sink.messages
    assert message.get_content() == ".starts with a dot\r\n..two\r\n.\r\nend\r\n"  # dots kept, CRLF line ends


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "command by command"])
async def test_an_idle_connection_the_server_closed_is_opened_again(smtp_sink, pipelining):
    sink, port = smtp_sink
    sink.pipelining = pipelining
    connection = _connection(port)
    results: list = []
    await connection.send(_messages("a@example.com"), results)
    sink.hang_up()  # the server closes the idle connection
    await asyncio.sleep(0.1)
    await connection.send(_messages("b@example.com", "c@example.com"), results)
    await connection.quit()
    assert results == [None, None, None]
    assert [r[0] for r in sink.recipients] == ["a@example.com", "b@example.com", "c@example.com"]
    assert sink.sessions == 2


async def test_starttls_and_auth_as_configured(tmp_path, monkeypatch):
    from tests.directory.slapd import make_certificates

    certificates = make_certificates(tmp_path / "pki")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates.cert_file, certificates.key_file)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((mechanism, auth_data.login, auth_data.password, session.ssl is not None))
        return AuthResult(success=auth_data.login == b"socius" and auth_data.password == b"s3cret", handled=False)

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=True, authenticator=authenticator, auth_required=True)
    controller.start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", certificates.ca_file)  # the default context trusts the test CA
        connection = smtp.Connection("127.0.0.1", controller.port, starttls=True, username="socius",
                                     password="s3cret", timeout=5)
        results: list = []
        await connection.send(_messages("a@example.com", "b@example.com"), results)
        await connection.quit()
        assert results == [None, None]
        assert logins == [("PLAIN", b"socius", b"s3cret", True)]
        assert len(sink.messages) == 2

        wrong = smtp.Connection("127.0.0.1", controller.port, starttls=True, username="socius",
                                password="wrong", timeout=5)
        with pytest.raises(smtp.SMTPError) as raised:
            await wrong.send(_messages("c@example.com"), [])
        assert raised.value.code == 535 and raised.value.command == "AUTH"

        monkeypatch.delenv("SSL_CERT_FILE")  # a certificate nobody vouches for: no e-mail over it
        monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
        untrusted = smtp.Connection("127.0.0.1", controller.port, starttls=True, timeout=5)
        with pytest.raises(ssl.SSLCertVerificationError):
            await untrusted.send(_messages("d@example.com"), [])
        assert len(sink.messages) == 2
    finally:
        controller.stop()


async def test_the_sender_spreads_a_batch_over_its_connections_and_skips_refused_addresses(
        mail_settings, smtp_sink):
    sink, _port = smtp_sink
    sink.refuse = {"p3@example.com"}
    sender = mailing.Sender(mail_settings, 3)
    with_content = mailing.content(mail_settings, "Subject", [mailing.Line("Line", "/x")])
    items = [(n, with_content.to(f"P {n}", f"p{n}@example.com")) for n in range(10)]
    handled, error = await sender.send(items)
    await sender.close()
    assert error is None
    assert sorted(handled) == list(range(10))  # the refused one too: it is never retried
    assert sorted(r[0] for r in sink.recipients) == sorted(f"p{n}@example.com" for n in range(10) if n != 3)
    assert sink.sessions == 3
