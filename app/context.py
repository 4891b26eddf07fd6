"""What one worker runs on: its resources and its services, typed, built in one place.

`build_context` runs in `before_server_start`, once per worker start; the resources it
creates are opened and closed by one listener pair each (`app.lifecycle`). Handlers
reach every service the same way: `context_of(request).vendors.list(...)`. Nothing here
knows HTTP or Sanic: the supervisor gets Sanic's task spawner handed in.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.accounts.jobs import JOB_NAME as HOUSEKEEPING_JOB
from app.accounts.jobs import housekeeping_job
from app.accounts.passwords import Passwords
from app.accounts.recovery import PasswordResetMail
from app.accounts.service import AccountService
from app.accounts.sessions import Sessions
from app.accounts.tokens import TokenIssuer
from app.accounts.verification import VerificationMail
from app.audit.jobs import JOB_NAME as AUDIT_RETENTION_JOB
from app.audit.jobs import retention_job
from app.audit.service import AuditLog
from app.invitations.acceptance import Acceptance
from app.invitations.jobs import JOB_NAME as EXPIRY_JOB
from app.invitations.jobs import expiry_job
from app.invitations.mail import InvitationMail
from app.invitations.service import InvitationService
from app.mail import outbox
from app.mail.dispatcher import JOB_NAME as DISPATCHER_JOB
from app.mail.dispatcher import Dispatcher
from app.mail.kinds import MailKinds
from app.mail.outbox import Outbox
from app.mail.sealing import Sealer
from app.mail.transports import make_transport
from app.members.service import MemberService
from app.runtime.db import Database
from app.runtime.executor import BlockingExecutor
from app.runtime.jobs import Job
from app.runtime.startup import outbox_dir_writable
from app.runtime.supervisor import Spawn, TaskSupervisor
from app.settings import Settings
from app.vendors.service import VendorService

READY_DB_TIMEOUT = 1.0


@dataclass(frozen=True, eq=False)
class AppContext:
    """One worker's settings, resources and services."""

    settings: Settings
    database: Database
    executor: BlockingExecutor
    supervisor: TaskSupervisor
    dispatcher: Dispatcher
    accounts: AccountService
    vendors: VendorService
    invitations: InvitationService
    acceptance: Acceptance
    members: MemberService
    audit: AuditLog

    async def failed_checks(self) -> list[dict[str, str]]:
        """Readiness: each failed check with why; empty when this worker can serve."""
        failures: list[dict[str, str]] = []
        try:
            await self.database.ping(READY_DB_TIMEOUT)
        except Exception as error:  # any failure to answer is "not ready", with its reason
            failures.append({"check": "database", "error": repr(error)})
        for name in self.supervisor.dead():
            failures.append({"check": f"job:{name}", "error": "background job is not running"})
        if not outbox_dir_writable(self.settings):
            failures.append(
                {"check": "mail", "error": f"OUTBOX_DIR={self.settings.OUTBOX_DIR} is not writable"}
            )
        return failures

    async def outbox_depth(self) -> dict[str, int]:
        return await outbox.depth()

    def jobs(self) -> dict[str, Job]:
        """The domain's background jobs, by name (the lifecycle adds its own)."""
        return {
            DISPATCHER_JOB: self.dispatcher.run,
            EXPIRY_JOB: expiry_job(self.settings.EXPIRY_INTERVAL),
            HOUSEKEEPING_JOB: housekeeping_job(self.settings.HOUSEKEEPING_INTERVAL),
            AUDIT_RETENTION_JOB: retention_job(
                self.settings.AUDIT_RETENTION_DAYS, self.settings.HOUSEKEEPING_INTERVAL
            ),
        }


def build_context(settings: Settings, spawn: Spawn) -> AppContext:
    """Create (not open) everything a worker owns, and wire the services together."""
    database = Database(settings)
    executor = BlockingExecutor(settings.HASH_WORKERS, settings.HASH_QUEUE_MAX)
    sealer = Sealer(settings.SECRET_KEY.get_secret_value())
    kinds = MailKinds(
        InvitationMail(settings.PUBLIC_BASE_URL),
        PasswordResetMail(settings.PUBLIC_BASE_URL, settings.PASSWORD_RESET_TTL),
        VerificationMail(settings.PUBLIC_BASE_URL, settings.VERIFICATION_TTL),
    )
    dispatcher = Dispatcher(settings, make_transport(settings, executor), sealer, kinds)
    outbox = Outbox(sealer, settings.MAIL_FROM, dispatcher.wake)
    vendors = VendorService()
    sessions = Sessions(TokenIssuer(settings), settings.REFRESH_TOKEN_TTL, vendors.membership_block)
    accounts = AccountService(settings, Passwords(settings, executor), sessions, outbox)
    invitations = InvitationService(settings, accounts, outbox)
    vendors.on_close(invitations.vendor_closed)
    return AppContext(
        settings=settings,
        database=database,
        executor=executor,
        supervisor=TaskSupervisor(spawn),
        dispatcher=dispatcher,
        accounts=accounts,
        vendors=vendors,
        invitations=invitations,
        acceptance=Acceptance(accounts),
        members=MemberService(),
        audit=AuditLog(),
    )
