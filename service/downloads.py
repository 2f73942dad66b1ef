"""Files handed to a client as downloads: one Content-Disposition for every door.

RFC 6266: an ASCII `filename` for old clients and the exact name in `filename*` (UTF-8,
percent-encoded), so a name in any script (`łódź.txt`, `€.txt`, CJK) is a valid header, which
gunicorn refuses to send otherwise.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import Response


def content_disposition(filename: str) -> str:
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = "".join(c if c.isprintable() and c not in '"\\' else "_" for c in fallback)
    fallback = fallback.strip() or "download"
    header = f'attachment; filename="{fallback}"'
    if fallback != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header


def attachment(data: bytes, media_type: str, filename: str) -> Response:
    """A download: the bytes, their type (its charset said once), and the file's name."""
    response = Response(data, content_type=media_type)
    response.headers["Content-Disposition"] = content_disposition(filename)
    return response
