"""Installing and checking a facegate server (composition level: may import every layer)."""
