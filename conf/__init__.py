"""Settings profiles. `APP_ENV` picks one of development, testing or production.

Each profile module exposes `OVERRIDES`, a dict laid over `conf.base.DEFAULTS`;
environment variables of the same (upper-case) names override both. Parsing and
validation live in `app.settings`, so these modules stay plain data.
"""
