"""The native format, and through it every rejection the shared parsing can give."""

import pytest

from collector.router import Router
from levy.core.model import Measure, Reading, Rejection, RejectReason
from tests.collector.support import (
    ALMATY,
    RECEIVED,
    Meter,
    local_ms,
    reading_times,
    router,
    utc_ms,
)

RIG = Meter("rig-0001", "mining/ekibastuz-1/rig-0001", "native")  # measure: the first reading's
FAN = Meter("fan-0001", "mining/ekibastuz-1/fan-0001", "native", measure=Measure.POWER)
PINNED = Meter("rig-0002", "mining/ekibastuz-1/rig-0002", "native", measure=Measure.ENERGY)


def route(payload: bytes, meter: Meter = RIG) -> list:
    return router(meter).route(meter.topic, payload, RECEIVED)


def test_unix_seconds_and_exact_units() -> None:
    outcome = route(b'{"ts": 1795562502.063, "energy_kwh": 12345.678, "power_w": 3250.5}')
    assert outcome == [
        Reading(
            "rig-0001",
            utc_ms(2026, 11, 24, 23, 21, 42) + 63,
            RECEIVED,
            energy_mj=44_444_440_800_000,
            power_mw=3_250_500,
        )
    ]


def test_register_resolution_is_exact_to_the_millijoule() -> None:
    # 0.00000001 kWh is 36 mJ: a float would not survive the way there.
    [reading] = route(b'{"energy_kwh": 0.00000001}')
    assert reading.energy_mj == 36


def test_integer_seconds_and_no_ts_means_receive_time() -> None:
    assert route(b'{"ts": 1795562502, "energy_kwh": 1}')[0].ts_ms == utc_ms(
        2026, 11, 24, 23, 21, 42
    )
    assert route(b'{"energy_kwh": 1}')[0].ts_ms == RECEIVED


def test_naive_iso_time_is_read_in_almaty() -> None:
    [reading] = route(b'{"ts": "2026-11-25T04:21:42", "energy_kwh": 1}')
    assert reading.ts_ms == utc_ms(2026, 11, 24, 23, 21, 42)  # Asia/Almaty is UTC+5
    assert reading.ts_ms == local_ms(2026, 11, 25, 4, 21, 42)


@pytest.mark.parametrize(
    "ts", ['"2026-11-24T23:21:42Z"', '"2026-11-25T04:21:42+05:00"', '"2026-11-24T18:21:42-05:00"']
)
def test_iso_time_with_zone_keeps_its_own_offset(ts: str) -> None:
    [reading] = route(b'{"ts": %s, "energy_kwh": 1}' % ts.encode())
    assert reading.ts_ms == utc_ms(2026, 11, 24, 23, 21, 42)


def test_fault_flag_with_or_without_values() -> None:
    assert route(b'{"energy_kwh": 5, "fault": true}')[0].fault is True
    [reading] = route(b'{"fault": true}')
    assert (reading.fault, reading.energy_mj, reading.power_mw) == (True, None, None)


def test_power_meter_reads_power_and_keeps_energy_when_present() -> None:
    [reading] = route(b'{"energy_kwh": 2, "power_w": 3000}', FAN)
    assert (reading.meter, reading.power_mw, reading.energy_mj) == (
        "fan-0001",
        3_000_000,
        7_200_000_000,
    )


REJECTIONS = [
    (b'{"energy_kwh": 1', RejectReason.BAD_JSON),
    (b"\xff\xfe{}", RejectReason.BAD_JSON),
    (b"[" * 100_000, RejectReason.OVERSIZED),
    (b"[" * 60_000, RejectReason.BAD_JSON),
    (b"[1, 2]", RejectReason.NOT_OBJECT),
    (b'"energy"', RejectReason.NOT_OBJECT),
    (b'{"ts": 1795562502}', RejectReason.MISSING_FIELD),
    (b'{"energy_kwh": NaN}', RejectReason.NON_FINITE),
    (b'{"energy_kwh": Infinity}', RejectReason.NON_FINITE),
    (b'{"energy_kwh": 1e999999999}', RejectReason.NON_FINITE),  # would never finish as an int
    (b'{"energy_kwh": -0.5}', RejectReason.NEGATIVE),
    (b'{"energy_kwh": 1, "power_w": -1}', RejectReason.NEGATIVE),
    (b'{"energy_kwh": true}', RejectReason.WRONG_TYPE),
    (b'{"energy_kwh": "12.5"}', RejectReason.WRONG_TYPE),
    (b'{"energy_kwh": 1, "fault": 1}', RejectReason.WRONG_TYPE),
    (b'{"energy_kwh": 1, "ts": true}', RejectReason.WRONG_TYPE),
    (b'{"energy_kwh": 1, "ts": "yesterday"}', RejectReason.BAD_TIMESTAMP),
    (b'{"energy_kwh": 1, "ts": NaN}', RejectReason.BAD_TIMESTAMP),
    (b'{"energy_kwh": 1, "ts": -5}', RejectReason.BAD_TIMESTAMP),
    (b'{"energy_kwh": 1, "ts": 1e999999999}', RejectReason.BAD_TIMESTAMP),
    (b'{"energy_kwh": 1, "ts": 1795562502063}', RejectReason.BAD_TIMESTAMP),  # ms, not s
    (b'{"energy_kwh": 1, "ts": "1970-01-01T00:02:13"}', RejectReason.BAD_TIMESTAMP),
]


@pytest.mark.parametrize(("payload", "reason"), REJECTIONS)
def test_rejections_name_the_reason_and_the_meter(payload: bytes, reason: RejectReason) -> None:
    [rejection] = route(payload)
    assert isinstance(rejection, Rejection)
    assert (rejection.reason, rejection.meter) == (reason, "rig-0001")
    assert rejection.detail


def test_nan_in_a_field_nobody_reads_is_harmless() -> None:
    assert route(b'{"energy_kwh": 1, "temperature": NaN}')[0].energy_mj == 3_600_000_000


def test_unpinned_meter_gets_power_alone_when_that_is_all_there_is() -> None:
    # Rule 5: the engine decides the measure from the first valid reading, so nothing is refused.
    assert route(b'{"power_w": 100}') == [Reading("rig-0001", RECEIVED, RECEIVED, power_mw=100_000)]


def test_unpinned_meter_gets_every_value_the_payload_has() -> None:
    assert route(b'{"energy_kwh": 2, "power_w": 3000}') == [
        Reading("rig-0001", RECEIVED, RECEIVED, energy_mj=7_200_000_000, power_mw=3_000_000)
    ]
    assert route(b'{"energy_kwh": 2}') == [
        Reading("rig-0001", RECEIVED, RECEIVED, energy_mj=7_200_000_000)
    ]


def test_energy_meter_without_energy_is_missing_field() -> None:
    [rejection] = route(b'{"power_w": 100}', PINNED)
    assert (rejection.reason, rejection.meter) == (RejectReason.MISSING_FIELD, "rig-0002")
    assert "energy_kwh" in rejection.detail


@pytest.mark.parametrize("meter", [RIG, PINNED, FAN])
def test_neither_value_is_missing_field_whatever_the_measure(meter: Meter) -> None:
    [rejection] = route(b'{"ts": 1795562502}', meter)
    assert (rejection.reason, rejection.meter) == (RejectReason.MISSING_FIELD, meter.id)
    assert rejection.detail == "neither energy_kwh nor power_w is present"


def test_power_meter_without_power_is_missing_field() -> None:
    [rejection] = route(b'{"energy_kwh": 1}', FAN)
    assert rejection.reason is RejectReason.MISSING_FIELD
    assert "power_w" in rejection.detail


def test_payload_limit_is_configurable() -> None:
    small = Router([RIG], ALMATY, max_payload=16)
    [rejection] = small.route(RIG.topic, b'{"energy_kwh": 12345.678}', RECEIVED)
    assert rejection.reason is RejectReason.OVERSIZED


def berlin_ts(naive: str, received_ms: int) -> int:
    [ts_ms] = reading_times(RIG, b'{"ts": "%s", "energy_kwh": 1}' % naive.encode(), received_ms)
    return ts_ms


@pytest.mark.parametrize(
    ("naive", "received", "meant"),
    [
        # Clocks go back at 03:00 CEST (01:00Z): 02:30 comes twice, at 00:30Z and at 01:30Z.
        ("2026-10-25T02:30:00", (0, 31), (0, 30)),
        ("2026-10-25T02:30:00", (1, 31), (1, 30)),
        # Clocks go forward at 02:00 CET (01:00Z): 02:30 never shows; read with the offset
        # before (+01:00) it is 01:30Z, with the one after (+02:00) 00:30Z.
        ("2026-03-29T02:30:00", (0, 31), (0, 30)),
        ("2026-03-29T02:30:00", (1, 31), (1, 30)),
        # A tie goes to the earlier.
        ("2026-10-25T02:30:00", (1, 0), (0, 30)),
    ],
)
def test_naive_time_around_a_clock_change_is_the_one_nearest_receipt(
    naive: str, received: tuple[int, int], meant: tuple[int, int]
) -> None:
    day = (int(naive[:4]), int(naive[5:7]), int(naive[8:10]))
    assert berlin_ts(naive, utc_ms(*day, *received)) == utc_ms(*day, *meant)


def test_a_naive_time_read_again_is_resolved_against_its_own_receipt() -> None:
    """Parsed times are cached; which candidate a message means is not."""
    first = berlin_ts("2026-10-25T02:40:00", utc_ms(2026, 10, 25, 0, 41))
    again = berlin_ts("2026-10-25T02:40:00", utc_ms(2026, 10, 25, 1, 41))
    assert (first, again) == (utc_ms(2026, 10, 25, 0, 40), utc_ms(2026, 10, 25, 1, 40))


def test_naive_time_away_from_a_clock_change_ignores_the_receive_time() -> None:
    for received in (utc_ms(2026, 7, 1, 0, 0), utc_ms(2026, 7, 1, 23, 0)):
        assert berlin_ts("2026-07-01T12:00:00", received) == utc_ms(2026, 7, 1, 10, 0)
