"""facegate: face-recognition access control for residential complexes.

Importing this package does nothing but define names: models are loaded and settings
are read by :mod:`facegate.bootstrap` when a process asks for them.
"""

__version__ = "0.1.0"
