"""Seeded collections made record by record: a skeleton at once, a body when read.

A service's ``populate`` builds every record of a seed before the first one is
read: at ``scale: large`` that is seconds per seed. A service may instead seed
*lazily* (:meth:`fakes.base.FakeService.seed_lazily`): for each collection it
returns a :class:`LazyRecords`, which holds only

* an :class:`IdCodec`: a record's id encodes its *slot* (its place in the
  collection) through a keyed permutation, so ``table[id]`` finds the slot
  without a dict of every id, and a string that is not a seeded id is told
  apart at once;
* the few relationship fields the fake's common queries filter on (which
  customer a charge is of), as arrays drawn in one pass from one seeded stream,
  behind ``finders`` that answer ``where(field, value)`` with slots;
* ``make(slot)``: the record's full body, made from (seed, collection, slot)
  and the skeleton alone, memoised once made.

So the same seed gives the same records whichever are read first, in any
process, thread or order; iterating a collection or ``len`` of one whose size
the skeleton does not know makes every record (the slow path the fakes' common
queries avoid).
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import random
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, overload

from fakes._vocab import Weighted
from fakes.table import Record

if TYPE_CHECKING:
    from fakes.base import FakeService, WorldScale

_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF
_UNIT = 1.0 / (1 << 53)
_T = TypeVar("_T")
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_DIGIT = {c: i for i, c in enumerate(_BASE62)}
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: Characters of an id's suffix that carry the slot (after its leading capital).
_SLOT_CHARS = 6
#: Characters of an id's suffix past its slot (a keyed digest of the slot).
_MAX_PAD = 21
#: Base64's two symbols mapped into letters (as :class:`fakes.base.IdGenerator`).
_ALNUM = bytes.maketrans(b"+/", b"xZ")
#: The largest slot an id can carry (a keyed permutation of 32 bits).
MAX_SLOT = _M32
_MUL1, _MUL2 = 0x45D9F3B, 0x119DE1F3
_INV1, _INV2 = pow(_MUL1, -1, 1 << 32), pow(_MUL2, -1, 1 << 32)


def mix64(x: int) -> int:
    """SplitMix64's finaliser: a 64-bit integer mixed into another, bijectively."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


class Draws:
    """A small seeded stream for one record (``random.Random`` costs 15 µs to
    seed; one record needs a handful of draws): SplitMix64 from ``key``."""

    __slots__ = ("_state",)

    def __init__(self, key: int) -> None:
        self._state = key & _M64

    def bits(self) -> int:
        self._state = (self._state + 0x9E3779B97F4A7C15) & _M64
        return mix64(self._state)

    def random(self) -> float:
        """A float in ``[0, 1)``."""
        return (self.bits() >> 11) * _UNIT

    def below(self, n: int) -> int:
        """An integer in ``[0, n)``."""
        return (self.bits() >> 32) * n >> 32

    def between(self, low: int, high: int, step: int = 1) -> int:
        """An integer in ``range(low, high, step)``."""
        return low + step * self.below(len(range(low, high, step)))

    def pick(self, choices: Sequence[_T]) -> _T:
        return choices[self.below(len(choices))]

    #: ``random.Random``'s names, for builders shared with eager seeding.
    choice = pick
    randrange = between

    def weighted(self, words: Weighted) -> str:
        """A word drawn with its weight (as :meth:`Weighted.draw`)."""
        at = self.random() * words.cumulative[-1]
        return words.words[bisect.bisect(words.cumulative, at)]


def stable_key(label: str) -> int:
    """A 64-bit key for ``label``, the same in every process (no ``hash()``)."""
    return int.from_bytes(hashlib.sha256(label.encode()).digest()[:8], "big")


class IdCodec:
    """Seeded ids that carry their slot: ``ch_`` + a capital + the slot, keyed.

    The suffix starts with a capital, as every seeded id does (a run's ids start
    with a small letter or a digit, :class:`fakes.base.IdGenerator`); six base-62
    characters carry a keyed permutation of the slot, and the rest is a keyed
    digest of it, checked on decoding: an id is seeded iff it re-encodes to itself.
    """

    __slots__ = ("_key", "_pad", "_salt", "length", "prefix")

    def __init__(self, prefix: str, length: int, key: int) -> None:
        if length < 1 + _SLOT_CHARS:
            raise ValueError(
                f"a lazily seeded id needs {1 + _SLOT_CHARS} characters or more"
                f" after {prefix!r}_ (got length {length})\n"
                f"    fix: make {prefix!r} ids at least {1 + _SLOT_CHARS} long"
            )
        if length > 1 + _SLOT_CHARS + _MAX_PAD:
            raise ValueError(
                f"a lazily seeded id is at most {1 + _SLOT_CHARS + _MAX_PAD} long"
            )
        self.prefix = prefix
        self.length = length
        self._key = key
        self._pad = length - 1 - _SLOT_CHARS
        self._salt = f"{prefix}:{key}:".encode()

    def _mix(self, slot: int) -> int:
        x = (slot ^ self._key) & _M32
        x = (x * _MUL1) & _M32
        x ^= x >> 16
        x = (x * _MUL2) & _M32
        x ^= x >> 16
        return x

    def _unmix(self, x: int) -> int:
        x ^= x >> 16
        x = (x * _INV2) & _M32
        x ^= x >> 16
        x = (x * _INV1) & _M32
        return (x ^ self._key) & _M32

    def ident(self, slot: int) -> str:
        """The id of the record in ``slot``."""
        x = self._mix(slot)
        chars = []
        for _ in range(_SLOT_CHARS):
            x, d = divmod(x, 62)
            chars.append(_BASE62[d])
        raw = hashlib.blake2b(
            self._salt + slot.to_bytes(8, "big"), digest_size=16
        ).digest()
        pad = base64.b64encode(raw).translate(_ALNUM)
        first = _UPPER[raw[0] % 26]
        return f"{self.prefix}_{first}{''.join(chars)}{pad[: self._pad].decode()}"

    def slot(self, ident: object) -> int | None:
        """The slot whose id is ``ident``, or None (not a seeded id of this kind)."""
        if not isinstance(ident, str):
            return None
        prefix = self.prefix
        start = len(prefix) + 2
        if (
            len(ident) != start - 1 + self.length
            or not ident.startswith(prefix)
            or ident[start - 2] != "_"
        ):
            return None
        x = 0
        try:
            for char in reversed(ident[start : start + _SLOT_CHARS]):
                x = x * 62 + _DIGIT[char]
        except KeyError:
            return None
        if x > _M32:
            return None
        slot = self._unmix(x)
        return slot if self.ident(slot) == ident else None


#: Answers ``where(field, value)`` with the slots holding such records (in slot
#: order), or None when it cannot tell (then every record is made and filtered).
Finder = Callable[[Any], Iterable[int] | None]


class LazyRecords(Mapping[str, Record]):
    """One seeded collection, its records made when first read.

    ``make(slot)`` returns the record in ``slot`` (or None: an empty slot, in a
    collection whose records are made in groups); ``slots()`` yields every slot
    in order (it may make records to know them); ``count`` is the number of
    records if known without making them. ``fields`` make one field of the
    record in a slot, as ``make`` would, without the rest (a collection whose
    every slot holds a record): :meth:`values_of` reads them.
    """

    __slots__ = ("_count", "_fields", "_finders", "_made", "_make", "_slots", "codec")

    def __init__(
        self,
        *,
        codec: IdCodec,
        make: Callable[[int], Record | None],
        count: int | None = None,
        slots: Callable[[], Iterable[int]] | None = None,
        finders: Mapping[str, Finder] | None = None,
        fields: Mapping[str, Callable[[int], Any]] | None = None,
    ) -> None:
        if slots is None:
            if count is None:
                raise ValueError("LazyRecords needs its count or its slots")
            known = count
            slots = lambda: range(known)  # noqa: E731
        self.codec = codec
        self._make = make
        self._count = count
        self._slots = slots
        self._finders = dict(finders or {})
        self._fields = dict(fields or {})
        self._made: dict[int, Record] = {}

    def at(self, slot: int) -> Record | None:
        """The record in ``slot`` (made now if not yet), or None."""
        record = self._made.get(slot)
        if record is None:
            record = self._make(slot)
            if record is not None:
                record = self._made.setdefault(slot, record)
        return record

    def __getitem__(self, key: str) -> Record:
        slot = self.codec.slot(key)
        record = None if slot is None else self.at(slot)
        if record is None:
            raise KeyError(key)
        return record

    def get(self, key: str, default: Any = None) -> Any:
        slot = self.codec.slot(key)
        record = None if slot is None else self.at(slot)
        return default if record is None else record

    def __contains__(self, key: object) -> bool:
        slot = self.codec.slot(key)
        return slot is not None and self.at(slot) is not None

    def __iter__(self) -> Iterator[str]:
        for _, record in self.items():
            yield record["id"]

    def __len__(self) -> int:
        if self._count is None:
            self._count = sum(1 for _ in self.items())
        return self._count

    def items(self) -> Iterator[tuple[str, Record]]:  # type: ignore[override]
        for slot in self._slots():
            record = self.at(slot)
            if record is not None:
                yield record["id"], record

    def values(self) -> Iterator[Record]:  # type: ignore[override]
        for _, record in self.items():
            yield record

    def values_of(self, field: str, without: Iterable[str] = ()) -> Iterator[Any]:
        """``record.get(field)`` of every record but those whose ids are in
        ``without``, in slot order; made by the field's maker where there is
        one (no record made), else read from the records."""
        skip = {slot for slot in map(self.codec.slot, without) if slot is not None}
        field_of = self._fields.get(field)
        made = self._made
        for slot in self._slots():
            if slot in skip:
                continue
            record = made.get(slot)
            if record is None and field_of is not None:
                yield field_of(slot)
                continue
            if record is None:
                record = self.at(slot)
            if record is not None:
                yield record.get(field)

    def where(self, field: str, value: Any) -> list[tuple[str, Record]] | None:
        """``(id, record)`` of the records whose ``field`` is ``value``, found
        through the skeleton, or None when ``field`` has no finder."""
        finder = self._finders.get(field)
        if finder is None:
            return None
        slots = finder(value)
        if slots is None:
            return None
        out = []
        for slot in slots:
            record = self.at(slot)
            if record is not None and record.get(field) == value:
                out.append((record["id"], record))
        return out

    def slots_where(self, field: str, value: Any) -> list[int] | None:
        """The slots that may hold records whose ``field`` is ``value`` (a
        superset, from the skeleton, no record made), or None: no finder."""
        finder = self._finders.get(field)
        found = None if finder is None else finder(value)
        return None if found is None else list(found)

    @property
    def found_fields(self) -> tuple[str, ...]:
        """The fields whose ``where`` the skeleton answers."""
        return tuple(self._finders)

    @property
    def made(self) -> int:
        """How many records are made so far (what a snapshot cache weighs)."""
        return len(self._made)


class Groups:
    """Records made together, a group at a time (an account with its contacts).

    ``build(group)`` returns the group's records by collection, each in slot
    order; a record's slot is ``group * width + place``. The built groups are
    memoised, so every collection of a group shares one build.
    """

    __slots__ = ("_build", "_built", "_lock", "count", "width")

    def __init__(
        self,
        count: int,
        width: int,
        build: Callable[[int], Mapping[str, list[Record]]],
    ) -> None:
        if count * width > MAX_SLOT:
            raise ValueError(f"{count} groups of {width} do not fit in an id")
        self.count = count
        self.width = width
        self._build = build
        self._built: dict[int, Mapping[str, list[Record]]] = {}
        self._lock = threading.Lock()

    def group(self, group: int) -> Mapping[str, list[Record]]:
        built = self._built.get(group)
        if built is None:
            made = self._build(group)
            with self._lock:
                built = self._built.setdefault(group, made)
        return built

    def record(self, collection: str, slot: int) -> Record | None:
        group, place = divmod(slot, self.width)
        if group >= self.count:
            return None
        records = self.group(group).get(collection, [])
        return records[place] if place < len(records) else None

    def slots(self, collection: str) -> Iterator[int]:
        width = self.width
        for group in range(self.count):
            records = self.group(group).get(collection, [])
            yield from range(group * width, group * width + len(records))

    def of_group(self, collection: str, group: int | None) -> list[int]:
        """The slots of ``collection`` in ``group`` (none for None)."""
        if group is None or not 0 <= group < self.count:
            return []
        start = group * self.width
        return list(range(start, start + len(self.group(group).get(collection, []))))

    def table(
        self,
        collection: str,
        codec: IdCodec,
        finders: Mapping[str, Finder] | None = None,
    ) -> LazyRecords:
        """``collection`` of these groups as a lazily made table."""
        return LazyRecords(
            codec=codec,
            make=lambda slot: self.record(collection, slot),
            slots=lambda: self.slots(collection),
            finders=finders,
        )


@dataclass(frozen=True, slots=True)
class SeedContext:
    """What a service's lazy seeding draws from: one label derives every stream.

    ``label`` is ``aqe:<seed>:<service>`` in a world (``populate`` of a lazily
    seeded service makes one from its ``rng``); ``peers`` are the services
    registered before it, as :meth:`fakes.base.FakeService.populate` sees them.
    """

    label: str
    scale: WorldScale
    peers: Mapping[str, Mapping[str, Mapping[str, Record]]]

    def stream(self, name: str) -> random.Random:
        """A seeded stream of its own for ``name`` (a skeleton's draws)."""
        return random.Random(f"{self.label}:{name}")

    def key(self, name: str) -> int:
        """A stable 64-bit key for ``name`` (seed per-record streams with it)."""
        return stable_key(f"{self.label}:{name}")

    def codec(self, collection: str, prefix: str, length: int) -> IdCodec:
        """The id codec of ``collection`` (its own key: ids differ per seed)."""
        return IdCodec(prefix, length, self.key(f"ids:{collection}") & _M32)

    def peer(self, service: str, collection: str) -> Mapping[str, Record]:
        """A peer's seeded collection (empty when the world lacks the service)."""
        return self.peers.get(service, {}).get(collection, {})


class SlotView(Sequence[str]):
    """Strings made from some slots of a table (their ids, their emails...),
    each made when first read."""

    __slots__ = ("_make", "_slots")

    def __init__(self, slots: Sequence[int], make: Callable[[int], str]) -> None:
        self._slots = slots
        self._make = make

    def __len__(self) -> int:
        return len(self._slots)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self._make(s) for s in self._slots[index]]
        return self._make(self._slots[index])


def slot_ids(slots: Sequence[int], codec: IdCodec) -> SlotView:
    """The ids of ``slots``, each encoded when first read."""
    return SlotView(slots, codec.ident)


def slotted(table: Mapping[str, Record]) -> Callable[[int], Record | None]:
    """The record in a slot of a peer's table: by slot if it is lazy, else the
    slot-th record (a peer replaced by an eagerly seeded fake)."""
    if isinstance(table, LazyRecords):
        return table.at
    listed: list[Record] = []

    def at(slot: int) -> Record | None:
        if not listed:
            listed.extend(table.values())
        return listed[slot] if 0 <= slot < len(listed) else None

    return at


def populate_lazily(
    service: type[FakeService],
    rng: random.Random,
    peers: Mapping[str, Mapping[str, Mapping[str, Record]]],
    scale: WorldScale,
) -> dict[str, dict[str, Record]]:
    """``populate`` of a lazily seeded service: its lazy world, every record made.

    The world's label is drawn from ``rng``, so the same stream gives the same
    records (a world's snapshot calls :meth:`~fakes.base.FakeService.seed_lazily`
    itself, with a label of the seed and the service's name).
    """
    label = f"aqe:populate:{rng.getrandbits(64)}:{service.name}"
    tables = service.seed_lazily(SeedContext(label=label, scale=scale, peers=peers))
    if tables is None:
        raise TypeError(f"{service.__name__}.seed_lazily returned None")
    seed = {name: dict(table.items()) for name, table in tables.items()}
    for name in service.collections:
        seed.setdefault(name, {})
    return seed
