"""The Socket.IO message queue between server processes, made so that a Redis outage costs the
chat delay, never a hole.

Redis pub/sub keeps nothing: whatever is published while a process is not subscribed never
reaches that process's connections, and python-socketio's ``RedisManager`` drops an event it
cannot publish after two attempts (the message itself is stored before it is sent out). So each
time this process hears the queue again after losing it, it tells its own connections ``resync``,
and they fetch from the database what came after the last message they hold (docs/chat.md,
"Reconnecting"). Without a message queue there is nothing to miss: one process holds everyone.

Either manager counts the chat messages it hands to this process's connections
(``learnplatform_chat_messages_delivered``): the connections in the event's room, but those it
skips, as python-socketio's ``Manager.emit`` picks them when it sends the event to each.
"""

import time

import socketio

from learnplatform import metrics

#: seconds between attempts to subscribe again, then the last one for as long as Redis is away:
#: connections resync at most this long after Redis returns
RETRY_DELAYS = (1, 2, 4)


def count_deliveries(manager: socketio.Manager, event: str, namespace, room, skip_sid) -> None:
    """Count the ``message`` events ``manager`` is about to send to this process's connections."""
    if event != "message":
        return
    skipped = skip_sid if isinstance(skip_sid, list) else [skip_sid]
    recipients = manager.get_participants(namespace or "/", room)
    metrics.chat_messages_delivered.inc(sum(1 for sid, _ in recipients if sid not in skipped))


class CountingManager(socketio.Manager):
    """python-socketio's manager of a process without message queue, counting deliveries."""

    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kw):
        count_deliveries(self, event, namespace, to or room, skip_sid)
        return super().emit(
            event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kw
        )


class ResyncingRedisManager(socketio.RedisManager):
    """python-socketio's Redis manager whose listener tells this process's connections
    ``resync`` whenever it subscribes again after losing Redis, and retries every few seconds
    rather than up to a minute. A failed publish is logged and dropped by the library, never
    raised into the event handler; the resync that follows fills the gap."""

    def _redis_listen_with_retries(self):
        failures = 0
        heard_before = False
        while True:
            try:
                self._redis_connect()
                pubsub = self.pubsub
                # The confirmations of SUBSCRIBE say when this process hears the channel again,
                # also when redis-py reconnects and subscribes again by itself inside listen().
                pubsub.ignore_subscribe_messages = False
                pubsub.subscribe(self.channel)
                for message in pubsub.listen():
                    if message["type"] == "subscribe":
                        # Not on the first subscription of a process that never lost Redis: a
                        # connection still being set up would get an event before its answer.
                        if heard_before or failures:
                            self.resync_local_connections()
                            self._resync_others_if_dropped()
                        heard_before, failures = True, 0
                    else:
                        yield message
            except Exception as error:  # what the library catches here too: retry, never stop
                delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
                failures += 1
                self._get_logger().error(
                    "Cannot receive from Redis (%s): subscribing again in %s s", error, delay
                )
                time.sleep(delay)

    def emit(
        self, event, data, namespace=None, room=None, skip_sid=None, callback=None, to=None, **kw
    ):
        if kw.get("ignore_queue"):  # sent here and now; else in _handle_emit, here and elsewhere
            count_deliveries(self, event, namespace, to or room, skip_sid)
        return super().emit(
            event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kw
        )

    def _handle_emit(self, message):
        """Send an event to this process's connections: one of its own, or from the queue."""
        count_deliveries(
            self,
            message["event"],
            message.get("namespace"),
            message.get("room"),
            message.get("skip_sid"),
        )
        return super()._handle_emit(message)

    #: whether an event could not be published since the last resync sent to the others
    _dropped = False

    def _publish(self, data):
        """Publish to the other processes. What Redis refuses is dropped (the library logs it);
        the next publish that goes through, or the listener hearing Redis again, first tells
        every other process ``resync``: their connections may have missed what was dropped,
        even if their own link to Redis never broke."""
        self._resync_others_if_dropped()
        return self._publish_now(data)

    def _publish_now(self, data):
        published = super()._publish(data)
        if published is None:  # the library gave up after its retries
            self._dropped = True
        return published

    def _resync_others_if_dropped(self) -> None:
        if self._dropped:
            self._dropped = False
            self._publish_now(
                {
                    "method": "emit",
                    "event": "resync",
                    "data": [{}],
                    "binary": False,
                    "namespace": "/",
                    "room": None,
                    "skip_sid": None,
                    "callback": None,
                    "host_id": self.host_id,  # not to this process: it sent its own locally
                }
            )

    def resync_local_connections(self) -> None:
        """Tell every connection of this process, straight and not through the queue, to fetch
        what it may have missed while the queue was not heard."""
        self.server.emit("resync", {}, namespace="/", ignore_queue=True)


def message_queue(url: str | None) -> socketio.Manager:
    """The client manager for Flask-SocketIO: every connection in this process without a Redis
    URL, else the processes together through Redis."""
    if not url:
        return CountingManager()
    # Flask-SocketIO's own channel name, which its write-only emitters publish on too.
    return ResyncingRedisManager(url, channel="flask-socketio")
