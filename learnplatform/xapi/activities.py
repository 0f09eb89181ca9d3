"""What statements are about: activities named by the platform's public addresses.

An activity's id must be the same in every statement about it, whoever's request or job wrote
the statement: it is built on ``PUBLIC_ORIGIN`` whenever that is set, and on the request's
address only when it is not (a laptop), never on whatever host a page was reached at.
"""

from urllib.parse import urlsplit

from flask import current_app, has_request_context, request, url_for

from learnplatform.xapi.vocabulary import activity_type

#: the language tag of a name whose language is not known (RFC 5646)
UNDETERMINED = "und"


def public_url(endpoint: str, /, **values) -> str:
    """The full address of a platform page on ``PUBLIC_ORIGIN`` (else the request's, else
    ``http://localhost``), built the same in a request, a job and a command."""
    origin = current_app.config["PUBLIC_ORIGIN"]
    if not origin and has_request_context():
        return url_for(endpoint, _external=True, **values)
    parts = urlsplit(origin or "http://localhost")
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def home_page() -> str:
    """The platform's home page, the ``homePage`` of the accounts that name people."""
    origin = current_app.config["PUBLIC_ORIGIN"]
    if origin:
        return origin
    if has_request_context():
        return request.host_url.rstrip("/")
    return "http://localhost"


def activity(
    kind: str, endpoint: str, /, *, name: str | None = None, language: str | None = None, **values
) -> dict:
    """An activity of type ``kind`` (``"module"``, ``"lesson"``, ``"video"``...) whose id is
    the page ``url_for(endpoint, **values)`` at the public address, named ``name`` in
    ``language`` (a statement about it then says that language in its context)."""
    definition: dict = {"type": activity_type(kind)}
    if name:
        definition["name"] = {language or UNDETERMINED: name}
    return {
        "objectType": "Activity",
        "id": public_url(endpoint, **values),
        "definition": definition,
    }


def language_of(activity: dict) -> str | None:
    """The language an activity is named in, when one is known."""
    names = activity.get("definition", {}).get("name") or {}
    language = next(iter(names), None)
    return None if language in (None, UNDETERMINED) else language
