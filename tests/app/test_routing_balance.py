"""Replay's two processes share a batch's routing: the share moves towards the busier one's
relief, stays within its bounds, and leaves to the reading process a part too small to send
apart and a stateful router's batch whose part would hold a message that reads what it keeps."""

from collector.message import Message
from collector.router import Router
from levy.app.routing_balance import Balance, Busy, balanced_share
from tests.collector.support import ALMATY, Meter

NATIVE = Router([Meter("a", "site/a", "native")], ALMATY)
SHELLY = Router([Meter("s", "shellies/one", "shelly")], ALMATY)
STATUS, EVENTS = "shellies/one/status/switch:0", "shellies/one/events/rpc"


def batch(lines: int, topic: str = "site/a") -> list[Message]:
    return [Message(0, topic, b"{}")] * lines


def test_balanced_share_makes_both_as_busy():
    reading, engine, route_s = Busy(7e-6, 0.9), Busy(6e-6, 0.1), 4e-6
    share = balanced_share(reading, engine, route_s)
    reading_rest, engine_rest = 7e-6 - route_s * 0.9, 6e-6 - route_s * 0.1
    assert abs((reading_rest + route_s * (1 - share)) - (engine_rest + route_s * share)) < 1e-12
    assert share > 0.1  # the reading process was the busier: the engine takes more


def applied(balance: Balance, busy_us: float, route_us: float, kept: int) -> int:
    """The engine's process busy `busy_us` a line over a batch of 100,000 lines, `route_us` a
    line routing its part; the reading process's part of the next batch."""
    balance._route_s = route_us * 1e-6 * (100_000 - kept)  # what `route_rest` timed
    balance.applied(busy_us * 1e-6 * 100_000, 100_000, kept)
    return balance.kept(NATIVE, batch(100_000))


def test_the_share_moves_to_the_idle_process_and_stays_within_bounds():
    balance = Balance(lambda: NATIVE)
    kept = balance.kept(NATIVE, batch(100_000))
    balance.sent(0.9, 100_000, kept)  # the reading process: 9 us a line
    assert applied(balance, 5, 4, kept) < kept  # the engine's 5: it takes more
    balance.sent(0.1, 100_000, kept)  # the reading process: 1 us a line
    for _ in range(10):
        kept = applied(balance, 50, 4, kept)
    assert kept == 100_000 - round(100_000 * Balance.LEAST)


def test_a_small_part_is_the_reading_processs():
    balance = Balance(lambda: NATIVE)
    assert balance.kept(NATIVE, batch(10_000)) == 10_000 - round(10_000 * Balance.FIRST)
    small = 2 * Balance.LEAST_LINES - 2  # its part: one line short of LEAST_LINES
    assert balance.kept(NATIVE, batch(small)) == small


def test_a_stateful_routers_batch_is_shared_where_its_part_reads_nothing_kept():
    balance = Balance(lambda: SHELLY)
    half = 10_000 - round(10_000 * Balance.FIRST)
    statuses = batch(10_000, STATUS)
    assert balance.kept(SHELLY, statuses) == half
    assert balance.kept(SHELLY, [Message(0, EVENTS, b"{}"), *statuses[1:]]) == half
    assert balance.kept(SHELLY, [*statuses[:-1], Message(0, EVENTS, b"{}")]) == 10_000
