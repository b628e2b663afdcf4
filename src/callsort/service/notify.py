"""How a ring-back alert is said and sent: its JSON body, the webhook (signed, HMAC-SHA256) and the e-mail, and
when a failed one is tried again (`retry_delay`). service/alerts.py decides which calls get one."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime

from ..errors import CallsortError
from ..service_config import NotifyConfig
from ..version import __version__

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Callsort-Signature"
WEBHOOK_TIMEOUT = 10.0  # seconds for a receiver to answer; a slower one is a failed try
SMTP_TIMEOUT = 20.0
FIRST_MINUTES = 600.0  # for ten minutes the tries are at most a minute apart
GIVE_UP_AFTER = 24 * 3600.0  # then further and further apart, for a day


class NotSent(CallsortError):
    """A channel did not take the alert (the receiver failed, or refused): tried again later."""


def retry_delay(failures: int, age: float) -> float | None:
    """Seconds to wait after the `failures`-th failed try, `age` seconds after the alert was made; None: give
    up. 2, 4, 8, 16, 32 s, then every minute for the first ten minutes, then a fifth of the alert's age (2 min
    at ten minutes, 12 min at an hour, at most 30 min), for a day."""
    if age >= GIVE_UP_AFTER:
        return None
    if age < FIRST_MINUTES:
        return min(60.0, 2.0 ** max(1, failures))
    return min(1800.0, age / 5)


def iso(seconds: float | datetime | None) -> str | None:
    if seconds is None:
        return None
    moment = seconds if isinstance(seconds, datetime) else datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="seconds")


def alert_body(event_id: str, entry: dict, when: datetime | None, created_at: float, public_url: str) -> dict:
    """The alert's JSON body from the call's ring-back entry (insights/callbacks.py: its words are the
    stored transcript's, already redacted under --redact)."""
    call_id = entry["call_id"]
    return {"event_id": event_id, "type": "callback", "call_id": call_id, "time": iso(when),
            "created_at": iso(created_at), "caller": entry["caller"] or None, "category": entry["label"],
            "chance": entry["chance"], "reason": entry["reason"] or None, "agent": entry["agent"] or None,
            "first_words": entry["first_words"], "call": entry["call"], "url": f"{public_url}/#call={call_id}"}


def signature(body: bytes, secret: str) -> str:
    """The X-Callsort-Signature value of a raw body: "sha256=" and its hex HMAC-SHA256 under the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(config: NotifyConfig, body: bytes, event_id: str) -> None:
    """POST the body to --notify-url, signed; NotSent unless the receiver answers 2xx."""
    import httpx

    headers = {"content-type": "application/json", SIGNATURE_HEADER: signature(body, config.notify_secret),
               "X-Callsort-Event": event_id, "user-agent": f"callsort/{__version__}"}
    try:
        answer = httpx.post(config.notify_url, content=body, headers=headers, timeout=WEBHOOK_TIMEOUT,
                            follow_redirects=False)
    except httpx.HTTPError as exc:
        raise NotSent(f"webhook: {type(exc).__name__}: {exc}"[:300]) from None
    if not 200 <= answer.status_code < 300:
        raise NotSent(f"webhook: HTTP {answer.status_code}")


def email_message(config: NotifyConfig, alert: dict):
    """One e-mail of an alert, with the same facts as the webhook's body."""
    from email.message import EmailMessage
    from email.utils import formatdate

    message = EmailMessage()
    who = alert["caller"] or alert["call"]
    message["Subject"] = f"Ring back: {who} ({alert['category']}, {round(alert['chance'] * 100)}%)"
    message["From"], message["To"] = config.notify_from, ", ".join(config.recipients())
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = f"<{alert['event_id']}@callsort>"  # the same on a retry: mail clients drop copies
    lines = [f"{name}: {alert[key]}" for name, key in (
        ("Caller", "caller"), ("Time", "time"), ("Category", "category"), ("Reason", "reason"), ("Agent", "agent"),
        ("Call", "call")) if alert.get(key)]
    lines += [f"Chance worth ringing back: {round(alert['chance'] * 100)}%", "",
              f"The caller said: {alert['first_words'] or '(nothing after the greeting)'}", "",
              f"Open the call: {alert['url']}", f"Event: {alert['event_id']}"]
    message.set_content("\n".join(lines) + "\n")
    return message


def send_email(config: NotifyConfig, alert: dict) -> None:
    """Send the alert's e-mail through --smtp-host: TLS from the start on port 465, else STARTTLS when the
    server offers it (or no mail with --smtp-tls required), login with --smtp-user (never in clear)."""
    import smtplib
    import ssl

    wrapped = config.smtp_port == 465 and config.smtp_tls != "off"
    try:
        kind = smtplib.SMTP_SSL if wrapped else smtplib.SMTP
        extra = {"context": ssl.create_default_context()} if wrapped else {}
        with kind(config.smtp_host, config.smtp_port, timeout=SMTP_TIMEOUT, **extra) as smtp:
            smtp.ehlo()
            secure = wrapped
            if not wrapped and config.smtp_tls != "off":
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                    secure = True
                elif config.smtp_tls == "required":
                    raise NotSent("e-mail: the server offers no STARTTLS (--smtp-tls required)")
            if config.smtp_user:
                if not secure:
                    raise NotSent("e-mail: no TLS to the server: the password is not sent in clear")
                smtp.login(config.smtp_user, config.smtp_password)
            smtp.send_message(email_message(config, alert))
    except (smtplib.SMTPException, OSError) as exc:
        raise NotSent(f"e-mail: {type(exc).__name__}: {exc}"[:300]) from None


def senders(config: NotifyConfig) -> dict:
    """The configured channels: name -> send(alert dict, raw body bytes)."""
    found = {}
    if config.notify_url:
        found["webhook"] = lambda alert, body: send_webhook(config, body, alert["event_id"])
    if config.smtp_host:
        found["email"] = lambda alert, _body: send_email(config, alert)
    return found


def encoded(alert: dict) -> bytes:
    return json.dumps(alert, ensure_ascii=False, separators=(",", ":")).encode()
