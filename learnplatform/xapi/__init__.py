"""xAPI statements to a Learning Record Store: what people did on the platform, for the
organisations that keep their learning records in an LRS of their own (``LRS_URL``).

Producers call ``record(user, verb, activity, ...)`` in the transaction of the event; the
statement is a row of an outbox (``models``) until the background jobs (``sending``) have
handed it to the LRS, in order, once. People are named by a pseudonymous account unless an
administrator chooses their e-mail address (``XAPI_ACTOR``). Without ``LRS_URL`` nothing is
written at all.
"""

from learnplatform.xapi import sending  # noqa: F401  (registers the jobs)
from learnplatform.xapi.activities import activity, public_url
from learnplatform.xapi.models import XapiSender, XapiStatement
from learnplatform.xapi.statements import enabled, record, record_later, result

__all__ = [
    "XapiSender",
    "XapiStatement",
    "activity",
    "enabled",
    "public_url",
    "record",
    "record_later",
    "result",
]
