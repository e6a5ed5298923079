from django.contrib.auth import get_user_model
from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import StrictCharField
from config.outbound import push_policy, url_problem
from units.api.schedule_serializers import StrictIntegerField
from units.authentication import login_with_second_factor
from units.feeds import feed_url
from units.models import ContactMethod, Device, Membership, Person, PushSubscription

BASE64URL = RegexValidator(r"^[A-Za-z0-9_-]+={0,2}$", "Base64url text, as the browser's PushSubscription gives it.")


class EnrolmentSerializer(serializers.Serializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    otp_token = StrictCharField(max_length=16, help_text="A code from the authenticator app, or a backup code.")
    name = StrictCharField(max_length=100, help_text="What the owner calls this device, e.g. Work iPhone.")
    platform = serializers.ChoiceField(choices=Device.Platform.choices)

    def validate(self, data):
        request = self.context["request"]._request  # axes marks Django's request, not DRF's wrapper
        data["user"] = login_with_second_factor(
            request, username=data["username"], password=data["password"], otp_token=data["otp_token"]
        )
        return data


class DeviceSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField(help_text="Whether this is the device making the request.")

    class Meta:
        model = Device
        fields = ["id", "name", "platform", "token_prefix", "created_at", "last_used_at", "current"]
        read_only_fields = fields

    def get_current(self, device) -> bool:
        return device == self.context["request"].auth


class EnrolledDeviceSerializer(serializers.ModelSerializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`. Shown this once only.")
    wipe_key = serializers.CharField(
        help_text="Signs this device out with `POST /api/v1/auth/devices/wipe/`, without the token, and does "
        "nothing else: for an app wiping itself after too many wrong PINs. Shown this once only.")

    class Meta:
        model = Device
        fields = ["id", "name", "platform", "token", "wipe_key", "token_prefix", "created_at"]
        read_only_fields = fields


class WipeSerializer(serializers.Serializer):
    # At most the largest id a database stores: a larger number is refused, not overflowed in the lookup.
    device = StrictIntegerField(min_value=1, max_value=2**63 - 1, help_text="The device's id, as enrolment returned "
                                "it.")
    wipe_key = StrictCharField(max_length=100, help_text="The wipe key enrolment returned.")


class MembershipSerializer(serializers.ModelSerializer):
    unit_id = serializers.IntegerField(source="unit.id")
    unit_name = serializers.CharField(source="unit.name")
    unit_code = serializers.CharField(source="unit.code")
    qualifications = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Membership
        fields = ["unit_id", "unit_name", "unit_code", "role", "qualifications"]
        read_only_fields = fields


class ContactMethodSerializer(serializers.ModelSerializer):
    verified = serializers.BooleanField(read_only=True)

    class Meta:
        model = ContactMethod
        fields = ["id", "kind", "address", "position", "delay_minutes", "verified"]
        read_only_fields = fields


class PersonSerializer(serializers.ModelSerializer):
    units = MembershipSerializer(source="memberships", many=True, read_only=True)
    contact_methods = ContactMethodSerializer(many=True, read_only=True)

    class Meta:
        model = Person
        fields = ["id", "full_name", "rank", "badge_number", "home_station", "active", "units", "contact_methods"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    # Plain text, not the email format: it may be empty.
    email = serializers.CharField(read_only=True, help_text="Email address, or empty.")
    groups = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True,
                                          help_text="Roles: Administrators, Operators, Supervisors, Responders.")
    person = serializers.SerializerMethodField()
    calendar_feed_url = serializers.SerializerMethodField(
        help_text="My on-call shifts as an iCalendar feed, to subscribe to in the phone's calendar (SITE_URL's "
        "scheme and host); null for a login without a person. Anyone with the address can read the feed.")

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "groups", "person", "calendar_feed_url"]
        read_only_fields = fields

    def get_calendar_feed_url(self, user) -> str | None:
        person = getattr(user, "person", None)
        return feed_url(person) if person is not None else None

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_person(self, user):
        person = getattr(user, "person", None)
        return PersonSerializer(person, context=self.context).data if person is not None else None


class PushKeysSerializer(serializers.Serializer):
    # Browser keys are base64url: anything else is not a subscription.
    p256dh = StrictCharField(max_length=200, validators=[BASE64URL])
    auth = StrictCharField(max_length=100, validators=[BASE64URL])


class PushSubscriptionInputSerializer(serializers.Serializer):
    """The browser's ``PushSubscription.toJSON()``, as it comes."""

    endpoint = serializers.URLField(
        max_length=500, help_text="The push service's address for this browser: https:// on a push service Muster "
        "sends to (PUSH_SERVICE_HOSTS: by default Firebase, Mozilla, Apple and Windows push). Any other is a 400.")
    keys = PushKeysSerializer()
    expirationTime = StrictIntegerField(  # noqa: N815 (the browser's name)
        required=False, allow_null=True, help_text="Milliseconds since 1970 as a whole number, or null.")

    def validate_endpoint(self, value):
        # Checked again when each push is sent, against the address connected to; this is for a clear 400.
        if problem := url_problem(value, push_policy()):
            raise serializers.ValidationError(problem)
        return value


class PushSubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PushSubscription
        fields = ["id", "endpoint", "user_agent", "active", "created_at"]
        read_only_fields = fields


class AppConfigSerializer(serializers.Serializer):
    vapid_public_key = serializers.CharField(
        allow_blank=True, help_text="The applicationServerKey for PushManager.subscribe: the VAPID public key as "
        "base64url of the uncompressed P-256 point. Empty when this server sends no push.")
    lock_after_minutes = serializers.IntegerField(
        min_value=1, help_text="Minutes without use after which the app asks for its PIN (APP_LOCK_MINUTES).")
    pin_attempts = serializers.IntegerField(
        min_value=1, help_text="Wrong PINs after which the app wipes what it keeps and signs its device out "
        "(APP_PIN_ATTEMPTS).")
