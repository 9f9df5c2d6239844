"""The ports services depend on, as ``typing.Protocol``s; adapters implement them.

Grouped by side: :mod:`.vision`, :mod:`.liveness`, :mod:`.store`; every name is
importable from ``facegate.ports``.
"""

from facegate.domain.clock import Clock
from facegate.ports.accounts import (
    AccountRepository,
    DoorOpener,
    FrameDecider,
    FrameDecision,
    PasswordHasher,
)
from facegate.ports.archive import SiteDump, TableRepository
from facegate.ports.gate import ActuatorCommand, DoorActuator, Frame, FrameSource, GateUpstream
from facegate.ports.gates import GateRepository, SiteModeRepository, SiteReads
from facegate.ports.liveness import FramePreparer, LivenessCheck, SensorCue
from facegate.ports.store import (
    AccessRuleRepository,
    AlertRepository,
    AuditRepository,
    ConsentRepository,
    CredentialRepository,
    DisclosureRepository,
    EventRepository,
    KeyRepository,
    PassRepository,
    PersonRepository,
    PlaceRepository,
    SiteRepository,
    Store,
    TemplateRepository,
    TemplateSealer,
    UnitOfWork,
)
from facegate.ports.vision import Embedder, PhotoDescriber, Progress
from facegate.ports.zones import ZoneRepository

__all__ = [
    "AccessRuleRepository",
    "AccountRepository",
    "ActuatorCommand",
    "AlertRepository",
    "AuditRepository",
    "Clock",
    "ConsentRepository",
    "CredentialRepository",
    "DisclosureRepository",
    "DoorActuator",
    "DoorOpener",
    "Embedder",
    "EventRepository",
    "Frame",
    "FrameDecider",
    "FrameDecision",
    "FramePreparer",
    "FrameSource",
    "GateRepository",
    "GateUpstream",
    "KeyRepository",
    "LivenessCheck",
    "PassRepository",
    "PasswordHasher",
    "PersonRepository",
    "PhotoDescriber",
    "PlaceRepository",
    "Progress",
    "SensorCue",
    "SiteDump",
    "SiteModeRepository",
    "SiteReads",
    "SiteRepository",
    "Store",
    "TableRepository",
    "TemplateRepository",
    "TemplateSealer",
    "UnitOfWork",
    "ZoneRepository",
]
