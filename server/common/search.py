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
join with their own tables, so that visibility rules and filters stay in the feature. Hits rank
by relevance (BM25's shape, title words weigh more) × recency (halved every HALF_LIFE_DAYS).

Storage: ``search_documents`` holds the folded text, the tokens, the title's length and the
recency. On SQLite an external-content FTS5 table follows it by triggers; on PostgreSQL a
generated ``tsvector`` column built with ``array_to_tsvector`` (no parser, no locale
dependence) carries a GIN index. Both are created by the migrations.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
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

# Ranking (see search_hits): relevance × recency, the same formula on both databases.
HALF_LIFE_DAYS = 30.0  # a document this much older needs twice the relevance to rank alike
RECENCY_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)  # recency 1.0; 2.0 ** 1023 is far away
K1, B = 1.2, 0.75  # BM25's term-frequency saturation and length normalisation
REFERENCE_CHARS = 100  # the length at which a document is neither short nor long
TITLE_WEIGHT = 1.0  # added per query word found in the title
RANKED_CLAUSES = 8  # query words whose frequency is counted (all of them must match)


def recency(when: datetime) -> float:
    """``2 ** (days since RECENCY_EPOCH / HALF_LIFE_DAYS)``: stored per document, so that a
    rank is a product of columns (no ``exp()`` in SQL: SQLite may be built without math
    functions) and does not depend on the time of the search — a cursor's rank stays valid,
    and an exponential decay orders two documents alike whenever it is asked."""
    days = (when - RECENCY_EPOCH).total_seconds() / 86400
    return float(2.0 ** (days / HALF_LIFE_DAYS))


class SearchDocument(Model):
    __tablename__ = "search_documents"
    __table_args__ = (sa.UniqueConstraint("kind", "ref_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    ref_id: Mapped[int] = mapped_column(sa.Integer)
    content: Mapped[str] = mapped_column(sa.Text)  # folded title + body, for phrases
    tokens: Mapped[str] = mapped_column(sa.Text)  # space-separated search-mode words
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # recency() of when the document was first written (an edit keeps it)
    recency: Mapped[float] = mapped_column(sa.Float, server_default="1.0")
    # the folded title's length: content[:title_chars] is the title
    title_chars: Mapped[int] = mapped_column(sa.Integer, server_default="0")


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


def title_chars(title: str, content: str) -> int:
    """How much of ``content`` is the folded title (0 if folding joined it to the body)."""
    folded = " ".join(fold(title).split())
    return len(folded) if folded and content.startswith(folded) else 0


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


def index_document(
    kind: str, ref_id: int, title: str, body: str, *, dated: datetime | None = None
) -> None:
    """Add or replace the document ``(kind, ref_id)``; call inside the feature's transaction.

    ``dated`` is when the thing was written, for recency; by default a new document is dated
    now and a replaced one keeps its date (an edit does not make a post new)."""
    content, tokens = document_fields(title, body)
    in_title = title_chars(title, content) if title else 0
    doc = db.session.execute(
        sa.select(SearchDocument).where(
            SearchDocument.kind == kind, SearchDocument.ref_id == ref_id
        )
    ).scalar_one_or_none()
    if doc is None:
        db.session.add(
            SearchDocument(
                kind=kind,
                ref_id=ref_id,
                content=content,
                tokens=tokens,
                recency=recency(dated or utcnow()),
                title_chars=in_title,
            )
        )
    else:
        doc.content, doc.tokens, doc.updated_at = content, tokens, utcnow()
        doc.title_chars = in_title
        if dated is not None:
            doc.recency = recency(dated)


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


def _needle(clause: Clause) -> str | None:
    """The text a clause stands for, counted in the folded content for term frequency."""
    return clause.prefix or "".join(clause.words) or None


def _relevance(content: Any, title_chars: Any, parsed: ParsedQuery, postgres: bool) -> Any:
    """BM25's shape in plain SQL, alike on both databases: for each query word, its
    occurrences ``tf`` in the folded text (at least 1: every word matched, perhaps as
    character pairs), saturated as ``tf·(k1+1) / (tf + k1·(1 − b + b·chars/REFERENCE_CHARS))``,
    plus ``TITLE_WEIGHT`` if the title holds it. No idf: every hit holds every query word."""
    greatest = sa.func.greatest if postgres else sa.func.max  # SQLite's max() of two values
    position = sa.func.strpos if postgres else sa.func.instr
    chars = sa.func.length(content, type_=sa.Integer)
    saturation = K1 * (1 - B) + chars * (K1 * B / REFERENCE_CHARS)
    total: Any = sa.literal(0.0, sa.Float)
    for clause in parsed.clauses[:RANKED_CLAUSES]:
        needle = _needle(clause)
        if needle is None:
            total = total + (K1 + 1) / (1.0 + saturation)
            continue
        removed = chars - sa.func.length(sa.func.replace(content, needle, ""), type_=sa.Integer)
        tf = greatest(removed * (1.0 / len(needle)), 1.0, type_=sa.Float)
        title = sa.case(
            (position(content, needle).between(1, title_chars), TITLE_WEIGHT), else_=0.0
        )
        total = total + tf * (K1 + 1) / (tf + saturation) + title
    return total


def search_hits(
    kind: str,
    query: str | ParsedQuery,
    *,
    candidates: int = CANDIDATES,
    scope: Scope | None = None,
) -> sa.Subquery:
    """A subquery of ``(ref_id, rank)`` for documents of ``kind`` matching ``query``, in the
    order of ``(rank, ref_id)``: join it and order by the same.

    Lower ``rank`` is a better match, ``−relevance × recency`` (``_relevance``, ``recency``):
    the same formula and order on both databases, and a rank that never changes while the
    document does not, so a cursor holding it continues exactly. An empty query matches
    nothing. The newest ``candidates`` matching documents are ranked: all the matches of a
    query that has no more (at a million posts, a word in one post of a thousand), the newest
    of a common word's. Ranking all of a common word's matches costs what touching each does
    (300,000 of them: 1.4 s on SQLite, 0.6 s on PostgreSQL to count them); what the bound
    misses — better matches a few days older than the candidates — is measured in
    bench/README.md. ``scope`` turns the ``ref_id`` column into a condition (visibility,
    filters) applied *before* the candidates are counted, so that hidden documents never take
    a candidate's place; make it an ``EXISTS`` on the feature's primary key.
    """
    parsed = parse_query(query) if isinstance(query, str) else query
    d = SearchDocument.__table__.alias("d")
    if parsed.empty:
        empty = sa.select(d.c.ref_id, sa.literal(0.0, sa.Float).label("rank")).where(sa.false())
        return empty.subquery("search_hits")

    def matching(c: Any) -> list[sa.ColumnElement[bool]]:  # but for the words themselves
        return [c.kind == kind] + [like_contains(c.content, p) for p in parsed.phrases]

    def conditions(c: Any) -> list[sa.ColumnElement[bool]]:
        return matching(c) + ([scope(c.ref_id)] if scope is not None else [])

    postgres = db.session.get_bind().dialect.name == "postgresql"

    def rank(c: Any) -> Any:
        return -(_relevance(c.content, c.title_chars, parsed, postgres) * c.recency)

    if postgres:
        newest = _postgres_newest(parsed, matching, scope, rank, candidates)
    else:
        # FTS5 walks its matches newest first (rowid DESC) and stops at the limit.
        fts = sa.table("search_documents_fts", sa.column("rowid", sa.Integer))
        table: sa.ColumnClause[Any] = sa.literal_column("search_documents_fts")
        newest = (
            sa.select(d.c.ref_id, sa.cast(rank(d.c), sa.Float).label("rank"))
            .select_from(fts.join(d, d.c.id == fts.c.rowid))
            .where(table.op("MATCH")(_expression(parsed.clauses, _FTS5)), *conditions(d.c))
            .order_by(fts.c.rowid.desc())
            .limit(candidates)
            .subquery("newest")
        )
    # ranked, and limited so that no database flattens it into the caller's join: then
    # PostgreSQL reads it in order and joins a page only (SQLite joins the candidates, sorts)
    ranked = (
        sa.select(newest.c.ref_id, newest.c.rank)
        .order_by(newest.c.rank, newest.c.ref_id)
        .limit(candidates)
    )
    return ranked.subquery("search_hits")


# PostgreSQL: the newest documents read in order, in two stretches, before the GIN index is
# used: a word in more than 1 in 16 documents fills 1,000 candidates in the first, one in
# more than 1 in 64 in the second (bench/README.md: the cost of each way, per density)
WALKED = (16_384, 65_536)
SCREENED = 4  # PostgreSQL: older matches screened by ``scope``, per candidate wanted


def _postgres_newest(
    parsed: ParsedQuery,
    matching: Callable[[Any], list[sa.ColumnElement[bool]]],
    scope: Scope | None,
    rank: Callable[[Any], Any],
    candidates: int,
) -> sa.Subquery:
    """The newest ``candidates`` matches on PostgreSQL, planned so that no estimate makes them
    cost the whole match set. First the newest documents (``WALKED``), read in id order and
    tested one by one: a common word fills its candidates there, and nothing older is read.
    Only if they were too few, the older matches through the GIN index, newest first, of
    which ``SCREENED × candidates`` at most meet ``scope`` (a rare word: all of them). Left to
    itself, the planner estimates two words found together (仲裁 尾款: 10 % of posts each,
    and together) as rare, and fetches and screens all 100,000 of their matches.
    """
    from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION, TSQUERY, TSVECTOR

    tsq = sa.cast(sa.literal(_expression(parsed.clauses, _POSTGRES)), TSQUERY)
    table = SearchDocument.__table__
    newest_id = sa.select(sa.func.max(table.c.id)).scalar_subquery()
    columns = ("kind", "ref_id", "content", "title_chars", "recency")

    def walk(alias: str, start: int, stop: int) -> sa.Subquery:
        """Documents newest_id − stop < id ≤ newest_id − start, in id order; the LIMIT makes
        the estimate what it is, an index scan of that many rows."""
        t = table.alias(alias)
        tsv = sa.literal_column(f"{alias}.tsv", TSVECTOR).label("tsv")
        stmt = sa.select(t.c.id, *(t.c[name] for name in columns), tsv)
        stmt = stmt.where(t.c.id > newest_id - stop, t.c.id <= newest_id - start)
        return stmt.order_by(t.c.id.desc()).limit(stop - start).subquery(alias)

    def indexed(alias: str, stop: int) -> sa.Subquery:
        """Older matches: ``id + 0``, not by the primary key (an ordered walk through a
        million documents, which the estimate of a rare word's matches makes look short),
        but through the GIN index, then sorted."""
        t = table.alias(alias)
        tsv = sa.literal_column(f"{alias}.tsv", TSVECTOR)
        id_ = (t.c.id + 0).label("id")
        stmt = sa.select(id_, *(t.c[name] for name in columns))
        stmt = stmt.where(tsv.op("@@")(tsq), id_ <= newest_id - stop, *matching(t.c))
        return stmt.order_by(id_.desc()).limit(SCREENED * candidates).subquery(alias)

    def newest(found: sa.Subquery, *where: sa.ColumnElement[bool]) -> sa.Select[Any]:
        # double precision: a real comes back rounded to its shortest decimal, and a page
        # cursor holding that value would no longer compare equal to it.
        rank_ = sa.cast(rank(found.c), DOUBLE_PRECISION).label("rank")
        screened = [scope(found.c.ref_id)] if scope is not None else []
        stmt = sa.select(found.c.ref_id, rank_).where(*where, *screened)
        return stmt.order_by(found.c.id.desc()).limit(candidates)

    branches = []
    for i, (start, stop) in enumerate(zip((0, *WALKED), WALKED, strict=False)):
        walked = walk(f"walked{i}", start, stop)
        branches.append(newest(walked, walked.c.tsv.op("@@")(tsq), *matching(walked.c)))
    branches.append(newest(indexed("older", WALKED[-1])))
    union = sa.union_all(*branches).subquery("walked_then_indexed")
    return sa.select(union.c.ref_id, union.c.rank).limit(candidates).subquery("newest")


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
