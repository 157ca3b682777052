"""JSON responses written by orjson, for the endpoints on the hot path (profile, lists).

FastAPI turns a returned dict into JSON through ``jsonable_encoder``, a recursive walk in
Python that costs more than the query behind a profile. A route that returns
:class:`FastJSON` skips it: orjson writes dates and datetimes as ISO strings (as
``jsonable_encoder`` does), decimals as numbers, and NaN as null (JSON has no NaN).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from starlette.responses import Response


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(content: Any) -> bytes:
    """``content`` as UTF-8 JSON bytes."""
    return orjson.dumps(content, default=_default, option=orjson.OPT_NON_STR_KEYS)


class FastJSON(Response):
    """A JSON response rendered by orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)
