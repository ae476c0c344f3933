"""Every query of the notifier, by concern; each returns dataclasses or plain values."""
