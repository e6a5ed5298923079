"""Pieces every API endpoint shares: the error format, pagination, throttles and the schema's error responses.

Every 4xx answer has one body, whatever raised it:

    {"error": {"code": "invalid", "message": "...", "fields": {"name": ["..."]}}}

``code`` is stable for programs (``invalid``, ``malformed_json``, ``not_authenticated``, ``not_found``,
``conflict``, ...), ``message`` is for people, ``fields`` names each invalid field (empty otherwise), and a
429 adds ``wait``, the seconds until a retry can succeed (also in ``Retry-After``).
"""

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle as DRFAnonRateThrottle
from rest_framework.throttling import SimpleRateThrottle

from callouts.idempotency import IdempotencyKeyReused
from callouts.services.callouts import CalloutError
from reports.services.filing import AttachmentTooLarge, AttachmentTypeRefused, ReportConflict, ReportInvalid
from units.addresses import client_address
from units.authentication import AccountLocked


class Conflict(exceptions.APIException):
    """The request is valid but the object's state does not allow it (a closed callout, ...)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class KeyReused(exceptions.APIException):
    """An idempotency key sent again with a different request: it cannot mean the callout it launched."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The Idempotency-Key was used for a different request."
    default_code = "idempotency_key_reused"


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The upload is too large."
    default_code = "too_large"


def exception_handler(exc, context):
    """DRF's handler, with domain exceptions mapped to HTTP and every answer reshaped to the error format."""
    from rest_framework.views import exception_handler as drf_exception_handler  # views import this module

    if isinstance(exc, CalloutError | ReportConflict):
        exc = Conflict(str(exc))
    elif isinstance(exc, IdempotencyKeyReused):
        exc = KeyReused(str(exc))
    elif isinstance(exc, ReportInvalid):
        exc = exceptions.ValidationError(exc.errors)
    elif isinstance(exc, AttachmentTooLarge):
        exc = TooLarge(str(exc))
    elif isinstance(exc, RequestDataTooBig):
        # Django refuses to read a JSON body longer than this, by its Content-Length, before reading any of it.
        exc = TooLarge(f"A request body may be at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
    elif isinstance(exc, AttachmentTypeRefused):
        exc = exceptions.UnsupportedMediaType("", detail=str(exc))
    elif isinstance(exc, DjangoValidationError):
        # A service's full_clean() refusing what the serializer let through (an overlap, a uniqueness): a 400.
        exc = exceptions.ValidationError(serializers.as_serializer_error(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API exception: a 500, which Django reports
    response.data = {"error": error_body(exc, response.data)}
    return response


def error_body(exc, data) -> dict:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    if isinstance(exc, exceptions.ValidationError):
        return validation_error_body(exc.detail)
    code = "malformed_json" if isinstance(exc, exceptions.ParseError) else exc.default_code
    body = {"code": code, "message": str(data.get("detail", exc.detail)), "fields": {}}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        body["wait"] = int(exc.wait + 0.999)
    return body


def validation_error_body(detail) -> dict:
    if not isinstance(detail, dict):
        messages = [str(message) for message in flatten_list(detail)]
        return {"code": "invalid", "message": " ".join(messages) or "Invalid input.", "fields": {}}
    fields = flatten_fields(detail)
    general = fields.pop(api_settings.NON_FIELD_ERRORS_KEY, []) + fields.pop(NON_FIELD_ERRORS, [])
    names = ", ".join(fields)
    message = " ".join(general) or f"Invalid value for {names}: see fields."
    return {"code": "invalid", "message": message, "fields": fields}


def flatten_fields(detail, prefix: str = "") -> dict[str, list[str]]:
    """``{"keys": {"auth": ["Required."]}}`` becomes ``{"keys.auth": ["Required."]}``; list items get their index."""
    fields: dict[str, list[str]] = {}
    items = detail.items() if isinstance(detail, dict) else enumerate(detail)
    for key, value in items:
        name = f"{prefix}{key}"
        if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict | list) for v in value)):
            fields.update(flatten_fields(value, f"{name}."))
        elif value:
            fields[name] = [str(message) for message in (value if isinstance(value, list) else [value])]
    return fields


def flatten_list(detail):
    for item in detail if isinstance(detail, list) else [detail]:
        if isinstance(item, list):
            yield from flatten_list(item)
        else:
            yield item


def lockout_response(request, original_response=None, credentials=None):
    """Axes' answer to a locked account (AXES_LOCKOUT_CALLABLE): the error format under /api/, text elsewhere."""
    if request.path.startswith("/api/"):
        if original_response is not None:
            return original_response  # the enrolment view already answered account_locked
        error = {"code": AccountLocked.default_code, "message": str(AccountLocked.default_detail), "fields": {}}
        return JsonResponse({"error": error}, status=status.HTTP_403_FORBIDDEN)
    return HttpResponseForbidden(str(AccountLocked.default_detail), content_type="text/plain; charset=utf-8")


@csrf_exempt  # nothing here to protect; without it a DELETE gets Django's HTML CSRF page instead
def not_found(request):
    """Any address under /api/ that names no endpoint: a 404 in the error format, not Django's HTML page."""
    error = {"code": "not_found", "message": f"No API endpoint at {request.path}.", "fields": {}}
    return JsonResponse({"error": error}, status=status.HTTP_404_NOT_FOUND)


class Pagination(PageNumberPagination):
    """``?page=`` and ``?page_size=`` (50 unless asked, at most 200) in the ``count/next/previous/results`` envelope."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        value = request.query_params.get(self.page_query_param)
        if value is not None and not (value.isdigit() and int(value) >= 1):
            raise exceptions.ValidationError({"page": ["A page number from 1."]})
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        # DRF quietly ignores a page_size it cannot read; a client asking for a page size should hear why not.
        value = request.query_params.get(self.page_size_query_param)
        if value is not None and not (value.isdigit() and int(value) >= 1):
            raise exceptions.ValidationError({"page_size": [f"A whole number from 1 to {self.max_page_size}."]})
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Results per page: {self.page_size} unless given, at most {self.max_page_size}."
                )
        return parameters


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers instead of turning them into text: a wrong type is an error."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class DeviceRateThrottle(SimpleRateThrottle):
    """Requests per enrolled device (``device`` rate); requests without a device token are left to others."""

    scope = "device"

    def get_cache_key(self, request, view):
        device_id = getattr(request.auth, "pk", None)
        if device_id is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": device_id}


class ClientAddressIdent:
    """Count per client address as units.addresses finds it (DRF's own get_ident reads NUM_PROXIES)."""

    def get_ident(self, request):
        return client_address(request) or ""


class AnonRateThrottle(ClientAddressIdent, DRFAnonRateThrottle):
    """Requests without a token per client address (``anon`` rate)."""


class EnrolRateThrottle(ClientAddressIdent, SimpleRateThrottle):
    """Enrolment attempts per client address (``enrol`` rate), whatever the username."""

    scope = "enrol"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "description": "Stable code for programs, e.g. invalid, not_found."},
                "message": {"type": "string", "description": "What went wrong, for people."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": "Messages per invalid field (dotted for nested fields); empty otherwise.",
                },
                "wait": {"type": "integer", "description": "Seconds until a throttled request may succeed."},
            },
        }
    },
}
ERROR_DESCRIPTIONS = {
    "400": "Invalid input (`invalid`, `malformed_json`, ...).",
    "401": "No valid device token (`not_authenticated`, `authentication_failed`).",
    "403": "Not allowed (`permission_denied`, `account_locked`).",
    "404": "No such object, or not yours (`not_found`).",
    "409": "The object's state does not allow this (`conflict`).",
    "413": "The body is over the size limit: an upload over REPORT_ATTACHMENT_MAX_BYTES, any other body over "
           "2.5 MB (`too_large`).",
    "415": "The body is not JSON (`unsupported_media_type`).",
    "422": "The request cannot be taken as sent (`idempotency_key_reused`).",
    "429": "Too many requests (`throttled`); retry after `wait` seconds.",
}


def refused_unless(**rules: str) -> OpenApiResponse:
    """The 400 of an operation that checks what a schema cannot say (a code that must exist, an end after its
    start): each rule under the field it is reported on, in backticks, as the error's ``fields`` will name it.

    ``refused_unless(area="is a known area's code")`` reads "... Also refused unless `area` is a known area's code."
    """
    listed = "; ".join(f"`{field}` {rule}" for field, rule in rules.items())
    return OpenApiResponse(description=f"{ERROR_DESCRIPTIONS['400']} Also refused unless {listed}.")


def add_error_responses(result, generator, request, public):
    """drf-spectacular hook: the Error component, the error answers each operation can give, non-empty query
    strings and text without NUL characters.

    A view declares further error statuses with a description only, e.g.
    ``@extend_schema(responses={200: CalloutSerializer, 409: OpenApiResponse(description="Callout closed.")})``;
    this hook gives every 4xx answer the Error body.
    """
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    no_nul_in_request_text(result["components"]["schemas"])
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            non_empty_query_strings(operation)
            responses = operation["responses"]
            for code in error_statuses(path, operation):
                responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code]})
            for code, response in responses.items():
                if code.startswith("4"):
                    response["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return result


NO_NUL = "^[^\\x00]*$"
# Text that may not be blank is stripped first (DRF's trim_whitespace), so spaces alone are blank too. The one
# untrimmed field, the enrolment password, is held to it as well: stricter than the server, never surprising.
NOT_BLANK = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"


def non_empty_query_strings(operation: dict) -> None:
    """A query parameter given empty is refused (StrictFilterForm, InstantField) rather than taken as left out,
    and text with a NUL character is refused (Django's forms): the schema says both."""
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        if parameter["in"] == "query" and schema.get("type") == "string" and "enum" not in schema:
            schema.setdefault("minLength", 1)
            no_nul(schema)


def no_nul_in_request_text(components: dict) -> None:
    """DRF's text fields refuse a NUL character, and those that may not be blank refuse spaces alone: every free
    text a request sends says so with a pattern."""
    for name, schema in components.items():
        if name.endswith("Request"):
            for prop in (schema.get("properties") or {}).values():
                no_nul(prop)


def no_nul(schema: dict) -> None:
    if schema.get("type") == "string" and not {"format", "enum", "pattern"} & schema.keys():
        schema["pattern"] = NOT_BLANK if schema.get("minLength", 0) >= 1 else NO_NUL


def error_statuses(path: str, operation: dict) -> list[str]:
    """The 4xx statuses any operation of this shape can answer, from DRF itself."""
    parameters = operation.get("parameters", [])
    codes = {"403", "429"}
    if "requestBody" in operation:
        codes |= {"400", "413", "415"}
    if any(parameter["in"] == "query" for parameter in parameters):
        codes.add("400")
    if any(requirement for requirement in operation.get("security", [])):
        codes.add("401")
    if "{" in path or any(parameter["name"] == "page" for parameter in parameters):
        codes.add("404")
    return sorted(codes)
