"""The bodies of the LibreTranslate and DeepL protocols as pydantic models: they generate the
OpenAPI document's schemas and, for DeepL's texts, validate the request (`DlTranslateRequest`),
so that what the document promises and what the door accepts are one list."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator

from service.schemas import _file_field

# --- The LibreTranslate protocol ---------------------------------------------------------


class LtError(BaseModel):
    """LibreTranslate's error shape."""

    error: str


class LtTranslateRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    q: Annotated[str, Field(min_length=1)] | Annotated[list[str], Field(min_length=1)] = Field(
        description="A text, or (JSON only) a list of texts."
    )
    source: Literal["nl", "NL", "auto", "en", "EN"] = Field(
        description="`nl`, or `auto` to identify each text (English comes back as it is)."
    )
    target: Literal["en", "EN"] = Field(description="`en`.")
    format: Literal["text", "html"] = Field("text", description="`html` keeps the markup.")
    api_key: str | None = Field(None, description="A Vertaal API key.")
    alternatives: int = Field(0, ge=0, description="Accepted; no alternatives are given.")


class LtDetectRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    q: Annotated[str, Field(min_length=1)] | Annotated[list[str], Field(min_length=1)]
    api_key: str | None = None


class LtSuggestRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    q: str = Field(description="The original text.")
    s: str = Field(description="The suggested translation.")
    source: str
    target: str


class LtDetection(BaseModel):
    confidence: float = Field(description="0 to 100.")
    language: str


class LtDetections(RootModel[list[LtDetection]]):
    pass


class LtTranslation(BaseModel):
    translatedText: str | list[str]
    detectedLanguage: LtDetection | list[LtDetection] | None = None
    alternatives: list[str] | list[list[str]] | None = None


class LtLanguage(BaseModel):
    code: str
    name: str
    targets: list[str]


class LtLanguages(RootModel[list[LtLanguage]]):
    pass


class LtSettings(BaseModel):
    charLimit: int
    frontendTimeout: int
    apiKeys: bool
    keyRequired: bool
    suggestions: bool
    filesTranslation: bool
    supportedFilesFormat: list[str]
    language: dict[str, dict[str, str]]


class LtFileRequest(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra=lambda schema: _file_field(schema))

    source: str
    target: str
    api_key: str | None = None


class LtFileTranslation(BaseModel):
    translatedFileUrl: str


# --- The DeepL v2 protocol ---------------------------------------------------------------

# DeepL's values, as its clients send them (`deepl.Formality`, `deepl.SplitSentences`,
# `deepl.ModelType`); the English targets take no formality but its `prefer_` ones.
Formality = Literal["default", "more", "less", "prefer_more", "prefer_less"]
ModelType = Literal["quality_optimized", "latency_optimized", "prefer_quality_optimized"]


class DlError(BaseModel):
    """DeepL's error shape."""

    message: str


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _tag_list(value: Any) -> Any:
    """Tags as a list or comma-separated (DeepL takes both): a list of names."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [tag.strip() for v in value for tag in v.split(",") if tag.strip()]
    return value


class DlTranslateRequest(BaseModel):
    """`POST /v2/translate`, as JSON or a form (`text` repeated). Languages and option names
    are case-insensitive, as DeepL's are."""

    model_config = ConfigDict(extra="allow")

    text: list[str] = Field(min_length=1, max_length=50, description="The texts, at most 50.")
    source_lang: Literal["NL", "EN"] | None = Field(
        None,
        description="NL; EN gives the texts back as they are; absent: each text identified "
        "(English comes back as it is, languages other than Dutch are refused).",
    )
    target_lang: Literal["EN", "EN-GB", "EN-US"] = Field(description="EN-GB, EN-US (or EN).")
    context: str | None = Field(None, description="Accepted; not translated, not billed.")
    split_sentences: Literal["0", "1", "nonewlines"] | None = Field(
        None, description="Accepted; Vertaal always splits into sentences the model can take."
    )
    preserve_formatting: bool | None = None
    formality: Formality | None = Field(
        None, description="English has no formality: only `default` and the `prefer_` ones."
    )
    tag_handling: Literal["html", "xml"] | None = Field(
        None, description="Keep the markup; `xml` honours the three tag lists."
    )
    tag_handling_version: Literal["v1", "v2"] | None = None
    outline_detection: bool | None = Field(
        None, description="XML: off, only `splitting_tags` end a sentence."
    )
    non_splitting_tags: list[str] | None = Field(None, description="XML: never end a sentence.")
    splitting_tags: list[str] | None = Field(None, description="XML: always end a sentence.")
    ignore_tags: list[str] | None = Field(None, description="XML: their text is not translated.")
    model_type: ModelType | None = Field(
        None, description="Answered in `model_type_used`; Vertaal has one model."
    )
    show_billed_characters: bool | None = None
    vertaal_summary: bool | None = Field(
        None, description="Vertaal's extension: also summarize the texts (`vertaal_summary`)."
    )

    _texts = field_validator("text", mode="before")(
        lambda value: [value] if isinstance(value, str) else value
    )
    _upper_case = field_validator("source_lang", "target_lang", mode="before")(_upper)
    _lower_case = field_validator("formality", "tag_handling", "model_type", mode="before")(_lower)
    _tags = field_validator("non_splitting_tags", "splitting_tags", "ignore_tags", mode="before")(
        _tag_list
    )


class DlTranslationItem(BaseModel):
    detected_source_language: str
    text: str
    billed_characters: int
    model_type_used: str | None = None


class DlTranslations(BaseModel):
    translations: list[DlTranslationItem]
    vertaal_summary: str | None = Field(
        None, description="Vertaal's extension: the summary, when asked for."
    )


class DlDocumentRequest(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra=lambda schema: _file_field(schema))

    target_lang: Literal["EN", "EN-GB", "EN-US", "en", "en-gb", "en-us"]
    source_lang: Literal["NL", "nl"] | None = None
    filename: str | None = Field(None, description="The file's name, if not the part's own.")
    formality: str | None = Field(None, description="As for texts.")
    output_format: str | None = Field(None, description="Only the file's own format.")
    vertaal_summary: str | None = None


class DlDocumentHandle(BaseModel):
    document_id: str = Field(description="32 hexadecimal digits, upper case.")
    document_key: str = Field(description="64 hexadecimal digits, upper case.")


class DlDocumentKey(BaseModel):
    model_config = ConfigDict(extra="allow")

    document_key: str


class DlDocumentStatus(BaseModel):
    document_id: str
    status: Literal["queued", "translating", "done", "error"]
    seconds_remaining: int | None = None
    billed_characters: int | None = None
    error_message: str | None = None
    vertaal_summary: str | None = None


class DlUsage(BaseModel):
    character_count: int
    character_limit: int


class DlLanguage(BaseModel):
    language: str
    name: str
    supports_formality: bool | None = None


class DlLanguages(RootModel[list[DlLanguage]]):
    pass
