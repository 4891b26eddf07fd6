"""Logging: Sanic's own configuration plus the `onramp` loggers, whose lines carry the
request id; JSON for shippers, text for people; buffered writes for the busy lines.

Headers are never logged, so no Authorization value or token can end up in a log line.
"""
