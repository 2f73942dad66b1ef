"""The glossaries page: a browser's own glossaries (its session's anonymous owner) and the
global ones; create one from pasted TSV or CSV, read one, delete one of its own. The views are
registered on the web blueprint by `service/web.py` (its CSRF protection and error pages).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from service.context import services
from service.ownership import new_owner, session_owner
from workers.errors import GlossaryError
from workers.glossaries import StoredGlossary
from workers.pipeline.terms.glossary import FORMATS, MAX_ENTRIES, Glossary


@dataclass
class GlossaryFormState:
    """What the create form shows again after a refusal: the user's own input, and why."""

    name: str = ""
    entries: str = ""
    entries_format: str = "tsv"
    error: str | None = None


def usable_glossaries() -> list[StoredGlossary]:
    """The browser's own glossaries (its session's), then the global ones: what it may pick
    and see. Read without the request's body, which may be what is wrong (too large)."""
    return services().glossaries.visible_to(session_owner())


def _render(state: GlossaryFormState, status: int = 200) -> ResponseReturnValue:
    page = render_template(
        "glossaries.html", form=state, glossaries=usable_glossaries(), formats=FORMATS,
        max_entries=MAX_ENTRIES,
    )  # fmt: skip
    return page, status


def glossaries_page() -> ResponseReturnValue:
    return _render(GlossaryFormState())


def create_glossary() -> ResponseReturnValue:
    state = GlossaryFormState(
        name=request.form.get("name", ""),
        entries=request.form.get("entries", ""),
        entries_format=request.form.get("entries_format", "tsv"),
    )
    try:
        glossary = Glossary.parse(state.name, state.entries, state.entries_format)
        record = services().glossaries.create(glossary, new_owner().owner)
    except GlossaryError as error:
        state.error = f"{str(error)[:1].upper()}{str(error)[1:]}."
        return _render(state, error.http_status)
    return redirect(url_for("web.glossary_page", glossary_id=record.id), 303)


def glossary_page(glossary_id: str) -> ResponseReturnValue:
    glossaries = services().glossaries
    record = glossaries.usable(glossary_id, new_owner().owner)
    entries = glossaries.entries(record.digest)
    rows = list(entries.rows()) if entries is not None else []
    return render_template("glossary.html", glossary=record, rows=rows)


def delete_glossary(glossary_id: str) -> ResponseReturnValue:
    glossaries = services().glossaries
    glossaries.delete(glossaries.owned(glossary_id, new_owner().owner))
    return redirect(url_for("web.glossaries_page"), 303)
