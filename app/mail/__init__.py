"""Durable email: the outbox table, its dispatcher, templates and transports."""
