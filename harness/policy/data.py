"""Data that must never leave: card numbers, credentials, patterns, record fields.

Pure detection over the parameters of one outbound call. The policy engine runs it
on every outbound call while a data rule is active, so regular expressions are
compiled once and the values of sensitive record fields are collected once per run
(:class:`SensitiveValues`) and matched by a set lookup per token, not one regex
alternative per value. Excerpts are masked: a report never repeats a secret.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.policy.model import DataRule
    from harness.world.world import World

#: Record fields whose values are secrets wherever the run stores them.
SECRET_FIELDS = ("password", "secret", "token", "api_key")

#: Shortest record-field value worth matching (shorter ones are everywhere).
_MIN_VALUE = 4
#: Issued secrets at least this long match anywhere, even inside a longer token.
_MIN_SUBSTRING = 12
#: Characters that join two word parts into one token (``a.b``, ``ann@x``).
_JOINERS = frozenset(".@+-")


@dataclass(frozen=True, slots=True, kw_only=True)
class Leak:
    """One piece of protected data found in an outbound call's parameters."""

    rule: str  # the DataRule's name
    kind: str  # card_number | credential | pattern | field
    excerpt: str  # the matched text, masked: at most its last 4 characters shown
    where: str  # the parameter path: "body", "messages[1].body"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Span:
    """One hit in one string: where it is, what it is, and how a report shows it."""

    start: int
    end: int
    kind: str
    excerpt: str


def mask(secret: str) -> str:
    """``secret`` with at most its last four characters visible (fewer if short)."""
    shown = max(0, min(4, len(secret) // 2 - 1))
    hidden = len(secret) - shown
    ellipsis = "…" if hidden > 12 else ""
    return ellipsis + "*" * min(hidden, 12) + secret[hidden:]


# -- card numbers ---------------------------------------------------------------

#: Digit groups joined by single spaces or dashes, not glued to a word before.
_DIGIT_RUN = re.compile(r"(?<!\w)\d+(?:[ -]\d+)*")
_DIGIT_GROUP = re.compile(r"\d+")
#: The fewest digits of a card number (and the most).
_CARD_MIN_DIGITS, _CARD_MAX_DIGITS = 13, 19


def luhn_valid(digits: str) -> bool:
    """Whether ``digits`` pass the Luhn check every payment card number passes."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card_numbers(text: str) -> Iterator[_Span]:
    """Each card number in ``text``, leftmost-longest first.

    A card is a window of whole digit groups of one run (so ``4242 4242 4242 4242
    123`` still yields the card before the CVC); a group of more than 19 digits is
    never part of a card, and a last group glued to a word is not a group.
    """
    for run in _DIGIT_RUN.finditer(text):
        if len(run[0]) < _CARD_MIN_DIGITS:  # fewer digits than any card has
            continue
        groups = [
            (run.start() + m.start(), m.group()) for m in _DIGIT_GROUP.finditer(run[0])
        ]
        if run.end() < len(text) and _is_word(text[run.end()]):
            groups.pop()
        first = 0
        while first < len(groups):
            last = _card_window(groups, first)
            if last is None:
                first += 1
                continue
            digits = "".join(group for _, group in groups[first:last])
            end = groups[last - 1][0] + len(groups[last - 1][1])
            yield _Span(
                start=groups[first][0],
                end=end,
                kind="card_number",
                excerpt=mask(digits),
            )
            first = last


def _card_window(groups: list[tuple[int, str]], first: int) -> int | None:
    """The end of the longest card starting at group ``first``, or None."""
    for last in range(len(groups), first, -1):
        digits = "".join(group for _, group in groups[first:last])
        if (
            _CARD_MIN_DIGITS <= len(digits) <= _CARD_MAX_DIGITS
            and len(set(digits)) > 1
            and luhn_valid(digits)
        ):
            return last
    return None


# -- credentials ------------------------------------------------------------------

#: Credential shapes; the ``secret`` group is masked, the text before it is a label.
_CREDENTIALS = tuple(
    re.compile(pattern)
    for pattern in (
        r"(?<![A-Za-z0-9_])(?:sk_live|sk_test|rk_live|rk_test)_"
        r"(?P<secret>[A-Za-z0-9]{16,})",
        r"(?<![A-Z0-9])AKIA(?P<secret>[0-9A-Z]{16})(?![A-Z0-9])",
        r"(?<![A-Za-z0-9])xox[abprs]-(?P<secret>[A-Za-z0-9-]{10,})",
        r"(?<![A-Za-z])[Bb]earer\s+(?P<secret>[A-Za-z0-9._~+/-]{20,}=*)",
        r"(?<![A-Za-z0-9_])gh[pousr]_(?P<secret>[A-Za-z0-9]{36})(?![A-Za-z0-9])",
        r"(?<![A-Za-z0-9_-])(?P<secret>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}"
        r"\.[A-Za-z0-9_-]*)",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----",
    )
)

#: ``password: value``, ``pwd=value``, ``the secret is value``, JSON-quoted or not.
_ASSIGNED = re.compile(
    r"(?i)(?<![a-z])(?:password|passwd|pwd|secret)[\"']?"
    r"(?P<sep>\s*[:=]\s*|\s+is\s*:?\s*)(?P<quote>[\"']?)(?P<secret>[^\s\"'<>,;]+)"
)

#: Values that stand in for a password rather than being one.
_PLACEHOLDERS = frozenset(
    {"none", "null", "redacted", "hidden", "required", "unknown", "empty", "n/a"}
)


def _credentials(text: str) -> Iterator[_Span]:
    """Each credential shape in ``text``."""
    for pattern in _CREDENTIALS:
        for match in pattern.finditer(text):
            yield _Span(
                start=match.start(),
                end=match.end(),
                kind="credential",
                excerpt=_labelled(match),
            )
    for match in _ASSIGNED.finditer(text):
        value = match["secret"].rstrip(".!?)]")
        if _is_password(value, quoted=bool(match["quote"]), sep=match["sep"]):
            label = text[match.start() : match.start("secret")]
            yield _Span(
                start=match.start(),
                end=match.start("secret") + len(value),
                kind="credential",
                excerpt=label + mask(value),
            )


def _labelled(match: re.Match[str]) -> str:
    """The match with its ``secret`` group masked (a PEM header is shown as is)."""
    if "secret" not in match.re.groupindex:
        return match[0]
    label = match.string[match.start() : match.start("secret")]
    return label + mask(match["secret"])


def _is_password(value: str, *, quoted: bool, sep: str) -> bool:
    """Whether ``value`` after ``password:`` is a password, not prose or a mask.

    After ``=`` or in quotes any value counts; after ``:`` or ``is`` a plain word
    (``Password: reset``, ``the password is expired``) does not: it needs a digit,
    a symbol, or a capital letter past the first character.
    """
    if len(value) < _MIN_VALUE or len(set(value)) == 1:
        return False
    if value.strip("[]()").lower() in _PLACEHOLDERS:
        return False
    if quoted or "=" in sep:
        return True
    return not value.isalpha() or any(c.isupper() for c in value[1:])


# -- record-field values ------------------------------------------------------------


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _left_edge(text: str, start: int) -> bool:
    """Whether a token may start at ``start`` (not mid-word, not ``jo|ann@x``)."""
    if start == 0 or not _is_word(text[start]):
        return True
    before = text[start - 1]
    if _is_word(before):
        return False
    return not (before in _JOINERS and start >= 2 and _is_word(text[start - 2]))


def _right_edge(text: str, end: int) -> bool:
    """Whether a token may end at ``end`` (not ``ann@x.com|.au``, not ``5000|0``)."""
    if end == len(text) or not _is_word(text[end - 1]):
        return True
    after = text[end]
    if _is_word(after):
        return False
    return not (after in _JOINERS and end + 1 < len(text) and _is_word(text[end + 1]))


#: A token: a maximal run of word characters, or one punctuation character.
_TOKEN = re.compile(r"\w+|[^\w\s]")


class _ValueMatcher:
    """Whole-token, case-insensitive matching of many literal values at once.

    Values are indexed by their first token, so a word of the text no value
    starts with costs one dict lookup, however many values there are.
    """

    __slots__ = ("_lengths", "_values")

    def __init__(self, values: Iterable[str]) -> None:
        self._values = frozenset(v.lower() for v in values if v)
        lengths: dict[str, set[int]] = {}
        for value in self._values:
            first = _TOKEN.match(value)
            if first is not None:
                lengths.setdefault(first[0], set()).add(len(value))
        #: Value lengths by first token, longest first.
        self._lengths = {k: sorted(ls, reverse=True) for k, ls in lengths.items()}

    def find(self, text: str) -> Iterator[tuple[int, str]]:
        """(offset, matched text) of each value in ``text``, longest first."""
        if not self._values:
            return
        low = text.lower()
        source = text if len(low) == len(text) else low
        resume = 0
        for token in _TOKEN.finditer(low):
            start = token.start()
            lengths = self._lengths.get(token[0])
            if start < resume or lengths is None or not _left_edge(low, start):
                continue
            for length in lengths:
                end = start + length
                if end > len(low) or low[start:end] not in self._values:
                    continue
                if _right_edge(low, end):
                    yield start, source[start:end]
                    resume = end
                    break


def _scalars(value: Any) -> Iterator[str]:
    """The matchable literals of a field value: strings and numbers, as text."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, str):
        value = value.strip()
        if len(value) >= _MIN_VALUE:
            yield value
    elif isinstance(value, int | float):
        yield from _scalars(str(value))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _scalars(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _scalars(item)


class SensitiveValues:
    """What a run must keep in: sensitive field values, and the secrets it issued.

    Field values are collected from the world on first use, once per field, and
    cached (a large world has 10,000 customers); issued secrets are recomputed on
    every call from the records the run added or changed, which stay few.
    """

    __slots__ = ("_fields", "_matchers", "_world")

    def __init__(self, world: World) -> None:
        self._world = world
        self._fields: dict[str, frozenset[str]] = {}
        self._matchers: dict[tuple[str, ...], _ValueMatcher] = {}

    def values(self, field_names: Iterable[str]) -> frozenset[str]:
        """The values of ``service.collection.field`` fields across the records."""
        names = tuple(field_names)
        if len(names) == 1:
            return self._field_values(names[0])
        return frozenset().union(*map(self._field_values, names))

    def issued_secrets(self) -> frozenset[str]:
        """Reset-link tokens and secret-named fields of records the run touched."""
        found: set[str] = set()
        for service in self._world.services.values():
            for collection, table in service.state.items():
                resets = service.name == "iam" and collection == "credential_resets"
                for record in table.changed.values():
                    if resets and isinstance(record.get("reset_link"), str):
                        found.add(record["reset_link"].rstrip("/").rsplit("/", 1)[-1])
                    found.update(
                        record[key]
                        for key in SECRET_FIELDS
                        if isinstance(record.get(key), str)
                    )
        return frozenset(s for s in found if len(s) >= _MIN_VALUE)

    def _field_values(self, name: str) -> frozenset[str]:
        cached = self._fields.get(name)
        if cached is None:
            cached = self._fields[name] = frozenset(self._collect(name))
        return cached

    def _collect(self, name: str) -> Iterator[str]:
        service_name, _, rest = name.partition(".")
        collection, _, field = rest.partition(".")
        service = self._world.services.get(service_name)
        table = None if service is None else service.state.get(collection)
        if table is None:
            return  # the pack loader reports unknown services and collections
        for value in table.values_of(field):  # seeded fields made alone
            yield from _scalars(value)

    def _matcher(self, field_names: tuple[str, ...]) -> _ValueMatcher:
        matcher = self._matchers.get(field_names)
        if matcher is None:
            matcher = self._matchers[field_names] = _ValueMatcher(
                self.values(field_names)
            )
        return matcher


# -- issued secrets ------------------------------------------------------------------


def _issued(text: str, secrets: frozenset[str]) -> Iterator[_Span]:
    """Each secret the run issued, in ``text``.

    Long secrets count anywhere (a token inside a URL); short ones only as whole
    tokens, as they may occur by chance inside other words.
    """
    for secret in secrets:
        start = text.find(secret)
        while start != -1:
            end = start + len(secret)
            whole = _left_edge(text, start) and _right_edge(text, end)
            if len(secret) >= _MIN_SUBSTRING or whole:
                yield _Span(
                    start=start, end=end, kind="credential", excerpt=mask(secret)
                )
            start = text.find(secret, start + 1)


# -- walking the parameters ------------------------------------------------------------


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """(path, text) of every string (and integer) inside ``value``."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, int) and not isinstance(value, bool):
        yield where, str(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}[{index}]")


def _path_order(where: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key reading indexes as numbers: ``a[2]`` before ``a[10]``."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part)
        for part in re.split(r"(\d+)", where)
    )


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _spans(
    rule: DataRule,
    text: str,
    values: SensitiveValues | None,
    secrets: frozenset[str],
) -> Iterator[_Span]:
    """Every hit of ``rule`` in ``text``."""
    if rule.detect == "card_number":
        yield from _card_numbers(text)
    elif rule.detect == "credential":
        yield from _credentials(text)
        yield from _issued(text, secrets)
    if rule.pattern is not None:
        for match in _compiled(rule.pattern).finditer(text):
            if match.end() > match.start():
                yield _Span(
                    start=match.start(),
                    end=match.end(),
                    kind="pattern",
                    excerpt=mask(match[0]),
                )
    if rule.fields and values is not None:
        for start, found in values._matcher(rule.fields).find(text):
            yield _Span(
                start=start, end=start + len(found), kind="field", excerpt=mask(found)
            )


def _without_overlaps(spans: Iterable[_Span]) -> list[_Span]:
    """Leftmost, then longest, of overlapping hits (``Bearer sk_live_…`` is one)."""
    kept: list[_Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if not kept or span.start >= kept[-1].end:
            kept.append(span)
    return kept


def find_leaks(
    rules: Sequence[DataRule],
    params: Mapping[str, Any],
    world: World | None,
    *,
    values: SensitiveValues | None = None,
) -> list[Leak]:
    """Every leak of ``rules`` in the string values of ``params``.

    Params are walked through dicts and lists (``where`` names the path); leaks come
    by path, then rule order, then position. Field rules and issued secrets need
    ``world``; pass ``values`` to reuse one run's cached :class:`SensitiveValues`.
    """
    if not rules:
        return []
    needs_world = any(r.fields or r.detect == "credential" for r in rules)
    if values is None and world is not None and needs_world:
        values = SensitiveValues(world)
    wants_secrets = any(r.detect == "credential" for r in rules)
    secrets: frozenset[str] = frozenset()
    if values is not None and wants_secrets:
        secrets = values.issued_secrets()
    found: list[tuple[tuple[tuple[int, int | str], ...], int, int, Leak]] = []
    for where, text in _strings(params, ""):
        for order, rule in enumerate(rules):
            for span in _without_overlaps(_spans(rule, text, values, secrets)):
                leak = Leak(
                    rule=rule.name, kind=span.kind, excerpt=span.excerpt, where=where
                )
                found.append((_path_order(where), order, span.start, leak))
    found.sort(key=lambda item: item[:3])
    return [item[3] for item in found]


__all__ = [
    "SECRET_FIELDS",
    "Leak",
    "SensitiveValues",
    "find_leaks",
    "luhn_valid",
    "mask",
]
