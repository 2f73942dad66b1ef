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
    glossary_id: str | None = Field(
        None,
        pattern="^[0-9a-f]{32}$",
        description="Vertaal's extension: a glossary (`/api/v1/glossaries`) whose terms are "
        "enforced. Flagged sentences come back in `vertaalChecks`.",
    )


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


class LtCheck(BaseModel):
    """A problem found in a translated sentence (docs/terms-and-checks.md)."""

    code: str
    message: str


class LtTranslation(BaseModel):
    translatedText: str | list[str]
    detectedLanguage: LtDetection | list[LtDetection] | None = None
    alternatives: list[str] | list[list[str]] | None = None
    vertaalChecks: list[LtCheck] | list[list[LtCheck]] | None = Field(
        None,
        description="Vertaal's extension: what the checks found in the translation (a list "
        "per text for a list); absent when nothing was found.",
    )


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
    glossary_id: str | None = Field(
        None, pattern="^[0-9a-f]{32}$", description="Vertaal's extension: a glossary to enforce."
    )


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
    glossary_id: str | None = Field(
        None,
        description="A glossary (`/v2/glossaries`, `/v3/glossaries`) to enforce; needs "
        "`source_lang` NL. Each text's flagged sentences come back in `vertaal_checks`.",
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


class DlCheck(BaseModel):
    """A problem found in a translated sentence (docs/terms-and-checks.md)."""

    code: str
    message: str


class DlTranslationItem(BaseModel):
    detected_source_language: str
    text: str
    billed_characters: int
    model_type_used: str | None = None
    vertaal_checks: list[DlCheck] | None = Field(
        None,
        description="Vertaal's extension: what the checks found in this text's translation "
        "(a glossary term missing, a number changed, …); absent when nothing was found.",
    )


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
    glossary_id: str | None = Field(
        None, description="A glossary to enforce, as for texts; needs `source_lang` NL."
    )
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


# --- DeepL's glossaries (v2: one language pair; v3: dictionaries, editable) --------------

GLOSSARY_ID = (
    "DeepL's form of a Vertaal glossary id: a UUID (the job API and `vertaal glossaries` show "
    "the same id as 32 hexadecimal digits, which is taken too)."
)


class DlGlossaryRequest(BaseModel):
    """`POST /v2/glossaries`: a glossary of one language pair, NL to EN."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(description="1 to 100 characters.")
    source_lang: str = Field(description="`nl`.")
    target_lang: str = Field(description="`en` (EN-GB and EN-US use the same glossary).")
    entries: str = Field(description="The entries, in `entries_format`.")
    entries_format: Literal["tsv", "csv"] = Field("tsv", description="`tsv` or `csv`.")


class DlGlossary(BaseModel):
    """A v2 glossary, without its entries."""

    glossary_id: str = Field(description=GLOSSARY_ID)
    name: str
    ready: bool
    source_lang: str
    target_lang: str
    creation_time: str
    entry_count: int


class DlGlossaries(BaseModel):
    glossaries: list[DlGlossary]


class DlLanguagePair(BaseModel):
    source_lang: str
    target_lang: str


class DlGlossaryLanguagePairs(BaseModel):
    supported_languages: list[DlLanguagePair]


class DlDictionaryEntries(BaseModel):
    """A v3 dictionary with its entries: one language pair of a glossary (here: NL to EN)."""

    model_config = ConfigDict(extra="allow")

    source_lang: str = Field(description="`nl`.")
    target_lang: str = Field(description="`en`.")
    entries: str = Field(description="The entries, in `entries_format`.")
    entries_format: Literal["tsv", "csv"] = Field("tsv", description="`tsv` or `csv`.")


class DlMultilingualRequest(BaseModel):
    """`POST /v3/glossaries`: a glossary and its dictionaries (one, NL to EN)."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(description="1 to 100 characters.")
    dictionaries: list[DlDictionaryEntries] = Field(min_length=1)


class DlGlossaryPatch(BaseModel):
    """`PATCH /v3/glossaries/{id}`: a new name, and/or entries merged into a dictionary
    (an entry with the same Dutch term replaces the old one)."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    dictionaries: list[DlDictionaryEntries] | None = None


class DlDictionary(BaseModel):
    source_lang: str
    target_lang: str
    entry_count: int


class DlMultilingualGlossary(BaseModel):
    """A v3 glossary, without its entries."""

    glossary_id: str = Field(description=GLOSSARY_ID)
    name: str
    creation_time: str
    dictionaries: list[DlDictionary]


class DlMultilingualGlossaries(BaseModel):
    glossaries: list[DlMultilingualGlossary]


class DlDictionaryQuery(BaseModel):
    """Which dictionary of a v3 glossary: its language pair."""

    source_lang: str
    target_lang: str


class DlDictionaries(BaseModel):
    dictionaries: list[DlDictionaryEntries]
