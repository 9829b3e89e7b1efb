"""Chinese-aware full-text search, one interface over SQLite FTS5 and PostgreSQL.

Text is folded before it is indexed and before it is searched (``folding.fold``): NFKC
(full-width Ｌａｔｉｎ → Latin), lower case, Traditional → Simplified characters, and Taiwan
phrases in their mainland spelling (網絡/網路 → 网络, 軟體 → 软件, 程式設計師 → 程序员) without
turning a mainland word into another (程序 stays 程序, 很多工作 stays whole). Folding twice is
folding once.
Folded text is cut into words by rjieba: the index keeps jieba's search-mode cut (a long word
and the words inside it: 网络安全 → 网络, 安全, 网络安全), a query uses the precise cut, and every
query word must match. A phrase in double quotes must also appear verbatim in the folded text.

jieba cuts a word it does not know differently alone and in a sentence (碳中和 is 碳中+和 as a
query, 碳+中+和 in 「做过碳中和咨询」), so word matching alone misses it. The index therefore also
keeps the overlapping character pairs of every Han run (碳中, 中和, 和咨, 咨询 — as Lucene's CJK
analyser does), and a query word of three or more Han characters matches either as a word or as
all of its pairs; a single Han character matches a word or the start of a pair.

Features register documents with ``index_document(kind, ref_id, title, body)`` inside their own
transaction, and search with ``search_hits(kind, query)``: a subquery of ``(ref_id, rank)`` they
join with their own tables, so that visibility rules and filters stay in the feature.

Storage: ``search_documents`` holds the folded text and the tokens. On SQLite an external-content
FTS5 table follows it by triggers; on PostgreSQL a generated ``tsvector`` column built with
``array_to_tsvector`` (no parser, no locale dependence) carries a GIN index. Both are created
by the migration.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, QueryableAttribute, mapped_column

from server.common.folding import fold, fold_with_map
from server.common.time import UTCDateTime, utcnow
from server.extensions import Model, db

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_HAN_SPLIT = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")
_PHRASE = re.compile(r'"([^"]+)"')

MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 32
MAX_PREFIXES = 4  # lone Han characters per query: each expands to every pair it starts
CANDIDATES = 1000  # matching documents ranked per query, newest first (see search_hits)


class SearchDocument(Model):
    __tablename__ = "search_documents"
    __table_args__ = (sa.UniqueConstraint("kind", "ref_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    ref_id: Mapped[int] = mapped_column(sa.Integer)
    content: Mapped[str] = mapped_column(sa.Text)  # folded title + body, for phrases
    tokens: Mapped[str] = mapped_column(sa.Text)  # space-separated search-mode words
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


MAX_WORD_CHARS = 64  # longer "words" are URLs, hashes, pastes: PostgreSQL refuses > 2 KB


def _words(tokens: list[str]) -> list[str]:
    """Tokens that are words: some letter or digit, and not absurdly long."""
    return [
        t
        for t in (tok.strip() for tok in tokens)
        if t and len(t) <= MAX_WORD_CHARS and any(c.isalnum() for c in t)
    ]


def _jieba() -> Any:
    # Imported on first use: its dictionary costs ~30 MB per process, and most requests
    # (and every worker that never indexes or searches) need only fold().
    import rjieba

    return rjieba


def _pairs(text: str) -> list[str]:
    """Overlapping pairs of Han characters: 碳中和 → 碳中, 中和."""
    return [run[i : i + 2] for run in _HAN.findall(text) for i in range(len(run) - 1)]


def folded_tokens(folded: str) -> list[str]:
    """Words to index of folded text: jieba's search-mode cut, and its Han pairs."""
    return _words(_jieba().cut_for_search(folded)) + _pairs(folded)


def index_tokens(text: str) -> list[str]:
    """Words to index: jieba's search-mode cut of the folded text, and its Han pairs."""
    return folded_tokens(fold(text))


def document_fields(title: str, body: str) -> tuple[str, str]:
    """``(content, tokens)`` of a document: its folded text (for phrases) and its words."""
    folded = fold(f"{title}\n{body}" if title else body)
    return " ".join(folded.split()), " ".join(folded_tokens(folded))


def query_tokens(text: str) -> list[str]:
    """Words a query asks for: jieba's precise cut of the folded text."""
    return _words(_jieba().cut(fold(text)))


@dataclass(frozen=True)
class Clause:
    """One thing a hit must contain: all of ``words``, or else all of ``pairs`` (a Han run
    jieba may cut differently in the document), or a word starting with ``prefix``."""

    words: tuple[str, ...] = ()
    pairs: tuple[str, ...] = ()
    prefix: str | None = None


@dataclass
class ParsedQuery:
    terms: list[str] = field(default_factory=list)  # what to mark in snippets
    phrases: list[str] = field(default_factory=list)
    clauses: list[Clause] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.clauses


def _clauses(folded: str) -> list[Clause]:
    clauses = []
    for chunk in _HAN_SPLIT.split(folded):
        if not chunk:
            continue
        if not _HAN.fullmatch(chunk):
            clauses += [Clause(words=(w,)) for w in _words(_jieba().cut(chunk))]
        elif len(chunk) == 1:
            if sum(c.prefix is not None for c in clauses) < MAX_PREFIXES:
                clauses.append(Clause(prefix=chunk))
        elif len(chunk) == 2:
            clauses.append(Clause(words=(chunk,)))
        else:
            words = tuple(_words(_jieba().cut(chunk)))
            clauses.append(Clause(words=words, pairs=tuple(dict.fromkeys(_pairs(chunk)))))
    return clauses


def parse_query(query: str) -> ParsedQuery:
    """What every hit must contain, and quoted phrases it must contain verbatim."""
    query = query[:MAX_QUERY_CHARS]
    phrases = [fold(p).strip() for p in _PHRASE.findall(query)]
    phrases = [" ".join(p.split()) for p in phrases if p.strip()]
    rest = fold(_PHRASE.sub(" ", query))
    clauses = list(dict.fromkeys(_clauses(rest) + [c for p in phrases for c in _clauses(p)]))
    terms = dict.fromkeys(
        query_tokens(rest) + _HAN.findall(rest) + [t for p in phrases for t in query_tokens(p)]
    )
    return ParsedQuery(list(terms)[:MAX_QUERY_TERMS], phrases, clauses[:MAX_QUERY_TERMS])


def index_document(kind: str, ref_id: int, title: str, body: str) -> None:
    """Add or replace the document ``(kind, ref_id)``; call inside the feature's transaction."""
    content, tokens = document_fields(title, body)
    doc = db.session.execute(
        sa.select(SearchDocument).where(
            SearchDocument.kind == kind, SearchDocument.ref_id == ref_id
        )
    ).scalar_one_or_none()
    if doc is None:
        db.session.add(SearchDocument(kind=kind, ref_id=ref_id, content=content, tokens=tokens))
    else:
        doc.content, doc.tokens, doc.updated_at = content, tokens, utcnow()


def remove_document(kind: str, ref_id: int) -> None:
    db.session.execute(
        sa.delete(SearchDocument).where(
            SearchDocument.kind == kind, SearchDocument.ref_id == ref_id
        )
    )


def like_escape(text: str) -> str:
    """``text`` for a LIKE pattern with ``ESCAPE '\\'``: its % and _ match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


Column = sa.ColumnElement[str] | QueryableAttribute[str]


def like_contains(column: Column, text: str) -> sa.ColumnElement[bool]:
    """``column LIKE '%text%'``, the text taken literally (a name filter: ``?q=50%_off``)."""
    return column.like(f"%{like_escape(text)}%", escape="\\")


def like_prefix(column: Column, text: str) -> sa.ColumnElement[bool]:
    """``column LIKE 'text%'``, the text taken literally."""
    return column.like(like_escape(text) + "%", escape="\\")


@dataclass(frozen=True)
class _Syntax:
    quote: Callable[[str], str]
    prefix: str
    both: str
    either: str


_FTS5 = _Syntax(lambda t: '"' + t.replace('"', '""') + '"', "*", " AND ", " OR ")
_POSTGRES = _Syntax(
    lambda t: "'" + t.replace("\\", "\\\\").replace("'", "''") + "'", ":*", " & ", " | "
)


def _clause(clause: Clause, syntax: _Syntax) -> str:
    """One clause as a match expression of FTS5 or of ``tsquery``."""
    if clause.prefix is not None:
        return syntax.quote(clause.prefix) + syntax.prefix  # alone, or a pair it starts
    alternatives = [
        "(" + syntax.both.join(syntax.quote(t) for t in group) + ")"
        for group in (clause.words, clause.pairs)
        if group
    ]
    return "(" + syntax.either.join(alternatives) + ")"


def _expression(clauses: list[Clause], syntax: _Syntax) -> str:
    return syntax.both.join(_clause(c, syntax) for c in clauses)


Scope = Callable[[sa.ColumnElement[int]], sa.ColumnElement[bool]]


def search_hits(
    kind: str,
    query: str | ParsedQuery,
    *,
    candidates: int = CANDIDATES,
    scope: Scope | None = None,
) -> sa.Subquery:
    """A subquery of ``(ref_id, rank)`` for documents of ``kind`` matching ``query``.

    Lower ``rank`` is a better match on both databases. An empty query matches nothing.
    Only the newest ``candidates`` matching documents are ranked: a word found in a third of
    a million posts costs what a word found in a thousand does, and a query that matches more
    is answered from the most recent (more words or a phrase reach older ones). ``scope``
    turns the ``ref_id`` column into a condition (visibility, filters) applied *before* the
    candidates are counted, so that hidden documents never take a candidate's place; make it
    an ``EXISTS`` on the feature's primary key, checked once per match.
    """
    parsed = parse_query(query) if isinstance(query, str) else query
    d = SearchDocument.__table__.alias("d")
    conditions: list[sa.ColumnElement[bool]] = [d.c.kind == kind]
    conditions += [like_contains(d.c.content, p) for p in parsed.phrases]
    if scope is not None:
        conditions.append(scope(d.c.ref_id))
    dialect = db.session.get_bind().dialect.name
    if parsed.empty:
        empty = sa.select(d.c.ref_id, sa.literal(0.0, sa.Float).label("rank")).where(sa.false())
        return empty.subquery("search_hits")
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION, TSQUERY, TSVECTOR

        tsq = sa.cast(sa.literal(_expression(parsed.clauses, _POSTGRES)), TSQUERY)
        tsv = sa.literal_column("d.tsv", TSVECTOR)
        newest = (
            sa.select(d.c.ref_id, tsv.label("tsv"))
            .where(tsv.op("@@")(tsq), *conditions)
            .order_by(d.c.id.desc())
            .limit(candidates)
            .subquery("newest")
        )
        # double precision: a real comes back rounded to its shortest decimal, and a page
        # cursor holding that value would no longer compare equal to it.
        rank = -sa.cast(sa.func.ts_rank(newest.c.tsv, tsq), DOUBLE_PRECISION)
        stmt = sa.select(newest.c.ref_id, rank.label("rank"))
    else:
        # FTS5 walks its matches newest first (rowid DESC) and stops at the limit, so bm25 is
        # computed for the candidates only.
        fts = sa.table("search_documents_fts", sa.column("rowid", sa.Integer))
        table: sa.ColumnClause[Any] = sa.literal_column("search_documents_fts")
        stmt = (
            sa.select(d.c.ref_id, sa.func.bm25(table, type_=sa.Float).label("rank"))
            .select_from(fts.join(d, d.c.id == fts.c.rowid))
            .where(table.op("MATCH")(_expression(parsed.clauses, _FTS5)), *conditions)
            .order_by(fts.c.rowid.desc())
            .limit(candidates)
        )
    return stmt.subquery("search_hits")


# Objects the migration makes by hand for one database only; autogenerate must not touch them.
_HAND_MADE = {
    ("table", "search_documents_fts"),
    ("column", "tsv"),
    ("index", "ix_search_documents_tsv"),
}


def include_in_autogenerate(obj: object, name: str | None, type_: str, *_args: object) -> bool:
    """Alembic ``include_object`` hook: skip the FTS5 table (and its shadow tables) and the
    PostgreSQL ``tsv`` column and index."""
    if type_ == "table" and (name or "").startswith("search_documents_fts"):
        return False
    return (type_, name) not in _HAND_MADE


def highlight(text: str, query: str | ParsedQuery, *, width: int = 120) -> str:
    """An HTML snippet of ``text`` around the first match of ``query``, matches in ``<mark>``.

    Everything but the marks is escaped, so the snippet is safe to put in a page. Matching is
    on folded text, so a Simplified query marks the Traditional words it found, and a mainland
    word the whole Taiwan phrase it was found as (程序员 marks 程式設計師).
    """
    from markupsafe import escape

    parsed = parse_query(query) if isinstance(query, str) else query
    text = text[:5000]
    folded, starts, ends = fold_with_map(text)
    spans: list[tuple[int, int]] = []
    for needle in sorted({*parsed.terms, *parsed.phrases}, key=len, reverse=True):
        start = 0
        while needle and (i := folded.find(needle, start)) != -1:
            spans.append((starts[i], ends[i + len(needle) - 1]))
            start = i + len(needle)
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    first = merged[0][0] if merged else 0
    lo = max(0, first - width // 3)
    hi = min(len(text), lo + width)
    out = ["…"] if lo > 0 else []
    pos = lo
    for s, e in merged:
        if e <= lo or s >= hi:
            continue
        s, e = max(s, lo), min(e, hi)
        out += [str(escape(text[pos:s])), "<mark>", str(escape(text[s:e])), "</mark>"]
        pos = e
    out.append(str(escape(text[pos:hi])))
    if hi < len(text):
        out.append("…")
    return "".join(out)
