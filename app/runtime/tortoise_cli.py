"""Config for Tortoise's own CLI (`tortoise makemigrations`), named in pyproject.toml.

Only that CLI imports this module; the app builds its config from settings at start.
"""

import os

from app.runtime.db import tortoise_config
from app.settings import load_settings

TORTOISE_ORM = tortoise_config(load_settings(os.environ))
