"""The bodies of the job API as pydantic models: they validate what comes in, shape what goes
out, and generate the OpenAPI document's schemas, so the three cannot drift apart."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workers.errors import EmptyArticleError
from workers.jobs.record import View
from workers.pipeline.reading import SUPPORTED_SUFFIXES, TEXT_FORMAT_SUFFIXES

# An article needs at least one letter or digit (the server also accepts other scripts'
# letters; the schema states the plainest rule that every accepted text meets) and no NUL
# characters, which only binary data holds.
HAS_WORDS = "^[^\\x00]*[0-9A-Za-z][^\\x00]*$"


CALLBACK_DESCRIPTION = (
    "Where to POST the job's status document when it ends, signed (X-Vertaal-Signature); "
    "needs an API key or VERTAAL_WEBHOOK_SECRET. Loopback and private addresses are refused "
    "unless VERTAAL_WEBHOOK_ALLOW lists them."
)


# The rule behind each field's `pattern`, in words: what a refused value is told instead of
# the regular expression (service/submission.py).
FIELD_RULES = {
    "filename": "must be a file name ending in "
    f"{', '.join(TEXT_FORMAT_SUFFIXES)} (upload other formats as files)",
    "callback_url": "must be an http:// or https:// address",
}


def _callback_field() -> Any:
    return Field(
        None, max_length=2000, pattern="^https?://[^/?#]+", description=CALLBACK_DESCRIPTION
    )


def _suffix_pattern(suffixes: tuple[str, ...]) -> str:
    """A case-insensitive `(\\.txt|\\.md|...)$` written for JSON Schema's regex dialect."""
    cased = ["".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else "\\" + c for c in s)
             for s in suffixes]  # fmt: skip
    return f"({'|'.join(cased)})$"


def _valid_unicode(value: str | None) -> str | None:
    """JSON may carry lone UTF-16 surrogates (`"\\ud800"`), which no text can hold."""
    if value is not None:
        try:
            value.encode()
        except UnicodeEncodeError as error:
            raise ValueError(
                f"holds an unpaired UTF-16 surrogate at character {error.start}; send valid Unicode"
            ) from None
    return value


# Empty text, however it is empty ("", spaces, punctuation alone), is one error.
EMPTY_TEXT = "the submitted text holds no article text (no letters or digits to translate)"


def _has_words(value: str | None) -> str | None:
    """HAS_WORDS, with the article's own error code (it propagates through pydantic). NUL is
    refused once the text is encoded (`submission._text_source`): a byte search is cheaper."""
    if value is not None and not re.search("[0-9A-Za-z]", value):
        raise EmptyArticleError(EMPTY_TEXT)
    return value


def _glossary_field() -> Any:
    return Field(
        None,
        pattern="^[0-9a-f]{32}$",
        description="A glossary of the sender's own or a global one (`POST /api/v1/glossaries`): "
        "its terms are enforced and checked in the translation (docs/terms-and-checks.md).",
    )


class JobRequest(BaseModel):
    """The JSON body of `POST /api/v1/jobs`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    text: str = Field(
        json_schema_extra={"pattern": HAS_WORDS},
        description="The article: plain text, or another format named by `filename`.",
    )
    summary: bool = Field(True, description="Also write a summary.")
    check_language: bool = Field(True, description="Refuse text that is clearly not Dutch.")
    filename: str | None = Field(
        None,
        max_length=255,
        pattern=_suffix_pattern(TEXT_FORMAT_SUFFIXES),
        description=f"Name whose suffix ({' '.join(TEXT_FORMAT_SUFFIXES)}) says how to read "
        "`text`; upload other formats as files.",
    )
    callback_url: str | None = _callback_field()
    format: Literal["text", "html"] = Field(
        "text",
        description="`html`: the text is read as HTML, and the result also holds the page "
        "translated with its markup kept (`markup`).",
    )
    glossary_id: str | None = _glossary_field()

    # The text's own encoding (in SourceFile.pasted) finds its lone surrogates: encoding a
    # megabyte once instead of twice matters to a web request.
    _unicode = field_validator("filename")(_valid_unicode)
    _words = field_validator("text")(_has_words)


def _file_field(schema: dict[str, Any]) -> None:
    schema["properties"] = {
        "file": {
            "type": "string",
            "format": "binary",
            "description": f"The article file: {' '.join(SUPPORTED_SUFFIXES)}, named so in its "
            "part's filename. Used instead of `text`.",
        },
        **schema["properties"],
    }


class JobQuery(BaseModel):
    """How much of a job to show."""

    view: View = Field(
        "full",
        description="`status`: everything but the result, for polling. `flagged`: everything "
        "but the result, with only the sentences the checks flagged (`flagged`, `counts`).",
    )


class JobForm(BaseModel):
    """`POST /api/v1/jobs` as multipart form data: a `file` upload, or a `text` field."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=_file_field)

    text: str | None = Field(
        None,
        json_schema_extra={"pattern": HAS_WORDS},
        description="The article as plain text.",
    )
    filename: str | None = Field(
        None,
        max_length=255,
        pattern=_suffix_pattern(TEXT_FORMAT_SUFFIXES),
        description="How to read `text`.",
    )
    summary: bool = Field(True, description="Also write a summary (`true` or `false`).")
    check_language: bool = Field(
        True, description="Refuse text that is clearly not Dutch (`true` or `false`)."
    )
    callback_url: str | None = _callback_field()
    format: Literal["text", "html"] = Field(
        "text", description="`html`: the result also holds the page translated, markup kept."
    )
    glossary_id: str | None = _glossary_field()

    # The text's own encoding (in SourceFile.pasted) finds its lone surrogates: encoding a
    # megabyte once instead of twice matters to a web request.
    _unicode = field_validator("filename")(_valid_unicode)
    _words = field_validator("text")(_has_words)


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable name of the problem.")
    message: str = Field(description="What went wrong and what to do, in words.")


class ErrorBody(BaseModel):
    """Every error the job API answers."""

    model_config = ConfigDict(title="Error")

    error: ErrorDetail


class Health(BaseModel):
    status: str = "ok"


class Ready(BaseModel):
    status: str = "ready"
    workers: int = Field(description="Workers with a fresh heartbeat.")
    models: dict[str, str] = Field(
        description="Per role, a digest of the workers' model versions and settings: what "
        "decides their output (the CLI uses it to tell whether an output is current)."
    )


class CsrfToken(BaseModel):
    csrf_token: str


class Usage(BaseModel):
    key: str = Field(description="The key's id (never the key itself).")
    name: str
    month: str = Field(description="The month counted, YYYY-MM (UTC).")
    characters: int = Field(description="Characters of Dutch text translated this month.")
    character_limit: int | None = Field(description="The key's monthly quota, if it has one.")


# --- Glossaries (`/api/v1/glossaries`) ---------------------------------------------------


class GlossaryRequest(BaseModel):
    """The JSON body of `POST /api/v1/glossaries`. The name and the entries are checked by
    the glossary's own rules (docs/terms-and-checks.md), each refusal naming its line."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(description="What the glossary is called: 1 to 100 characters.")
    entries: str = Field(
        description="Dutch → English entries, one per line: `Dutch<TAB>English` (TSV), or "
        "`Dutch,English` rows (CSV); endings in brackets, as `asielzoeker(s)`."
    )
    entries_format: Literal["tsv", "csv"] = Field("tsv", description="How `entries` is written.")


class GlossaryLinks(BaseModel):
    self: str


class GlossaryView(BaseModel):
    """A glossary, without its entries."""

    id: str = Field(description="What `glossary_id` names in a job, a form or a protocol call.")
    name: str
    scope: Literal["own", "global"] = Field(
        description="`own`: the sender's (its key's, or its anonymous session's); `global`: "
        "the operator's (`vertaal glossaries create`), usable by everyone, read-only."
    )
    entry_count: int
    version: str = Field(
        description="SHA-256 of the entries, sorted: it changes when the entries do (and with "
        "it the cache keys of what is translated with them)."
    )
    created_at: str
    source_lang: Literal["nl"] = "nl"
    target_lang: Literal["en"] = "en"
    links: GlossaryLinks
    token: str | None = Field(
        None,
        description="Only when created without an API key: the sender's access token (send "
        "it back in `X-Job-Token`, or keep the session cookie) to use and see the glossary.",
    )


class GlossaryDetail(GlossaryView):
    """A glossary with its entries."""

    entries: str = Field(description="The entries as TSV, one `Dutch<TAB>English` per line.")


class GlossaryList(BaseModel):
    glossaries: list[GlossaryView] = Field(
        description="The sender's own glossaries and the global ones, oldest first."
    )
