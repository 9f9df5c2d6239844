"""``facegate uplink join URL TOKEN``: exchange a one-time token for the site's credentials."""

from __future__ import annotations

import httpx

from facegate.city.keys import load_or_create_private, public_from_text, public_text
from facegate.domain.errors import BadInputError, PolicyRefusedError, UpstreamUnavailableError
from facegate.uplink.state import UplinkConfig, UplinkFiles

JOIN_PATH = "/hub/v1/join"
"""The hub's join endpoint."""

TIMEOUT_S = 10.0
"""How long the join request may take (seconds)."""


def join(
    files: UplinkFiles, hub_url: str, token: str, accept_free_passage: bool = False
) -> UplinkConfig:
    """Make the site's key pair (kept if present), send its public key with ``token``.

    The hub answers the site's id, the broker and the hub's public key, which is pinned
    in ``uplink.json``.

    Raises:
        BadInputError: a malformed URL or answer.
        PolicyRefusedError: the hub refused the token.
        UpstreamUnavailableError: the hub cannot be reached.
    """
    if not hub_url.startswith(("http://", "https://")):
        raise BadInputError(f"not an HTTP(S) URL: {hub_url!r}")
    key = load_or_create_private(files.key_path)
    body = {"token": token, "public_key": public_text(key)}
    try:
        answer = httpx.post(hub_url.rstrip("/") + JOIN_PATH, json=body, timeout=TIMEOUT_S)
    except httpx.HTTPError as err:
        raise UpstreamUnavailableError(f"hub {hub_url} unreachable ({err})") from err
    if answer.status_code in (401, 403):
        raise PolicyRefusedError(f"the hub refused the join token ({answer.text[:200]})")
    if answer.status_code != 200:
        raise BadInputError(f"hub answered {answer.status_code}: {answer.text[:200]}")
    try:
        document = answer.json()
        config = UplinkConfig(
            hub_url=hub_url.rstrip("/"),
            site_id=str(document["site_id"]),
            broker_host=str(document["broker_host"]),
            broker_port=int(document["broker_port"]),
            hub_public_key=str(document["hub_public_key"]),
            broker_password=document.get("broker_password"),
            accept_free_passage=accept_free_passage,
        )
    except (ValueError, KeyError, TypeError) as err:
        raise BadInputError(f"the hub's answer is malformed ({err})") from err
    public_from_text(config.hub_public_key)  # refuse a malformed key now, not at a notice
    files.save_config(config)
    if not files.cursor_path.exists():
        files.save_cursor(0)
    return config
