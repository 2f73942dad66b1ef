"""Glossaries kept in the queue's Redis: named sets of Dutch → English entries, each owned by
an API key or an anonymous sender (`service/ownership.py`'s owners), or global (made by the
operator with `vertaal glossaries create`, usable by everyone).

A glossary's entries are stored by their digest, apart from its record: a job pins the
version it was sent with (JobOptions.glossary is the digest), a changed glossary gets a new
digest (and so new cache keys), and a version stays readable while a glossary uses it, then
as long as a job could still need it (VERTAAL_JOB_TTL). Bounded: at most MAX_PER_OWNER
glossaries per owner, each within the entry and byte limits of `pipeline/terms/glossary.py`.
"""

from __future__ import annotations

import json
import uuid
import zlib
from collections import OrderedDict
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

import redis

from workers.errors import GlossaryError, GlossaryTooLargeError, InputError
from workers.pipeline.terms.glossary import Glossary

RECORDS = "vertaal:glossaries"  # hash: glossary id -> its record (JSON)
CONTENT = "vertaal:glossary-content:"  # + digest -> the entries as TSV (zlib)
USES = "vertaal:glossary-uses:"  # + digest -> how many glossaries hold that version
GLOBAL = "global"
MAX_PER_OWNER = 100
# Parsed versions kept per process: a worker's jobs mostly reuse a few glossaries.
_PARSED_KEPT = 8


class GlossaryNotFoundError(InputError):
    """No glossary with that id that the sender may use (another owner's looks the same)."""

    code = "glossary_not_found"
    http_status = 404


class GlossaryReadOnlyError(InputError):
    """A global glossary: every sender may use it, only the operator changes it."""

    code = "glossary_read_only"
    http_status = 403


@dataclass(frozen=True)
class StoredGlossary:
    id: str
    name: str
    owner: str
    digest: str
    entries: int
    created_at: str
    source_lang: str = "nl"
    target_lang: str = "en"

    @property
    def is_global(self) -> bool:
        return self.owner == GLOBAL

    def usable_by(self, owner: str | None) -> bool:
        return self.owner == GLOBAL or (owner is not None and self.owner == owner)


class GlossaryStore:
    def __init__(self, client: redis.Redis, job_ttl: int) -> None:
        self.redis = client
        self.job_ttl = job_ttl

    def create(self, glossary: Glossary, owner: str) -> StoredGlossary:
        if not len(glossary):
            raise GlossaryError("a glossary needs at least one entry")
        if sum(1 for g in self.all() if g.owner == owner) >= MAX_PER_OWNER:
            raise GlossaryTooLargeError(
                f"this sender has {MAX_PER_OWNER} glossaries already; delete one first"
            )
        record = StoredGlossary(
            id=uuid.uuid4().hex,
            name=glossary.name,
            owner=owner,
            digest=glossary.digest,
            entries=len(glossary),
            created_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        )
        self._hold(glossary)
        self.redis.hset(RECORDS, record.id, json.dumps(asdict(record)))
        return record

    def replace(self, record: StoredGlossary, glossary: Glossary) -> StoredGlossary:
        """The glossary with new entries (and name): a new version; the old one is kept for
        the jobs that were sent with it."""
        changed = replace(record, name=glossary.name, digest=glossary.digest, entries=len(glossary))
        self._hold(glossary)
        self.redis.hset(RECORDS, record.id, json.dumps(asdict(changed)))
        self._release(record.digest)
        return changed

    def get(self, glossary_id: str) -> StoredGlossary | None:
        raw = self.redis.hget(RECORDS, glossary_id) if glossary_id else None
        return StoredGlossary(**json.loads(raw)) if raw else None

    def usable(self, glossary_id: str, owner: str | None) -> StoredGlossary:
        """The glossary, if `owner` may use it (its own, or a global one); else
        GlossaryNotFoundError, whether it does not exist or is another owner's."""
        found = self.get(glossary_id)
        if found is None or not found.usable_by(owner):
            raise GlossaryNotFoundError(f"there is no glossary {glossary_id!r} for this sender")
        return found

    def owned(self, glossary_id: str, owner: str) -> StoredGlossary:
        """The glossary, if `owner` may change or delete it (its own); GlossaryNotFoundError
        as in `usable`, GlossaryReadOnlyError for a global one (`vertaal glossaries` owns
        those, as GLOBAL)."""
        found = self.usable(glossary_id, owner)
        if found.owner != owner:
            raise GlossaryReadOnlyError(
                f"glossary {glossary_id!r} is global: only the operator changes it "
                "(`vertaal glossaries`)"
            )
        return found

    def all(self) -> list[StoredGlossary]:
        records = [StoredGlossary(**json.loads(raw)) for raw in self.redis.hvals(RECORDS)]
        return sorted(records, key=lambda g: (g.created_at, g.id))

    def visible_to(self, owner: str | None) -> list[StoredGlossary]:
        """What `owner` may use: its own glossaries, then the global ones, each oldest first."""
        return sorted((g for g in self.all() if g.usable_by(owner)), key=lambda g: g.is_global)

    def delete(self, record: StoredGlossary) -> None:
        if self.redis.hdel(RECORDS, record.id):
            self._release(record.digest)

    def entries(self, digest: str) -> Glossary | None:
        """The version with this digest, if it is still kept."""
        if digest in _parsed:
            _parsed.move_to_end(digest)
            return _parsed[digest]
        raw = self.redis.get(CONTENT + digest)
        if raw is None:
            return None
        found = _parsed[digest] = Glossary.from_tsv("glossary", zlib.decompress(raw).decode())
        while len(_parsed) > _PARSED_KEPT:
            _parsed.popitem(last=False)
        return found

    def _hold(self, glossary: Glossary) -> None:
        with self.redis.pipeline() as pipe:
            pipe.set(CONTENT + glossary.digest, zlib.compress(glossary.to_tsv().encode()))
            pipe.incr(USES + glossary.digest)
            pipe.execute()

    def _release(self, digest: str) -> None:
        """One glossary fewer holds this version: unheld, it stays as long as a job sent with
        it could still run."""
        if self.redis.decr(USES + digest) <= 0:
            with self.redis.pipeline() as pipe:
                pipe.delete(USES + digest)
                pipe.expire(CONTENT + digest, self.job_ttl)
                pipe.execute()


_parsed: OrderedDict[str, Glossary] = OrderedDict()
