"""A list in a request body is bounded (``API_MAX_LIST_ITEMS``): 400 naming the field before
any item is read. Every serializer of the project with a writable field of many values is
enumerated, so a new one cannot miss it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dinsos.api.serializers import takes_many
from psks.api.serializers import MeetingSerializer
from tests.dinsos.test_blank_choices import project_serializers
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db



def _many_fields(fields) -> list[str]:
    return [name for name, field in fields.items()
            if takes_many(field) and not field.read_only]


def _serializers():
    return sorted((cls for cls, fields in project_serializers() if _many_fields(fields)),
                  key=lambda c: f"{c.__module__}.{c.__qualname__}")


def test_the_enumeration_finds_the_lists_it_should():
    names = {c.__name__ for c in _serializers()}
    assert {"MeetingSerializer", "InstitutionSerializer", "HouseholdSerializer"} <= names, names


@pytest.mark.parametrize("serializer_class", _serializers(),
                         ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_a_list_longer_than_the_bound_is_refused_before_any_item_is_read(
        serializer_class, rf, settings):
    settings.API_MAX_LIST_ITEMS = 50
    request = rf.post("/api/v1/")
    request.user = UserFactory(is_superuser=True)
    fields = serializer_class(context={"request": request}).fields
    for name in _many_fields(fields):
        serializer = serializer_class(data={name: list(range(1, 52))},
                                      context={"request": request})
        with CaptureQueriesContext(connection) as queries:
            assert not serializer.is_valid()
        assert [str(e) for e in serializer.errors[name]] == [
            "Paling banyak 50 butir (dikirim 51)."], (name, serializer.errors.get(name))
        assert len(queries) == 0, (name, [q["sql"] for q in queries])


def test_a_meeting_with_many_attendees_through_the_api(settings, province_operator, api_as):
    """The API answers 400 in its Indonesian shape; a list within the bound is read as
    before."""
    from tests.factories import WorkerFactory

    settings.API_MAX_LIST_ITEMS = 3
    workers = [WorkerFactory() for _ in range(4)]
    client = api_as(province_operator)
    kecamatan = workers[0].desa_id.rsplit(".", 1)[0]
    body = {"kecamatan": kecamatan, "date": "2026-11-20", "type": "rakor", "agenda": "Rakor",
            "attendees": [w.pk for w in workers]}
    response = client.post("/api/v1/psks/meetings/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["errors"]["attendees"] == ["Paling banyak 3 butir (dikirim 4)."]
    body["attendees"] = [w.pk for w in workers[:3]]
    response = client.post("/api/v1/psks/meetings/", body, format="json")
    assert response.status_code == 201, response.content


# --- the review of the change: an object in place of a list (DRF reads its keys as ids) ---

def test_attendees_sent_as_a_json_object_are_bounded_too(settings, province_operator, api_as):
    """``ManyRelatedField.to_internal_value`` takes any iterable that is not a string, so a
    JSON object {"<id>": …} is read key by key — one query per key — while the mixin counts
    only lists and tuples. With API_MAX_LIST_ITEMS = 3, four attendees sent as an object are
    stored (201). Expected: 400 naming ``attendees`` (as for a list of 4), or the object
    refused as not a list; never more than the bound read."""
    from tests.factories import WorkerFactory

    settings.API_MAX_LIST_ITEMS = 3
    workers = [WorkerFactory() for _ in range(4)]
    client = api_as(province_operator)
    kecamatan = workers[0].desa_id.rsplit(".", 1)[0]
    body = {"kecamatan": kecamatan, "date": "2026-11-20", "type": "rakor", "agenda": "Rakor",
            "attendees": {str(w.pk): True for w in workers}}
    response = client.post("/api/v1/psks/meetings/", body, format="json")
    assert response.status_code == 400, (response.status_code, response.content)
    assert response.json()["errors"]["attendees"] == ["Kirim daftar (list), bukan objek."]


def test_an_object_of_ids_is_refused_before_any_query(settings, rf):
    """The same at the serializer: 51 ids as an object's keys with a bound of 50 are read
    one query per id (here the first id does not exist, so DRF stops after one query; with
    existing ids every one is read, as the API test shows). Expected: refused with no
    query, as a list of 51 is."""
    from tests.factories import UserFactory

    settings.API_MAX_LIST_ITEMS = 50
    request = rf.post("/api/v1/")
    request.user = UserFactory(is_superuser=True)
    serializer = MeetingSerializer(data={"attendees": {str(i): 1 for i in range(1, 52)}},
                                   context={"request": request})
    with CaptureQueriesContext(connection) as queries:
        serializer.is_valid()
    assert "attendees" in serializer.errors
    assert len(queries) == 0, len(queries)
