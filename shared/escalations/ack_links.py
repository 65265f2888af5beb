"""One-click acknowledge links used: each link's nonce is recorded when the link acknowledges
its escalation, in the same transaction, so a link acknowledges at most once and a refused
acknowledgement leaves the link usable.

`acknowledge_by_link` is the whole POST: it records the nonce, checks the escalation and
acknowledges it; any refusal rolls the transaction back (the nonce with it) and raises the
API's error with its code: `ack_link_used`, `not_found`, `wrong_role`, `already_acked`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from shared.channels.links import AckClaim
from shared.errors import APIError, conflict, not_found
from shared.escalations.models import ACKED, OPEN, Escalation
from shared.models import ts_field

ACK_LINK_USED, WRONG_ROLE, ALREADY_ACKED = "ack_link_used", "wrong_role", "already_acked"


# A one-click acknowledge link that was used, by its nonce (never the token: that is the
# credential, this only says which link it was).
class AckLinkUse(SQLModel, table=True):
    __tablename__ = "ack_links"
    __table_args__ = {"schema": "escalation"}

    nonce: str = Field(primary_key=True, max_length=32)
    escalation_id: int = Field(index=True, foreign_key="escalation.escalations.id")
    role: str = Field(max_length=48)
    channel: str = Field(max_length=200)
    expires_at: datetime = ts_field()
    used_at: datetime = ts_field()
    # Who used it, as far as orderflow can tell: the client's address.
    used_by: str = Field(max_length=200)


def acked_by_link(claim: AckClaim) -> str:
    """What an escalation acknowledged by a link records as `acked_by`."""
    return f"{claim.role} (one-click link in {claim.channel})"


async def use_of(session: AsyncSession, nonce: str) -> AckLinkUse | None:
    """The recorded use of the link with `nonce`, None when it was not used."""
    return await session.get(AckLinkUse, nonce)


def used_error(use: AckLinkUse) -> APIError:
    return APIError(
        409,
        ACK_LINK_USED,
        f"this acknowledge link was already used at {use.used_at:%Y-%m-%d %H:%M}Z",
        extra={"used_at": use.used_at.isoformat()},
    )


def wrong_role_error(claim: AckClaim, escalation: Escalation) -> APIError:
    return APIError(
        403,
        WRONG_ROLE,
        f"this link acknowledges as {claim.role}, but escalation {escalation.id} is raised to "
        f"{escalation.role}: use the link of the message sent to {escalation.role}",
        extra={"link_role": claim.role, "role": escalation.role},
    )


def already_acked_error(escalation: Escalation) -> APIError:
    at = escalation.acked_at
    when = f"{at:%Y-%m-%d %H:%M}Z" if at else "an unknown time"
    return APIError(
        409,
        ALREADY_ACKED,
        f"escalation {escalation.id} was acknowledged by {escalation.acked_by} at {when}",
        extra={"acked_by": escalation.acked_by, "acked_at": at.isoformat() if at else None},
    )


def check_open(claim: AckClaim, escalation: Escalation | None) -> Escalation:
    """The escalation when the link may acknowledge it; the refusal otherwise."""
    if escalation is None:
        raise not_found(f"escalation {claim.escalation_id}")
    if escalation.role != claim.role:
        raise wrong_role_error(claim, escalation)
    if escalation.state != OPEN:
        raise already_acked_error(escalation)
    return escalation


async def _record_use(
    session: AsyncSession, claim: AckClaim, *, used_by: str, at: datetime
) -> bool:
    """Record the link used; False when it already was (a concurrent use of the same link
    waits here on the nonce's key until the other transaction ends)."""
    recorded = await session.execute(
        insert(AckLinkUse)
        .values(
            nonce=claim.nonce,
            escalation_id=claim.escalation_id,
            role=claim.role,
            channel=claim.channel,
            expires_at=claim.expires_at,
            used_at=at,
            used_by=used_by[:200],
        )
        .on_conflict_do_nothing(index_elements=["nonce"])
        .returning(col(AckLinkUse.nonce))
    )
    return recorded.scalar_one_or_none() is not None


async def acknowledge_by_link(
    session: AsyncSession, claim: AckClaim, *, used_by: str, at: datetime
) -> Escalation:
    """Acknowledge the claim's escalation as its role and record the link used, in one
    transaction committed here; on a refusal everything is rolled back (the link stays
    usable) and the APIError raised. Of two concurrent uses of one link the second is refused
    as used once the first commits, and goes on if the first was refused."""
    try:
        escalation = await session.get(Escalation, claim.escalation_id)
        if escalation is None:
            raise not_found(f"escalation {claim.escalation_id}")
        if not await _record_use(session, claim, used_by=used_by, at=at):
            use = await use_of(session, claim.nonce)
            if use is None:  # rows are never deleted: only if someone deleted it by hand
                raise conflict(ACK_LINK_USED, "this acknowledge link was already used")
            raise used_error(use)
        check_open(claim, escalation)
        acked = await session.execute(
            update(Escalation)
            .where(col(Escalation.id) == claim.escalation_id, col(Escalation.state) == OPEN)
            .values(state=ACKED, acked_by=acked_by_link(claim), acked_at=at)
            .returning(Escalation)
        )
        row = acked.scalars().first()
        if row is None:  # acknowledged by someone else since it was read
            await session.rollback()
            await session.refresh(escalation)
            raise already_acked_error(escalation)
        await session.commit()
        return row
    except APIError:
        await session.rollback()
        raise
