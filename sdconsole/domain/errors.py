"""Provides SdError and its subclasses: failures with a stable code the UI and CLI translate."""

from __future__ import annotations

from sdconsole.i18n import _


class SdError(Exception):
    """A failure the user can act on.

    The message is an English template marked with `N_` where it is raised; it is translated
    and filled in only when shown, so the same error reads in the engineer's language.

    Attributes:
        code: stable machine-readable code (also the CLI's JSON error code).
        template: the untranslated message template (``str.format`` fields).
        params: values for the template.
    """

    code = "error"
    exit_code = 1

    def __init__(self, template: str, **params: object) -> None:
        super().__init__(template)
        self.template = template
        self.params = params

    def __str__(self) -> str:
        return _(self.template).format(**self.params)


class NotFound(SdError):
    """A referenced record does not exist."""

    code = "not_found"
    exit_code = 4


class InvalidInput(SdError):
    """Input that cannot be accepted as given."""

    code = "invalid_input"
    exit_code = 2


class IllegalTransition(SdError):
    """The ticket state machine does not allow this status change."""

    code = "illegal_transition"
    exit_code = 3


class PermissionDenied(SdError):
    """The acting engineer's role does not allow the action."""

    code = "permission_denied"
    exit_code = 5


class Conflict(SdError):
    """Someone else changed the record first (optimistic version mismatch)."""

    code = "conflict"
    exit_code = 6


class AlreadyTaken(Conflict):
    """The ticket already has an owner."""

    code = "already_taken"


class StoreUnreachable(SdError):
    """The store cannot be opened: a server that does not answer, a file that cannot be read."""

    code = "store_unreachable"
    exit_code = 8


class ImportFailed(SdError):
    """An import file has bad rows; nothing was written."""

    code = "import_failed"
    exit_code = 2
