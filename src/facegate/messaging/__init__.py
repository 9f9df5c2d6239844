"""Adapters that tell the outside world: webhooks (MQTT comes with the gate)."""
