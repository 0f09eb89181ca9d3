"""Messages for the next page (Flask's ``flash``) that carry a link to act on.

The base template renders such a message as text followed by one link, both escaped: no HTML
ever travels in a message, so nothing a person typed can become markup.
"""

from flask import flash


def flash_with_link(message: str, *, link_text: str, url: str, category: str = "info") -> None:
    """Flash ``message`` followed by a link to ``url`` (a path on this site) named ``link_text``."""
    if not url.startswith("/") or url.startswith("//"):
        raise ValueError(f"a flashed link leads to a path on this site, not {url!r}")
    flash({"text": message, "link_text": link_text, "url": url}, category)
