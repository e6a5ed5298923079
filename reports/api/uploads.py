"""The attachment upload's body is refused as early as it can be, not after all of it was read and spooled to disk:
by its Content-Length before a byte of it is read, and, whatever that header said, as soon as the file passes
REPORT_ATTACHMENT_MAX_BYTES. Both answer the 413 the size check in the filing service answers, naming the limit.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from rest_framework.parsers import MultiPartParser

from reports.services.filing import AttachmentTooLarge, too_large

# Room for the multipart boundaries and part headers around the one file the upload takes.
MULTIPART_OVERHEAD = 64 * 1024


class AttachmentSizeLimit(FileUploadHandler):
    """First of the request's upload handlers, so no later one (the temporary file) gets a byte over the limit."""

    # The body is read in chunks of the smallest handler's size: with this, a file over the limit is stopped at
    # most this far past it, whatever is still to come.
    chunk_size = 16 * 1024

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = settings.REPORT_ATTACHMENT_MAX_BYTES

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > self.limit + MULTIPART_OVERHEAD:
            raise AttachmentTooLarge(too_large(self.limit))

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            raise AttachmentTooLarge(too_large(self.limit))
        return raw_data

    def file_complete(self, file_size):
        return None  # the handlers after this one keep the file


class AttachmentUploadParser(MultiPartParser):
    """Multipart, with the size limit checked while the body is read."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]
        request.upload_handlers.insert(0, AttachmentSizeLimit(request))
        return super().parse(stream, media_type, parser_context)
