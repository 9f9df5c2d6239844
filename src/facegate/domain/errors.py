"""The project's exception hierarchy.

Every error the project raises on purpose derives from :class:`FacegateError` and belongs
to one of four families that callers map to their own world (the CLI to exit codes, the
API later to HTTP statuses): bad input, refused by policy, service unavailable, and
internal faults. Library errors are translated into these at the adapter boundary.
"""

from __future__ import annotations


class FacegateError(Exception):
    """Base class of every error facegate raises deliberately."""


class BadInputError(FacegateError):
    """The caller gave something unusable: an unreadable, too large or faceless image."""


class InvalidImageError(BadInputError):
    """The bytes are not an image we accept (corrupt, truncated, unknown or empty)."""


class ImageTooLargeError(BadInputError):
    """The image is larger than the configured limit (pixels or bytes)."""


class ImageTooSmallError(BadInputError):
    """The image is too small to hold a face at all."""


class NoFaceError(BadInputError):
    """No face was found where one is needed."""


class LowQualityError(BadInputError):
    """A face was found but failed the quality gate."""


class DataSetError(BadInputError):
    """An evaluation or calibration set is malformed or too small for what was asked."""


class PolicyRefusedError(FacegateError):
    """The request is well formed but refused by policy (no consent, not allowed)."""


class ServiceUnavailableError(FacegateError):
    """A component the command needs cannot be reached or loaded."""


class ServiceBusyError(ServiceUnavailableError):
    """Every worker for this kind of request is busy: try again soon (HTTP 503).

    Attributes:
        retry_after_s: when to try again (seconds; the answer's ``Retry-After``).
    """

    def __init__(self, message: str, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ModelUnavailableError(ServiceUnavailableError):
    """A face model package is not installed, or its file is missing or altered."""


class ValidationError(BadInputError):
    """A record breaks a domain rule (a faces-only door, an empty time window...)."""


class NotFoundError(BadInputError):
    """An id names nothing that exists (unknown person, door, pass)."""


class ConflictError(BadInputError):
    """The request collides with what is stored (a duplicate card number)."""


class DuplicateFaceError(ConflictError):
    """A face being enrolled matches another person's template within the duplicate threshold.

    Args:
        message: what happened, for people.
        other_person_id: the person whose template it matched.
        distance: the euclidean distance of the closest pair.
    """

    def __init__(self, message: str, other_person_id: str, distance: float) -> None:
        super().__init__(message)
        self.other_person_id = other_person_id
        self.distance = distance


class SiteNotInitializedError(BadInputError):
    """The data directory or database holds no site yet: run ``facegate site init``."""


class KeyFileError(BadInputError):
    """The site key is malformed, missing, or not the key this site's data was wrapped by."""


class AuditConflictError(ConflictError):
    """Another writer took the next audit chain link first (the append may be retried)."""


class ArchiveError(BadInputError):
    """A backup archive is unusable: not facegate's, altered, cut short, or unfit.

    Unfit: another schema revision, or a target database that is not empty.
    """


class ConsentRequiredError(PolicyRefusedError):
    """Face enrollment asked for without a valid consent record for its purpose."""


class DatabaseUnavailableError(ServiceUnavailableError):
    """The database cannot be reached or opened."""


class AccessRefusedError(PolicyRefusedError):
    """A credential was shown and refused; ``reason`` is the decision's reason code.

    Args:
        message: what happened, for people.
        reason: the :class:`facegate.domain.reasons.Reason` value, for scripts.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class UpstreamUnavailableError(ServiceUnavailableError):
    """A gate's upstream (site database or server) cannot be reached."""


class UpstreamBusyError(UpstreamUnavailableError):
    """The site server asked the gate to wait (``429`` or ``503`` with ``Retry-After``).

    Attributes:
        retry_after_s: how long nothing is sent to it (seconds).
    """

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ActuatorFailedError(ServiceUnavailableError):
    """A door or lift did not acknowledge a command in time (the door stays locked)."""


class CameraFailedError(ServiceUnavailableError):
    """A camera or stream cannot be opened or stopped delivering frames."""
