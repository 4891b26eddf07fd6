"""Settings profiles. `APP_ENV` picks one of development, testing or production.

Each profile module exposes `OVERRIDES`: only what that profile changes. Every setting's
name, type, default and meaning is declared once, in `app.settings.Settings`;
environment variables of the same names override both. These modules stay plain data.
"""
