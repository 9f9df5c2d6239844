"""What a site and the city hub exchange: wire formats, signatures, topics.

Shared by the hub (``facegate.hub``) and the site's uplink (``facegate.uplink``); it
imports neither. Nothing here names a person, a template or an image: the hub has no
place for them.
"""
