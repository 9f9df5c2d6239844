"""The city hub: sites, their health and events, alarms and notices (PostgreSQL only).

Its own composition root (:mod:`facegate.hub.bootstrap`), its own schema
(``facegate_hub``) and DDL (:mod:`facegate.hub.schema`). It holds no person, template,
photo or name of a person: an event is a door, a time, an outcome, a reason and a
credential kind.
"""
