"""The staff dashboard: the durable event log, its live stream and the console."""
