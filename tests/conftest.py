import pytest

from tests.factories import add_member, make_person, make_unit


@pytest.fixture
def unit_a(db):
    return make_unit("a", name="Unit A")


@pytest.fixture
def unit_b(db):
    return make_unit("b", name="Unit B")


@pytest.fixture
def member_a(unit_a):
    person = make_person("Alice Member")
    add_member(unit_a, person)
    return person


@pytest.fixture
def member_b(unit_b):
    person = make_person("Bob Member")
    add_member(unit_b, person)
    return person


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
