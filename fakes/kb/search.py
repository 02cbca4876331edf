"""The knowledge base's search: simple term matching, ranked, with snippets.

A query is cut into lowercase words (stop words dropped, plurals folded into the
singular). A document scores 5 per match in its title or slug, 3 per match in its
tags, and 1 per match in its body (at most 5 per word); ties are broken by slug,
then newest version, so the ordering is the same on every run.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from fakes import _schema as s
from fakes.base import Record

KINDS = ("policy", "article")
STATUSES = ("draft", "published", "retired")

_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    _WORD.findall(
        "a an and are at be by can do does for how i in is it me my of on or our the "
        "this to we what when which who with"
    )
)
#: Words of context kept before the first match in a snippet, and in all.
_SNIPPET_LEAD, _SNIPPET_WORDS = 8, 30

HIT = s.obj(
    {
        "document": s.string("Document id (doc_…)."),
        "object": {"const": "search_hit"},
        "kind": s.enum("policy or article.", *KINDS),
        "slug": s.string("The document's slug."),
        "title": s.string("Title."),
        "version": s.integer("Version number."),
        "status": s.enum("Lifecycle status.", *STATUSES),
        "effective_from": s.string("First day in effect."),
        "effective_to": s.nullable(s.string("Day it stopped being in effect.")),
        "in_effect": s.boolean("Whether this version is in effect on the as_of day."),
        "score": s.integer("Relevance: higher is better."),
        "snippet": s.string("The passage that matched."),
    },
    required=("document", "object", "slug", "title", "version", "score", "snippet"),
)


def _stem(word: str) -> str:
    """Plural and singular match: ``refunds`` is ``refund`` (not ``access``)."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def terms_of(text: str) -> list[str]:
    """The searchable words of ``text``, in order."""
    return [_stem(w) for w in _WORD.findall(text.lower())]


def query_terms(query: str) -> list[str]:
    """The distinct words of a query, without stop words (unless that is all)."""
    distinct = list(dict.fromkeys(terms_of(query)))
    kept = [w for w in distinct if w not in _STOPWORDS]
    return kept or distinct


def slugify(title: str) -> str:
    return "-".join(_WORD.findall(title.lower()))


def score(document: Mapping[str, Any], terms: list[str]) -> int:
    """How well ``document`` matches ``terms`` (0: not at all)."""
    if not terms:
        return 0
    title = Counter(terms_of(f"{document['title']} {document['slug']}"))
    tags = Counter(terms_of(" ".join(document["tags"])))
    body = Counter(terms_of(document["body"]))
    return sum(5 * title[t] + 3 * tags[t] + min(body[t], 5) for t in terms)


def snippet(body: str, terms: list[str]) -> str:
    """About thirty words of ``body`` around the first matching word."""
    tokens = body.split()
    wanted = set(terms)
    first = next(
        (i for i, token in enumerate(tokens) if wanted.intersection(terms_of(token))),
        0,
    )
    start = max(0, first - _SNIPPET_LEAD)
    end = start + _SNIPPET_WORDS
    text = " ".join(tokens[start:end])
    return ("…" if start else "") + text + ("…" if end < len(tokens) else "")


def hit(
    document: Mapping[str, Any], terms: list[str], relevance: int, current: bool
) -> Record:
    """A search result for ``document``."""
    return {
        "document": document["id"],
        "object": "search_hit",
        "kind": document["kind"],
        "slug": document["slug"],
        "title": document["title"],
        "version": document["version"],
        "status": document["status"],
        "effective_from": document["effective_from"],
        "effective_to": document["effective_to"],
        "in_effect": current,
        "score": relevance,
        "snippet": snippet(document["body"], terms),
    }
