"""Attachments (issue 18 item 5): photos, documents and recordings kept with a ticket.

A file's type is read from its content (Pillow opens images; a small signature table names PDF
and audio), never from its name. Images are re-encoded by Pillow, so that what is kept and shown
carries no EXIF (no location, no camera) and nothing hidden after the picture; each gets a
thumbnail. The bytes go to the one file store (services/platform/file_store.py) before the row
is committed; if the commit fails they are deleted again, so nothing is half-saved.

Who may attach and see: whoever may see the ticket (the "notes" right: any role, the ticket
visible to them); the views find the ticket through access.ticket_for. Attaching a photo marked
public, or marking one public later, is for fewer: attachment_publicity.py says who."""

from __future__ import annotations

import io
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from flask import Response, current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from hotline.extensions import db
from hotline.models import Attachment, AttachmentKind, Ticket, User
from hotline.services.errors import InvalidInput, ServiceError
from hotline.services.platform import file_store
from hotline.services.platform.file_errors import StorageUnavailable
from hotline.services.ticketing import attachment_publicity, lifecycle
from hotline.services.ticketing.transition import record_event

log = logging.getLogger(__name__)

EVENT_KIND = "attachment_added"
THUMBNAIL_SIZE = (320, 320)
MAX_PIXELS = 40_000_000  # a larger picture is refused, not decoded (a "decompression bomb")
FILENAME_MAX = 200

# Images that Pillow reads, and the formats it names them by.
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
# Documents and recordings: their first bytes (offset, signature, content type).
SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"%PDF-", "application/pdf"),
    (8, b"WAVE", "audio/wav"),  # after "RIFF" and the length
    (0, b"ID3", "audio/mpeg"),
    (0, b"\xff\xfb", "audio/mpeg"),
    (0, b"\xff\xf3", "audio/mpeg"),
    (0, b"\xff\xf2", "audio/mpeg"),
    (0, b"OggS", "audio/ogg"),
    (0, b"#!AMR", "audio/amr"),
)
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "application/pdf": "pdf",
    "audio/wav": "wav",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/amr": "amr",
}


class TooLarge(ServiceError):
    status_code = 413
    error = "payload_too_large"


@dataclass(frozen=True)
class Prepared:
    """A file as it will be kept: its bytes, type and kind, and a thumbnail for an image."""

    data: bytes
    content_type: str
    kind: str
    thumbnail: bytes | None


def max_bytes() -> int:
    return int(current_app.config["HOTLINE_ATTACHMENT_MAX_BYTES"])


def too_large() -> TooLarge:
    limit = max_bytes()
    return TooLarge(
        _("The file is too large: at most %(size)s.", size=_size_text(limit)),
        field="file",
    )


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{max(size // 1024, 1)} KB"


def sniff(data: bytes) -> str | None:
    """The content type the bytes really are (image/*, application/pdf, audio/*), or None."""
    for offset, signature, content_type in SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            if content_type == "audio/wav" and not data.startswith(b"RIFF"):
                continue
            return content_type
    try:
        with Image.open(io.BytesIO(data)) as image:
            return IMAGE_FORMATS.get(image.format or "")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def prepare(data: bytes, kind: str | None) -> Prepared:
    """Check the file and make what is kept; InvalidInput (400) or TooLarge (413) otherwise."""
    if not data:
        raise InvalidInput(_("The file is empty."), field="file")
    if len(data) > max_bytes():
        raise too_large()
    if kind is not None and kind not in AttachmentKind.ALL:
        raise InvalidInput(
            _("Unknown kind “%(kind)s”; one of: %(all)s.", kind=kind, all=", ".join(AttachmentKind.ALL)), field="kind"
        )
    content_type = sniff(data)
    if content_type is None:
        raise InvalidInput(
            _("This file is not a photo (JPEG, PNG, GIF, WebP), a PDF document or a recording (MP3, WAV, OGG, AMR)."),
            field="file",
        )
    if content_type.startswith("image/"):
        kind = kind or AttachmentKind.PHOTO
        if kind not in AttachmentKind.IMAGES:
            raise InvalidInput(_("A photo can be of kind photo, before or after."), field="kind")
        image_data, image_type, thumbnail = _reencode(data)
        return Prepared(image_data, image_type, kind, thumbnail)
    wanted = AttachmentKind.DOCUMENT if content_type == "application/pdf" else AttachmentKind.RECORDING
    if kind not in (None, wanted):
        raise InvalidInput(_("This file can only be of kind %(kind)s.", kind=wanted), field="kind")
    return Prepared(data, content_type, wanted, None)


def _reencode(data: bytes) -> tuple[bytes, str, bytes]:
    """The picture drawn again by Pillow (turned upright first, as its EXIF said), without any
    metadata, and its thumbnail: JPEG, or PNG where it has transparency."""
    try:
        with Image.open(io.BytesIO(data)) as source:
            if source.width * source.height > MAX_PIXELS:
                raise InvalidInput(_("The picture is too large to open."), field="file")
            source.load()
            image = ImageOps.exif_transpose(source)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise InvalidInput(_("The picture is damaged and cannot be opened."), field="file") from None
    alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    image = image.convert("RGBA" if alpha else "RGB")
    fmt, content_type = ("PNG", "image/png") if alpha else ("JPEG", "image/jpeg")
    kept = _encode(image, fmt)
    small = image.copy()
    small.thumbnail(THUMBNAIL_SIZE)
    return kept, content_type, _encode(small, fmt)


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    # A fresh image has no info: nothing of the original's EXIF, XMP or comments is written.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    if fmt == "JPEG":
        clean.save(out, fmt, quality=85, optimize=True)
    else:
        clean.save(out, fmt, optimize=True)
    return out.getvalue()


def add(
    actor: User | None,
    ticket: Ticket,
    data: bytes,
    *,
    filename: str = "",
    kind: str | None = None,
    public: bool = False,
    source: str = "upload",
    prepared: Prepared | None = None,
    kept: Kept | None = None,
) -> Attachment:
    """Attach a file to the ticket (actor None: the system, e.g. a Twilio recording fetched).
    `prepared`: the file already checked (`prepare`) before the ticket was opened, so that a bad
    file refuses the whole request (Open311) instead of leaving a ticket without it; `kept`: and
    already in the store (`store_files`), removed again if the attachment is not saved."""
    try:
        if actor is not None:
            lifecycle.require(actor, ticket, "notes")  # whoever may see the ticket
            if public:
                attachment_publicity.require(actor, ticket)  # the same people as marking one public later
        prepared = prepared or prepare(data, kind)
        if public and prepared.kind not in AttachmentKind.IMAGES:
            raise InvalidInput(_("Only photos can be shown publicly."), field="public")
    except BaseException:
        discard(kept)  # files stored before the ticket was opened: not kept for a refused attachment
        raise
    kept = kept or store_files(prepared, f"tickets/{ticket.number}")
    try:
        attachment = Attachment(
            ticket=ticket,
            kind=prepared.kind,
            content_type=prepared.content_type,
            size=len(prepared.data),
            key=kept.key,
            thumbnail_key=kept.thumbnail_key,
            public=public,
            filename=(filename or "").strip()[:FILENAME_MAX],
            source=source,
            added_by=actor,
        )
        db.session.add(attachment)
        db.session.flush()
        record_event(
            ticket,
            actor,
            EVENT_KIND,
            None,
            None,
            {"attachment": attachment.id, "kind": attachment.kind, "content_type": attachment.content_type},
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        discard(kept)
        raise
    return attachment


@dataclass(frozen=True)
class Kept:
    """A prepared file and its thumbnail in the store, not yet any ticket's (see store_files)."""

    key: str
    thumbnail_key: str | None

    def keys(self) -> list[str]:
        return [self.key] + ([self.thumbnail_key] if self.thumbnail_key else [])


def store_files(prepared: Prepared, folder: str) -> Kept:
    """Put the file and its thumbnail in the store, both or neither (StorageUnavailable, 503, when
    the store cannot be reached). Called by add(); or before a ticket is opened with its file (an
    Open311 request), so that a store that is down refuses the request before a ticket exists.
    Keys are opaque to the rows that name them; the folder only groups them for the operator."""
    store = file_store.store()
    stem = f"{folder}/{secrets.token_hex(16)}"
    extension = EXTENSIONS.get(prepared.content_type, "bin")
    kept = Kept(f"{stem}.{extension}", f"{stem}-thumb.{extension}" if prepared.thumbnail is not None else None)
    written: list[str] = []
    try:
        store.put(kept.key, prepared.data, prepared.content_type)
        written.append(kept.key)
        if kept.thumbnail_key is not None and prepared.thumbnail is not None:
            store.put(kept.thumbnail_key, prepared.thumbnail, prepared.content_type)
            written.append(kept.thumbnail_key)
    except BaseException:
        _remove(store, written)
        raise
    return kept


def discard(kept: Kept | None) -> None:
    """The files of an attachment that will not be saved (its ticket or row was refused)."""
    if kept is not None:
        _remove(file_store.store(), kept.keys())


def _remove(store: file_store.FileStore, keys: list[str]) -> None:
    """The files of an attachment that was not saved. A store that fails now (S3 gone down) leaves
    them behind, unreferenced by any row and so never shown: logged, and the first error raised."""
    for key in keys:
        try:
            store.delete(key)
        except StorageUnavailable:
            log.warning("file %s of an attachment not saved is left in the store", key)


def of_ticket(ticket: Ticket) -> list[Attachment]:
    return list(
        db.session.scalars(db.select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id))
    )


def find(ticket: Ticket, attachment_id: int) -> Attachment | None:
    """The ticket's attachment with this id; None for another ticket's, as if there were none."""
    return db.session.scalars(
        db.select(Attachment).where(Attachment.id == attachment_id, Attachment.ticket_id == ticket.id)
    ).first()


def public_photos(ticket_ids: list[int]) -> dict[int, Attachment]:
    """The first photo marked public of each of these tickets (Open311's media_url)."""
    if not ticket_ids:
        return {}
    rows = db.session.scalars(
        db.select(Attachment)
        .where(
            Attachment.ticket_id.in_(ticket_ids),
            Attachment.public.is_(True),
            Attachment.kind.in_(AttachmentKind.IMAGES),
        )
        .order_by(Attachment.id)
    )
    first: dict[int, Attachment] = {}
    for row in rows:
        first.setdefault(row.ticket_id, row)
    return first


def public_photo(ticket: Ticket, attachment_id: int) -> Attachment | None:
    """The ticket's photo with this id if it is marked public; None otherwise, as if none."""
    attachment = find(ticket, attachment_id)
    if attachment is None or not attachment.public or attachment.kind not in AttachmentKind.IMAGES:
        return None
    return attachment


def content(attachment: Attachment, *, thumbnail: bool = False) -> Iterator[bytes]:
    key = attachment.thumbnail_key if thumbnail and attachment.thumbnail_key else attachment.key
    return file_store.store().stream(key)


def read_limited(stream: io.IOBase | None) -> bytes:
    """An uploaded file's bytes, reading no more than the limit allows (TooLarge above it)."""
    if stream is None:
        return b""
    limit = max_bytes()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise too_large()
    return data


def request_limit(most: int = 1) -> int:
    """The largest request body a form with `most` files may send: the files and the form around them."""
    return most * max_bytes() + 64 * 1024


def file_response(attachment: Attachment, *, thumbnail: bool = False) -> Response:
    """The file streamed: images shown in the page, anything else downloaded; never cached by
    a shared cache (it is seen only by those who may see its ticket)."""
    shown = attachment.content_type.startswith("image/")
    extension = EXTENSIONS.get(attachment.content_type, "bin")
    name = f"{attachment.ticket.number}-{attachment.id}{'-thumb' if thumbnail else ''}.{extension}"
    response = Response(content(attachment, thumbnail=thumbnail), mimetype=attachment.content_type)
    response.headers["Content-Disposition"] = f'{"inline" if shown else "attachment"}; filename="{name}"'
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if not thumbnail:
        response.content_length = attachment.size
    return response
