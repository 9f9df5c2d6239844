"""One router module per resource, each mounted under ``/api/v1``."""
