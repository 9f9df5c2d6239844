"""Settings: defaults, environment variables (``FACEGATE_*``) and the site's calibration.

Precedence, highest first: values passed by the caller (CLI options), environment
variables, the calibration file ``<data-dir>/calibration.json`` (for the match threshold
only), and the defaults documented on each settings class. Nested values use ``__`` in
environment names, e.g. ``FACEGATE_DETECTION__FALLBACK=none`` or
``FACEGATE_QUALITY__MIN_SHARPNESS=30``. Reading settings never loads a model.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from facegate.domain.calibration import Calibration
from facegate.domain.errors import BadInputError
from facegate.domain.faces import QualityThresholds
from facegate.domain.impostors import DEFAULT_MAX_FPIR, ImpostorCurve, shipped_impostor_curve
from facegate.domain.liveness import LivenessSchedule
from facegate.domain.matching import (
    DEFAULT_COHORT_MARGIN,
    DEFAULT_COHORT_SHARE,
    DEFAULT_DUPLICATE_THRESHOLD,
    DEFAULT_MATCH_THRESHOLD,
    DEFAULT_MIN_MARGIN,
    MatchPolicy,
)
from facegate.domain.requests import DEFAULT_DUE_DAYS
from facegate.domain.retention import RetentionPolicy
from facegate.files import write_atomically
from facegate.vision.detection import DetectionSettings, DetectorModel
from facegate.vision.embedding import EmbeddingSettings
from facegate.vision.images import ImageLimits

CALIBRATION_FILE = "calibration.json"
DATABASE_FILE = "facegate.db"
"""The SQLite database in the data directory (used unless ``db_url`` is set)."""
SITE_KEY_FILE = "site.key"
"""The site key file in the data directory (used unless ``site_key`` is set)."""

_SCHEDULE = LivenessSchedule()
"""The liveness schedule's defaults (the gate settings' liveness_* defaults come from it)."""


def _xdg_dir(variable: str, fallback: str) -> Path:
    base = os.environ.get(variable) or str(Path.home() / fallback)
    return Path(base) / "facegate"


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """Match settings as configured; :meth:`Settings.match_policy` resolves them.

    Attributes:
        threshold: euclidean distance threshold; ``None`` (default) takes the site's
            calibration file, else the shipped 0.57.
        min_margin: least lead of the nearest person over the second in 1:N search
            (default 0.06, measured: see :data:`facegate.domain.matching.DEFAULT_MIN_MARGIN`;
            0 turns it off).
        duplicate_threshold: a new enrolment photo this close to another person's
            template is refused as a duplicate or look-alike unless explicitly allowed
            (default 0.35, measured: see
            :data:`facegate.domain.matching.DEFAULT_DUPLICATE_THRESHOLD`; 0 turns it off).
        max_fpir: the largest share of strangers that may match someone in 1:N search
            (``FACEGATE_MATCHING__MAX_FPIR``, 0 to 1, default 1e-2): the 1:N threshold
            drops below ``threshold`` as the gallery grows, and past the point the
            impostor curve can vouch for, the face alone names nobody (see
            :mod:`facegate.domain.impostors` and docs/matching.md); 1 keeps ``threshold``
            for every gallery size.
        cohort_margin: face + card (a 1:1 check): the least lead, in euclidean units, of
            the mean distance of the nearest other people of the gallery (the cohort)
            over the card holder's (``FACEGATE_MATCHING__COHORT_MARGIN``; measured
            default, see :data:`facegate.domain.matching.DEFAULT_COHORT_MARGIN`;
            ``none`` turns the rule off). Refused: ``below_margin``.
        cohort_share: the share of the gallery's other people in the cohort, nearest
            first, at least one (``FACEGATE_MATCHING__COHORT_SHARE``, above 0 up to 1;
            default :data:`facegate.domain.matching.DEFAULT_COHORT_SHARE`, 1 %).
    """

    threshold: float | None = None
    min_margin: float = DEFAULT_MIN_MARGIN
    duplicate_threshold: float = DEFAULT_DUPLICATE_THRESHOLD
    max_fpir: Annotated[float, Field(ge=0.0, le=1.0)] = DEFAULT_MAX_FPIR
    cohort_margin: float | None = DEFAULT_COHORT_MARGIN
    cohort_share: Annotated[float, Field(gt=0.0, le=1.0)] = DEFAULT_COHORT_SHARE


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """The web server's settings (``FACEGATE_SERVER__<NAME>``).

    Attributes:
        host: address to listen on (default ``127.0.0.1``; ``0.0.0.0`` for the LAN).
        port: TCP port (default 8000).
        environment: ``development`` or ``production``; outside development a session
            secret and a secure (HTTPS) cookie are required.
        session_secret: key (at least 32 characters) that signs the CSRF token of the
            login form, the one page without a session (HMAC-SHA256; a planted cookie
            is refused); required outside development, where a random one is made per
            process when unset.
        session_hours: how long a login lasts, in hours (default 12).
        secure_cookies: send cookies with ``Secure`` (HTTPS only); default on.
        login_attempts: failed logins allowed per client address and username within
            ``login_window_s`` before further tries are refused with 429 (default 5).
        login_window_s: the rate limit's window in seconds (default 300).
        trusted_proxies: addresses of reverse proxies whose ``X-Forwarded-For`` and
            ``X-Forwarded-Proto`` headers are believed (default none: the TCP peer is the
            client, whatever headers it sends); e.g. ``["127.0.0.1"]`` behind a local
            nginx.
        webhook_url: where alert-list notifications are POSTed as JSON; unset, none are.
        webhook_timeout_s: how long one webhook call may take, in seconds (default 5).
        tls_cert: a PEM certificate for HTTPS.
        tls_key: its PEM private key.
        max_upload_bytes: largest multipart upload, in bytes (default 10 MiB).
        frame_workers: kiosk frames decided at once (default 2, one per core here);
            a frame that finds them all busy is answered 503 at once.
        busy_retry_after_s: the ``Retry-After`` of that answer (seconds, default 1).
        device_rate_per_s: requests a device key may make per second, sustained, on any
            route (frames, credentials, snapshot polls, mode polls, events, crops);
            beyond it the answer is 429 with ``Retry-After`` (default 30; 0: no limit).
            A kiosk page sends at most 25 frames a second (40 ms apart, one in flight),
            the site bench's kiosks 5; an edge gate polls its snapshot once a second,
            keeps one mode long poll and delivers its outbox once a second (a backlog
            in batches of 100 events, so 3,000 events a second at this rate). A
            snapshot answer that was built (not a ``304``) counts as
            :data:`facegate.api.routes.gates.BUILT_ANSWER_COST` requests more.
        device_burst: requests a device key may make at once after a quiet spell
            (default 60: the hardening tests' 20 swipes at once at one kiosk, and an
            edge gate's first 60 outbox batches after an outage, pass untouched).
        alarm_mqtt: also publish alarms on ``<gate.mqtt_prefix>/<gate.mqtt_site>/alarm``
            at the gate settings' broker (default off).
        audit_checkpoint_every_s: how often the server signs a checkpoint of the audit
            chain into ``Settings.audit_anchor_dir``, in seconds (default 900; 0: never).
        switch_interval_ms: how long a thread running Python code keeps the interpreter
            lock before another thread waiting for it gets it (``sys.setswitchinterval``,
            milliseconds; CPython's default 5). A frame's work hands the lock back and
            forth dozens of times (each numpy, ONNX Runtime or dlib call releases it);
            while a snapshot rebuild runs Python code beside it, each hand-back can wait
            the whole interval.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    environment: Literal["development", "production"] = "production"
    session_secret: SecretStr | None = None
    session_hours: float = 12.0
    secure_cookies: bool = True
    login_attempts: int = 5
    login_window_s: float = 300.0
    trusted_proxies: tuple[str, ...] = ()
    webhook_url: str | None = None
    webhook_timeout_s: float = 5.0
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_upload_bytes: int = 10 * 1024 * 1024
    frame_workers: int = 2
    busy_retry_after_s: float = 1.0
    device_rate_per_s: float = 30.0
    device_burst: Annotated[int, Field(ge=1)] = 60
    alarm_mqtt: bool = False
    audit_checkpoint_every_s: float = 900.0
    switch_interval_ms: Annotated[float, Field(gt=0.0, le=100.0)] = 0.5

    def check_secrets(self) -> None:
        """Refuse to serve outside development without a session secret.

        Raises:
            BadInputError: production without ``session_secret``, or a short one.
        """
        if self.environment == "development":
            return
        secret = self.session_secret.get_secret_value() if self.session_secret else ""
        if len(secret) < 32:
            raise BadInputError(
                "FACEGATE_SERVER__SESSION_SECRET must hold at least 32 random characters "
                "outside development (set FACEGATE_SERVER__ENVIRONMENT=development to try "
                "facegate without one)"
            )


def _json_text(value: object) -> object:
    """A nested list or object set in the environment arrives as JSON text: parse it."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as err:
            raise ValueError(f"not valid JSON: {value!r}") from err
    return value


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """Where alarms are sent besides the console (``FACEGATE_NOTIFY__<NAME>``).

    Attributes:
        smtp_host: the mail server; unset, no alarm e-mail is sent.
        smtp_port: its port (default 25; 587 with ``smtp_starttls``).
        smtp_starttls: upgrade the connection with STARTTLS before logging in.
        smtp_user: login name at the mail server (none: no login).
        smtp_password: its password; never logged.
        smtp_timeout_s: how long one SMTP conversation may take, in seconds (default 10).
        email_from: the sender address of alarm e-mails.
        email_to: who gets alarm e-mails (JSON list in the environment).
        routes: which channels each alarm type goes to, as a JSON object of alarm type
            to channel names (``webhook``, ``mqtt``, ``email``), e.g.
            ``{"door_held_open": ["mqtt"], "alert_list": ["email", "webhook"]}``; a type
            not named goes to every channel; ``[]`` sends it to none (the console only).
        retry_attempts: tries per channel and alarm before it is given up (default 4).
        retry_backoff_s: wait before the second try, doubled before each next one
            (seconds, default 1).
    """

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = 10.0
    email_from: str = "facegate@localhost"
    email_to: Annotated[tuple[str, ...], BeforeValidator(_json_text)] = ()
    routes: Annotated[dict[str, tuple[str, ...]], BeforeValidator(_json_text)] = field(
        default_factory=dict
    )
    retry_attempts: Annotated[int, Field(ge=1, le=20)] = 4
    retry_backoff_s: Annotated[float, Field(ge=0.0, le=600.0)] = 1.0


@dataclass(frozen=True, slots=True)
class SnapshotSettings:
    """Event snapshots, off unless the site turns them on (``FACEGATE_SNAPSHOTS__<NAME>``).

    Attributes:
        enabled: keep a sealed face crop with each denied decision of a face (the
            server's kiosk pipeline); kept ``retention.snapshots_days`` (default 7).
        roles: the console roles that may view snapshots (JSON list; default
            administrators only); every view is audited.
        max_side_px: longest side of a kept crop, in pixels (larger crops are scaled
            down; default 256).
        jpeg_quality: JPEG quality of a kept crop (1-95, default 85).
    """

    enabled: bool = False
    roles: Annotated[
        tuple[Literal["admin", "operator", "auditor"], ...], BeforeValidator(_json_text)
    ] = ("admin",)
    max_side_px: Annotated[int, Field(ge=32, le=1024)] = 256
    jpeg_quality: Annotated[int, Field(ge=1, le=95)] = 85


def _none_is_a_word(value: object) -> object:
    """``FACEGATE_GATE__LIVENESS=none`` parses as ``None`` (``env_parse_none_str``)."""
    return "none" if value is None else value


LivenessMode = Annotated[
    Literal["none", "motion", "layered", "fused"], BeforeValidator(_none_is_a_word)
]
"""The gate's liveness check: ``none``, ``motion``, ``layered`` (default) or ``fused``."""


@dataclass(frozen=True, slots=True)
class GateSettings:
    """How a gate process runs (environment: ``FACEGATE_GATE__<NAME>``).

    Attributes:
        gate_id: this gate's name in events, topics and its snapshot file's name
            (letters, digits, ``.``, ``_``, ``-``; default ``"gate-1"``).
        actuator: ``simulated`` (quick start), ``mqtt``, ``http`` or ``osdp`` (an OSDP
            output board's relay, see ``osdp_board``; default simulated).
        unlock_duration_s: how long a door stays unlocked, or lift floors enabled, per
            grant (seconds, default 5.0).
        ack_timeout_s: how long to wait for the lock's acknowledgement before the
            command counts as failed and the door stays locked (seconds, default 1.0).
        mqtt_host: broker host (default ``127.0.0.1``).
        mqtt_port: broker port (default 1883).
        mqtt_prefix: first topic level (default ``facegate``); topics are
            ``<prefix>/<site>/door/<door_id>/set`` and so on (see :mod:`facegate.gate.mqtt`).
        mqtt_site: the site's topic segment (default ``site``).
        http_url: the relay's URL for ``http`` (e.g. ``http://10.0.0.7/relay/0``), with
            ``{action}`` and ``{duration_s}`` placeholders allowed.
        held_open_s: an open door contact longer than this raises door-held-open
            (seconds, default 30).
        silent_after_s: the server raises a ``gate_silent`` alarm for an edge gate not
            heard from for longer (seconds, default 60).
        outbox_file: the outbox's file name inside ``<data-dir>/gate/`` (default
            ``outbox.db``).
        liveness: ``layered`` (default: the single-frame screen-and-print cue AND the
            multi-frame cue, no trained file; it needs FaceMesh's model file,
            ``scripts/install-face-mesh``), ``motion`` (the multi-frame cue alone),
            ``fused`` (texture and motion; needs the texture model file trained on the
            site's own camera) or
            ``none`` (NO liveness check: a printed photo can open the door; for tests and
            for cameras too slow for the multi-frame cue). See docs/gate.md, "Liveness".
        texture_model: the texture model file for ``fused``.
        nir_camera: the near-infrared camera of an RGB + NIR pair (device number or
            stream, as ``--camera``; default none). With it the gate opens both as one
            source, pairs frames by time and adds the NIR cue, which refuses a face with
            no fresh NIR frame or no NIR face at its place (its accuracy needs measuring
            on the real camera; see docs/gate.md, "Liveness").
        nir_max_skew_s: the longest time between a colour frame and its NIR frame
            (seconds, default 0.04: one frame at 25 frames/s).
        liveness_window_s: seconds of a face seen before its first liveness check
            (default 0.4; on the door's own frame times); a face is decided no sooner.
        liveness_step_s: seconds between two liveness checks (default 0: every frame;
            the multi-frame cue measures each frame once, a check only combines).
        liveness_max_s: seconds of one presentation: a face with no live check by then
            is refused as ``spoof_suspected`` and a new presentation starts (default 3).
        liveness_min_frames: fewest frames a liveness check looks at, and fewest seen
            before a refusal (default 6: a kiosk posting 2 frames/s is checked at 2.5 s;
            below 1.67 frames/s the refusal waits for the 6th frame, past 3 s).
        liveness_grow: each check looks at the whole presentation so far rather than
            its newest ``liveness_window_s`` seconds (default true: measured best, see
            docs/gate.md; the cue's thresholds are calibrated for it).
        See :class:`facegate.domain.liveness.LivenessSchedule`.
        decide_after_s: seconds a face may stay below the quality gate, on the door's
            own frame times from the face's first frame, before the track is denied as
            ``low_quality`` (default 0.6: the 15 frames of the former frame count at 25
            frames/s; a kiosk at 4 frames/s now waits as long, not 3.75 s).
        sync_interval_s: how often the gate asks whether its snapshot is current (one
            cheap version check; it rebuilds only on change) and delivers the outbox
            (seconds, default 1.0: an erasure reaches every reachable gate within 2 s).
        card_window_s: how long a card read waits for the face on an ``all_of`` door
            (seconds, default 10).
        fire_mqtt: follow the fire panel's MQTT topics ``<prefix>/<site>/fire`` and
            ``<prefix>/<site>/door/<id>/fire`` at ``mqtt_host`` (default off): an active
            input opens the door at once, without the server (see docs/hardware.md).
        osdp_channel: the OSDP line, ``serial:/dev/ttyUSB0[:9600]`` or ``tcp:HOST:PORT``
            (default none: no OSDP). Each device's Secure Channel key is
            ``<data-dir>/osdp/pd-<address>.scbk`` (``facegate osdp key ADDRESS``).
        osdp_reader: the door's OSDP reader address (cards, keypad, LED, buzzer, text).
        osdp_board: the OSDP output board driving the strike with ``actuator=osdp``
            (default: the reader, for readers with a relay output).
        osdp_relay_output: the strike's output number on the board (default 0).
        osdp_contact_input: the input of the board the door contact is on (active: open).
        osdp_fire_input: the input of the board a fire panel's dry contact is on
            (active: fire; the door opens at once, without the server).
        tailgate_face_px: face height at the door line (pixels; 0, the default, turns
            the tailgating alarm off: it depends on where the camera sits). A face track
            that reached it and left the view crossed the door; more crossings than
            grants in one opening is a ``tailgating`` alarm (see docs/hardware.md).
        upstream: where the snapshot comes from and events go: ``store`` (the site
            database, same machine or LAN; default) or ``http`` (the site server's
            ``/api/v1/gates/{gate_id}/...`` endpoints).
        server_url: the site server's base URL for ``http`` (e.g. ``https://site:8000``).
        device_key: this gate's device key for ``http`` (issued by an administrator;
            it also unseals the snapshot's templates); never logged.
        http_timeout_s: how long one call to the server may take (seconds, default 5).
        event_max_age_s: the server refuses a gate's event that occurred longer ago
            than this (seconds, default 2592000: 30 days, the longest outage an outbox
            is expected to bridge), or more than 300 s in its future.
        profile: ``door`` (default: one person at a time, the primary face decides) or
            ``lane`` (metro-style: several people in view, each decided on the move and
            paired with the person reaching the gate line; see :mod:`facegate.gate.lane`).
        lane_line_fraction: for ``lane``, the face height at the gate line as a fraction
            of the frame's height (default 0.25; set it for the camera's mounting).
        snapshot_max_age_s: a gate deciding offline from a snapshot older than this
            logs an error every 10 minutes (it keeps deciding from it: it has nothing
            better, and denying every resident during a long outage is worse); seconds,
            default 86400 (24 h).
        threads: threads of each compute pool of the gate process (OpenCV, BLAS, ONNX
            Runtime intra-op unless ``FACEGATE_EMBEDDING__THREADS`` says otherwise,
            FaceMesh), set in one place (:mod:`facegate.vision.threads`); default 1, for
            a 2-core box where the other core decodes the camera and writes events.
        detector: the face detector on the gate's camera stream (also a kiosk's frames):
            ``blazeface`` (BlazeFace short range, 1-3 CPU ms per VGA frame, for faces
            within about 2 m), ``blazeface_full`` (full range, up to about 5 m), ``hog``
            (dlib's HOG, 15-60 ms per VGA frame: the fallback) or ``auto`` (default:
            ``blazeface`` for the ``door`` profile, ``blazeface_full`` for ``lane``,
            whose faces are small while far). Photos (enrolment, evaluation) always use
            ``detection.model``. See docs/gate.md, "Detection".
    """

    gate_id: str = "gate-1"
    actuator: Literal["simulated", "mqtt", "http", "osdp"] = "simulated"
    unlock_duration_s: float = 5.0
    ack_timeout_s: float = 1.0
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    mqtt_prefix: str = "facegate"
    mqtt_site: str = "site"
    http_url: str | None = None
    held_open_s: float = 30.0
    silent_after_s: float = 60.0
    outbox_file: str = "outbox.db"
    liveness: LivenessMode = "layered"
    texture_model: Path | None = None
    nir_camera: str | None = None
    nir_max_skew_s: float = 0.04
    liveness_window_s: float = _SCHEDULE.window_s
    liveness_step_s: float = _SCHEDULE.step_s
    liveness_max_s: float = _SCHEDULE.max_s
    liveness_min_frames: int = _SCHEDULE.min_frames
    liveness_grow: bool = _SCHEDULE.grow
    decide_after_s: float = 0.6
    sync_interval_s: float = 1.0
    card_window_s: float = 10.0
    fire_mqtt: bool = False
    osdp_channel: str | None = None
    osdp_reader: int | None = None
    osdp_board: int | None = None
    osdp_relay_output: int = 0
    osdp_contact_input: int | None = None
    osdp_fire_input: int | None = None
    tailgate_face_px: int = 0
    upstream: Literal["store", "http"] = "store"
    server_url: str | None = None
    device_key: SecretStr | None = None
    http_timeout_s: float = 5.0
    snapshot_max_age_s: float = 86_400.0
    event_max_age_s: float = 2_592_000.0
    profile: Literal["door", "lane"] = "door"
    lane_line_fraction: float = 0.25
    threads: Annotated[int, Field(ge=1, le=64)] = 1
    detector: Literal["auto", "blazeface", "blazeface_full", "hog"] = "auto"

    def stream_detector(self) -> DetectorModel:
        """The detector the gate runs on its camera stream (``detector``, ``auto`` resolved)."""
        if self.detector != "auto":
            return DetectorModel(self.detector)
        return DetectorModel.BLAZEFACE_FULL if self.profile == "lane" else DetectorModel.BLAZEFACE

    def liveness_schedule(self) -> LivenessSchedule:
        """The liveness schedule these settings give (windows, step, presentation length).

        Raises:
            ValueError: the times or frame counts contradict each other.
        """
        return LivenessSchedule(
            window_s=self.liveness_window_s,
            step_s=self.liveness_step_s,
            max_s=self.liveness_max_s,
            min_frames=self.liveness_min_frames,
            grow=self.liveness_grow,
        )


class Settings(BaseSettings):
    """Everything a facegate process can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix="FACEGATE_", env_nested_delimiter="__", env_parse_none_str="none"
    )

    data_dir: Path = Field(default_factory=lambda: _xdg_dir("XDG_DATA_HOME", ".local/share"))
    """A site's state: database, keys, outbox, calibration."""
    cache_dir: Path = Field(default_factory=lambda: _xdg_dir("XDG_CACHE_HOME", ".cache"))
    """Converted models and other re-creatable files."""
    db_url: str | None = None
    """A PostgreSQL URL instead of the SQLite file in the data directory."""
    images: ImageLimits = Field(default_factory=ImageLimits)
    detection: DetectionSettings = Field(default_factory=DetectionSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    quality: QualityThresholds = Field(default_factory=QualityThresholds)
    matching: MatchSettings = Field(default_factory=lambda: MatchSettings())
    site_key: SecretStr | None = None
    """The site key (base64 of 32 bytes) instead of ``<data-dir>/site.key``; never logged."""
    retention: RetentionPolicy = Field(default_factory=lambda: RetentionPolicy())
    """Retention periods per data class, in days (see :mod:`facegate.domain.retention`)."""
    server: ServerSettings = Field(default_factory=lambda: ServerSettings())
    """The web server (``facegate serve``)."""
    admin_user: str | None = None
    """First administrator's username (``FACEGATE_ADMIN_USER``), created at start if absent."""
    admin_password: SecretStr | None = None
    """First administrator's password (``FACEGATE_ADMIN_PASSWORD``); never a default."""
    gate: GateSettings = Field(default_factory=lambda: GateSettings())
    """How a gate process runs (see :class:`GateSettings`)."""
    notify: NotifySettings = Field(default_factory=lambda: NotifySettings())
    """Alarm e-mail, and which channel each alarm type goes to."""
    snapshots: SnapshotSettings = Field(default_factory=lambda: SnapshotSettings())
    """Event snapshots (opt-in per site)."""
    request_due_days: Annotated[int, Field(ge=1, le=365)] = DEFAULT_DUE_DAYS
    """Days staff have to act on a resident's erasure or export request (default 30)."""

    @property
    def outbox_path(self) -> Path:
        """The gate's outbox file, under ``<data-dir>/gate/``."""
        return self.data_dir / "gate" / self.gate.outbox_file

    audit_anchor_dir: Path | None = None
    """Where the audit anchor key and its signed checkpoints live (default: the data
    directory); another disk or a mount the database's administrators cannot write keeps
    them apart from the database."""

    @property
    def audit_anchor_folder(self) -> Path:
        """``audit_anchor_dir``, or the data directory when unset."""
        return self.audit_anchor_dir or self.data_dir

    disclosures_visible_to_person: bool = True
    """Whether ``person export`` lists the disclosures to authorities about that person."""

    @property
    def database_path(self) -> Path:
        """The SQLite database file (meaningful when ``db_url`` is unset)."""
        return self.data_dir / DATABASE_FILE

    @property
    def database_url(self) -> str:
        """``db_url`` when set, else the SQLite file in the data directory."""
        return self.db_url or f"sqlite:///{self.database_path}"

    @property
    def site_key_path(self) -> Path:
        """Where ``facegate site init`` writes, and every command reads, the site key."""
        return self.data_dir / SITE_KEY_FILE

    @property
    def calibration_path(self) -> Path:
        """Where ``facegate calibrate`` writes and every command reads the threshold."""
        return self.data_dir / CALIBRATION_FILE

    def match_policy(self, model_id: str) -> tuple[MatchPolicy, str]:
        """The match policy in force for descriptors of ``model_id``, and its source.

        The threshold is the one set explicitly, else the calibration file's when it was
        made for ``model_id``, else :data:`DEFAULT_MATCH_THRESHOLD`. The impostor curve
        that caps 1:N search is that calibration's when it recorded one, else the
        shipped curve (also with an explicit threshold: the file is not read then).

        Returns:
            ``(policy, source)``; source is ``"settings"``, the calibration file's path,
            or ``"default"`` (where the threshold came from).
        """
        shipped = shipped_impostor_curve()
        if self.matching.threshold is not None:
            return self._match(self.matching.threshold, shipped), "settings"
        calibration = read_calibration(self.calibration_path)
        if calibration is not None and calibration.model_id == model_id:
            curve = calibration.impostor_curve or shipped
            return self._match(calibration.threshold, curve), str(self.calibration_path)
        return self._match(DEFAULT_MATCH_THRESHOLD, shipped), "default"

    def _match(self, threshold: float, curve: ImpostorCurve) -> MatchPolicy:
        """The match policy of ``threshold`` and ``curve`` with the configured rest."""
        matching = self.matching
        return MatchPolicy(
            threshold,
            matching.min_margin,
            matching.max_fpir,
            curve,
            matching.cohort_margin,
            matching.cohort_share,
        )


def read_calibration(path: Path) -> Calibration | None:
    """Read a calibration file, ``None`` when absent.

    Raises:
        BadInputError: the file exists but is not a calibration facegate wrote.
    """
    if not path.is_file():
        return None
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise TypeError(f"a JSON object was expected, got {type(raw).__name__}")
        curve = raw.pop("impostor_curve", None)
        calibration = Calibration(
            **raw, impostor_curve=None if curve is None else ImpostorCurve.from_json(curve)
        )
    except (OSError, ValueError, TypeError) as err:
        raise BadInputError(f"{path}: not a valid calibration file ({err})") from err
    # The dataclass checks no types: a threshold of "0.5", null or NaN would otherwise
    # reach the matcher and fail there, far from the file.
    threshold = calibration.threshold
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not math.isfinite(threshold)
    ):
        raise BadInputError(f"{path}: not a valid calibration file (threshold {threshold!r})")
    return calibration


def write_calibration(path: Path, calibration: Calibration) -> None:
    """Write a calibration file atomically (a reader never sees half a file)."""
    raw = asdict(calibration)
    curve = calibration.impostor_curve
    raw["impostor_curve"] = None if curve is None else curve.to_json()
    text = json.dumps(raw, indent=2) + "\n"
    write_atomically(path, text.encode("utf-8"), mode=0o644)
