"""Circulations for the phone: what was circulated to me, and my acknowledgement."""

from collections import defaultdict

from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.response import Response

from callouts.models import Delivery
from reports.api.circulation_serializers import CirculationSerializer
from reports.models import CirculationRecipient, ReportVersion
from reports.services.circulation import circulation_acknowledge


class CirculationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Reports circulated to me, newest first."""

    queryset = CirculationRecipient.objects.none()  # names the model for the schema; get_queryset scopes it
    serializer_class = CirculationSerializer
    filter_backends = []

    def get_queryset(self):
        grading = ReportVersion.objects.filter(report=OuterRef("circulation__report"),
                                               number=OuterRef("circulation__version")).values("grading")[:1]
        return (CirculationRecipient.objects.filter(person__user=self.request.user)
                .select_related("circulation__report__report_type", "circulation__area")
                .annotate(circulated_grading=Subquery(grading))
                .order_by("-circulation__created_at", "-circulation_id"))

    @extend_schema(summary="Reports circulated to me",
                   description="Newest first, with my acknowledgement and the state of my notices.")
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        with_notices(page)
        return self.get_paginated_response(CirculationSerializer(page, many=True).data)

    @extend_schema(summary="Acknowledge a circulation",
                   description="I have read it: recorded once (acknowledging again changes nothing), and my "
                   "notices for it not yet sent are stopped.", request=None, responses={200: CirculationSerializer})
    def ack(self, request, pk=None):
        row = get_object_or_404(CirculationRecipient.objects.filter(person__user=request.user), circulation_id=pk)
        circulation_acknowledge(recipient=row, actor=request.user)
        row = self.get_queryset().get(pk=row.pk)
        with_notices([row])
        return Response(CirculationSerializer(row).data)


def with_notices(rows: list[CirculationRecipient]) -> None:
    """Each row's notice deliveries, for a whole page in one query."""
    by_topic = defaultdict(list)
    topics = {row.topic: row for row in rows}
    person_ids = {row.person_id for row in rows}
    for delivery in Delivery.objects.filter(person_id__in=person_ids, topic__in=topics).order_by("due_at", "id"):
        by_topic[delivery.topic].append(delivery)
    for row in rows:
        row.notices = by_topic[row.topic]
