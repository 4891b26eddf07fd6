"""What operators see: metrics, structured logs, per-request timing."""
