"""Pure domain layer: dataclasses, matching maths, error-rate maths and errors (no I/O)."""
