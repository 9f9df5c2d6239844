"""The bench's TCP proxy really ends the server's sessions when it cuts the database.

Before, a cut let one pipe thread close the other direction's socket while that
thread was blocked reading it; the connection to PostgreSQL stayed open and about 8 of
20 sessions survived, idle in transaction, holding what they had inserted (the bench
run whose database cut never drained)."""

from __future__ import annotations

import uuid

import psycopg
from sqlalchemy import Engine, text

from facegate.citybench.infra import TcpProxy
from support import wait_for

CONNECTIONS = 20


def _sessions(admin: Engine, name: str) -> int:
    query = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n")
    with admin.connect() as connection:
        return int(connection.execute(query, {"n": name}).scalar_one())


def test_a_cut_ends_every_server_session_behind_the_proxy(postgres_admin: Engine) -> None:
    url, name = postgres_admin.url, f"fgproxy{uuid.uuid4().hex[:8]}"
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    clients: list[psycopg.Connection[tuple[object, ...]]] = []
    try:
        for _ in range(CONNECTIONS):
            client = psycopg.connect(host="127.0.0.1", port=proxy.port, dbname=url.database,
                                     user=url.username, password=url.password,
                                     application_name=name, connect_timeout=5)  # fmt: skip
            client.execute("SELECT 1")  # idle in transaction, as a writer cut mid-batch
            clients.append(client)
        assert _sessions(postgres_admin, name) == CONNECTIONS
        proxy.cut()
        assert wait_for(lambda: _sessions(postgres_admin, name) == 0, timeout_s=5), (
            f"{_sessions(postgres_admin, name)} of {CONNECTIONS} sessions outlived the cut"
        )
    finally:
        proxy.cut()
        with postgres_admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE application_name = :n"), {"n": name})  # fmt: skip
        for client in clients:
            client.close()
