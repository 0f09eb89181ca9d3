"""Rich text, the platform's one sanitiser: lesson bodies and forum posts are cleaned with bleach
when they are saved, so that pages show them as they are.

Lesson bodies may also hold references to the lesson's videos and to embeds from the hosts an
administrator allows, in one exact form each (docs/lesson-video.md); the lesson page makes them
players and sandboxed frames (``courses.lesson_videos``).
"""

import html
import re

import bleach

from learnplatform import embeds

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "h2",
        "h3",
        "h4",
        "ul",
        "ol",
        "li",
        "strong",
        "em",
        "b",
        "i",
        "u",
        "sub",
        "sup",
        "code",
        "pre",
        "blockquote",
        "a",
        "table",
        "caption",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "img",
    }
)

#: Lesson bodies also keep video and embed references (``<figure data-video|data-embed>``).
MEDIA_TAGS = ALLOWED_TAGS | {"figure", "figcaption"}

#: Images must be files of the platform shown inline: a lesson's or a forum post's attachment.
PLATFORM_IMAGE = re.compile(r"^/(courses|forums/\d+)/attachments/\d+/inline$")

# Elements whose content is code or markup, not text: dropped whole rather than unwrapped.
_DROPPED_WITH_CONTENT = re.compile(
    r"<(script|style|svg|math|iframe|object|embed|template|noscript)\b.*?</\1\s*>",
    re.IGNORECASE | re.DOTALL,
)


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a":
        return name in {"href", "title"}
    if tag == "img":
        if name == "src":
            return bool(PLATFORM_IMAGE.match(value))
        return name in {"alt", "width", "height"}
    if tag in {"th", "td"}:
        return name in {"colspan", "rowspan", "scope"}
    if tag == "figure":
        if name == "data-video":
            return value.isascii() and value.isdigit()
        if name == "data-embed":
            return embeds.origin_of(value, embeds.allowed_hosts()) is not None
    return False


def _safe_link(attrs, new=False):
    """Links open as links do, and tell the target nothing about the lesson."""
    href = attrs.get((None, "href"), "")
    if href.startswith(("http://", "https://")):
        attrs[(None, "rel")] = "noopener noreferrer nofollow"
    return attrs


def _cleaner(tags: frozenset[str]) -> bleach.Cleaner:
    return bleach.Cleaner(
        tags=tags,
        attributes=_allowed_attribute,
        protocols=["http", "https", "mailto"],
        strip=True,
        strip_comments=True,
    )


_cleaners = {False: _cleaner(ALLOWED_TAGS), True: _cleaner(MEDIA_TAGS)}

# An embed as sites give it to copy: kept (as a reference) only from an allowed host.
_IFRAME = re.compile(r"<iframe\b([^>]*)>.*?</iframe\s*>", re.IGNORECASE | re.DOTALL)
_ATTRIBUTE = r"""\b{}\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"""
_FIGURE_TAG = re.compile(r"<(/?)figure\b([^>]*)>")
_REFERENCE_ATTRIBUTE = re.compile(r'^ data-(?:video|embed)="[^"]*"$')
_FIGCAPTION_TAG = re.compile(r"</?figcaption>")


def clean_html(markup: str, *, media: bool = False) -> str:
    """``markup`` with only the allowed elements, attributes and link schemes left; with
    ``media`` (lesson bodies), video and embed references too, in their one form."""
    markup = markup or ""
    if media:
        markup = _IFRAME.sub(_embed_reference, markup)
    without_code = _DROPPED_WITH_CONTENT.sub("", markup)
    cleaned = _cleaners[media].clean(without_code)
    cleaned = bleach.linkify(cleaned, callbacks=[_safe_link], skip_tags={"pre", "code"})
    # An image whose address was refused keeps no src; it would show as a broken image.
    cleaned = re.sub(r"<img(?![^>]*\bsrc=)[^>]*>", "", cleaned)
    return _normalised_figures(cleaned) if media else cleaned


def clean_lesson_html(markup: str) -> str:
    """A lesson body: rich text, with video and embed references."""
    return clean_html(markup, media=True)


def _attribute(attributes: str, name: str) -> str:
    found = re.search(_ATTRIBUTE.format(name), attributes, re.IGNORECASE)
    if found is None:
        return ""
    return html.unescape(next(part for part in found.groups() if part is not None))


def _embed_reference(found: re.Match) -> str:
    """An iframe of an allowed host as an embed reference (its title the caption); else nothing."""
    address = _attribute(found[1], "src")
    if embeds.origin_of(address, embeds.allowed_hosts()) is None:
        return ""
    title = html.escape(_attribute(found[1], "title"), quote=False)
    return f'<figure data-embed="{html.escape(address)}"><figcaption>{title}</figcaption></figure>'


def _normalised_figures(cleaned: str) -> str:
    """Each outermost figure of bleach's (balanced) output in the reference's one form,
    ``<figure data-…="…"><figcaption>text</figcaption></figure>``, or only its text and elements
    when it is no reference; figcaptions outside references lose their tags."""
    parts: list[str] = []
    depth, done, opened, attributes = 0, 0, 0, ""
    for tag in _FIGURE_TAG.finditer(cleaned):
        if not tag[1]:
            if depth == 0:
                parts.append(_FIGCAPTION_TAG.sub("", cleaned[done : tag.start()]))
                opened, attributes = tag.end(), tag[2]
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                parts.append(_reference(attributes, cleaned[opened : tag.start()]))
                done = tag.end()
    parts.append(_FIGCAPTION_TAG.sub("", cleaned[done:]))
    return "".join(parts)


def _reference(attributes: str, inner: str) -> str:
    if not _REFERENCE_ATTRIBUTE.match(attributes):
        return _FIGCAPTION_TAG.sub("", _FIGURE_TAG.sub("", inner))
    caption = html.escape(plain_text(inner), quote=False)
    caption_html = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f"<figure{attributes}>{caption_html}</figure>"


def paragraphs_of(typed: str) -> str:
    """Plain text typed without the editor as rich text: paragraphs at blank lines, line breaks
    kept, every character (``<`` included) as text."""
    parts = [part.strip() for part in re.split(r"\n\s*\n", (typed or "").strip()) if part.strip()]
    return "".join(
        "<p>" + "<br>".join(html.escape(line) for line in part.splitlines()) + "</p>"
        for part in parts
    )


def plain_text(markup: str) -> str:
    """The words of cleaned rich text, without its markup: for excerpts, e-mails and search."""
    spaced = re.sub(r"<(br|/p|/li|/h[2-4]|/blockquote|/tr|/pre)\b[^>]*>", " ", markup or "")
    return " ".join(html.unescape(bleach.clean(spaced, tags=set(), strip=True)).split())
