"""How levy-monitor logs: one line format for every command, the daemon's MQTT process included."""

LOG_FORMAT = "%(levelname)s %(message)s"
