"""Liveness cues (presentation attack detection): texture, motion, and their fusion."""
