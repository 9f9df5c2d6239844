"""The closed set of decision reason codes (pinned by the contract in DESIGN.md)."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why a decision came out as it did; scripts rely on these exact values."""

    GRANTED = "granted"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    LOW_QUALITY = "low_quality"
    SPOOF_SUSPECTED = "spoof_suspected"
    UNKNOWN_FACE = "unknown_face"
    BELOW_MARGIN = "below_margin"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    UNKNOWN_CREDENTIAL = "unknown_credential"
    WRONG_PIN = "wrong_pin"
    NOT_ALLOWED_HERE = "not_allowed_here"
    OUTSIDE_SCHEDULE = "outside_schedule"
    PASS_EXPIRED = "pass_expired"
    PASS_USED_UP = "pass_used_up"
    ALERT_LIST = "alert_list"
    ANTI_PASSBACK = "anti_passback"
    LOCKDOWN = "lockdown"
    ACTUATOR_FAILED = "actuator_failed"
    CAMERA_FAILED = "camera_failed"
    INTERNAL_ERROR = "internal_error"
