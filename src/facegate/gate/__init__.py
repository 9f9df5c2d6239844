"""The gate: camera frames to decisions to doors and lifts, offline too."""
