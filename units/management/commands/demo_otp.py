import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from units.management.commands.seed_demo import DEMO_ACCOUNTS, STATIC_DEVICE_NAME, TOTP_DEVICE_NAME


class Command(BaseCommand):
    help = "Print the current authenticator code (and unused backup codes) of the demo logins. DEBUG only."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", help="One demo login; all of them when left out.")

    def handle(self, *args, username=None, **options):
        if not settings.DEBUG:
            raise CommandError("demo_otp only works with DEBUG on: demo logins exist only on demo machines.")
        demo = [account.username for account in DEMO_ACCOUNTS]
        if username and username not in demo:
            raise CommandError(f"{username!r} is not a demo login; choose one of {', '.join(demo)}.")
        wanted = [username] if username else demo
        devices = {d.user.username: d for d in TOTPDevice.objects.filter(
            user__username__in=wanted, name=TOTP_DEVICE_NAME).select_related("user")}
        if not devices:
            raise CommandError("No demo logins yet: run manage.py seed_demo first.")
        for name in wanted:
            if name in devices:
                self.stdout.write(self.describe(devices[name]))

    def describe(self, device: TOTPDevice) -> str:
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        seconds_left = device.step - int(time.time() - device.t0) % device.step
        backup = StaticToken.objects.filter(
            device__user=device.user, device__name=STATIC_DEVICE_NAME).order_by("token").values_list("token", flat=True)
        return (f"{device.user.username:<10} {totp.token():0{device.digits}d}  (valid {seconds_left:>2} s more)"
                f"  unused backup codes: {' '.join(backup) or 'none (run seed_demo)'}")
