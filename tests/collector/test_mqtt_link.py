"""The MQTT source's reactions that need no broker: what it logs and queues when the broker
says our session was taken over."""

import logging
import queue

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from collector.mqtt import BrokerSettings, LinkEvent, LinkKind, MqttSource, drain_topic


def source() -> tuple[MqttSource, "queue.Queue[object]"]:
    inbox: queue.Queue[object] = queue.Queue()
    settings = BrokerSettings("127.0.0.1", 1, "levy-ekibastuz-1", ("#",))
    return MqttSource(settings, inbox), inbox


def test_reason_0x8e_is_an_error_naming_the_client_id(caplog) -> None:
    mqtt_source, inbox = source()
    mqtt_source.session = 4
    mqtt_source.connected_since_ms = 1
    taken_over = ReasonCode(PacketTypes.DISCONNECT, identifier=0x8E)

    mqtt_source._on_disconnect(mqtt_source.client, None, None, taken_over, None)
    mqtt_source.connected_since_ms = 2
    mqtt_source._on_disconnect(mqtt_source.client, None, None, taken_over, None)

    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1, "said once, not at every reconnect"
    message = errors[0].getMessage()
    assert "'levy-ekibastuz-1'" in message
    assert "two daemons (or a copied configuration) share it" in message
    assert [e for e in inbox.queue if isinstance(e, LinkEvent)] == [
        LinkEvent(LinkKind.DISCONNECTED, e.at_ms, 4) for e in inbox.queue
    ]
    assert not mqtt_source.connected


def test_the_drain_topic_is_a_topic_name() -> None:
    assert drain_topic("levy-ekibastuz-1") == "levy/drain/levy-ekibastuz-1"
    assert drain_topic("a+b#") == "levy/drain/a_b_"
