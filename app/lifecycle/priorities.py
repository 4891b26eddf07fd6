"""Listener priorities: a pair shares one, so what opens first closes last."""

CONTEXT = 300
REPORT = 250  # after_server_stop only: after the resources below closed
DATABASE = 200
EXECUTOR = 100
