"""Review (December 2026): the merged person's NIK is masked on the merge admin page for the
Auditor, but the merge changelist still takes a lookup into the snapshot JSON from its URL
(``?snapshot__nik__startswith=…``): ``admin_base.masked_lookup`` asks only model fields named
nik/no_kk/…, and Django allows any one-field lookup. The row count (1 or 0) tells the hidden
digits one at a time, as ``?nik__startswith=`` did before the isolation fix."""

import pytest
from django.urls import reverse

from dinsos import roles
from pmks import services
from tests.factories import PersonFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def test_auditor_cannot_probe_the_merged_nik_by_prefix(province_operator, make_user):
    kept = PersonFactory(name="Siti Aminah")
    merged = PersonFactory(name="Siti Aminah")
    nik = merged.nik
    services.person_merge(actor=province_operator, kept=kept, merged=merged, reason="uji")

    client = client_for(make_user(roles.AUDITOR))
    url = reverse("admin:pmks_personmerge_changelist")
    hit = client.get(url, {"snapshot__nik__startswith": nik[:12]})
    miss = client.get(url, {"snapshot__nik__startswith": nik[:11] + str((int(nik[11]) + 1) % 10)})
    shown = [answer.status_code == 200 and len(answer.context["cl"].result_list)
             for answer in (hit, miss)]
    assert shown != [1, 0], (
        "the snapshot's masked NIK digits are told by the changelist's row count")
