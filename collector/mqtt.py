"""The MQTT intake: a paho-mqtt 2 client on a persistent session that hands every message to a
bounded queue and acknowledges it only when told, after the batch holding it has committed.

A full queue blocks paho's network thread, which stops reading the socket: the broker then holds
the backlog (TCP and the session's inflight window push back), so memory stays bounded.

The same queue carries `LinkEvent`s, in order with the messages: "connected", "disconnected",
and "drained" once the backlog the broker kept for our session has been delivered. The broker
queues a session's messages in order, so a marker we publish to our own drain topic
(`levy/drain/<client id>`) right after connecting arrives behind the whole backlog, however long
it takes to deliver. A broker that refuses the marker (its ACL does not allow `levy/drain/#`)
gives "drain_refused" and a warning instead. A marker asked for later (`mark`) comes back the
same way, as "caught_up": behind everything the broker held for us when it was asked for.
"""

import json
import logging
import queue
import secrets
import ssl
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from collector import paho_client

log = logging.getLogger("levy.mqtt")

SESSION_EXPIRY_S = 30 * 86_400
"""How long the broker keeps our session (subscriptions and unacknowledged messages) while the
daemon is away: a month covers any outage an operator would sit through."""

RECEIVE_MAXIMUM = 5000
"""Unacknowledged messages the broker may send us at once. A message is acknowledged only once
its batch is committed, so the window must hold the batch being committed, the next one and
those on their way: with two batches' worth (1,000) a draining worker waited for the broker.
What it holds is bounded all the same (about 1 MB at a few hundred bytes a message)."""

AUTH_FAILURES = {"Bad user name or password", "Not authorized"}

SESSION_TAKEN_OVER = 0x8E
"""MQTT v5 DISCONNECT reason: another client connected with our client id."""

SHORT_LIVED_MS = 10_000
SHORT_LIVED_IN_A_ROW = 3
"""Mosquitto 2.0 closes a connection taken over by a client with the same id without saying
so (no 0x8E): connections the broker accepts and then drops this soon, this many times in a
row, are taken for a takeover, since two clients with one id knock each other off about every
reconnect delay."""

TAKEOVER_REPEAT_MS = 300_000
"""Two daemons on one id fight for as long as both run: the ERROR is repeated this often, not
at every reconnect."""

DRAIN_PREFIX = "levy/drain/"


class LinkKind(StrEnum):
    """What changed of the link to the broker (see `LinkEvent`)."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    DRAINED = "drained"
    DRAIN_REFUSED = "drain_refused"
    CAUGHT_UP = "caught_up"


class Received(NamedTuple):
    """A message as it came off the wire, with what is needed to acknowledge it later."""

    received_ms: int
    topic: str
    payload: bytes
    mid: int
    qos: int
    session: int
    """Which connection delivered it: an acknowledgement is only sent on that same one."""


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """A change of the link to the broker, queued in order with the messages.

    `kind` is one of:
    - "connected": a connection is up and subscribed; the backlog may still be arriving.
    - "disconnected": the connection is gone (paho reconnects with backoff).
    - "drained": every message the broker held for us when `session` connected has been put in
      the queue ahead of this event (the drain marker came back).
    - "drain_refused": the broker refused the drain marker's publish or subscription; no
      "drained" will come for this `session`.
    - "caught_up": every message the broker held for us at `at_ms` has been put in the queue
      ahead of this event (the marker `mark(at_ms)` published came back).

    `at_ms` is the wall clock (unix ms) when it happened (for "caught_up", when it was asked
    for); `session` the connection's number, as in `Received.session` (1 for the first
    connection of this process).
    """

    kind: LinkKind
    at_ms: int
    session: int


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    host: str
    port: int
    client_id: str
    topics: tuple[str, ...]
    qos: int = 1
    keepalive: int = 60
    username: str | None = None
    password: str | None = None
    tls_ca_file: str | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None

    def __repr__(self) -> str:
        return f"BrokerSettings({self.host}:{self.port}, client_id={self.client_id})"


class FatalConnectionError(RuntimeError):
    """The broker refused us for a reason retrying cannot fix (credentials, TLS)."""


def drain_topic(client_id: str) -> str:
    """Our own marker topic; a wildcard character in the client id cannot be in a topic name."""
    return DRAIN_PREFIX + client_id.replace("+", "_").replace("#", "_")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Intake(Protocol):
    """Where the network thread puts what arrives: a `queue.Queue`, or the MQTT process's
    `collector.outbox.Outbox`."""

    def put(self, item: "Received | LinkEvent", *, timeout: float | None = None) -> None: ...


class MqttSource:
    def __init__(self, settings: BrokerSettings, inbox: Intake) -> None:
        self.settings = settings
        self.inbox = inbox
        self.session = 0
        self.connected_since_ms: int | None = None
        self.fatal: FatalConnectionError | None = None
        self.stopping = False
        self.drain_topic = drain_topic(settings.client_id)
        self._token = secrets.token_hex(8)
        """Names this process in its markers: a marker an earlier process published (and died
        before it came back) is still queued in the session, and its session number may be
        ours."""
        self._drained_session = 0
        self._markers_refused = False
        """Once the broker refused a marker, no more are sent: Mosquitto drops a client whose
        publish it refuses, and a marker per connection would make the link flap forever."""
        self._marker_mid: int | None = None
        self._caught_up_ms: int | None = None
        """The last "caught_up" put: a second copy of its marker (overlapping subscriptions,
        delivered one after the other) puts none."""
        self._drain_sub_mid: int | None = None
        self._short_lived = 0
        self._takeover_said_ms: int | None = None
        self._first_connect = threading.Event()
        self.client = self._client()

    def _client(self) -> paho_client.Client:
        s = self.settings
        client = paho_client.Client(
            CallbackAPIVersion.VERSION2,
            client_id=s.client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
        )
        if s.username is not None:
            client.username_pw_set(s.username, s.password)
        if s.tls_ca_file is not None:
            client.tls_set(ca_certs=s.tls_ca_file, certfile=s.tls_cert_file, keyfile=s.tls_key_file)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        return client

    def start(self, timeout_s: float = 15.0) -> None:
        """Connect (raising FatalConnectionError for refusals retrying cannot fix) and start the
        network thread, which reconnects with backoff from then on."""
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        s = self.settings
        try:
            self.client.connect(
                s.host, s.port, s.keepalive, clean_start=False, properties=properties
            )
        except ssl.SSLError as exc:
            problem = f"TLS with the MQTT broker {s.host}:{s.port} failed: {exc.reason or exc}"
            raise FatalConnectionError(problem) from exc
        except OSError as exc:
            log.warning("MQTT broker %s:%d not reachable (%s); retrying", s.host, s.port, exc)
        self.client.loop_start()
        self._first_connect.wait(timeout_s)
        if self.fatal is not None:
            self.stop()
            raise self.fatal

    def stop(self) -> None:
        self.stopping = True
        self.client.disconnect()
        self.client.loop_stop()

    @property
    def connected(self) -> bool:
        return self.connected_since_ms is not None

    def ack_ids(self, ids: list[tuple[int, int, int]]) -> None:
        """Acknowledge (session, message id, QoS) as committed: only messages of the connection
        now up are, since a message id means nothing on another one."""
        if not self.connected:
            return
        session = self.session
        ours = [(mid, qos) for message_session, mid, qos in ids if message_session == session]
        self.client.ack_many([mid for mid, qos in ours if qos == 1])
        for mid, qos in ours:
            if qos == 2:
                self.client.ack(mid, qos)

    def mark(self, at_ms: int) -> None:
        """Publish a marker that comes back as "caught_up" at `at_ms`, behind everything the
        broker holds for us now. Published while disconnected, paho sends it once connected
        again; lost with a session the broker forgot, it never comes back."""
        marker = {"token": self._token, "session": self.session, "at_ms": at_ms}
        self.client.publish(self.drain_topic, json.dumps(marker), qos=1)

    def _put(self, item: Received | LinkEvent) -> None:
        """Waits while the inbox is full (the back-pressure); once stopping, gives up instead:
        a message stays unacknowledged, and the broker redelivers it to the next session."""
        while not self.stopping:
            try:
                self.inbox.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        s = self.settings
        if reason_code.is_failure:
            problem = f"MQTT broker {s.host}:{s.port} refused the connection: {reason_code}"
            if str(reason_code) in AUTH_FAILURES:
                self.fatal = FatalConnectionError(problem)
                client.disconnect()
            log.error(problem)
            self._first_connect.set()
            return
        self.session += 1
        self.connected_since_ms = now_ms()
        client.subscribe([(topic, s.qos) for topic in s.topics])
        _, self._drain_sub_mid = client.subscribe(self.drain_topic, 1)
        if flags.session_present:
            log.info("connected to %s:%d (session resumed)", s.host, s.port)
        else:
            log.warning(
                "connected to %s:%d, but the broker has no session for %s: messages published "
                "while the daemon was away may be lost (broker restarted without persistence, "
                "or this is the first start with this client id?)",
                s.host,
                s.port,
                s.client_id,
            )
        self._put(LinkEvent(LinkKind.CONNECTED, self.connected_since_ms, self.session))
        if self._markers_refused:
            self._drained_session = self.session
            self._put(LinkEvent(LinkKind.DRAIN_REFUSED, self.connected_since_ms, self.session))
        else:
            marker = json.dumps({"token": self._token, "session": self.session})
            self._marker_mid = client.publish(self.drain_topic, marker, qos=1).mid
        self._first_connect.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        since = self.connected_since_ms
        self.connected_since_ms = None
        at = now_ms()
        if since is not None:
            self._put(LinkEvent(LinkKind.DISCONNECTED, at, self.session))
        if self.fatal or self.stopping:
            return
        if since is not None and at - since < SHORT_LIVED_MS:
            self._short_lived += 1
        elif since is not None:
            self._short_lived = 0
        if reason_code.value == SESSION_TAKEN_OVER:
            self._taken_over(at, "the broker says another client connected with our client id")
        elif self._short_lived >= SHORT_LIVED_IN_A_ROW:
            self._taken_over(
                at,
                f"the broker accepted and then dropped our connection {self._short_lived} times "
                f"in a row within {SHORT_LIVED_MS // 1000} s ({reason_code}): most likely "
                "another client connected with our client id",
            )
        log.warning("disconnected from the MQTT broker (%s); reconnecting", reason_code)

    def _taken_over(self, at_ms: int, what: str) -> None:
        said = self._takeover_said_ms
        if said is not None and at_ms - said < TAKEOVER_REPEAT_MS:
            return
        self._takeover_said_ms = at_ms
        log.error(
            "%s %r: two daemons (or a copied configuration) share it, and each gets only part "
            "of the messages; give every daemon its own [mqtt] client_id and stop the other",
            what,
            self.settings.client_id,
        )

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if mid == self._marker_mid and reason_code.is_failure:
            self._drain_refused(f"the publish of the drain marker: {reason_code}")

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        if mid == self._drain_sub_mid and any(code.is_failure for code in reason_codes):
            self._drain_refused(f"the subscription to the drain topic: {reason_codes[0]}")

    def _drain_refused(self, what: str) -> None:
        if self._drained_session == self.session:
            return  # reported for this connection already
        self._drained_session = self.session
        self._markers_refused = True
        log.warning(
            "the MQTT broker refused %s; the broker must allow client %r to publish and "
            "subscribe on levy/drain/# (QoS 1), or the daemon cannot tell when the backlog kept "
            "for it has been delivered (no more markers are sent until the daemon restarts)",
            what,
            self.settings.client_id,
        )
        self._put(LinkEvent(LinkKind.DRAIN_REFUSED, now_ms(), self.session))

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        if message.topic == self.drain_topic:
            self._on_marker(client, message)
            return
        self._put(
            Received(
                now_ms(),
                message.topic,
                message.payload,
                message.mid,
                message.qos,
                self.session,
            )
        )

    def _on_marker(self, client: mqtt.Client, message: mqtt.MQTTMessage) -> None:
        """Our own marker: what the broker held ahead of it has been queued. Another process's,
        an older session's drain marker, or a second copy (overlapping subscriptions) is only
        acknowledged. A `mark` of any session of ours counts: the broker kept its place."""
        try:
            marker = json.loads(message.payload)
            ours = marker["token"] == self._token
            at_ms = marker.get("at_ms")
            drained = ours and at_ms is None and marker["session"] == self.session
        except (ValueError, TypeError, KeyError, AttributeError):
            ours = drained = False
        if drained and self._drained_session != self.session:
            self._drained_session = self.session
            self._put(LinkEvent(LinkKind.DRAINED, now_ms(), self.session))
            log.info("the backlog kept for session %d has been delivered", self.session)
        elif ours and isinstance(at_ms, int) and at_ms != self._caught_up_ms:
            self._caught_up_ms = at_ms
            self._put(LinkEvent(LinkKind.CAUGHT_UP, at_ms, self.session))
        if message.qos > 0:
            client.ack(message.mid, message.qos)
