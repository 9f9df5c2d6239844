"""The web server: a FastAPI application over the services (built by ``bootstrap``).

Nothing here runs at import time; :func:`facegate.app.create_app` builds the app.
"""
