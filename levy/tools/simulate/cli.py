"""`levy-monitor simulate`: its options, and the run that wires fleet, clock and sink together.

`levy/cli/main.py` adds these options to its `simulate` subcommand and calls `run` with the
site's `SiteConfig`, or None when the fleet is described by options alone. This is the one module
of the simulator that reads the configuration; the others see only its meters (`Meter`)
and the broker settings. A configuration whose `[mqtt]` password cannot be read raises its own
`ConfigError`, which the command line reports like every configuration problem.

Options that would be silently ignored in the chosen mode (a broker address when recording, a
start time when live, fleet options beside a configuration) are refused instead, naming the
option: a simulator that quietly did something else than asked would mislead a test.
"""

import argparse
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import FrameType
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import SecretStr

from collector import formats
from collector.mqtt import BrokerSettings
from levy.app.broker import broker_settings
from levy.config import SiteConfig
from levy.config.context import DEFAULT_TIMEZONE
from levy.config.records import Meter
from levy.core.model import Measure
from levy.core.units import MS_PER_S, datetime_to_ms

from .fleet import MIXED, Event, FaultPlan, Fleet, synthetic_meters
from .pacing import RateCap, SimulatedClock, WallClock
from .publish import BrokerError, MqttSink
from .record import FeedWriter
from .runner import drive
from .truth import truth_document, write_truth

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 1883
DEFAULT_METERS = 10
DEFAULT_RATED_KW = Decimal("3.25")
DEFAULT_PREFIX = "sim/site"
DRAIN_TIMEOUT_S = 30.0
"""How long to wait, at the end of a live run, for the broker to acknowledge what was sent."""
_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}

FLEET_OPTIONS = ("meters", "format", "rated_kw", "topic_prefix", "timezone")
LIVE_OPTIONS = ("host", "port", "client_id", "username", "password_env", "password_file", "tls_ca")
RECORDED_OPTIONS = ("start", "speed", "receive_lag_ms")
Number = TypeVar("Number", int, float)
_MESSAGE_KINDS = frozenset(Event) - {Event.GAP, Event.SILENT}
"""The events a published message can belong to (gaps publish nothing)."""


class SimulateError(Exception):
    """Options that cannot be run as given (exit status 2, one plain message)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `simulate` options; `-c/--config` is the command line's own."""
    fleet = parser.add_argument_group("fleet without a configuration (with -c: its [[meters]])")
    fleet.add_argument("--meters", type=_positive_int, metavar="N", help="default 10")
    fleet.add_argument("--format", choices=[*formats.names(), MIXED], help="default native")
    fleet.add_argument("--rated-kw", type=_kw, metavar="KW", help="default 3.25")
    fleet.add_argument("--topic-prefix", metavar="PREFIX", help="default sim/site")
    fleet.add_argument("--timezone", metavar="ZONE", help=f"site zone, default {DEFAULT_TIMEZONE}")

    timing = parser.add_argument_group("timing (durations: seconds, or with s, m, h or d)")
    timing.add_argument(
        "--interval",
        type=_duration_ms,
        default=10_000,
        metavar="S",
        help="between readings of one meter (default 10)",
    )
    timing.add_argument(
        "--duration",
        type=_duration_ms,
        metavar="S",
        help="how long to run (live default: until SIGINT/SIGTERM)",
    )
    timing.add_argument("--rate", type=_positive_number, metavar="MSG/S", help="at most this")
    timing.add_argument("--seed", type=int, default=0, help="loads and faults (default 0)")

    faults = parser.add_argument_group("faults, as probabilities per reading")
    faults.add_argument("--gap-rate", type=_probability, default=0.0, metavar="P")
    faults.add_argument(
        "--gap-s",
        type=_duration_ms,
        default=1_200_000,
        metavar="S",
        help="how long a gap lasts (default 1200: past the 900 s stale limit)",
    )
    faults.add_argument("--fault-rate", type=_probability, default=0.0, metavar="P")
    faults.add_argument("--reset-rate", type=_probability, default=0.0, metavar="P")
    faults.add_argument("--spike-rate", type=_probability, default=0.0, metavar="P")
    faults.add_argument("--malformed-rate", type=_probability, default=0.0, metavar="P")
    faults.add_argument("--faults-on", type=_ids, metavar="METER,...", help="only these meters")

    live = parser.add_argument_group("live publishing (default: the config's [mqtt])")
    live.add_argument("--host", help=f"default {DEFAULT_HOST}")
    live.add_argument("--port", type=_port, help=f"default {DEFAULT_PORT}")
    live.add_argument("--client-id", help="default levy-simulate-<pid>")
    live.add_argument("--username")
    password = live.add_mutually_exclusive_group()
    password.add_argument("--password-env", metavar="NAME", help="variable holding the password")
    password.add_argument("--password-file", type=Path, metavar="PATH")
    live.add_argument("--tls-ca", type=Path, metavar="PATH", help="CA certificate file")

    recorded = parser.add_argument_group("recorded feed (simulated time)")
    recorded.add_argument(
        "--output",
        type=Path,
        metavar="FEED",
        help="write mosquitto_sub -F %%j lines here instead of publishing (.gz: compressed)",
    )
    recorded.add_argument("--start", help="ISO 8601, naive = site zone (default: this hour)")
    recorded.add_argument(
        "--speed",
        type=_positive_number,
        metavar="X",
        help="simulated seconds per wall second (default: as fast as possible)",
    )
    recorded.add_argument("--receive-lag-ms", type=_non_negative_int, metavar="MS")

    parser.add_argument("--truth", type=Path, metavar="PATH", help="write the ground truth (JSON)")


def run(args: argparse.Namespace, config: SiteConfig | None) -> int:
    """0 when done, 2 for options that cannot be run (one message on stderr), 1 when the broker
    has not acknowledged every message by the end."""
    try:
        return _run(args, config)
    except (SimulateError, BrokerError) as exc:
        print(f"levy-monitor: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, config: SiteConfig | None) -> int:
    if args.interval < MS_PER_S:
        raise SimulateError("--interval: at least 1 second (Tasmota times are whole seconds)")
    zone = _zone(args, config)
    specs = _meters(args, config)
    try:
        fleet = Fleet(specs, args.seed, _fault_plan(args, specs), args.interval)
    except ValueError as exc:
        raise SimulateError(str(exc)) from None
    stop = threading.Event()
    with _stop_on_signals(stop):
        if args.output is not None:
            sent, unacknowledged = _record(args, fleet, zone, stop), 0
        else:
            sent, unacknowledged = _live(args, config, fleet, zone, stop)
    print(_summary(fleet, sent, args.output is None, unacknowledged), file=sys.stderr)
    if args.truth is not None:
        try:
            write_truth(args.truth, truth_document(fleet, sent))
        except OSError as exc:
            raise SimulateError(f"--truth: cannot write {args.truth}: {exc.strerror}") from None
    return 1 if unacknowledged else 0


def _record(
    args: argparse.Namespace, fleet: Fleet, zone: ZoneInfo, stop: threading.Event
) -> Counter[Event]:
    _refuse(args, LIVE_OPTIONS, "for live publishing, not with --output")
    if args.duration is None:
        raise SimulateError("--output needs --duration: a recorded feed has an end")
    clock = SimulatedClock(_start_ms(args.start, zone), args.speed)
    try:
        writer = FeedWriter(args.output, args.receive_lag_ms or 0)
    except OSError as exc:
        raise SimulateError(f"--output: cannot write {args.output}: {exc.strerror}") from None
    with writer:
        end_ms = clock.start_ms + args.duration
        return drive(fleet, zone, clock, end_ms, writer, stop, _cap(args))


def _live(
    args: argparse.Namespace,
    config: SiteConfig | None,
    fleet: Fleet,
    zone: ZoneInfo,
    stop: threading.Event,
) -> tuple[Counter[Event], int]:
    _refuse(args, RECORDED_OPTIONS, "for a recorded feed: add --output")
    with MqttSink(_broker(args, config)) as sink:
        clock = WallClock()
        end_ms = None if args.duration is None else clock.start_ms + args.duration
        sent = drive(fleet, zone, clock, end_ms, sink, stop, _cap(args))
        return sent, sink.drain(DRAIN_TIMEOUT_S)


def _zone(args: argparse.Namespace, config: SiteConfig | None) -> ZoneInfo:
    if config is not None:
        return config.zone
    try:
        return ZoneInfo(args.timezone or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        raise SimulateError(f"--timezone: unknown time zone {args.timezone!r}") from None


def _meters(args: argparse.Namespace, config: SiteConfig | None) -> list[Meter]:
    if config is None:
        return synthetic_meters(
            args.meters or DEFAULT_METERS,
            args.format or "native",
            args.rated_kw or DEFAULT_RATED_KW,
            args.topic_prefix or DEFAULT_PREFIX,
        )
    _refuse(args, FLEET_OPTIONS, "for a fleet without a configuration; -c gives its meters")
    # A meter whose first reading decides what it measures (rule 5) gets a register from the
    # simulator, as every simulated device sends one.
    return [m._replace(measure=m.measure or Measure.ENERGY) for m in config.meters]


def _fault_plan(args: argparse.Namespace, meters: list[Meter]) -> FaultPlan:
    if args.faults_on is not None:
        unknown = sorted(args.faults_on - {meter.id for meter in meters})
        if unknown:
            raise SimulateError(f"--faults-on: no meter {', '.join(unknown)} in the fleet")
    return FaultPlan(
        gap=args.gap_rate,
        fault=args.fault_rate,
        reset=args.reset_rate,
        spike=args.spike_rate,
        malformed=args.malformed_rate,
        gap_ms=args.gap_s,
        only=args.faults_on,
    )


def _broker(args: argparse.Namespace, config: SiteConfig | None) -> BrokerSettings:
    """The options, else the site's `[mqtt]`, else a local broker. The client id is never the
    daemon's: the broker would hand the daemon's persistent session to the simulator. Readings
    are published at QoS 1, whatever the daemon subscribes with."""
    password: str | None
    if args.password_env is not None or args.password_file is not None:
        password = _option_password(args)
    elif config is not None and args.username is None:
        secret = config.mqtt.resolve_password()
        password = None if secret is None else secret.get_secret_value()
    else:
        password = None
    if config is None:
        base = BrokerSettings(DEFAULT_HOST, DEFAULT_PORT, "", ())
    else:
        base = broker_settings(config.mqtt, None if password is None else SecretStr(password))
    username = args.username if args.username is not None else base.username
    if password is not None and username is None:
        raise SimulateError("a password needs a username: add --username")
    return replace(
        base,
        host=args.host or base.host,
        port=args.port or base.port,
        client_id=args.client_id or f"levy-simulate-{os.getpid()}",
        topics=(),
        qos=1,
        username=username,
        password=password,
        tls_ca_file=base.tls_ca_file if args.tls_ca is None else str(args.tls_ca),
    )


def _option_password(args: argparse.Namespace) -> str:
    """As for the configuration's secrets: a trailing newline is not part of the password."""
    if args.password_env is not None:
        value = os.environ.get(args.password_env, "")
        where = f"--password-env: environment variable {args.password_env}"
    else:
        where = f"--password-file: {args.password_file}"
        try:
            value = args.password_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SimulateError(f"{where} cannot be read: {exc}") from None
    value = value.rstrip("\r\n")
    if not value:
        raise SimulateError(f"{where} is not set or empty")
    return value


def _start_ms(text: str | None, zone: ZoneInfo) -> int:
    """`--start`, or the start of the current hour in the site zone."""
    if text is None:
        return datetime_to_ms(datetime.now(zone).replace(minute=0, second=0, microsecond=0))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SimulateError(f"--start {text!r} is not an ISO 8601 time") from None
    return datetime_to_ms(moment if moment.tzinfo else moment.replace(tzinfo=zone))


def _cap(args: argparse.Namespace) -> RateCap | None:
    return None if args.rate is None else RateCap(args.rate)


def _refuse(args: argparse.Namespace, names: tuple[str, ...], why: str) -> None:
    given = [f"--{name.replace('_', '-')}" for name in names if getattr(args, name) is not None]
    if given:
        raise SimulateError(f"{', '.join(given)}: only {why}")


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM end the run cleanly: the feed is closed, the broker's
    acknowledgements awaited and the truth written, as at the end of --duration."""

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _summary(fleet: Fleet, sent: Counter[Event], live: bool, unacknowledged: int) -> str:
    events: Counter[Event] = sum((rig.events for rig in fleet.rigs), Counter())
    kinds = ", ".join(f"{event} {sent[event]}" for event in Event if event in _MESSAGE_KINDS)
    verb = "published" if live else "written"
    text = (
        f"simulate: {sum(sent.values())} messages {verb} ({kinds}); "
        f"{events[Event.GAP]} gaps withheld {events[Event.SILENT]} readings"
    )
    if not live:
        return text
    if unacknowledged:
        return f"{text}; {unacknowledged} not acknowledged within {DRAIN_TIMEOUT_S:g} s"
    return f"{text}; all acknowledged by the broker"


def _duration_ms(text: str) -> int:
    """Seconds, or a number with a unit: `90`, `15m`, `1.5h`, `31d`."""
    number, unit = (text[:-1], text[-1]) if text[-1:] in _UNITS_S else (text, "s")
    try:
        value = Decimal(number) * _UNITS_S[unit] * MS_PER_S
    except InvalidOperation:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration (seconds, or a number with s, m, h or d)"
        ) from None
    if not value.is_finite() or value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive duration")
    return int(value)


def _probability(text: str) -> float:
    value = _number(text, float)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a probability from 0 to 1")
    return value


def _positive_number(text: str) -> float:
    value = _number(text, float)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def _positive_int(text: str) -> int:
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def _non_negative_int(text: str) -> int:
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def _port(text: str) -> int:
    value = _number(text, int)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port")
    return value


def _kw(text: str) -> Decimal:
    """As the configuration's `rated_kw`: positive, whole watts."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of kW") from None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.001")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive kW with 3 decimals at most")
    return value


def _ids(text: str) -> frozenset[str]:
    ids = frozenset(part.strip() for part in text.split(",") if part.strip())
    if not ids:
        raise argparse.ArgumentTypeError("name at least one meter")
    return ids


def _number(text: str, kind: type[Number]) -> Number:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
