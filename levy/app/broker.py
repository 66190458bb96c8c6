"""The collector's broker settings from a site's `[mqtt]`: what the daemon subscribes with and
what the simulator publishes with."""

from pydantic import SecretStr

from collector.mqtt import BrokerSettings
from levy.config.sections import MqttConfig


def broker_settings(mqtt: MqttConfig, password: SecretStr | None) -> BrokerSettings:
    """`password` is resolved by the caller (`mqtt.resolve_password()`), which may not want the
    configured one (the simulator given a username of its own)."""

    def text(path: object) -> str | None:
        return None if path is None else str(path)

    return BrokerSettings(
        host=mqtt.host,
        port=mqtt.port,
        client_id=mqtt.client_id,
        topics=tuple(mqtt.topics),
        qos=mqtt.qos,
        keepalive=mqtt.keepalive,
        username=mqtt.username,
        password=None if password is None else password.get_secret_value(),
        tls_ca_file=text(mqtt.tls_ca_file),
        tls_cert_file=text(mqtt.tls_cert_file),
        tls_key_file=text(mqtt.tls_key_file),
    )
