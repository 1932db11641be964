"""Marking a ticket's photo public or not (issue 18 item 5): a public photo is what Open311's
`media_url` and the public board show; nothing else of a ticket's attachments ever is.

Who may: the staff of the unit holding the ticket (the lifecycle's HOLDING relation,
`access.require_own_department`: the unit that answers for it, which took or will take the
after-repair photo), and the desk: dispatchers, supervisors and admins (`access.DISPATCH_ROLES`),
for a ticket they may see (`access.can_see`; a confidential one is the supervisors' only). Not
operators, and not an assisting unit: what the public sees of a ticket is for the unit that
answers for it and for those who place it.

What is shown is the file as kept: an image is re-encoded without any EXIF (no location, no
camera) when it is attached (`attachments.prepare`), so a public photo never carries one."""

from __future__ import annotations

from flask_babel import gettext as _

from hotline.extensions import db
from hotline.models import Attachment, AttachmentKind, Role, Ticket, User
from hotline.services.accounts import access
from hotline.services.errors import InvalidInput, NotFound, PermissionDenied
from hotline.services.ticketing.transition import record_event

MADE_PUBLIC = "photo_made_public"  # the events on the ticket's timeline
MADE_PRIVATE = "photo_made_private"


def may_set(actor: User, ticket: Ticket) -> bool:
    """Whether the actor may mark the ticket's photos public or not (the page shows the button)."""
    if actor.role == Role.DEPARTMENT:
        return actor.department_id is not None and access.holder_id(ticket) == actor.department_id
    return actor.has_role(*access.DISPATCH_ROLES) and access.can_see(actor, ticket)


def require(actor: User, ticket: Ticket) -> None:
    """Refuse (PermissionDenied) one who may not mark the ticket's photos public or not (nor
    upload one marked public: `attachments.add`), in the words of the rule they fail."""
    if actor.role == Role.DEPARTMENT:
        access.require_own_department(actor, ticket)
    elif not actor.has_role(*access.DISPATCH_ROLES):
        raise PermissionDenied(_("Only the unit holding the ticket, dispatchers and supervisors may do this."))
    elif not access.can_see(actor, ticket):
        raise PermissionDenied(_("You may not see this ticket."))


def set_public(actor: User, ticket: Ticket, attachment_id: int, public: bool) -> Attachment:
    """Mark the ticket's photo public or not; the timeline says who did it, when. Asking for what
    is already so changes nothing and writes nothing. NotFound for another ticket's attachment
    (as if there were none), InvalidInput for one that is not a photo."""
    require(actor, ticket)
    attachment = db.session.scalars(
        db.select(Attachment).where(Attachment.id == attachment_id, Attachment.ticket_id == ticket.id)
    ).first()  # not `attachments.find`: that module asks this one who may upload a public photo
    if attachment is None:
        raise NotFound(_("No attachment %(id)s on this ticket.", id=attachment_id))
    if public and attachment.kind not in AttachmentKind.IMAGES:
        raise InvalidInput(_("Only photos can be shown publicly."), field="public")
    if attachment.public == public:
        return attachment
    attachment.public = public
    record_event(ticket, actor, MADE_PUBLIC if public else MADE_PRIVATE, None, None, {"attachment": attachment.id})
    db.session.commit()
    return attachment
