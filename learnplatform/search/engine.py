"""Finding documents of the index: one interface, ``search``, over two engines.

Both compare the words typed, folded (``fold``), with the documents' folded title and text, so
that case, accents, full-width forms and the ways of writing Arabic letters do not matter, and
every word must appear (as part of a word too: "ядерн" finds "ядерного").

- SQLite: the FTS5 table ``search_fts`` with the trigram tokenizer answers words of three
  characters or more, ranked by BM25 (a word in the title weighs ten times one in the text);
  shorter words (a Chinese query of one or two characters) are matched with LIKE over the rows
  the longer words left, or over every row when there are no longer words.
- PostgreSQL: ``LIKE`` on the folded columns, which ``pg_trgm``'s GIN indexes answer for words
  of three characters or more; ranked by the words found in the title, then by how alike the
  title is to the query.

What a person may find is decided here, in SQL (``visible_to``): published modules of the
catalogue as the catalogue lists them to that person, webinar series they may see, the libraries
and forums of the rooms they belong to, and the forums of the modules they take part in or
author. The snippet and the title come back as escaped HTML in which only our ``<mark>`` is
markup.
"""

import functools
import unicodedata
from dataclasses import dataclass

from flask import url_for
from markupsafe import Markup, escape
from sqlalchemy import (
    Integer,
    and_,
    case,
    column,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
    true,
    union,
)

from courses import access as course_access
from courses import webinars
from courses.models import Enrolment, Module, WebinarSeries
from irooms.models import Membership, Room
from learnplatform.extensions import db
from learnplatform.search import MAX_WORDS, fold
from learnplatform.search.models import SearchDocument

#: results on one page; pages beyond ``MAX_PAGES`` are not offered: refine the words instead
PAGE_SIZE = 20
MAX_PAGES = 10
#: characters of text around the first word found, in a snippet
SNIPPET_LENGTH = 220
#: the groups a results page filters by, with the kinds of document each holds
GROUPS = {
    "modules": ("module", "lesson"),
    "webinars": ("series", "webinar"),
    "library": ("resource",),
    "forums": ("post",),
}
#: the shortest word the trigram indexes answer
TRIGRAM = 3
#: on PostgreSQL, how many of the newest matches in titles, and anywhere, are ranked
CANDIDATES = 300

#: the SQLite FTS5 table, made by its migration rather than by a model
FTS_TABLE = "search_fts"

_fts = table(FTS_TABLE, column("rowid", Integer))


#: the trigram indexes of PostgreSQL, made by the migration on that engine only
TRIGRAM_INDEXES = frozenset(
    {"ix_search_documents_folded_title_trgm", "ix_search_documents_folded_body_trgm"}
)


def in_the_models(name: str | None, type_: str, parent_names) -> bool:
    """Alembic's ``include_name``: False for what the search's migration makes for one engine
    and no model describes (the FTS5 table and the shadow tables SQLite keeps for it, such as
    ``search_fts_data``; PostgreSQL's trigram indexes), so that comparing the database with the
    models (autogenerate, the tests) leaves them be."""
    if type_ == "table":
        return not (name or "").startswith(FTS_TABLE)
    if type_ == "index":
        return name not in TRIGRAM_INDEXES
    return True


@dataclass(frozen=True)
class Hit:
    """One document found, as a results page shows it."""

    kind: str
    title: Markup
    snippet: Markup
    url: str
    #: the module, series or room it is part of, when it is not that itself
    place: str
    language: str


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    page: int
    has_next: bool


def words_of(query: str) -> list[str]:
    """The folded words of ``query`` that are searched for, each once."""
    words: list[str] = []
    for word in fold(query).split():
        if word not in words:
            words.append(word)
    return words[:MAX_WORDS]


# Who finds what.
def visible_to(user):
    """The condition on ``SearchDocument`` rows that ``user`` (perhaps a visitor) may find."""
    documents = SearchDocument
    listed = select(Module.id).where(course_access.listed_to(user))
    series = select(WebinarSeries.id).where(webinars.visible_to(user))
    conditions = [
        and_(documents.kind.in_(("module", "lesson")), documents.module_id.in_(listed)),
        and_(documents.kind.in_(("series", "webinar")), documents.series_id.in_(series)),
    ]
    if user.is_authenticated:
        rooms = select(Membership.room_id).where(Membership.user_id == user.id)
        conditions += [
            and_(documents.kind == "resource", documents.room_id.in_(rooms)),
            and_(documents.kind == "post", or_(documents.room_id.in_(rooms), learning(user))),
        ]
    return or_(*conditions)


def learning(user):
    """The condition on ``SearchDocument`` rows of the modules ``user`` learns in (an active
    enrolment in a published module) or authors: where their lessons and forum open."""
    if not user.is_authenticated:
        return false()
    documents = SearchDocument
    taking_part = select(Enrolment.module_id).where(
        Enrolment.user_id == user.id,
        Enrolment.status == "active",
        Enrolment.module_id.in_(select(Module.id).where(Module.is_published)),
    )
    authored = (
        true()
        if user.is_administrator
        else documents.module_id.in_(select(Module.id).where(Module.created_by_id == user.id))
        if user.is_trainer
        else false()
    )
    return and_(
        documents.module_id.is_not(None), or_(documents.module_id.in_(taking_part), authored)
    )


# Matching and ranking, by engine.
def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(word: str):
    pattern = _like(word)
    return or_(
        SearchDocument.folded_title.like(pattern, escape="\\"),
        SearchDocument.folded_body.like(pattern, escape="\\"),
    )


def _in_title(words: list[str]):
    """How many of ``words`` the title holds."""
    found = [
        case((SearchDocument.folded_title.like(_like(word), escape="\\"), 1), else_=0)
        for word in words
    ]
    return sum(found[1:], found[0])


def _sqlite(words: list[str], conditions: list):
    """The ids of the documents holding ``words`` and meeting ``conditions``, matched by FTS5
    (words of three characters or more) and LIKE (shorter ones), with their ``score`` (the lower
    the better): BM25, where a word in the title weighs ten times one in the text."""
    long = [word for word in words if len(word) >= TRIGRAM]
    short = [_contains(word) for word in words if len(word) < TRIGRAM]
    if not long:
        # Only LIKE can answer: newest documents first, so that the scan stops at the page's
        # last result instead of reading and sorting every match.
        query = select(SearchDocument.id, (-SearchDocument.id).label("score"))
        return query.where(*short, *conditions), [SearchDocument.id.desc()]
    phrases = " ".join('"' + word.replace('"', '""') + '"' for word in long)
    return _best_first(
        select(SearchDocument.id, literal_column("bm25(search_fts, 10.0, 1.0)").label("score"))
        .join(_fts, _fts.c.rowid == SearchDocument.id)
        .where(text("search_fts MATCH :phrases").bindparams(phrases=phrases), *short, *conditions)
    )


def _postgresql(words: list[str], conditions: list):
    """The ids of the documents holding ``words`` and meeting ``conditions``, matched by LIKE on
    the folded columns through their trigram indexes, with their ``score`` (the lower the
    better): the words found in the title, then the title's likeness to the words.

    Only the ``CANDIDATES`` newest documents holding the words in their title, and as many
    holding them anywhere, are ranked: PostgreSQL checks each match again against its text, and
    ranking every document of a common word would check them all. A word shorter than a trigram
    cannot use the title's index (PostgreSQL would read every title to find the few holding
    it): then only the newest documents holding the words anywhere are ranked, as on SQLite."""
    holding = [_contains(word) for word in words]
    in_title = [SearchDocument.folded_title.like(_like(word), escape="\\") for word in words]
    indexed = all(len(word) >= TRIGRAM for word in words)
    newest = [
        select(SearchDocument.id)
        .where(*matched, *conditions)
        .order_by(SearchDocument.id.desc())
        .limit(CANDIDATES)
        for matched in ((in_title, holding) if indexed else (holding,))
    ]
    candidates = union(*newest).subquery()
    likeness = func.word_similarity(literal(" ".join(words)), SearchDocument.folded_title)
    score = -(_in_title(words) + likeness)
    return _best_first(
        select(SearchDocument.id, score.label("score")).join(
            candidates, candidates.c.id == SearchDocument.id
        )
    )


def _best_first(query):
    """``query`` with the order of its ``score``, the newest first among equals."""
    return query, [literal_column("score"), SearchDocument.id.desc()]


def matching(words: list[str], conditions: list):
    """A SELECT of the ids of the documents holding every one of ``words`` and meeting
    ``conditions``, with their ``score`` (the lower the better), on this database's engine;
    and the order to read them in."""
    engine = _postgresql if db.engine.dialect.name == "postgresql" else _sqlite
    return engine(words, conditions)


def search(user, query: str, *, group: str = "", page: int = 1) -> Results:
    """The documents ``user`` may find that hold every word of ``query``, best first: page
    ``page`` of them, of the kinds of ``group`` (a key of ``GROUPS``) when given.

    The best ids are chosen first, from the index and the ids alone, then only those rows are
    read whole: sorting every match never carries its text along."""
    words = words_of(query)
    page = min(max(page, 1), MAX_PAGES)
    if not words:
        return Results([], page, False)
    conditions = [visible_to(user)]
    if group in GROUPS:
        conditions.append(SearchDocument.kind.in_(GROUPS[group]))
    ranked, order = matching(words, conditions)
    best = ranked.order_by(*order).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE).subquery()
    rows = db.session.execute(
        select(
            SearchDocument,
            Module.title.label("module_title"),
            WebinarSeries.title.label("series_title"),
            Room.name.label("room_name"),
            # a lesson leads to itself for those who may open it, to its module for the others
            case((learning(user), True), else_=False).label("opens"),
        )
        .join(best, best.c.id == SearchDocument.id)
        .outerjoin(Module, Module.id == SearchDocument.module_id)
        .outerjoin(WebinarSeries, WebinarSeries.id == SearchDocument.series_id)
        .outerjoin(Room, Room.id == SearchDocument.room_id)
        .order_by(best.c.score, SearchDocument.id.desc())
    ).all()
    hits = [_hit(row, words) for row in rows[:PAGE_SIZE]]
    return Results(hits, page, len(rows) > PAGE_SIZE and page < MAX_PAGES)


def _hit(row, words: list[str]) -> Hit:
    document = row.SearchDocument
    place = ""
    if document.kind in ("lesson", "post") and row.module_title and not row.room_name:
        place = row.module_title
    elif document.kind == "webinar":
        place = row.series_title or ""
    elif document.room_id is not None:
        place = row.room_name or ""
    return Hit(
        kind=document.kind,
        title=highlight(document.title, words),
        snippet=snippet(document.body, words),
        url=address_of(document, opens=row.opens),
        place=place,
        language=document.language,
    )


def address_of(document: SearchDocument, *, opens: bool = False) -> str:
    """The page a document leads to; a lesson, when the searcher ``opens`` it (``learning``),
    to itself."""
    kind = document.kind
    if kind == "lesson" and opens:
        return url_for("courses.lesson", module_id=document.module_id, lesson_id=document.object_id)
    if kind in ("module", "lesson"):
        return url_for("courses.module", module_id=document.module_id)
    if kind == "series":
        return url_for("courses.series", series_id=document.object_id)
    if kind == "webinar":
        return url_for("courses.webinar", webinar_id=document.object_id)
    if kind == "resource":
        return url_for("irooms.resource", room_id=document.room_id, resource_id=document.object_id)
    link = document.link or {}
    seq = int(link.get("seq", 1))
    return (
        url_for(
            "forums.topic",
            forum_id=document.forum_id,
            topic_id=int(link.get("topic_id", 0)),
            after=seq - 1,
        )
        + f"#post-{seq}"
    )


# Highlighting.
def _folded_with_places(text: str) -> tuple[str, list[int]]:
    """``fold(text)``, and for each of its characters the place in ``text`` it comes from."""
    parts = list(map(_fold_character, text))
    folded = "".join(parts)
    if len(folded) == len(text) and min(map(len, parts), default=1) == 1 == max(map(len, parts)):
        return folded, list(range(len(text)))  # one for one, as most text folds
    places: list[int] = []
    for place, part in enumerate(parts):
        places.extend([place] * len(part))
    return folded, places


@functools.lru_cache(maxsize=8192)
def _fold_character(character: str) -> str:
    return fold(character)


def _marked_spans(text: str, words: list[str]) -> list[tuple[int, int]]:
    """The stretches of ``text`` where ``words`` are found, folded, in order and merged."""
    folded, places = _folded_with_places(text)
    spans = []
    for word in words:
        start = folded.find(word)
        while start != -1:
            spans.append((places[start], places[start + len(word) - 1] + 1))
            start = folded.find(word, start + len(word))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(_whole_word(text, start, end) for start, end in spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _in_word(character: str) -> bool:
    """Whether ``character`` is part of a word written with spaces between words (a letter, a
    digit or a mark on one, not a Chinese, Japanese or Korean character)."""
    if unicodedata.category(character)[0] not in "LMN":
        return False
    return not any(start <= ord(character) <= end for start, end in _UNSPACED)


#: scripts written without spaces between words, where a match is marked alone
_UNSPACED = ((0x2E80, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF))


def _whole_word(text: str, start: int, end: int) -> tuple[int, int]:
    """The whole word or words that ``text[start:end]`` is part of: a mark inside a word would
    cut its letters apart (Arabic letters joined, lam-alef written as one)."""
    while start > 0 and _in_word(text[start - 1]):
        start -= 1
    while end < len(text) and _in_word(text[end]):
        end += 1
    return start, end


def _marked(text: str, spans: list[tuple[int, int]]) -> Markup:
    parts = []
    done = 0
    for start, end in spans:
        parts.append(escape(text[done:start]))
        parts.append(Markup("<mark>%s</mark>") % text[start:end])
        done = end
    parts.append(escape(text[done:]))
    return Markup("").join(parts)


def highlight(text: str, words: list[str]) -> Markup:
    """``text`` as escaped HTML, the words found in it marked."""
    return _marked(text, _marked_spans(text, words))


def snippet(text: str, words: list[str], length: int = SNIPPET_LENGTH) -> Markup:
    """About ``length`` characters of ``text`` around the first of ``words`` found in it, as
    escaped HTML with the words marked; the start of the text when none is found."""
    around = _around_first(text, words, length)
    if around is None:
        cut = text[:length]
        return escape(cut + ("…" if len(text) > length else ""))
    start, end = around
    window = text[start:end]
    marked = _marked(window, _marked_spans(window, words))
    before = "…" if start > 0 else ""
    after = "…" if end < len(text) else ""
    return escape(before) + marked + escape(after)


def _around_first(text: str, words: list[str], length: int) -> tuple[int, int] | None:
    """Where in ``text`` to take a snippet from: a stretch of about ``length`` characters that
    starts a little before the first word found. Only the part of a long text up to that word
    is folded character by character."""
    folded = fold(text)
    found = [place for place in (folded.find(word) for word in words) if place != -1]
    if not found:
        return None
    target = min(found)
    # Find the part of ``text`` whose folded form reaches ``target``: folding keeps most
    # characters one for one, so whole chunks are folded until it is passed.
    chunk, done, folded_done = 400, 0, 0
    while done < len(text):
        step = len(fold(text[done : done + chunk]))
        if folded_done + step > target:
            break
        done, folded_done = done + chunk, folded_done + step
    _, places = _folded_with_places(text[done : done + chunk])
    offset = target - folded_done
    place = done + (places[offset] if offset < len(places) else 0)
    start = max(0, place - length // 4)
    if start > 0:  # start at a word
        space = text.find(" ", start, place)
        start = space + 1 if space != -1 else start
    return start, min(len(text), start + length)
