"""Lesson bodies: rich text cleaned with bleach when it is saved, so that pages show it as it is."""

import re

import bleach

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

#: Images must be files of the platform: a lesson attachment shown inline.
PLATFORM_IMAGE = re.compile(r"^/courses/attachments/\d+/inline$")

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
    return False


def _safe_link(attrs, new=False):
    """Links open as links do, and tell the target nothing about the lesson."""
    href = attrs.get((None, "href"), "")
    if href.startswith(("http://", "https://")):
        attrs[(None, "rel")] = "noopener noreferrer nofollow"
    return attrs


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_allowed_attribute,
    protocols=["http", "https", "mailto"],
    strip=True,
    strip_comments=True,
)


def clean_lesson_html(html: str) -> str:
    """The lesson body with only the allowed elements, attributes and link schemes left."""
    without_code = _DROPPED_WITH_CONTENT.sub("", html or "")
    cleaned = _cleaner.clean(without_code)
    cleaned = bleach.linkify(cleaned, callbacks=[_safe_link], skip_tags={"pre", "code"})
    # An image whose address was refused keeps no src; it would show as a broken image.
    return re.sub(r"<img(?![^>]*\bsrc=)[^>]*>", "", cleaned)
