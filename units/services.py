from django.contrib.auth import get_user_model
from django.db import transaction

from units.audit import acting
from units.models import Person, Tier, Unit, new_feed_token

DEFAULT_TIERS = ("Primary", "Secondary")


def unit_ensure_tiers(*, unit: Unit) -> list[Tier]:
    """Give a unit its primary and secondary lists if it has none yet."""
    if not unit.tiers.exists():
        for position, name in enumerate(DEFAULT_TIERS, start=1):
            tier = Tier(unit=unit, position=position, name=name)
            tier.full_clean()
            tier.save()
    return list(unit.tiers.all())


def unit_create(*, name: str, code: str, timezone: str = "Europe/London", description: str = "",
                commander: Person | None = None, actor=None) -> Unit:
    with transaction.atomic(), acting(actor):
        unit = Unit(name=name, code=code, timezone=timezone, description=description, commander=commander)
        unit.full_clean()
        unit.save()
        unit_ensure_tiers(unit=unit)
    return unit


def person_create(*, username: str, full_name: str, badge_number: str, rank: str = "",
                  home_station: str = "", email: str = "", actor=None) -> Person:
    with transaction.atomic(), acting(actor):
        user = get_user_model().objects.create_user(username=username, email=email)
        person = Person(user=user, full_name=full_name, badge_number=badge_number, rank=rank,
                        home_station=home_station)
        person.full_clean()
        person.save()
    return person


def feed_token_reset(*, obj: Person | Unit, actor=None) -> str:
    """Issue a new calendar feed address; the old one stops working at once (for a leaked link)."""
    with transaction.atomic(), acting(actor):
        obj.feed_token = new_feed_token()
        obj.save(update_fields=["feed_token"])
    return obj.feed_token
