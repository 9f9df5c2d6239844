"""The HTTP pieces the API and the web pages share.

Sessions, CSRF, device keys, the error table, bounded uploads, metrics, QR codes and TLS.
``facegate.api`` (JSON under ``/api/v1``) and ``facegate.web`` (server-rendered pages)
both import from here and never from each other; :mod:`facegate.app` composes them.
"""
