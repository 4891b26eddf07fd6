"""Users, organisations, memberships (roles), passwords and access tokens."""
