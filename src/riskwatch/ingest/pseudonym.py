"""Keyed pseudonyms for personal ID numbers (HMAC-SHA256 under the deployment secret).

The same ID always gives the same pseudonym within a deployment, so persons can be linked
across enterprises and tables, but the number cannot be read back without the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from riskwatch.ingest import normalize as nz

_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


class Pseudonymizer:
    """Callable that maps a normalised personal ID to its pseudonym (64 hex characters).

    Parameters
    ----------
    secret
        The deployment secret (at least 32 bytes), from ``RISKWATCH_HOME/secret.key``.
    """

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the pseudonymisation secret must be at least 32 bytes")
        self._secret = secret

    def __call__(self, normalized_id: str) -> str:
        return hmac.new(self._secret, normalized_id.encode("utf-8"), hashlib.sha256).hexdigest()

    def scrub(self, text: str) -> str:
        """Replace every valid resident ID number inside free text by its pseudonym.

        Used on columns the contract does not know (kept as ``_extra``), which could
        carry ID numbers the contract never promised to protect.
        """

        def repl(match: re.Match[str]) -> str:
            try:
                code = nz.normalize_person_id(match.group(0))
            except nz.BadValue:
                return match.group(0)
            return "pid:" + self(code)

        return _RESIDENT_ID.sub(repl, text)
