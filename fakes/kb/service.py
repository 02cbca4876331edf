"""Knowledge base: policy documents and articles, versioned, with effective dates.

A slug (``refund-policy``) has several versions. A version is in effect from its
``effective_from`` day (inclusive) to its ``effective_to`` day (exclusive; ``null``
means until further notice); drafts are never in effect. At any date the version in
effect is the highest one whose window holds that date. Older versions stay
readable by id; ``get_policy`` and ``search_kb`` answer as of the simulated today
unless asked for another date (``as_of``).
"""

from __future__ import annotations

import calendar
import difflib
import random
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from fakes import _schema as s
from fakes._company import staff, world_domain
from fakes.base import (
    CallContext,
    FakeService,
    IdGenerator,
    Record,
    Reply,
    Seed,
    WorldScale,
    fingerprint,
    operation,
)
from fakes.kb.docs import DOCUMENTS
from fakes.kb.search import (
    HIT,
    KINDS,
    STATUSES,
    hit,
    query_terms,
    score,
    slugify,
)

if TYPE_CHECKING:
    from faker import Faker

DAY = 86_400
#: The simulated "today" every seeded world is built for (2026-01-01).
_SEEDED_AT = 1_767_225_600
_DATE = r"^\d{4}-\d{2}-\d{2}$"
_AS_OF = s.string(
    "A calendar day (YYYY-MM-DD): answer as of that day; default today.",
    pattern=_DATE,
)
DOCUMENT = s.obj(
    {
        "id": s.string("Document id (doc_…): one version of one slug."),
        "object": {"const": "document"},
        "kind": s.enum("policy (binding rules) or article (how-to).", *KINDS),
        "slug": s.string("Stable name shared by every version (refund-policy)."),
        "title": s.string("Title."),
        "body": s.string("The text."),
        "version": s.integer("Version number, 1 for the first."),
        "effective_from": s.string(
            "First day this version is in effect.", pattern=_DATE
        ),
        "effective_to": s.nullable(
            s.string("Day the next version replaced it (exclusive).", pattern=_DATE)
        ),
        "status": s.enum("Lifecycle status; drafts are never in effect.", *STATUSES),
        "owner": s.string("Who owns the document."),
        "tags": {"type": "array", "items": {"type": "string"}},
        "change_note": s.nullable(s.string("What changed in this version.")),
        "created": {"type": "integer"},
        "updated": {"type": "integer"},
    },
    required=(
        "id",
        "object",
        "kind",
        "slug",
        "title",
        "body",
        "version",
        "effective_from",
        "effective_to",
        "status",
    ),
)
VERSIONS = s.obj(
    {
        "object": {"const": "list"},
        "slug": s.string("The slug."),
        "in_effect": s.nullable(
            s.string("Id of the version in effect on the as_of day, if any.")
        ),
        "data": {"type": "array", "items": DOCUMENT},
        "has_more": {"type": "boolean"},
        "url": {"type": "string"},
    },
    required=("object", "slug", "in_effect", "data", "has_more", "url"),
)
DELETED = s.obj(
    {
        "id": s.string("The discarded draft's id."),
        "object": {"const": "document"},
        "deleted": {"const": True},
    },
    required=("id", "object", "deleted"),
)


class Kb(FakeService):
    """The simulated knowledge base.

    Scenario records: ``policy``, ``article`` or ``document`` (a new version of an
    existing slug, of that slug's kind) with ``slug`` or ``title``, and optional
    ``body``, ``version`` (default next), ``status`` (default published),
    ``effective_from`` (default today), ``effective_to``, ``owner``, ``tags``,
    ``change_note``. A published, open-ended version ends the earlier open-ended
    ones on its first day; give ``effective_to`` to plant a stale one instead.
    """

    name: ClassVar[str] = "kb"
    hosts: ClassVar[tuple[str, ...]] = ("kb.sim",)
    #: ``policy``/``article`` make that kind; ``document`` keeps its slug's kind.
    record_kinds: ClassVar[tuple[str, ...]] = ("document", *KINDS)
    record_fields: ClassVar[Mapping[str, Mapping[str, Any]]] = dict.fromkeys(
        record_kinds,
        s.scenario_fields(
            DOCUMENT,
            (
                "slug",
                "title",
                "body",
                "version",
                "effective_from",
                "effective_to",
                "status",
                "owner",
                "tags",
                "change_note",
            ),
            effective_from=s.string("The first day it applies (YYYY-MM-DD)."),
            effective_to=s.nullable(
                s.string("The day it stops applying (YYYY-MM-DD; null: open-ended).")
            ),
        ),
    )
    collections: ClassVar[tuple[str, ...]] = ("documents",)

    @classmethod
    def populate(
        cls,
        faker: Faker,
        rng: random.Random,
        ids: IdGenerator,
        peers: Mapping[str, Seed],
        scale: WorldScale,
    ) -> Seed:
        owners = staff(faker, rng, peers, 8)
        documents: dict[str, Record] = {}
        for seed in DOCUMENTS:
            owner = rng.choice(owners)
            for number, version in enumerate(seed.versions, start=1):
                since = _epoch(version.effective_from)
                created = min(since - 14 * DAY, _SEEDED_AT - 3 * DAY)
                document: Record = {
                    "id": ids.new("doc", 14),
                    "object": "document",
                    "kind": seed.kind,
                    "slug": seed.slug,
                    "title": version.title,
                    "body": version.body,
                    "version": number,
                    "effective_from": version.effective_from,
                    "effective_to": version.effective_to,
                    "status": version.status,
                    "owner": owner,
                    "tags": list(seed.tags),
                    "change_note": version.change_note,
                    "created": created,
                    "updated": created,
                }
                documents[document["id"]] = document
        return {"documents": documents}

    def create_record(self, kind: str, fields: Mapping[str, Any]) -> Record:
        if kind not in self.record_kinds:
            raise self.unknown_kind(kind)
        self.check_record_fields(kind, fields)
        now = int(self.world.clock.epoch())
        slug = str(fields.get("slug") or slugify(str(fields.get("title", ""))))
        if not slug:
            raise ValueError("a kb document needs a slug or a title")
        versions = self._versions(slug)
        latest = versions[-1] if versions else None
        doc_kind = kind if kind != "document" else (latest or {}).get("kind", "article")
        status = str(fields.get("status", "published"))
        if status not in STATUSES:
            raise ValueError(
                f"status {status!r} is not a document status "
                f"(choose one of: {', '.join(STATUSES)})"
            )
        effective_from = _day(fields.get("effective_from", _today(now)))
        to = fields.get("effective_to")
        document: Record = {
            "id": self.world.ids.new("doc", 14),
            "object": "document",
            "kind": doc_kind,
            "slug": slug,
            "title": str(fields.get("title") or (latest or {}).get("title") or slug),
            "body": str(
                fields["body"] if "body" in fields else self.world.faker.paragraph(3)
            ),
            "version": int(
                fields.get("version", latest["version"] + 1 if latest else 1)
            ),
            "effective_from": effective_from,
            "effective_to": None if to is None else _day(to),
            "status": status,
            "owner": str(
                fields.get("owner")
                or (latest or {}).get("owner")
                or f"knowledge@{world_domain(self.world)}"
            ),
            "tags": list(fields.get("tags", (latest or {}).get("tags", []))),
            "change_note": fields.get("change_note"),
            "created": now,
            "updated": now,
        }
        if status == "published" and document["effective_to"] is None:
            self._supersede(versions, document, now)
        self.state["documents"][document["id"]] = document
        return document

    def _supersede(self, versions: list[Record], new: Record, now: int) -> None:
        """Earlier open-ended versions end the day ``new`` takes effect."""
        day = new["effective_from"]
        for old in versions:
            if (
                old["status"] != "draft"
                and old["effective_to"] is None
                and old["version"] < new["version"]
                and old["effective_from"] <= day
            ):
                ended = self.state["documents"].writable(old["id"])
                ended["effective_to"] = day
                if day <= _today(now):
                    ended["status"] = "retired"
                ended["updated"] = now

    # -- reading -------------------------------------------------------------------
    def _versions(self, slug: str) -> list[Record]:
        """Every version of ``slug``, oldest first."""
        return sorted(self.state["documents"].where("slug", slug), key=_by_version)

    def _document(self, ident: str) -> Record:
        return self.get_or_404("documents", ident, param="document")

    def _as_of(self, ctx: CallContext, params: Mapping[str, Any]) -> str:
        day = params.get("as_of")
        return _today(ctx.now) if day is None else self._valid_day(day, "as_of")

    def _valid_day(self, day: str, param: str) -> str:
        try:
            date.fromisoformat(day)
        except ValueError:
            raise self.error(
                400,
                "invalid_request",
                f"{param} '{day}' is not a calendar day (YYYY-MM-DD).",
                param=param,
            ) from None
        return day

    def _unknown_slug(self, slug: str, kind: str | None) -> Exception:
        """404 for a slug with no documents (of ``kind``), naming the close ones."""
        noun = kind or "document"
        others = self._versions(slug)
        if kind is not None and others:
            message = (
                f"No {noun} '{slug}': it is {_a(others[-1]['kind'])}; read it with "
                "list_document_versions."
            )
        else:
            documents = self.state["documents"]
            rows = documents.values() if kind is None else documents.where("kind", kind)
            slugs = sorted({d["slug"] for d in rows})
            close = difflib.get_close_matches(slug, slugs, n=1)
            message = (
                f"No {noun} '{slug}'; did you mean '{close[0]}'?"
                if close
                else f"No {noun} '{slug}'. Known {noun} slugs: "
                f"{', '.join(slugs) or 'none'}."
            )
        return self.error(404, "not_found", message, param="slug")

    # -- operations ------------------------------------------------------------------
    @operation(
        "GET",
        "/v1/search",
        tool="search_kb",
        summary=(
            "Search policies and how-to articles by words; by default only the "
            "versions in effect today. Returns snippets: read the whole document "
            "before acting on it."
        ),
        request=s.obj(
            {
                "q": s.string("Words to look for.", minLength=1),
                "kind": s.enum("Only policies, or only articles.", *KINDS),
                "as_of": _AS_OF,
                "all_versions": s.boolean(
                    "Also search drafts, retired and future versions (default false)."
                ),
                "limit": s.integer(
                    "How many hits, 1 to 50 (default 10).", minimum=1, maximum=50
                ),
            },
            required=("q",),
        ),
        response=s.list_of(HIT),
    )
    def search_kb(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        day = self._as_of(ctx, params)
        terms = query_terms(params["q"])
        kind, every = params.get("kind"), bool(params.get("all_versions", False))
        hits: list[Record] = []
        for document in self.state["documents"].values():
            if kind is not None and document["kind"] != kind:
                continue
            current = _in_effect(document, day)
            if not (current or every):
                continue
            relevance = score(document, terms)
            if relevance:
                hits.append(hit(document, terms, relevance, current))
        hits.sort(key=lambda h: (-h["score"], h["slug"], -h["version"], h["document"]))
        limit = int(params.get("limit", 10))
        return Reply(
            status=200,
            body={
                "object": "list",
                "data": hits[:limit],
                "has_more": len(hits) > limit,
                "url": "/v1/search",
            },
        )

    @operation(
        "GET",
        "/v1/documents/{document}",
        tool="get_document",
        summary="Read one version of a document by id, whatever its status.",
        request=s.by_id("document", "Document id (doc_…)."),
        response=DOCUMENT,
    )
    def get_document(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(status=200, body=self._document(params["document"]))

    @operation(
        "GET",
        "/v1/policies/{slug}",
        tool="get_policy",
        summary=(
            "Read the version of a policy in effect on a day (default today), "
            "e.g. refund-policy, travel-policy, access-policy."
        ),
        request=s.obj(
            {"slug": s.string("The policy's slug (refund-policy)."), "as_of": _AS_OF},
            required=("slug",),
        ),
        response=DOCUMENT,
    )
    def get_policy(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        slug, day = params["slug"], self._as_of(ctx, params)
        versions = [v for v in self._versions(slug) if v["kind"] == "policy"]
        if not versions:
            raise self._unknown_slug(slug, "policy")
        current = _effective(versions, day)
        if current is None:
            raise self.error(
                404,
                "not_in_effect",
                f"Policy '{slug}' has no version in effect on {day}; "
                f"{_coverage(versions, day)}.",
                param="as_of",
            )
        return Reply(status=200, body=current)

    @operation(
        "GET",
        "/v1/documents/{slug}/versions",
        tool="list_document_versions",
        summary=(
            "List every version of a document, newest first, and say which one is "
            "in effect on a day (default today)."
        ),
        request=s.obj(
            {
                "slug": s.string("The slug (refund-policy), or any version's id."),
                "as_of": _AS_OF,
            },
            required=("slug",),
        ),
        response=VERSIONS,
    )
    def list_document_versions(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        slug, day = params["slug"], self._as_of(ctx, params)
        by_id = self.state["documents"].get(slug)
        if by_id is not None:
            slug = by_id["slug"]
        versions = self._versions(slug)
        if not versions:
            raise self._unknown_slug(slug, None)
        current = _effective(versions, day)
        return Reply(
            status=200,
            body={
                "object": "list",
                "slug": slug,
                "in_effect": None if current is None else current["id"],
                "data": versions[::-1],
                "has_more": False,
                "url": f"/v1/documents/{slug}/versions",
            },
        )

    @operation(
        "POST",
        "/v1/documents/{document}/drafts",
        tool="propose_document_edit",
        summary=(
            "Propose a new version of a document as a draft (never in effect until "
            "a human publishes it)."
        ),
        request=s.obj(
            {
                "document": s.string("Any version of the document (doc_…)."),
                "body": s.string("The full proposed text.", minLength=1),
                "title": s.string("New title (default: the latest version's)."),
                "change_note": s.string("What changes and why.", minLength=1),
                "effective_from": s.string(
                    "Proposed first day in effect (YYYY-MM-DD; default today).",
                    pattern=_DATE,
                ),
            },
            required=("document", "body", "change_note"),
        ),
        response=DOCUMENT,
        status=201,
        action="kb.draft",
        write=True,
        reversible=True,
        compensation="discard_document_draft",
    )
    def propose_document_edit(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        base = self._document(params["document"])
        latest = self._versions(base["slug"])[-1]
        since = self._valid_day(
            params.get("effective_from", _today(ctx.now)), "effective_from"
        )
        draft: Record = {
            **latest,
            "id": ctx.new_id("doc", 14),
            "title": params.get("title", latest["title"]),
            "body": params["body"],
            "version": latest["version"] + 1,
            "effective_from": since,
            "effective_to": None,
            "status": "draft",
            "owner": ctx.identity,
            "tags": list(latest["tags"]),
            "change_note": params["change_note"],
            "created": ctx.now,
            "updated": ctx.now,
        }
        self.state["documents"][draft["id"]] = draft
        content = fingerprint({"title": draft["title"], "body": draft["body"]})
        ctx.commit(
            business_key=f"kb:draft:{draft['slug']}:{content}",
            params={
                "slug": draft["slug"],
                "version": draft["version"],
                "title": draft["title"],
                "body": draft["body"],
            },
            ref=draft["id"],
        )
        return Reply(status=201, body=draft)

    @operation(
        "DELETE",
        "/v1/documents/{document}",
        tool="discard_document_draft",
        summary="Discard a draft version (published and retired versions stay).",
        request=s.by_id("document", "The draft's id (doc_…)."),
        response=DELETED,
        action="kb.delete",
        write=True,
        reversible=False,
    )
    def discard_document_draft(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        document = self._document(params["document"])
        if document["status"] != "draft":
            raise self.error(
                409,
                "not_a_draft",
                f"Document {document['id']} is {document['status']}; only drafts "
                "can be discarded.",
                param="document",
            )
        del self.state["documents"][document["id"]]
        ctx.commit(
            business_key=f"kb:discard:{document['id']}",
            params={"document": document["id"], "slug": document["slug"]},
            ref=document["id"],
        )
        return Reply(
            status=200,
            body={"id": document["id"], "object": "document", "deleted": True},
        )


# -- dates ---------------------------------------------------------------------------


def _epoch(day: str) -> int:
    return calendar.timegm(date.fromisoformat(day).timetuple())


def _today(now: int) -> str:
    return datetime.fromtimestamp(now, tz=UTC).date().isoformat()


def _day(value: Any) -> str:
    """A scenario's date (YAML gives ``date`` objects) as an ISO day."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(f"{text!r} is not a calendar day (write YYYY-MM-DD)") from None


def _in_effect(document: Mapping[str, Any], day: str) -> bool:
    end = document["effective_to"]
    return (
        document["status"] != "draft"
        and document["effective_from"] <= day
        and (end is None or day < end)
    )


def _effective(versions: Iterable[Record], day: str) -> Record | None:
    """The highest version in effect on ``day``."""
    current = [v for v in versions if _in_effect(v, day)]
    return max(current, key=_by_version) if current else None


def _coverage(versions: list[Record], day: str) -> str:
    """Why no version covers ``day``: too early, ended, or only drafts."""
    issued = [v for v in versions if v["status"] != "draft"]
    if not issued:
        return "it has only drafts"
    first = min(v["effective_from"] for v in issued)
    if day < first:
        return f"its first version took effect on {first}"
    return "no version covers that day"


def _by_version(document: Mapping[str, Any]) -> int:
    return int(document["version"])


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"
