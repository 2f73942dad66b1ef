"""Glossaries in the job API, under /api/v1/glossaries: create one from pasted TSV or CSV, list
the sender's own and the global ones, read one with its entries, delete one.

A blueprint nested in the API's (`service/api.py`), so the API's key and cross-site checks
and its error shape apply here too. Every glossary has an owner (`service/ownership.py`): its
API key, or an anonymous sender's capability, handed back once as `token`. Another sender's
glossary is a 404, as if there were none; a global one (the operator's, `vertaal glossaries`)
is usable by every sender and changed by none.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest

from service.context import services
from service.openapi import documented, responses
from service.ownership import new_owner
from service.schemas import (
    GlossaryDetail,
    GlossaryLinks,
    GlossaryList,
    GlossaryRequest,
    GlossaryView,
)
from service.submission import validated
from workers.glossaries import StoredGlossary
from workers.pipeline.terms.glossary import Glossary

bp = Blueprint("glossaries", __name__, url_prefix="/glossaries")


def glossary_view(record: StoredGlossary, token: str | None = None) -> GlossaryView:
    return GlossaryView(
        id=record.id,
        name=record.name,
        scope="global" if record.is_global else "own",
        entry_count=record.entries,
        version=record.digest,
        created_at=record.created_at,
        links=GlossaryLinks(self=url_for("api.glossaries.get_glossary", glossary_id=record.id)),
        token=token,
    )


def entries_tsv(record: StoredGlossary) -> str:
    """The glossary's entries as TSV (empty if its version is no longer kept)."""
    found = services().glossaries.entries(record.digest)
    return found.to_tsv() if found is not None else ""


@bp.post("")
@documented(
    json=GlossaryRequest,
    resp=responses({201: (GlossaryView, "Created.")}, (400, 401, 403, 413, 415, 429, 503)),
    tags=["glossaries"],
)
def create_glossary() -> ResponseReturnValue:
    """Create a glossary

    From Dutch → English entries pasted as TSV or CSV (docs/terms-and-checks.md). A glossary
    that breaks a rule is refused (`bad_glossary`, 400) naming the line; past the limits
    (10,000 entries, 1 MB, 100 glossaries per sender) it is `glossary_too_large` (413).
    Without an API key, the answer's `token` is what uses it again (`X-Job-Token`).
    """
    if not request.is_json:
        raise BadRequest("send the glossary as JSON: {name, entries, entries_format}")
    body: GlossaryRequest = validated(GlossaryRequest, request.get_json(silent=True))
    glossary = Glossary.parse(body.name, body.entries, body.entries_format)
    owner = new_owner()
    record = services().glossaries.create(glossary, owner.owner)
    view = glossary_view(record, owner.token)
    response = jsonify(view.model_dump(exclude_none=True))
    response.headers["Location"] = view.links.self
    return response, 201


@bp.get("")
@documented(
    resp=responses({200: (GlossaryList, "Own and global glossaries.")}, (401, 503)),
    tags=["glossaries"],
)
def list_glossaries() -> ResponseReturnValue:
    """The glossaries this sender may use: its own, then the global ones"""
    found = services().glossaries.visible_to(new_owner().owner)
    body = GlossaryList(glossaries=[glossary_view(g) for g in found])
    return jsonify(body.model_dump(exclude_none=True)), 200


@bp.get("/<glossary_id>")
@documented(
    resp=responses({200: (GlossaryDetail, "The glossary and its entries.")}, (401, 404, 503)),
    tags=["glossaries"],
)
def get_glossary(glossary_id: str) -> ResponseReturnValue:
    """A glossary with its entries (TSV)"""
    record = services().glossaries.usable(glossary_id, new_owner().owner)
    view = glossary_view(record)
    body = GlossaryDetail(**view.model_dump(), entries=entries_tsv(record))
    return jsonify(body.model_dump(exclude_none=True)), 200


@bp.delete("/<glossary_id>")
@documented(
    resp=responses({204: (None, "Deleted.")}, (401, 403, 404, 503)),
    tags=["glossaries"],
)
def delete_glossary(glossary_id: str) -> ResponseReturnValue:
    """Delete a glossary of this sender's own

    Jobs already sent with it keep the version they were sent with. A global glossary is
    the operator's to delete (403 `glossary_read_only`).
    """
    glossaries = services().glossaries
    glossaries.delete(glossaries.owned(glossary_id, new_owner().owner))
    return "", 204
