"""`verify`'s checks of a ledger against its own evidence (chain.py, seal.py), read-only.

The checks run in this order, and the first that fails stops the walk, naming the record:
1. the chain: each block's hash recomputes, links to the one before, and takes the commit numbers
   after it; no row carries a change number the chain has not given out;
2. every item's seal against its content (an edit by hand that left the seal as it was);
3. coverage: each meter's rows tile its span, from its start to where it is accounted;
4. the per-bucket totals against the sums of their rows;
5. every close record: its period digest, its chain head, its signature;
6. the state digest S, recomputed from every stored seal, against the head block's: the check
   that catches what the others cannot locate (a row deleted, or one edited with its seal
   recomputed so that its totals and coverage still hold).
The locating checks come before the state digest so that a failure names the record when it
can. A scope (a period) limits checks 2 to 5 to its rows and close records; the chain and the
state digest always cover the whole ledger.
"""

import bisect
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from levy.core.calendar import Calendar
from levy.core.rates import RateSchedule
from levy.core.units import MJ_PER_KWH
from levy.ledger.chain import GENESIS, Block, blocks, digest_of, state_of, stored_digest
from levy.ledger.items import (
    BLIND_SPANS,
    CLOSES,
    INTERVALS,
    METERS,
    Table,
    binding,
    binding_seal,
    item_named,
    period_digest,
)
from levy.ledger.seal import seal
from levy.ledger.signing import signature_holds
from levy.ledger.store import KINDS, SUPPLIES, ClosedPeriod, Ledger


class VerifyFailure(Exception):
    """A check that does not hold: `check` names it, the message names the record."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(message)
        self.check = check
        self.message = message


@dataclass(frozen=True)
class Passed:
    check: str
    detail: str


@dataclass(frozen=True)
class Scope:
    """What the figure checks cover: a period [start, end), or the whole ledger (None)."""

    label: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None

    def where(self, column: str) -> tuple[str, tuple[int, ...]]:
        if self.start_ms is None or self.end_ms is None:
            return "", ()
        return f"WHERE {column} >= ? AND {column} < ?", (self.start_ms, self.end_ms)

    def holds(self, start_ms: int, end_ms: int) -> bool:
        """Whether [start, end) lies inside the scope."""
        if self.start_ms is None or self.end_ms is None:
            return True
        return self.start_ms <= start_ms and end_ms <= self.end_ms


def kwh(mj: int) -> str:
    """Energy in a message, to 0.000001 kWh (beside its exact mJ)."""
    value = (Decimal(mj) / MJ_PER_KWH).quantize(Decimal("0.000001"), ROUND_HALF_UP)
    return f"{value} kWh"


class Verifier:
    """The checks of one ledger, on one read snapshot (the caller holds the transaction).
    `public_key` (hex), when given, must be the key that signed every close in scope."""

    def __init__(
        self, ledger: Ledger, calendar: Calendar, scope: Scope, public_key: str | None = None
    ) -> None:
        self.ledger = ledger
        self.db: sqlite3.Connection = ledger.db
        self.iso: Callable[[int], str] = calendar.iso
        self.calendar = calendar
        self.scope = scope
        self.public_key = public_key
        self.named = item_named(self._shown)
        self.blocks: list[Block] = []
        self.names = dict(self.db.execute("SELECT id, name FROM meters"))

    def _shown(self, ms: int) -> str:
        try:
            return self.iso(ms)
        except (OverflowError, ValueError, OSError):
            return f"{ms} ms"

    def checks(self) -> Iterator[Passed]:
        """Each check's summary as it passes; raises VerifyFailure at the first that fails. A
        table or value that is not as levy-monitor writes it (a table dropped, text in a column
        of numbers) fails the check that met it, as any other edit does."""
        for name, check in (
            ("chain", self.chain),
            ("seals", self.seals),
            ("coverage", self.coverage),
            ("totals", self.totals),
            ("closes", self.closes),
            ("state", self.state),
        ):
            try:
                yield check()
            except (sqlite3.DatabaseError, TypeError, ValueError, KeyError) as exc:
                raise VerifyFailure(
                    name, f"the ledger is not as levy-monitor writes it: {exc}"
                ) from None

    def block_of(self, commit: int | None) -> str:
        for block in self.blocks:
            if commit is not None and block.first_commit <= commit <= block.last_commit:
                return f"commit {commit}, block {block.number} of {self._shown(block.hour_ms)}"
        return f"commit {commit}, which no block holds" if commit else "before the chain"

    def block_named(self, block: Block) -> str:
        return (
            f"chain block {block.number} (hour {self._shown(block.hour_ms)}, commits "
            f"{block.first_commit} to {block.last_commit})"
        )

    def chain(self) -> Passed:
        self.blocks = blocks(self.db)
        previous: Block | None = None
        for block in self.blocks:
            expected = 1 if previous is None else previous.number + 1
            if block.number != expected:
                raise VerifyFailure(
                    "chain",
                    f"chain block {expected} is missing: the block after "
                    f"{'the start' if previous is None else previous.number} is {block.number}",
                )
            self._check_block(block, previous)
            previous = block
        if previous is None:
            if self._has_items():
                raise VerifyFailure("chain", "the ledger holds records but no chain")
            return Passed("chain", "no blocks: nothing recorded yet")
        self._check_stamps(previous)
        first = self.blocks[0].first_commit
        return Passed(
            "chain",
            f"{len(self.blocks)} blocks, commits {first} to {previous.last_commit}, each block's "
            f"hash recomputes and links to the one before; head: {self.block_named(previous)}, "
            f"{previous.hash}",
        )

    def _check_block(self, block: Block, previous: Block | None) -> None:
        named = self.block_named(block)
        if block.hash != block.computed_hash():
            raise VerifyFailure("chain", f"{named} does not match its hash")
        if block.prev != (GENESIS if previous is None else previous.hash):
            after = "the start of the chain" if previous is None else f"block {previous.number}"
            raise VerifyFailure(
                "chain",
                f"{named} does not link to {after}: its prev is not that block's hash (the "
                "block before it was changed after it was written)",
            )
        if previous is not None and block.first_commit != previous.last_commit + 1:
            raise VerifyFailure(
                "chain",
                f"{named} does not take the commits after block {previous.number}'s last "
                f"({previous.last_commit})",
            )
        if block.commits != block.last_commit - block.first_commit + 1:
            raise VerifyFailure(
                "chain", f"{named} counts {block.commits} commits, not one for each number"
            )
        if previous is not None and block.hour_ms < previous.hour_ms:
            raise VerifyFailure("chain", f"{named} is of an hour before block {previous.number}'s")

    def _check_stamps(self, last: Block) -> None:
        """A row stamped with a change number after the chain's last was written by no commit."""
        query = (
            "SELECT i.meter_id, m.name, i.start_ms, i.end_ms, i.seq FROM intervals i"
            " LEFT JOIN meters m ON m.id = i.meter_id WHERE i.seq > ? ORDER BY i.seq LIMIT 1"
        )
        row = self.db.execute(query, (last.last_commit,)).fetchone()
        if row is not None:
            meter_id, name, start, end, seq = row
            what = self.named("intervals", (meter_id, start), (name, start, end))
            raise VerifyFailure(
                "chain", f"{what} carries change number {seq}, after the chain's last commit"
            )

    def _has_items(self) -> bool:
        return (
            any(
                self.db.execute(f"SELECT 1 FROM {table.name} LIMIT 1").fetchone()
                for table in (METERS, INTERVALS, CLOSES, BLIND_SPANS)
            )
            or binding(self.db)[0] is not None
        )

    def seals(self) -> Passed:
        values, stored = binding(self.db)
        if values is not None and stored != binding_seal(values):
            raise self._unsealed("binding", (), values, stored)
        counts = {}
        rows_where, params = self.scope.where("i.start_ms")
        for table, where, args in (
            (METERS, "", ()),
            (INTERVALS, rows_where, params),
            (BLIND_SPANS, "", ()),
        ):
            counts[table.name] = self._check_seals(table, where, args)
        closes = self._closes()
        for close in closes:
            row = self.db.execute(CLOSES.select("WHERE period = ?"), (close.period,)).fetchone()
            self._check_item(CLOSES, tuple(row[:1]), tuple(row[1:-1]), row[-1])
        return Passed(
            "seals",
            f"{counts['intervals']} interval rows{self._in_scope()}, {counts['meters']} meters, "
            f"{len(closes)} close records, {counts['blind_spans']} blind spans and the binding "
            "each match their seal",
        )

    def _in_scope(self) -> str:
        return "" if self.scope.label is None else f" of {self.scope.label}"

    def _check_seals(self, table: Table, where: str, params: tuple[Any, ...]) -> int:
        count = 0
        for key, values, stored in table.rows(self.db, where, params):
            self._check_item(table, key, values, stored)
            count += 1
        return count

    def _check_item(
        self, table: Table, key: tuple[Any, ...], values: tuple[Any, ...], stored: bytes | None
    ) -> None:
        if stored != seal(table.name, values):
            raise self._unsealed(table.name, key, values, stored)

    def _unsealed(
        self, t: str, key: tuple[Any, ...], values: tuple[Any, ...], stored: bytes | None
    ) -> VerifyFailure:
        what = self.named(t, key, values)
        if t == "intervals":
            (seq,) = self.db.execute(
                "SELECT seq FROM intervals WHERE meter_id = ? AND start_ms = ?", key
            ).fetchone()
            what += f" (last written by {self.block_of(seq)})"
        problem = "has no seal: it was added" if stored is None else "does not match its seal:"
        edited = "" if stored is None else " it was edited"
        return VerifyFailure("seals", f"{what} {problem}{edited} outside levy-monitor")

    def coverage(self) -> Passed:
        where, params = self.scope.where("start_ms")
        query = (
            f"SELECT meter_id, start_ms, end_ms FROM intervals {where} ORDER BY meter_id, start_ms"
        )
        rows: dict[int, list[tuple[int, int]]] = {}
        for meter_id, start, end in self.db.execute(query, params):
            rows.setdefault(meter_id, []).append((start, end))
        unknown = sorted(rows.keys() - self.names.keys())
        if unknown:
            start, end = rows[unknown[0]][0]
            raise VerifyFailure(
                "coverage",
                f"{self.named('intervals', (unknown[0], start), (None, start, end))} belongs "
                "to no meter",
            )
        meters = self.db.execute("SELECT id, name, start_ms, accrued_ms FROM meters ORDER BY name")
        count = 0
        for meter_id, name, start_ms, accrued_ms in meters:
            self._tiles(name, rows.get(meter_id, []), start_ms, accrued_ms)
            count += 1
        return Passed(
            "coverage",
            f"{count} meters: rows{self._in_scope()} without gap or overlap from each meter's "
            "start to where it is accounted",
        )

    def _tiles(self, meter: str, rows: list[tuple[int, int]], start_ms: int, accrued: int) -> None:
        low = start_ms if self.scope.start_ms is None else max(start_ms, self.scope.start_ms)
        high = accrued if self.scope.end_ms is None else min(accrued, self.scope.end_ms)
        cursor = low
        for start, end in rows:
            span = f"the row from {self._shown(start)} to {self._shown(end)}"
            if start > cursor:
                raise VerifyFailure(
                    "coverage",
                    f"meter {meter}: nothing covers {self._shown(cursor)} to "
                    f"{self._shown(start)} (a gap before {span})",
                )
            if start < cursor:
                raise VerifyFailure(
                    "coverage",
                    f"meter {meter}: {span} overlaps what is covered up to {self._shown(cursor)}",
                )
            if end <= start:
                raise VerifyFailure("coverage", f"meter {meter}: {span} covers no time")
            cursor = end
        if cursor != max(low, high):
            raise VerifyFailure(
                "coverage",
                f"meter {meter}: its rows cover to {self._shown(cursor)}, but its meters row "
                f"says it is accounted to {self._shown(accrued)}",
            )

    def totals(self) -> Passed:
        """Totals are derived, not sealed: they must equal the GROUP BY of the rows per meter,
        bucket, kind, supply, rated W and role (and carry the rows' rate)."""
        steps = self.ledger.rate_steps()
        schedule = RateSchedule(steps) if steps else None
        summed: dict[tuple[int, int, int, int, int, int], list[Any]] = {}
        where, params = self.scope.where("start_ms")
        query = (
            "SELECT meter_id, start_ms, kind, supply, rated_w, role, rate, energy_mj"
            f" FROM intervals {where}"
        )
        low, high = self.db.execute(
            f"SELECT MIN(start_ms), MAX(start_ms) FROM intervals {where}", params
        ).fetchone()
        buckets = _Buckets(self.calendar, schedule, low or 0, high or 0)
        rows = self.db.execute(query, params)
        for meter_id, start, kind, supply, rated_w, role, rate, energy in rows:
            key = (meter_id, buckets.of(start), kind, supply, rated_w, role)
            entry = summed.setdefault(key, [0, set()])
            entry[0] += energy
            entry[1].add(rate)
        where, params = self.scope.where("bucket_ms")
        query = (
            "SELECT meter_id, bucket_ms, kind, supply, rated_w, role, rate, energy_mj"
            f" FROM totals {where}"
        )
        stored = {tuple(row[:6]): (row[7], row[6]) for row in self.db.execute(query, params)}
        for key in sorted(summed.keys() | stored.keys(), key=self._total_order):
            energy, rate = stored.get(key, (0, None))
            rows_energy, rates = summed.get(key, (0, set()))
            if energy != rows_energy:
                raise VerifyFailure(
                    "totals",
                    f"{self._total_named(key, rate or next(iter(rates), None))}: the totals table "
                    f"has {kwh(energy)} ({energy} mJ), its interval rows sum to "
                    f"{kwh(rows_energy)} ({rows_energy} mJ)",
                )
            if key in stored and key in summed and rates != {rate}:
                raise VerifyFailure(
                    "totals",
                    f"{self._total_named(key, rate)}: the totals table bills it at {rate}, its "
                    f"interval rows at {', '.join(sorted(map(str, rates)))} tenge/kWh",
                )
        return Passed(
            "totals",
            f"{len(stored)} per-bucket totals{self._in_scope()} equal the sums of their rows",
        )

    def _total_order(self, key: tuple[int, ...]) -> tuple[Any, ...]:
        return (str(self.names.get(key[0])), *key[1:])

    def _total_named(self, key: tuple[int, int, int, int, int, int], rate: object) -> str:
        meter_id, bucket, kind, supply, rated_w, _ = key
        reason = KINDS[kind] if 0 <= kind < len(KINDS) else f"kind {kind}"
        basis = "metered" if reason is None else f"deemed {getattr(reason, 'value', reason)}"
        where = SUPPLIES[supply].value if 0 <= supply < len(SUPPLIES) else f"supply {supply}"
        return (
            f"the total of meter {self.names.get(meter_id, f'id {meter_id}')}, bucket from "
            f"{self._shown(bucket)}, {basis} ({where}, {rated_w} W, rate {rate})"
        )

    def _closes(self) -> list[ClosedPeriod]:
        closes = sorted(self.ledger.closed_periods().values(), key=lambda c: c.start_ms)
        return [close for close in closes if self.scope.holds(close.start_ms, close.end_ms)]

    def closes(self) -> Passed:
        by_number = {block.number: block for block in self.blocks}
        site_id = self.ledger.meta("site_id")
        shown = []
        for close in self._closes():
            shown.append(self._check_close(close, by_number, site_id))
        if not shown:
            return Passed("closes", f"no month{self._in_scope()} is closed")
        return Passed("closes", "; ".join(shown))

    def _check_close(
        self, close: ClosedPeriod, by_number: dict[int, Block], site_id: str | None
    ) -> str:
        named = f"the close record of {close.period}"
        if close.period_digest != period_digest(self.db, close.start_ms, close.end_ms):
            raise VerifyFailure(
                "closes",
                f"{named}: its period digest does not match the month's rows (a row of the "
                "closed month was changed, added or removed since it was closed)",
            )
        parts = [f"{close.period}: period digest"]
        if close.chain_block is None:
            parts.append("closed before the ledger kept a chain (sealed as found)")
        else:
            block = by_number.get(close.chain_block)
            if block is None or block.hash != close.chain_hash:
                held = "no such block" if block is None else f"block {block.number} is {block.hash}"
                raise VerifyFailure(
                    "closes",
                    f"{named} names chain head block {close.chain_block} {close.chain_hash}, "
                    f"but the chain's {held}",
                )
            parts.append(f"chain head block {block.number}")
        parts.append(self._check_signature(close, named, site_id))
        return ", ".join(parts)

    def _check_signature(self, close: ClosedPeriod, named: str, site_id: str | None) -> str:
        if close.signature is None:
            if self.public_key is not None:
                raise VerifyFailure("closes", f"{named} is not signed (--public-key was given)")
            return "unsigned"
        if close.public_key is None or not signature_holds(
            close.public_key, close.signature, close.signed_part(site_id)
        ):
            raise VerifyFailure(
                "closes", f"{named}: its signature does not verify with the public key beside it"
            )
        if self.public_key is not None and close.public_key != self.public_key:
            raise VerifyFailure(
                "closes",
                f"{named} is signed by key {close.public_key}, not by the key given "
                f"({self.public_key})",
            )
        return f"signed by {close.public_key}"

    def state(self) -> Passed:
        seals: list[bytes | None] = [binding(self.db)[1]]
        for table in (METERS, INTERVALS, CLOSES, BLIND_SPANS):
            seals += [row[0] for row in self.db.execute(f"SELECT seal FROM {table.name}")]
        total = digest_of(seals)
        last = self.blocks[-1] if self.blocks else None
        if last is None:
            return Passed("state", "nothing recorded yet")
        if state_of(total) != last.state:
            raise VerifyFailure(
                "state",
                "the state digest of the tables does not match the head, "
                f"{self.block_named(last)}: since its last commit an item was deleted or "
                "inserted, or edited with its seal recomputed",
            )
        if stored_digest(self.db) != total:
            raise VerifyFailure(
                "state",
                "the writer's running state digest (meta state_digest) does not match the "
                "tables: it was edited outside levy-monitor",
            )
        return Passed(
            "state",
            f"the state digest of all {len(seals)} items matches the head block {last.number}",
        )


class _Buckets:
    """The bucket of a row's start as the engine keys totals (split.bucket_start: the later of
    its month's start and its rate step's), found by bisecting those starts, not per row."""

    def __init__(
        self, calendar: Calendar, schedule: RateSchedule | None, low: int, high: int
    ) -> None:
        starts = {step.from_ms for step in schedule.steps} if schedule is not None else set()
        self.starts = sorted(starts | set(calendar.month_starts(low, high)))

    def of(self, ms: int) -> int:
        index = bisect.bisect_right(self.starts, ms) - 1
        return self.starts[max(index, 0)]
