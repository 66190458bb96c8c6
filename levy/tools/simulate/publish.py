"""Live publishing to an MQTT broker with paho-mqtt 2, QoS 1.

Acknowledgements are counted through `on_publish` rather than waited for message by message:
a QoS 1 message published while the connection is down comes back from `publish()` with
`MQTT_ERR_NO_CONN` yet stays queued and is sent on reconnection (paho reconnects by itself under
`loop_start`), so its `MQTTMessageInfo.wait_for_publish()` would raise although the message
does arrive. Every QoS 1 message is acknowledged exactly once, so counts are enough to know,
before exiting, that the broker has taken every message.
"""

import threading
from types import TracebackType
from typing import Any, Self

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from collector.message import Message
from collector.mqtt import BrokerSettings

CONNECT_TIMEOUT_S = 10.0


class BrokerError(Exception):
    """The broker could not be reached or refused the connection."""


class MqttSink:
    """Publishes messages and counts the broker's acknowledgements; a context manager that is
    connected (CONNACK received) once entered."""

    def __init__(self, settings: BrokerSettings) -> None:
        self._settings = settings
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=settings.client_id)
        self._client.on_connect = self._on_connect
        self._client.on_publish = self._on_publish
        self._connected = threading.Event()
        self._refusal: ReasonCode | None = None
        self._acks = threading.Condition()
        self._sent = 0
        self._acknowledged = 0

    def __enter__(self) -> Self:
        settings = self._settings
        if settings.username is not None:
            self._client.username_pw_set(settings.username, settings.password)
        if settings.tls_ca_file is not None or settings.tls_cert_file is not None:
            self._client.tls_set(
                ca_certs=settings.tls_ca_file,
                certfile=settings.tls_cert_file,
                keyfile=settings.tls_key_file,
            )
        where = f"{settings.host}:{settings.port}"
        try:
            self._client.connect(settings.host, settings.port, settings.keepalive)
        except OSError as exc:
            raise BrokerError(f"cannot connect to the MQTT broker at {where}: {exc}") from None
        self._client.loop_start()
        try:
            self._await_connack(where)
        except BrokerError:
            self._close()
            raise
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._close()

    def send(self, message: Message) -> None:
        self._client.publish(message.topic, message.payload, qos=self._settings.qos)
        with self._acks:
            self._sent += 1

    def drain(self, timeout_s: float) -> int:
        """Wait for the broker to acknowledge every message; how many it has not."""
        with self._acks:
            self._acks.wait_for(lambda: self._acknowledged >= self._sent, timeout_s)
            return self._sent - self._acknowledged

    def _await_connack(self, where: str) -> None:
        if not self._connected.wait(CONNECT_TIMEOUT_S):
            raise BrokerError(f"no answer from the MQTT broker at {where}")
        if self._refusal is not None:
            raise BrokerError(f"the MQTT broker at {where} refused the connection: {self._refusal}")

    def _close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        _properties: Any,
    ) -> None:
        self._refusal = reason_code if reason_code.is_failure else None
        self._connected.set()

    def _on_publish(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _mid: int,
        _reason_code: ReasonCode,
        _properties: Any,
    ) -> None:
        with self._acks:
            self._acknowledged += 1
            self._acks.notify_all()
