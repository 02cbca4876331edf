"""Copy-on-write tables: every run shares one seeded base and copies what it changes.

A world of 10,000 customers and 50,000 charges is built once per seed. A run wraps
each collection's base in a :class:`Table`, which is free to make: reads see the
base, the first write to a record copies it into the run's own layer, new records
live only there. Starting a run therefore costs the same for any world size.

Rules for fakes: read with ``table[id]``/``table.get(id)``/``table.where(...)``;
before changing a record, take ``table.writable(id)``; add with
``table[id] = record``. Records read from the base are shared with every run and
must never be mutated in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

Record = dict[str, Any]

_MISSING: Any = object()
_CONTAINERS = frozenset({dict, list})


#: Per record shape (its keys and their value types): the keys holding containers.
_NESTED: dict[tuple[tuple[str, ...], tuple[type, ...]], tuple[str, ...]] = {}


def json_copy(value: Any) -> Any:
    """A deep copy of a JSON-shaped value (dicts, lists, scalars), fast.

    It runs on every function-door result, so a dict is copied in C and only the
    keys known (per shape) to hold containers are copied deeper.
    """
    kind = type(value)
    if kind is dict:
        if not value:
            return {}
        copy = value.copy()
        shape = (tuple(value), tuple(map(type, value.values())))
        nested = _NESTED.get(shape)
        if nested is None:
            nested = tuple(k for k, v in value.items() if type(v) in _CONTAINERS)
            if len(_NESTED) < 1024:
                _NESTED[shape] = nested
        for key in nested:
            copy[key] = json_copy(copy[key])
        return copy
    if kind is list:
        return [json_copy(v) if type(v) in _CONTAINERS else v for v in value]
    return value


class BaseTable:
    """The immutable seeded records of one collection, with lazy field indexes.

    A deferred table (:meth:`deferred`) builds its records on first read. The
    records are a dict, or a mapping that makes each record when first read
    (:class:`fakes.lazy.LazyRecords`), whose own ``where`` answers the queries
    its skeleton can without making every record.
    """

    __slots__ = ("_indexes", "_load", "_records")

    def __init__(self, records: Mapping[str, Record]) -> None:
        self._records: Mapping[str, Record] | None = records
        self._load: Callable[[], Mapping[str, Record]] | None = None
        self._indexes: dict[str, dict[Any, list[str]]] = {}

    @classmethod
    def deferred(cls, load: Callable[[], Mapping[str, Record]]) -> BaseTable:
        """A table whose records ``load`` builds when they are first read."""
        table = cls({})
        table._records, table._load = None, load
        return table

    @property
    def records(self) -> Mapping[str, Record]:
        records = self._records
        if records is None:
            assert self._load is not None
            records = self._records = self._load()
            self._load = None
        return records

    @property
    def loaded(self) -> bool:
        """Whether the records are built (a deferred table's first read done)."""
        return self._records is not None

    def index(self, field: str) -> dict[Any, list[str]]:
        """Record ids by the value of ``field`` (built on first use, then shared)."""
        index = self._indexes.get(field)
        if index is None:
            index = {}
            for ident, record in self.records.items():
                value = record.get(field)
                try:
                    index.setdefault(value, []).append(ident)
                except TypeError:  # unhashable values are not indexed
                    continue
            self._indexes[field] = index
        return index

    def where(self, field: str, value: Any) -> list[tuple[str, Record]]:
        """``(id, record)`` of the records whose ``field`` equals ``value``."""
        records = self.records
        find = getattr(records, "where", None)
        if find is not None:
            found: list[tuple[str, Record]] | None = find(field, value)
            if found is not None:
                return found
        return [(key, records[key]) for key in self.index(field).get(value, ())]


class Table(MutableMapping[str, Record]):
    """One run's view of a collection: the shared base plus the run's own changes."""

    __slots__ = ("_base", "_gone", "_own", "_settled")

    def __init__(self, base: BaseTable | None = None) -> None:
        self._base = base if base is not None else BaseTable({})
        self._own: dict[str, Record] = {}
        self._gone: set[str] = set()
        self._settled: dict[str, Record] = {}

    # -- reads ------------------------------------------------------------------
    def __getitem__(self, key: str) -> Record:
        record = self._own.get(key)
        if record is not None:
            return record
        if key in self._gone:
            raise KeyError(key)
        return self._base.records[key]

    def get(self, key: str, default: Record | None = None) -> Record | None:  # type: ignore[override]
        record = self._own.get(key)
        if record is not None:
            return record
        if self._gone and key in self._gone:
            return default
        return self._base.records.get(key, default)

    def __contains__(self, key: object) -> bool:
        if key in self._own:
            return True
        return key not in self._gone and key in self._base.records

    def __iter__(self) -> Iterator[str]:
        own, gone = self._own, self._gone
        for key in self._base.records:
            if key not in gone and key not in own:
                yield key
        yield from own

    def __len__(self) -> int:
        base = self._base.records
        added = sum(1 for key in self._own if key not in base)
        removed = sum(1 for key in self._gone if key in base)
        return len(base) + added - removed

    def values(self) -> Iterator[Record]:  # type: ignore[override]
        own, gone = self._own, self._gone
        if not own and not gone:
            yield from self._base.records.values()
            return
        for key, record in self._base.records.items():
            if key not in gone and key not in own:
                yield record
        yield from own.values()

    def values_of(self, field: str) -> Iterator[Any]:
        """``record.get(field)`` of every record, in :meth:`values` order (a
        lazily seeded base makes the field alone where its skeleton can)."""
        own, gone = self._own, self._gone
        base = self._base.records
        values_of = getattr(base, "values_of", None)
        if values_of is not None:
            yield from values_of(field, [*own, *gone])
            yield from (record.get(field) for record in own.values())
        else:
            yield from (record.get(field) for record in self.values())

    def where(self, field: str, value: Any) -> list[Record]:
        """Records whose ``field`` equals ``value`` (indexed over the base)."""
        own, gone = self._own, self._gone
        out = [
            record
            for key, record in self._base.where(field, value)
            if key not in own and key not in gone
        ]
        out.extend(r for r in own.values() if r.get(field) == value)
        return out

    # -- writes -------------------------------------------------------------------
    def writable(self, key: str) -> Record:
        """The record, as this run's own copy: safe to change in place."""
        record = self._own.get(key)
        if record is None:
            record = self._own[key] = json_copy(self[key])
        return record

    def __setitem__(self, key: str, record: Record) -> None:
        self._own[key] = record
        self._gone.discard(key)

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self._own.pop(key, None)
        if key in self._base.records:
            self._gone.add(key)

    def original(self, key: str) -> Record | None:
        """The record as the run's world started (None if the agent made it)."""
        settled = self._settled.get(key)
        if settled is not None:
            return settled
        return self._base.records.get(key)

    def settle(self) -> None:
        """Make the changes so far part of the world the run starts from.

        Called once the scenario's own records and planted conflicts are in:
        :meth:`original` then answers with them, not with the seeded records.
        """
        self._settled.update({k: json_copy(v) for k, v in self._own.items()})

    def changed_since_start(self) -> list[str]:
        """Ids of records added, changed or deleted since the run started."""
        if not self._own and not self._gone:
            return []  # and a deferred base stays unbuilt
        out = [k for k, record in self._own.items() if record != self.original(k)]
        out.extend(k for k in self._gone if k in self._base.records)
        return out

    @property
    def changed(self) -> Mapping[str, Record]:
        """Records this run added or changed."""
        return self._own
