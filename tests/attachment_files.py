"""Files for the attachment tests (issue 18 item 5): a photo with an EXIF location, a PDF, a
recording, and files that only pretend to be photos."""

from __future__ import annotations

import io
import struct

from PIL import Image

GPS_IFD = 0x8825


def photo_with_location(size: tuple[int, int] = (800, 600), fmt: str = "JPEG") -> bytes:
    """A picture whose EXIF names the camera and where it was taken (北京, 39.9N 116.4E)."""
    image = Image.new("RGB", size, (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "SecretPhone 9"  # Model
    exif[GPS_IFD] = {1: "N", 2: (39.0, 54.0, 0.0), 3: "E", 4: (116.0, 24.0, 0.0)}
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


def has_exif(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        return bool(image.getexif()) or "exif" in image.info


def gps_of(data: bytes) -> dict:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(GPS_IFD))


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def wav(seconds: float = 0.1) -> bytes:
    rate = 8000
    frames = b"\x00\x00" * int(rate * seconds)
    header = b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return header + fmt + b"data" + struct.pack("<I", len(frames)) + frames


# A Windows program (its "MZ" header) named like a photo.
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 200
    + b"This program cannot be run in DOS mode."
)
# A script named like a photo.
HTML = b"<html><script>alert(1)</script></html>"
