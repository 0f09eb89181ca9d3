"""What a donor report covers: the form read in the reader's scope, and the scope narrowed to
what was chosen. The page and the PDF's job read it the same way, so that a PDF made later holds
only what its reader may still see."""

from dataclasses import dataclass
from datetime import date

from werkzeug.datastructures import MultiDict

from learnplatform.audit import utcnow
from learnplatform.donor_report.figures import narrowed, room_choices, series_choices
from learnplatform.donor_report.forms import ReportForm
from learnplatform.stats import queries
from learnplatform.stats.filters import Filters
from learnplatform.stats.queries import Scope


@dataclass
class Selection:
    """One report's period, scope and language, and the names of what was chosen."""

    filters: Filters
    scope: Scope
    language: str
    #: the titles of the modules, iRooms and webinar series chosen; empty when all are
    modules: list[str]
    rooms: list[str]
    series: list[str]
    #: how many the reader may see of each, to say "all N" when none was chosen
    all_modules: int
    all_rooms: int
    all_series: int
    #: the reader sees everything on the platform (an administrator)
    everything: bool
    #: the day the report was made
    made_on: date


def read_selection(person, args: MultiDict) -> tuple[ReportForm, Selection | None]:
    """The form filled from ``args`` with the choices ``person`` may make, and what it selects
    when it is valid (None otherwise)."""
    scope = queries.scope_of(person)
    modules = queries.module_choices(scope)
    rooms = room_choices(scope)
    series = series_choices(scope)
    today = utcnow().date()
    form = ReportForm(
        args,
        modules=modules,
        rooms=rooms,
        series=series,
        today=today,
        language=person.language or "en",
    )
    if not form.validate():
        return form, None
    chosen = {name: form.chosen(getattr(form, name)) for name in ("modules", "rooms", "series")}

    def titles(choices, ids):
        wanted = set(ids)
        return [title for key, title in choices if key in wanted]

    return form, Selection(
        filters=form.filters(),
        scope=narrowed(scope, chosen["modules"], chosen["rooms"], chosen["series"]),
        language=form.language.data,
        modules=titles(modules, chosen["modules"]),
        rooms=titles(rooms, chosen["rooms"]),
        series=titles(series, chosen["series"]),
        all_modules=len(modules),
        all_rooms=len(rooms),
        all_series=len(series),
        everything=scope.everything,
        made_on=today,
    )
