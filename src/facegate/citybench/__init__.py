"""``facegate bench city``: simulated sites running the real uplink against a real hub.

Everything the bench starts it also stops: its own Mosquitto on a free port, a TCP proxy
in front of the shared PostgreSQL, a scratch database (dropped at the end), the site and
ingest processes. The shared broker and database server are never touched.
"""
