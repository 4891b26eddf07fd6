"""An organisation's members: listing them, changing roles, removing, leaving."""
