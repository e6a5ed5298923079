from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from callouts.models import Callout, Recipient
from callouts.need import MAX_QUORUM, MAX_REQUIREMENTS, QUALIFICATION, ROLE, Need, Requirement
from callouts.replies import MAX_ETA_MINUTES
from config.api import StrictCharField
from units.api.schedule_serializers import (
    StrictBooleanField,
    StrictIntegerField,
    StrictPrimaryKeyRelatedField,
    UnitRefSerializer,
)
from units.models import Membership, Qualification, Unit


class RequirementSerializer(serializers.Serializer):
    """At least ``count`` of the accepts hold this role, or this qualification: one of the two."""

    role = serializers.ChoiceField(choices=Membership.Role.choices, required=False)
    qualification = serializers.SlugRelatedField(slug_field="code", queryset=Qualification.objects.all(),
                                                 required=False, help_text="A qualification code, e.g. medic.")
    count = StrictIntegerField(min_value=1, max_value=MAX_QUORUM, default=1)

    def validate(self, data) -> Requirement:
        if ("role" in data) == ("qualification" in data):
            raise serializers.ValidationError("Give either a role or a qualification.")
        if "qualification" in data:
            return Requirement(kind=QUALIFICATION, code=data["qualification"].code, count=data["count"])
        return Requirement(kind=ROLE, code=data["role"], count=data["count"])


class NeedSerializer(serializers.Serializer):
    quorum = StrictIntegerField(min_value=1, max_value=MAX_QUORUM, help_text="Accepts needed to fill it.")
    requirements = RequirementSerializer(
        many=True, required=False, max_length=MAX_REQUIREMENTS,
        help_text="Each role or qualification at most once, each asking for no more than the quorum.",
    )

    def validate(self, data) -> Need:
        need = Need(quorum=data["quorum"], requirements=tuple(data.get("requirements", ())))
        if problems := need.problems():
            raise serializers.ValidationError({"requirements": problems})
        return need


class FrozenRequirementSerializer(serializers.Serializer):
    role = serializers.CharField(required=False, help_text="Present when the requirement is a role.")
    qualification = serializers.CharField(required=False, help_text="Present when it is a qualification.")
    count = serializers.IntegerField()


class FrozenNeedSerializer(serializers.Serializer):
    quorum = serializers.IntegerField()
    requirements = FrozenRequirementSerializer(many=True)


class AnswerCountsSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    declined = serializers.IntegerField()
    silent = serializers.IntegerField(help_text="Alerted and not answered yet.")


class MyAnswerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Recipient
        fields = ["tier_name", "notified_at", "response", "eta_minutes", "note", "responded_at", "response_channel"]
        read_only_fields = fields


class AcceptedSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Rank and name, e.g. PC Priya Shah.")
    eta_minutes = serializers.IntegerField(allow_null=True)
    responded_at = serializers.DateTimeField(help_text="When they accepted.")


class CalloutSerializer(serializers.ModelSerializer):
    """A callout; ``accepted`` names people, so only those alerted for it and operators get it (context
    ``may_operate``: the caller may act on every callout)."""

    unit = UnitRefSerializer()
    is_open = serializers.BooleanField(help_text="Active, filled or exhausted: answers are still taken.")
    need = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()
    my_answer = serializers.SerializerMethodField()
    accepted = serializers.SerializerMethodField()

    class Meta:
        model = Callout
        fields = ["id", "unit", "message", "incident_ref", "priority", "exercise", "state", "is_open", "need",
                  "launched_at", "closed_at", "outcome", "counts", "my_answer", "accepted"]
        read_only_fields = fields

    @extend_schema_field(FrozenNeedSerializer(help_text="What fills the callout, frozen at launch."))
    def get_need(self, callout):
        need = callout.frozen_need
        return {"quorum": need.quorum, "requirements": [r.to_json() for r in need.requirements]}

    @extend_schema_field(AnswerCountsSerializer)
    def get_counts(self, callout):
        return {"accepted": callout.accepted, "declined": callout.declined, "silent": callout.silent}

    @extend_schema_field(MyAnswerSerializer(allow_null=True,
                                            help_text="My place on this callout; null when I was not alerted."))
    def get_my_answer(self, callout):
        return MyAnswerSerializer(callout.mine[0]).data if callout.mine else None

    @extend_schema_field(AcceptedSerializer(many=True, allow_null=True, help_text="Who is coming: everyone whose "
                         "latest answer is accept and who was not stood down since, oldest answer first. Null "
                         "unless I was alerted for this callout or may act on every callout (operators)."))
    def get_accepted(self, callout):
        if not (callout.mine or self.context.get("may_operate")):
            return None
        return [{"name": str(r.person), "eta_minutes": r.eta_minutes, "responded_at": r.responded_at}
                for r in callout.coming]


class LaunchSerializer(serializers.Serializer):
    unit = StrictPrimaryKeyRelatedField(queryset=Unit.objects.filter(active=True),
                                              help_text="Id of an active unit.")
    message = StrictCharField(max_length=1000, help_text="What, where, and where to report. Sent as written.")
    incident_ref = StrictCharField(max_length=60, required=False, default="", allow_blank=True)
    priority = serializers.ChoiceField(choices=Callout.Priority.choices, default=Callout.Priority.URGENT)
    exercise = StrictBooleanField(default=False, help_text="A drill: kept out of statistics.")
    need = NeedSerializer(required=False, help_text="Left out: what the unit's escalation policy asks for.")


class RespondSerializer(serializers.Serializer):
    response = serializers.ChoiceField(choices=[Recipient.Response.ACCEPT, Recipient.Response.DECLINE])
    eta_minutes = StrictIntegerField(min_value=0, max_value=MAX_ETA_MINUTES, required=False, allow_null=True,
                                     help_text="Minutes until I am there, with accept. Sent with decline, it is "
                                     "ignored: the decline is recorded without it.")
    note = StrictCharField(max_length=500, required=False, default="", allow_blank=True)

    def validate(self, data):
        return {"eta_minutes": None, **data}


class PushAnswerSerializer(serializers.Serializer):
    token = StrictCharField(max_length=1000, help_text="The `answer.token` of the callout's push.")
    response = serializers.ChoiceField(choices=[Recipient.Response.ACCEPT, Recipient.Response.DECLINE])
    eta_minutes = StrictIntegerField(min_value=0, max_value=MAX_ETA_MINUTES, required=False, allow_null=True,
                                     help_text="Minutes until I am there, with accept; ignored with decline.")


class PushAnswerResultSerializer(serializers.Serializer):
    callout = serializers.IntegerField(help_text="The callout's id.")
    response = serializers.ChoiceField(choices=[Recipient.Response.ACCEPT, Recipient.Response.DECLINE])
    eta_minutes = serializers.IntegerField(allow_null=True, help_text="As recorded: null with a decline.")


class CancelSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=500, help_text="Sent to everyone who accepted, with STAND DOWN.")


class CloseSerializer(serializers.Serializer):
    outcome = StrictCharField(max_length=2000)
