"""Field reports for the phone: report types, filing (drafts, submit, amend), versions and attachments.

Who sees a report is ``visible_reports``; one they cannot see answers 404 exactly like one that does not
exist. Only the author edits a draft, submits it or attaches files; amending is for the author, the area's
supervisors and administrators.
"""

from django.conf import settings
from django.db.models import OuterRef, Prefetch, Subquery
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response

from config.api import refused_unless
from reports.api.serializers import (
    AmendSerializer,
    AreaSerializer,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    ReportCreateSerializer,
    ReportListSerializer,
    ReportSerializer,
    ReportTypeSerializer,
    ReportUpdateSerializer,
    VersionSerializer,
)
from reports.api.uploads import AttachmentUploadParser
from reports.areas import with_descendants
from reports.models import Area, Attachment, Circulation, Report, ReportTypeVersion, ReportVersion
from reports.selectors import may_amend, visible_reports
from reports.services.filing import (
    Place,
    attachment_add,
    attachment_viewed,
    report_amend,
    report_draft_save,
    report_draft_submit,
    report_draft_update,
    report_submit,
    report_viewed,
    reports_listed,
)
from units.api.schedule_serializers import StrictFilterForm

NOT_AUTHOR = "Only the report's author can do this."
NOT_AMENDER = "Only the author, the area's supervisors and administrators can amend a report."
NO_PERSON = "Only people with a person record can file reports."
CONFLICT = OpenApiResponse(description="A report with this id exists with other content or another author, or "
                                       "the report's state does not allow this (`conflict`).")
TOO_LARGE = OpenApiResponse(description="The file is over the size limit (`too_large`), refused as soon as the "
                                        "body's length or the file's bytes pass it.")
REFUSED_TYPE = OpenApiResponse(description="The file's type is not allowed, its content is not the type it was sent "
                                           "as (the message names what was found), or the body is not multipart "
                                           "(`unsupported_media_type`).")
# What each operation checks that the schema cannot say, under the field the 400 names.
KNOWN_TYPE = "is the slug of an active report type with a published version (`GET /report-types/`)"
KNOWN_AREA = "is the code of a known area, or null"
DRAFT_DATA = "holds only fields of the type's form"
VALID_DATA = ("meets the type version's JSON Schema (`GET /report-types/`); each error is named by its field, "
              "e.g. `data.age`")
MISSING_CHILD = {
    "name": "Amy Clarke", "age": 9, "date_of_birth": "2017-02-14",
    "description": "White, slim, 4 ft, long brown hair in a ponytail",
    "clothing": "Red school coat, grey skirt, pink backpack", "last_seen_place": "Brixton station, Brixton Road",
    "last_seen_at": "2026-06-03T08:40:00+01:00", "vulnerabilities": ["child", "asthma: no inhaler with her"],
    "risk_factors": "Never gone missing before; did not arrive at school", "grading": "high",
    "rationale": "Nine years old, out of character, needs medication",
}


FILTER_MAX = 40
FILTER_LENGTH = f"is at most {FILTER_MAX} characters"


class ReportFilter(filters.FilterSet):
    state = filters.ChoiceFilter(choices=Report.State.choices, help_text="Only drafts or only submitted reports.")
    type = filters.CharFilter(field_name="report_type__slug", max_length=FILTER_MAX, help_text="A type's slug.")
    area = filters.CharFilter(method="filter_area", max_length=FILTER_MAX,
                              help_text="An area's code: reports in it and in the areas under it.")
    grading = filters.CharFilter(max_length=FILTER_MAX, help_text="e.g. high.")

    class Meta:
        model = Report
        form = StrictFilterForm
        fields = ["state", "type", "area", "grading"]

    def filter_area(self, queryset, name, value):
        named = Area.objects.filter(code=value).values_list("pk", flat=True)
        return queryset.filter(area_id__in=with_descendants(named))


class ReportTypeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = ReportTypeVersion.objects.none()  # names the model for the schema; get_queryset picks the rows
    serializer_class = ReportTypeSerializer
    filter_backends = []

    def get_queryset(self):
        latest = (ReportTypeVersion.objects.filter(report_type=OuterRef("report_type"), published_at__isnull=False)
                  .order_by("-number").values("pk")[:1])
        return (ReportTypeVersion.objects.filter(report_type__active=True, pk=Subquery(latest))
                .select_related("report_type").order_by("report_type__name"))

    @extend_schema(summary="Report types I can file",
                   description="The current published version of each active type: its schema (with titles and "
                   "help texts for the form), promoted fields and grading field. File under the slug.")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class AreaViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    # Every area at once: a force has a few hundred at most, and the phone keeps the list to pick from offline.
    queryset = Area.objects.select_related("parent").order_by("name")
    serializer_class = AreaSerializer
    filter_backends = []
    pagination_class = None

    @extend_schema(summary="Areas to file a report in",
                   description="Every sector and beat, by name: what an officer picks when the phone's position "
                   "is missing or wrong (a report's `area`, by code). Left empty, the area is found from the "
                   "position.")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class PassThroughNegotiation(BaseContentNegotiation):
    """A file is answered as what it is, whatever the Accept header asks for; errors stay JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ReportViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Reports I can see: my own, those circulated to me, my areas' as a supervisor, all as an administrator."""

    queryset = Report.objects.none()  # names the model for the schema; get_queryset scopes it to the caller
    serializer_class = ReportSerializer
    filterset_class = ReportFilter
    lookup_value_regex = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def get_queryset(self):
        # The author's phone shows a report as circulated once it is: the latest circulation's time.
        circulated = Circulation.objects.filter(report=OuterRef("pk")).order_by("-created_at").values("created_at")[:1]
        reports = (visible_reports(self.request.user).annotate(circulated_at=Subquery(circulated))
                   .select_related("report_type", "type_version", "area", "author").order_by("-received_at", "pk"))
        if self.action == "list":
            return reports
        return reports.prefetch_related(
            Prefetch("versions", queryset=ReportVersion.objects.select_related("author__person").order_by("number")),
            Prefetch("attachments", queryset=Attachment.objects.select_related("uploaded_by__person")),
        )

    def get_serializer_class(self):
        return ReportListSerializer if self.action == "list" else ReportSerializer

    def shaped(self, report, status_code=status.HTTP_200_OK) -> Response:
        """The report as the detail shows it, read again after a change."""
        return Response(ReportSerializer(self.get_queryset().get(pk=report.pk)).data, status=status_code)

    def require_author(self, report):
        if report.author.user_id != self.request.user.pk:
            raise PermissionDenied(NOT_AUTHOR)

    @extend_schema(summary="Reports I can see", description="Newest first; drafts only to their author.",
                   responses={200: ReportListSerializer(many=True), 400: refused_unless(
                       type=FILTER_LENGTH, area=FILTER_LENGTH, grading=FILTER_LENGTH)})
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        if page:
            reports_listed(reports=page, actor=request.user)
        return self.get_paginated_response(ReportListSerializer(page, many=True).data)

    @extend_schema(
        summary="File a report, as a draft or submitted",
        description="`id` is a UUID the phone makes for each new report. Submitted (`submit: true`), the data is "
        "checked against the type's schema; each error names its field (`data.age`). Sending the same submission "
        "again returns the report as first filed (200); the same id with other content is a 409. A draft "
        "(`submit: false`) can be incomplete and is saved again under the same id.",
        request=ReportCreateSerializer,
        responses={201: ReportSerializer,
                   200: OpenApiResponse(ReportSerializer, description="A repeat of a submission, or a draft "
                                        "saved again."),
                   400: refused_unless(report_type=KNOWN_TYPE, area=KNOWN_AREA,
                                       data=f"{DRAFT_DATA}; submitted, it {VALID_DATA}"),
                   409: CONFLICT},
        examples=[OpenApiExample("High-risk missing child", request_only=True, value={
            "id": "6f1c2a9e-4b7d-4e21-9a55-3c8d0f7b1e42", "report_type": "missing-person", "data": MISSING_CHILD,
            "location": {"latitude": 51.4613, "longitude": -0.1145, "accuracy_m": 12}, "area": "brixton",
            "captured_at": "2026-06-03T09:05:00+01:00", "submit": True,
        })],
    )
    def create(self, request):
        person = getattr(request.user, "person", None)
        if person is None:
            raise PermissionDenied(NO_PERSON)
        payload = validated(ReportCreateSerializer, request)
        file = report_submit if payload["submit"] else report_draft_save
        report, created = file(report_id=payload["id"], report_type=payload["report_type"], actor=request.user,
                               data=payload["data"], place=place_of(payload), captured_at=payload["captured_at"])
        return self.shaped(report, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(summary="One report", description="The latest content, every version's number, author and "
                   "reason, and the attachments. Reading it is recorded in the audit log.")
    def retrieve(self, request, pk=None):
        report = self.get_object()
        report_viewed(report=report, actor=request.user)
        return Response(ReportSerializer(report).data)

    @extend_schema(
        summary="Edit a draft",
        description="From any of the author's devices. `data` is a JSON merge patch: fields given replace the "
        "draft's, null removes one, others stay. A submitted report cannot be edited: amend it (409).",
        request=ReportUpdateSerializer,
        responses={200: ReportSerializer, 400: refused_unless(area=KNOWN_AREA, data=f"(once patched) {DRAFT_DATA}"),
                   409: CONFLICT},
    )
    def partial_update(self, request, pk=None):
        report = self.get_object()
        self.require_author(report)
        payload = validated(ReportUpdateSerializer, request)
        report_draft_update(report=report, actor=request.user, data_patch=payload.get("data"),
                            place=place_of(payload, report) if {"location", "area"} & payload.keys() else None,
                            captured_at=payload.get("captured_at"), captured_at_given="captured_at" in payload)
        return self.shaped(report)

    @extend_schema(summary="Submit a draft",
                   description="Checks it against the schema (400 naming each field) and files version 1. "
                   "Submitting again returns it as it is.",
                   request=None, responses={200: ReportSerializer, 400: refused_unless(data=VALID_DATA),
                                            409: CONFLICT})
    @action(detail=True, methods=["post"], filter_backends=[])
    def submit(self, request, pk=None):
        report = self.get_object()
        self.require_author(report)
        report, _ = report_draft_submit(report=report, actor=request.user)
        return self.shaped(report)

    @extend_schema(
        summary="Amend a submitted report",
        description="A new version with its reason; the earlier ones stay readable. `base_version` is the "
        "version you read: if someone amended it since, a 409 says which is the latest.",
        request=AmendSerializer,
        responses={201: ReportSerializer, 409: CONFLICT,
                   400: refused_unless(data=VALID_DATA, area=KNOWN_AREA, reason="has more than spaces")},
        examples=[OpenApiExample("Found a witness", request_only=True, value={
            "base_version": 1, "reason": "Witness saw her on the 2 bus towards Stockwell",
            "data": {**MISSING_CHILD, "last_seen_place": "Number 2 bus, Stockwell Road"},
        })],
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def amend(self, request, pk=None):
        report = self.get_object()
        if not may_amend(request.user, report):
            raise PermissionDenied(NOT_AMENDER)
        payload = validated(AmendSerializer, request)
        report_amend(report=report, actor=request.user, base_version=payload["base_version"], data=payload["data"],
                     reason=payload["reason"], area=payload["area"])
        return self.shaped(report, status.HTTP_201_CREATED)

    @extend_schema(summary="One version of a report", description="As it was submitted or amended.",
                   parameters=[OpenApiParameter("number", int, OpenApiParameter.PATH, description="1 is the first.")],
                   responses={200: VersionSerializer})
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[0-9]{1,9})", filter_backends=[])
    def version(self, request, pk=None, number=None):
        report = self.get_object()
        version = get_object_or_404(report.versions.select_related("author__person", "type_version", "area"),
                                    number=int(number))
        report_viewed(report=report, actor=request.user, version=version.number)
        return Response(VersionSerializer(version).data)

    @extend_schema(
        summary="Attach a photo or document",
        description="Multipart, as `file`. Drafts and submitted reports alike, by their author. The same file "
        "again returns the one kept (200).",
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer,
                   200: OpenApiResponse(AttachmentSerializer, description="This file was attached already."),
                   400: refused_unless(file="is not empty"), 413: TOO_LARGE, 415: REFUSED_TYPE},
    )
    @action(detail=True, methods=["post"], filter_backends=[], parser_classes=[AttachmentUploadParser])
    def attachments(self, request, pk=None):
        report = self.get_object()
        self.require_author(report)
        upload = validated(AttachmentUploadSerializer, request)["file"]
        attachment, created = attachment_add(report=report, actor=request.user, upload=upload)
        return Response(AttachmentSerializer(attachment).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="Download an attachment", description="The file as it was uploaded; fetching it is audited.",
        parameters=[OpenApiParameter("attachment_id", int, OpenApiParameter.PATH)],
        responses={(200, content_type): OpenApiTypes.BINARY for content_type in settings.REPORT_ATTACHMENT_TYPES},
    )
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_id>[0-9]{1,18})",
            filter_backends=[], content_negotiation_class=PassThroughNegotiation)
    def attachment(self, request, pk=None, attachment_id=None):
        report = self.get_object()
        attachment = get_object_or_404(report.attachments, pk=int(attachment_id))
        try:
            content = attachment.file.open("rb")
        except FileNotFoundError:
            raise NotFound("The file is missing from storage.") from None
        attachment_viewed(attachment=attachment, actor=request.user)
        return FileResponse(content, content_type=attachment.content_type, as_attachment=True,
                            filename=attachment.filename)


def validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def place_of(payload: dict, report: Report | None = None) -> Place:
    """Where the report was taken: the location sent (or, when only the area changes, the one it had)."""
    if "location" in payload or report is None:
        location = payload.get("location") or {}
        latitude, longitude = location.get("latitude"), location.get("longitude")
        accuracy_m = location.get("accuracy_m")
    else:
        latitude, longitude, accuracy_m = report.latitude, report.longitude, report.accuracy_m
    return Place(latitude=latitude, longitude=longitude, accuracy_m=accuracy_m, area=payload.get("area"))
