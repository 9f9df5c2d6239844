"""Alarm e-mails over SMTP (the standard library's :mod:`smtplib`).

One message per alarm, ids only (no names leave the site by mail): the subject names
the alarm type and door, the body lists the alarm's fields. :meth:`EmailAlarmSender.send`
raises when the mail server did not take the message, so the alarm channels can retry
it (:class:`facegate.services.alarm_routing.RetryingChannel`).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from facegate.domain.errors import BadInputError


@dataclass(frozen=True, slots=True)
class SmtpAccount:
    """How to reach the mail server.

    Attributes:
        host: the server's name or address.
        port: its TCP port.
        starttls: upgrade to TLS (certificate verified) before logging in.
        user: login name (``None``: no login).
        password: its password.
        timeout_s: how long one conversation may take, in seconds.
    """

    host: str
    port: int = 25
    starttls: bool = False
    user: str | None = None
    password: str | None = None
    timeout_s: float = 10.0


def alarm_message(
    payload: dict[str, str], sender: str, recipients: tuple[str, ...]
) -> EmailMessage:
    """The e-mail of one alarm (:func:`facegate.services.alarms.alarm_payload`)."""
    message = EmailMessage()
    message["Subject"] = f"[facegate] alarm {payload['type']} at door {payload['door_id']}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain="facegate.invalid")
    lines = [f"{name}: {value}" for name, value in payload.items() if value]
    lines.append("")
    lines.append("Acknowledge it in the console (Dashboard > Alarms).")
    message.set_content("\n".join(lines) + "\n")
    return message


class EmailAlarmSender:
    """Sends each alarm as one e-mail to ``recipients``.

    Args:
        account: the mail server.
        sender: the ``From`` address.
        recipients: who gets alarm e-mails (at least one).

    Raises:
        BadInputError: no recipient.
    """

    def __init__(self, account: SmtpAccount, sender: str, recipients: tuple[str, ...]) -> None:
        if not recipients:
            raise BadInputError(
                "alarm e-mail needs at least one recipient (FACEGATE_NOTIFY__EMAIL_TO)"
            )
        self.account, self.sender, self.recipients = account, sender, recipients

    def send(self, payload: dict[str, str]) -> None:
        """Send the alarm ``payload``.

        Raises:
            OSError: the server did not take it (``smtplib.SMTPException`` included).
        """
        account = self.account
        message = alarm_message(payload, self.sender, self.recipients)
        with smtplib.SMTP(account.host, account.port, timeout=account.timeout_s) as smtp:
            if account.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if account.user is not None:
                smtp.login(account.user, account.password or "")
            smtp.send_message(message)

    def __repr__(self) -> str:
        return f"EmailAlarmSender({self.account.host}:{self.account.port})"
