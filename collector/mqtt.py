"""The MQTT intake: a paho-mqtt 2 client on a persistent session that hands every message to a
bounded queue and acknowledges it only when told, after the batch holding it has committed.

A full queue blocks paho's network thread, which stops reading the socket: the broker then holds
the backlog (TCP and the session's inflight window push back), so memory stays bounded.
"""

import logging
import queue
import ssl
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

log = logging.getLogger("levy.mqtt")

SESSION_EXPIRY_S = 30 * 86_400
"""How long the broker keeps our session (subscriptions and unacknowledged messages) while the
daemon is away: a month covers any outage an operator would sit through."""

RECEIVE_MAXIMUM = 1000
"""Unacknowledged messages the broker may send us at once: one batch's worth and more."""

AUTH_FAILURES = {"Bad user name or password", "Not authorized"}


@dataclass(frozen=True, slots=True)
class Received:
    """A message as it came off the wire, with what is needed to acknowledge it later."""

    received_ms: int
    topic: str
    payload: bytes
    mid: int
    qos: int
    session: int
    """Which connection delivered it: an acknowledgement is only sent on that same one."""


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


class MqttSource:
    def __init__(self, settings: BrokerSettings, inbox: "queue.Queue[object]") -> None:
        self.settings = settings
        self.inbox = inbox
        self.session = 0
        self.connected_since_ms: int | None = None
        self.fatal: FatalConnectionError | None = None
        self.stopping = False
        self._first_connect = threading.Event()
        self.client = self._client()

    def _client(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(
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

    def ack(self, message: Received) -> None:
        if message.qos > 0 and message.session == self.session and self.connected:
            self.client.ack(message.mid, message.qos)

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            s = self.settings
            problem = f"MQTT broker {s.host}:{s.port} refused the connection: {reason_code}"
            if str(reason_code) in AUTH_FAILURES:
                self.fatal = FatalConnectionError(problem)
                client.disconnect()
            log.error(problem)
            self._first_connect.set()
            return
        self.session += 1
        self.connected_since_ms = time.time_ns() // 1_000_000
        client.subscribe([(topic, self.settings.qos) for topic in self.settings.topics])
        log.info(
            "connected to %s:%d (session %s)",
            self.settings.host,
            self.settings.port,
            "resumed" if flags.session_present else "new",
        )
        self._first_connect.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.connected_since_ms = None
        if not (self.fatal or self.stopping):
            log.warning("disconnected from the MQTT broker (%s); reconnecting", reason_code)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        """Waits while the inbox is full (the back-pressure); once stopping, gives up instead:
        the message stays unacknowledged, and the broker redelivers it to the next session."""
        received = Received(
            time.time_ns() // 1_000_000,
            message.topic,
            message.payload,
            message.mid,
            message.qos,
            self.session,
        )
        while not self.stopping:
            try:
                self.inbox.put(received, timeout=0.5)
                return
            except queue.Full:
                continue
