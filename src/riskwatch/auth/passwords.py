"""Password hashing with argon2id (argon2-cffi), and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from riskwatch.errors import InputError

_HASHER = PasswordHasher()
# Verifying against this keeps an unknown user's login as slow as a known one's.
_DUMMY = _HASHER.hash("riskwatch-timing-equaliser")

MIN_LENGTH = 10


def check_policy(password: str) -> None:
    """Refuse passwords that are too short or all one kind of character."""
    if len(password) < MIN_LENGTH:
        raise InputError(f"a password needs at least {MIN_LENGTH} characters")
    if password.isdigit() or password.isalpha():
        raise InputError("a password needs letters and digits or symbols")


def hash_password(password: str) -> str:
    """The argon2id hash of a password (salted, PHC string)."""
    return str(_HASHER.hash(password))


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant work when ``stored`` is None)."""
    try:
        return bool(_HASHER.verify(stored or _DUMMY, password)) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash uses older parameters than the current ones."""
    return bool(_HASHER.check_needs_rehash(stored))
