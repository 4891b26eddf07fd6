"""Invitations: a vendor's contact is invited by email and accepts with a single-use token."""
