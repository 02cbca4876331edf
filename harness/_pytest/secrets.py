"""Secrets in what pytest shows: an item's failure text, captured output and
warnings carry the aliases of the secrets its runs issued, never the values.

An item that runs scenarios gathers every secret its worlds are given (the run's
credential, the reset links the fakes issue, those of a shadow case's reference
runs and of every case of a canary stream) into a book on the item, while it runs
(:func:`collecting`). Its reports are redacted with that book as they are made, on
the worker (:func:`redact_report`): the longrepr and the captured stdout, stderr
and log sections, before the terminal, JUnit XML or the xdist controller see them.
Log records are redacted as they reach pytest's handlers (live logging too), and
warnings recorded for the item by :class:`WarningRedactor`.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import warnings

    from harness.world.secrets import Secrets

#: The secrets the item's runs were given.
SECRETS = pytest.StashKey["Secrets"]()
#: Per nodeid, the book of its item (warnings name the item only by its nodeid).
_BOOKS = pytest.StashKey[dict[str, "Secrets"]]()
#: The filter the item put on the log handlers, and the handlers.
_FILTERED = pytest.StashKey[tuple["_RedactingFilter", tuple[logging.Handler, ...]]]()


@contextmanager
def collecting(item: pytest.Item) -> Iterator[Secrets]:
    """While the block runs, every secret any world is given goes into the item's
    book (one book per item, however many runs it makes)."""
    from harness.world.secrets import Secrets, collect_secrets

    book = item.stash.get(SECRETS, None)
    if book is None:
        book = item.stash[SECRETS] = Secrets()
        item.config.stash.setdefault(_BOOKS, {})[item.nodeid] = book
    if _FILTERED not in item.stash:
        # pytest's log handlers (live logging, captured log) redact as records
        # arrive, until the item's teardown is reported (the test may log later)
        handlers = tuple(logging.getLogger().handlers)
        redacting = _RedactingFilter(book)
        for handler in handlers:
            handler.addFilter(redacting)
        item.stash[_FILTERED] = (redacting, handlers)
    with collect_secrets(book):
        yield book


def redact_report(item: pytest.Item, report: pytest.TestReport) -> None:
    """``report`` (any phase) with the item's secrets replaced by their aliases."""
    if report.when == "teardown" and _FILTERED in item.stash:
        redacting, handlers = item.stash[_FILTERED]
        del item.stash[_FILTERED]
        for handler in handlers:
            handler.removeFilter(redacting)
    book = item.stash.get(SECRETS, None)
    if not book:
        return
    report.sections = [(title, redact(text, book)) for title, text in report.sections]
    longrepr = report.longrepr
    if isinstance(longrepr, str):
        report.longrepr = redact(longrepr, book)
    elif isinstance(longrepr, tuple):  # a skip: (path, line, reason)
        path, line, reason = longrepr
        report.longrepr = (path, line, redact(reason, book))
    elif longrepr is not None:  # a traceback's repr: only when it shows a secret
        text = str(longrepr)
        clean = redact(text, book)
        if clean != text:
            report.longrepr = clean


#: ``head...tail``: how pytest's assertion text (and reprlib) shortens a long string.
_SHORTENED = re.compile(r"([^\s'\"]+)\.\.\.([^\s'\"]+)")
#: Characters of a secret a shortened form may show before it counts as shown.
_SHOWN = 8


def redact(text: str, book: Secrets) -> str:
    """``text`` with each secret, whole or shortened in the middle
    (``'sk_test_728j...402ozwzo00rq6'``), replaced by its alias."""
    text = book.redact(text)
    if "..." not in text:
        return text

    def aliased(match: re.Match[str]) -> str:
        before, after = match[1], match[2]
        for secret in book.values():
            head = _longest(secret.startswith, before, from_end=True)
            tail = _longest(secret.endswith, after, from_end=False)
            if len(head) >= 4 and len(head) + len(tail) > _SHOWN:
                alias = book.redact(secret)
                return before[: len(before) - len(head)] + alias + after[len(tail) :]
        return match[0]

    return _SHORTENED.sub(aliased, text)


def _longest(fits: Callable[[str], bool], text: str, *, from_end: bool) -> str:
    """The longest end (``from_end``) or start of ``text`` that ``fits``."""
    for size in range(len(text), 0, -1):
        part = text[len(text) - size :] if from_end else text[:size]
        if fits(part):
            return part
    return ""


class _RedactingFilter(logging.Filter):
    """A log record's message and exception text with the secrets aliased."""

    def __init__(self, book: Secrets) -> None:
        super().__init__()
        self.book = book

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot format: the handler reports it
            return True
        clean = redact(message, self.book)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(text, self.book)
        return True


class WarningRedactor:
    """Redacts the warnings recorded for an item (registered when aqe is active)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)  # before the terminal and xdist read it
    def pytest_warning_recorded(
        self, warning_message: warnings.WarningMessage, nodeid: str
    ) -> None:
        book = self.config.stash.get(_BOOKS, {}).get(nodeid)
        if book:
            warning_message.message = _redacted_warning(warning_message.message, book)


def _redacted_warning(message: Any, book: Secrets) -> Any:
    """The warning ``message`` with its text redacted: a copy of the same class
    when its text comes from its arguments, else the text alone."""
    text = str(message)
    clean = redact(text, book)
    if clean == text:
        return message
    if isinstance(message, Warning):
        try:
            warning = copy.copy(message)
            warning.args = tuple(
                redact(a, book) if isinstance(a, str) else a for a in message.args
            )
        except Exception:  # a warning class that cannot be copied: keep the text
            return clean
        if str(warning) == clean:
            return warning
    return clean
