"""Development tools that are no part of the app (an import-linter contract type)."""
