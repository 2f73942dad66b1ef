"""The HTTP reference as Markdown, written from the OpenAPI document the app serves."""

from __future__ import annotations

import json
from typing import Any

from docs.markdown import cell, prose, slug

LIMITS = {
    "minLength": "length ≥", "maxLength": "length ≤", "minimum": "≥", "maximum": "≤",
    "exclusiveMinimum": ">", "exclusiveMaximum": "<", "minItems": "items ≥", "maxItems": "items ≤",
}  # fmt: skip
METHODS = ["get", "head", "post", "put", "patch", "delete", "options", "trace"]


def schema_link(name: str) -> str:
    return f"[{name}](#{slug(f'Schema {name}')})"


def literal(value: Any) -> str:
    return f"`{value if isinstance(value, str) else json.dumps(value)}`"


def schema_type(schema: dict[str, Any]) -> str:
    """A JSON schema in a few words: `string, length ≥ 1`, `array of string`, a link."""
    if "$ref" in schema:
        return schema_link(schema["$ref"].rsplit("/", 1)[1])
    if "anyOf" in schema:
        kinds = [schema_type(s) for s in schema["anyOf"] if s.get("type") != "null"]
        nullable = len(kinds) < len(schema["anyOf"])
        return " or ".join(kinds) + (" or null" if nullable else "")
    if "enum" in schema:
        return " or ".join(literal(value) for value in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        kind = f"array of {schema_type(schema.get('items', {}))}"
    elif schema.get("format") == "binary":
        kind = "file"
    limits = [f"{words} {schema[key]}" for key, words in LIMITS.items() if key in schema]
    return ", ".join([kind, *limits])


def properties_table(schema: dict[str, Any]) -> str:
    fields = schema.get("properties", {})
    if "enum" in schema:
        return f"One of {schema_type(schema)}."
    if not fields:
        return f"Any JSON {schema.get('type', 'value')}."
    rows = ["| field | type | required | default | meaning |", "|---|---|---|---|---|"]
    for name, field in fields.items():
        required = "yes" if name in schema.get("required", ()) else ""
        default = literal(field["default"]) if "default" in field else ""
        rows.append(
            f"| `{name}` | {cell(schema_type(field))} | {required} | {cell(default)} | "
            f"{cell(field.get('description', ''))} |"
        )
    return "\n".join(rows)


def bodies(content: dict[str, Any]) -> str:
    """`application/json`: a link to its schema; one entry per content type."""
    return "; ".join(f"`{kind}`: {schema_type(c.get('schema', {}))}" for kind, c in content.items())


def parameters_table(parameters: list[dict[str, Any]]) -> str:
    rows = ["| parameter | in | type | required | meaning |", "|---|---|---|---|---|"]
    for p in parameters:
        required = "yes" if p.get("required") else ""
        rows.append(
            f"| `{p['name']}` | {p['in']} | {cell(schema_type(p.get('schema', {})))} | "
            f"{required} | {cell(p.get('description', ''))} |"
        )
    return "\n".join(rows)


def operation(path: str, method: str, op: dict[str, Any]) -> str:
    parts = [f"#### `{method.upper()} {path}`"]
    summary = op.get("summary", "").rstrip(".")
    parts.append(prose(f"**{summary}.** {op.get('description', '')}".strip()))
    if op.get("security"):
        parts.append("Needs an API key: `Authorization: Bearer <key>`.")
    if op.get("parameters"):
        parts.append(parameters_table(op["parameters"]))
    if "requestBody" in op:
        parts.append(f"Request body: {bodies(op['requestBody'].get('content', {}))}.")
    rows = ["| status | meaning | body |", "|---|---|---|"]
    for status, answer in op.get("responses", {}).items():
        rows.append(
            f"| {status} | {cell(answer.get('description', ''))} | "
            f"{cell(bodies(answer.get('content', {})))} |"
        )
    parts.append("\n".join(rows))
    return "\n\n".join(parts)


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) in the app's order of paths, and a fixed order of methods
    (spectree lists a path's methods in the order of a set, which changes from run to run)."""
    return [
        (path, method, methods[method])
        for path, methods in document["paths"].items()
        for method in sorted(methods, key=METHODS.index)
    ]


def http_reference(document: dict[str, Any]) -> str:
    """Each operation by tag (its parameters, request body and answers), then each schema."""
    parts, listed = [], operations(document)
    tags = dict.fromkeys(tag for _, _, op in listed for tag in op.get("tags", ()))
    for tag in tags:
        parts.append(f"### {tag[0].upper()}{tag[1:]}")
        parts += [operation(*found) for found in listed if tag in found[2].get("tags", ())]
    schemas = document.get("components", {}).get("schemas", {})
    for name, schema in sorted(schemas.items()):
        parts.append(f"### Schema `{name}`")
        if schema.get("description"):
            parts.append(prose(schema["description"]))
        parts.append(properties_table(schema))
    return "\n\n".join(parts)
