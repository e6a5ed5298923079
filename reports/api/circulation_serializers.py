from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from callouts.models import Delivery
from reports.models import Area, ReportType


class ReportTypeRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReportType
        fields = ["slug", "name"]


class AreaRefSerializer(serializers.ModelSerializer):
    # Plain strings: a choice field here would clash with other enums named "kind" in the schema.
    kind = serializers.CharField(help_text="sector or beat")

    class Meta:
        model = Area
        fields = ["code", "name", "kind"]


class NoticeDeliverySerializer(serializers.ModelSerializer):
    channel = serializers.CharField(help_text="push, sms or email")
    state = serializers.CharField(help_text="pending, sending, sent, delivered, failed or cancelled")

    class Meta:
        model = Delivery
        fields = ["channel", "state", "due_at", "sent_at"]


class CirculationSerializer(serializers.Serializer):
    """One circulation as it reached the requesting person (built from their CirculationRecipient row)."""

    id = serializers.IntegerField(source="circulation_id", help_text="The circulation; acknowledge it by this id.")
    report = serializers.UUIDField(source="circulation.report_id")
    report_type = ReportTypeRefSerializer(source="circulation.report.report_type")
    summary = serializers.CharField(source="circulation.summary")
    grading = serializers.CharField(source="circulated_grading", help_text="The grading of the circulated version.")
    area = AreaRefSerializer(source="circulation.area", allow_null=True,
                             help_text="Empty when the report had no area.")
    version = serializers.IntegerField(source="circulation.version")
    updated = serializers.SerializerMethodField(help_text="An amendment re-circulated after its grading or area "
                                                          "changed.")
    reason = serializers.CharField(help_text="Why it reached me: patrol (on duty in the area) or supervisor.")
    circulated_at = serializers.DateTimeField(source="circulation.created_at")
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    reached = serializers.SerializerMethodField(help_text="A notice was handed to a provider for at least one of "
                                                          "my channels.")
    deliveries = serializers.SerializerMethodField(help_text="My notices for it, one per channel.")

    def get_updated(self, row) -> bool:
        return row.circulation.version > 1

    def get_reached(self, row) -> bool:
        return any(d.state in (Delivery.State.SENT, Delivery.State.DELIVERED) for d in row.notices)

    @extend_schema_field(NoticeDeliverySerializer(many=True))
    def get_deliveries(self, row):
        return NoticeDeliverySerializer(row.notices, many=True).data
