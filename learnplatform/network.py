"""Where a request comes from, and where it may be sent back to."""

from urllib.parse import unquote, urlsplit

from flask import request


def client_address() -> str:
    """The client's address as seen by the platform (after ProxyFix, when proxies are trusted)."""
    return request.remote_addr or "unknown"


def safe_next_url(target: str | None) -> str | None:
    """Return ``target`` if it is a path on this platform, otherwise ``None``.

    Refuses absolute URLs, scheme-relative ``//host``, backslash tricks that browsers read as
    ``//``, control characters and anything that decodes to one of those.
    """
    if not target:
        return None
    candidate = target.strip()
    for _ in range(3):  # catch values encoded more than once
        decoded = unquote(candidate)
        if decoded == candidate:
            break
        candidate = decoded
    if any(ord(char) < 32 or ord(char) == 127 for char in candidate):
        return None
    normalised = candidate.replace("\\", "/")
    if not normalised.startswith("/") or normalised.startswith("//"):
        return None
    parts = urlsplit(normalised)
    if parts.scheme or parts.netloc:
        return None
    return target.strip()


def from_this_site() -> bool:
    """Whether the browser says one of the platform's own pages started this request (a form
    submitted here, then redirected): its Fetch metadata (``Sec-Fetch-Site``), or, from a browser
    that sends none, the ``Referer`` (the platform asks for it on same-origin requests)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    referrer = urlsplit(request.referrer or "")
    return referrer.scheme == request.scheme and referrer.netloc == request.host
