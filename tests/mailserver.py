"""A real SMTP server for the tests (aiosmtpd), on a port of its own, that can be stopped and
started again on the same port as a real one is during an outage."""

import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailServer:
    """Receives whatever is sent to it; ``messages`` are parsed ``EmailMessage`` objects."""

    def __init__(self):
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.received = threading.Condition()
        #: called with the number of messages received, after each (to stop the server midway)
        self.on_message = None
        self._controller: Controller | None = None

    # aiosmtpd's handler hook
    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.received:
            self.messages.append(message)
            count = len(self.messages)
            self.received.notify_all()
        if self.on_message:
            self.on_message(count)
        return "250 Message accepted for delivery"

    @property
    def config(self) -> dict:
        """What the platform needs to send here."""
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port, "MAIL_USE_TLS": False}

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        """The messages once there are at least ``count`` (fails after ``timeout`` seconds)."""
        with self.received:
            assert self.received.wait_for(lambda: len(self.messages) >= count, timeout), (
                f"{len(self.messages)} of {count} e-mails arrived"
            )
            return list(self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]
