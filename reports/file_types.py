"""What an uploaded file really is, told from its content rather than from the type its sender declared.

Binary formats are known by their signature (the ``filetype`` package: pure Python, so a fresh machine needs no
libmagic). Plain text has no signature: a file is text/plain when none is found and all of it is UTF-8 without a
NUL, which a phone's notes are and an executable or a renamed binary is not.
"""

from __future__ import annotations

import codecs

import filetype

SIGNATURE_BYTES = 8192  # as much of the start as filetype looks at
TEXT = "text/plain"
# One container, two names: whether an MP4 holds sound only or pictures too is not in its signature.
SAME_CONTENT = {("audio/mp4", "video/mp4")}


class ContentSniffer:
    """Fed the file's chunks as they are read (for its hash too), then says what the content is."""

    def __init__(self):
        self.head = bytearray()
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = True

    def feed(self, chunk: bytes) -> None:
        if len(self.head) < SIGNATURE_BYTES:
            self.head += chunk[:SIGNATURE_BYTES - len(self.head)]
        if self.text:
            self.text = b"\x00" not in chunk and self.decodes(chunk)

    def decodes(self, chunk: bytes, final: bool = False) -> bool:
        try:
            self.decoder.decode(chunk, final=final)
        except UnicodeDecodeError:
            return False
        return True

    def content_type(self) -> str | None:
        """The MIME type of what was fed, or None when it is nothing known."""
        kind = filetype.guess(bytes(self.head))
        if kind is not None:
            return kind.mime
        return TEXT if self.text and self.decodes(b"", final=True) else None


def same_content(declared: str, found: str) -> bool:
    return declared == found or (declared, found) in SAME_CONTENT or (found, declared) in SAME_CONTENT
