"""One error tree for riskwatch; every error knows its HTTP status.

::

    RiskwatchError (500)
    ├── InputError(ValueError) (422)        bad input a user can fix
    │   ├── FileFormatError (422)          a file cannot be read as the format it claims
    │   ├── SchemaError (422)              headers do not fit a contract table
    │   └── ConfigError (422)              a config file is invalid
    ├── NotFoundError(LookupError) (404)
    ├── PermissionDeniedError (403)
    ├── ConflictError (409)                a concurrent change, a transition not allowed
    ├── BusyError (503)                    the warehouse is being loaded: retry later
    └── StoreError (500)                   the warehouse or the operational store failed

Messages are meant for a clerk: they name the file, the row, the column and the reason
where those exist.
"""

from __future__ import annotations


class RiskwatchError(Exception):
    """Base of every error riskwatch raises on purpose."""

    status_code: int = 500

    @property
    def message(self) -> str:
        """The sentence shown to the user."""
        return str(self.args[0]) if self.args else type(self).__name__


class InputError(ValueError, RiskwatchError):
    """Input a user can correct: a bad file, a bad argument, a bad value."""

    status_code = 422


class FileFormatError(InputError):
    """A file cannot be read: wrong encoding, broken workbook, empty file."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class SchemaError(InputError):
    """A file's header does not fit the contract table it is named for."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class ConfigError(InputError):
    """A configuration file (YAML) is invalid."""


class NotFoundError(LookupError, RiskwatchError):
    """A requested object does not exist (or is outside the caller's scope)."""

    status_code = 404


class PermissionDeniedError(RiskwatchError):
    """The caller may not do this."""

    status_code = 403


class ConflictError(RiskwatchError):
    """A concurrent change or a state transition that is not allowed."""

    status_code = 409


class BusyError(RiskwatchError):
    """The service cannot answer now (the warehouse is being loaded); retry later."""

    status_code = 503

    def __init__(self, message: str, retry_after: float = 30) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreError(RiskwatchError):
    """The warehouse or the operational store failed."""

    status_code = 500
