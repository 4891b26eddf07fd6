"""Every action the audit log knows, named `<target>.<what happened>`."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    USER_SIGNED_UP = "user.signed_up"
    USER_EMAIL_VERIFIED = "user.email_verified"
    USER_ADDRESS_RELEASED = "user.address_released"
    USER_LOGIN_SUCCEEDED = "user.login_succeeded"
    USER_LOGIN_FAILED = "user.login_failed"
    USER_PASSWORD_CHANGED = "user.password_changed"  # noqa: S105 (an action name)
    USER_PASSWORD_RESET_REQUESTED = "user.password_reset_requested"  # noqa: S105 (an action name)
    USER_PASSWORD_RESET = "user.password_reset"  # noqa: S105 (an action name)
    VENDOR_CREATED = "vendor.created"
    VENDOR_UPDATED = "vendor.updated"
    VENDOR_DELETED = "vendor.deleted"
    VENDOR_PROFILE_UPDATED = "vendor.profile_updated"
    INVITATION_CREATED = "invitation.created"
    INVITATION_RESENT = "invitation.resent"
    INVITATION_REVOKED = "invitation.revoked"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_EXPIRED = "invitation.expired"
    INVITATION_SENT = "invitation.sent"
    INVITATION_FAILED = "invitation.failed"
    MEMBER_JOINED = "member.joined"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    MEMBER_REMOVED = "member.removed"


class TargetType(StrEnum):
    USER = "user"
    VENDOR = "vendor"
    INVITATION = "invitation"
    MEMBER = "member"
    """A membership, named by its user's id (within the event's organisation)."""
