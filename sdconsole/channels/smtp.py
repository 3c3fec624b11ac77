"""Provides `SmtpSender`: letters out through an SMTP server, with a reused connection.

It writes every header the outbox decided (Message-ID, In-Reply-To, References, the subject tag)
and tells permanent refusals (5xx) from temporary trouble, so that the outbox can fail a letter
at once or try again later.
"""

from __future__ import annotations

import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from sdconsole.channels.base import DeliveryError
from sdconsole.channels.imap import tls_context
from sdconsole.config import SmtpSettings
from sdconsole.domain.outbound import OutboundMail


def compose(mail: OutboundMail, *, now_header: str | None = None) -> EmailMessage:
    """The letter as it goes on the wire (UTF-8, quoted-printable where needed).

    Args:
        mail: what to send.
        now_header: the ``Date`` header (RFC 5322 form); default: now.
    """
    message = EmailMessage()
    message["From"] = formataddr((mail.sender_name, mail.sender_address))
    message["To"] = ", ".join(mail.to)
    message["Subject"] = mail.subject
    message["Message-ID"] = f"<{mail.message_id}>"
    if now_header is None:
        from datetime import UTC, datetime

        now_header = format_datetime(datetime.now(UTC))
    message["Date"] = now_header
    if mail.in_reply_to:
        message["In-Reply-To"] = f"<{mail.in_reply_to}>"
    if mail.references:
        message["References"] = " ".join(f"<{ref}>" for ref in mail.references)
    if mail.auto:
        # RFC 3834: an answer to a letter is auto-replied; a notice of our own, auto-generated.
        message["Auto-Submitted"] = "auto-replied" if mail.in_reply_to else "auto-generated"
        message["X-Auto-Response-Suppress"] = "All"
        message["Precedence"] = "auto_reply"
    message["Content-Language"] = mail.language
    message.set_content(mail.body, charset="utf-8")
    return message


def _address_ok(address: str) -> bool:
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError):
        return False
    return True


class SmtpSender:
    """Sends letters as `MailSender` describes; keeps one connection open between letters."""

    def __init__(self, settings: SmtpSettings, password: str | None) -> None:
        self.settings = settings
        self._password = password
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = tls_context(str(s.ca_file) if s.ca_file else None)
        port = s.port or {"tls": 465, "starttls": 587}.get(s.security, 25)
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(s.host, port, timeout=s.timeout, context=context)
        else:
            smtp = smtplib.SMTP(s.host, port, timeout=s.timeout)
            if s.security == "starttls":
                smtp.starttls(context=context)
        if s.user:
            smtp.login(s.user, self._password or "")
        return smtp

    def send(self, mail: OutboundMail) -> None:
        bad = [a for a in mail.to if not _address_ok(a)]
        if not mail.to or bad:
            raise DeliveryError(f"no valid recipient: {', '.join(bad) or 'none'}", permanent=True)
        try:
            message = compose(mail)
        except (ValueError, TypeError) as error:
            raise DeliveryError(f"cannot compose the letter: {error}", permanent=True) from error
        for attempt in (1, 2):
            try:
                if self._smtp is None:
                    self._smtp = self._connect()
                refused = self._smtp.send_message(message)
            except smtplib.SMTPServerDisconnected as error:
                self.close()
                if attempt == 2:
                    raise DeliveryError(f"disconnected: {error}", permanent=False) from error
                continue  # a kept connection timed out on the server's side: once more
            except smtplib.SMTPRecipientsRefused as error:
                codes = [code for code, _text in error.recipients.values()]
                raise DeliveryError(
                    _refusal(error.recipients), permanent=all(c >= 500 for c in codes)
                ) from error
            except smtplib.SMTPResponseException as error:
                self.close()
                text = error.smtp_error
                raise DeliveryError(
                    f"{error.smtp_code} "
                    + (text.decode("utf-8", "replace") if isinstance(text, bytes) else text),
                    permanent=error.smtp_code >= 500 and error.smtp_code != 530,
                ) from error
            except (TimeoutError, smtplib.SMTPException, OSError, ssl.SSLError) as error:
                self.close()
                raise DeliveryError(f"{type(error).__name__}: {error}", permanent=False) from error
            if refused:
                # Some recipients took it: a retry would send it to them twice.
                raise DeliveryError(_refusal(refused), permanent=True)
            return

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except Exception:  # noqa: BLE001 - closing a broken connection must not raise
            smtp.close()


def _refusal(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address}: {code} {text.decode('utf-8', 'replace')}"
        for address, (code, text) in recipients.items()
    )
