"""How ``facegate serve`` runs uvicorn: forwarded headers and an access log without secrets.

* ``X-Forwarded-For`` is believed only from ``ServerSettings.trusted_proxies`` (uvicorn
  itself trusts 127.0.0.1 by default: any local process, or a proxy that passes a
  client's header on, would choose the address the login rate limit counts by).
* The access log never writes query strings: a password reset link carries its one-time
  token there (``/reset?token=...``).
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from facegate.config import ServerSettings


class NoQueryStringFilter(logging.Filter):
    """Cuts the query string off the path in uvicorn's access log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record``'s path argument (``uvicorn.access`` passes it third)."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = args[2].split("?", 1)[0]
            record.args = (*args[:2], path, *args[3:])
        return True


def access_log_config() -> dict[str, Any]:
    """Uvicorn's logging configuration with :class:`NoQueryStringFilter` on the access log."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["no_query_string"] = {"()": NoQueryStringFilter}
    config["handlers"]["access"].setdefault("filters", []).append("no_query_string")
    return config


def uvicorn_options(server: ServerSettings) -> dict[str, Any]:
    """Keyword arguments of ``uvicorn.run`` for ``server`` (besides host, port and TLS)."""
    proxies = list(server.trusted_proxies)
    return {
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
        "server_header": False,
        "log_config": access_log_config(),
        "log_level": "info",
    }
