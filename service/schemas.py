"""The bodies of the job API as pydantic models: they validate what comes in, shape what goes
out, and generate the OpenAPI document's schemas, so the three cannot drift apart."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workers.pipeline.reading import SUPPORTED_SUFFIXES, suffix_list


def _suffix_pattern() -> str:
    """A case-insensitive `(\\.txt|\\.md|...)$` written for JSON Schema's regex dialect."""
    cased = ["".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else "\\" + c for c in s)
             for s in SUPPORTED_SUFFIXES]  # fmt: skip
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


class JobRequest(BaseModel):
    """The JSON body of `POST /api/v1/jobs`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    text: str = Field(
        min_length=1,
        description="The article: plain text, or another format named by `filename`.",
    )
    summary: bool = Field(True, description="Also write a summary.")
    check_language: bool = Field(True, description="Refuse text that is clearly not Dutch.")
    filename: str | None = Field(
        None,
        max_length=255,
        pattern=_suffix_pattern(),
        description=f"Name whose suffix ({suffix_list()}) says how to read `text`.",
    )

    _unicode = field_validator("text", "filename")(_valid_unicode)


def _file_field(schema: dict[str, Any]) -> None:
    schema["properties"] = {
        "file": {
            "type": "string",
            "format": "binary",
            "description": f"The article file: {suffix_list()}. Used instead of `text`.",
        },
        **schema["properties"],
    }


class JobForm(BaseModel):
    """`POST /api/v1/jobs` as multipart form data: a `file` upload, or a `text` field."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=_file_field)

    text: str | None = Field(None, min_length=1, description="The article as plain text.")
    filename: str | None = Field(
        None, max_length=255, pattern=_suffix_pattern(), description="How to read `text`."
    )
    summary: bool = Field(True, description="Also write a summary (`true` or `false`).")
    check_language: bool = Field(
        True, description="Refuse text that is clearly not Dutch (`true` or `false`)."
    )

    _unicode = field_validator("text", "filename")(_valid_unicode)


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
