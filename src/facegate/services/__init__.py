"""Use cases, written against the ports: evaluation and calibration so far."""
