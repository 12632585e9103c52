"""The Jamsosratu admin: adding an enrolment goes through the service, the status actions go
through the transition rules, and the change form cannot move an enrolment out of its area."""

from html.parser import HTMLParser

import pytest
from django.test import Client

from jamsosratu.models import Enrolment, EnrolmentTransition
from tests.factories import DESA_LEBAK, DESA_PANDEGLANG, cycle_with_tranches
from tests.jamsosratu.factories import account_checker, enrol, household

pytestmark = pytest.mark.django_db

URL = "/admin/jamsosratu/enrolment/"


@pytest.fixture
def cycle(db):
    return cycle_with_tranches(2026, "1750000", ("1", "1"))


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class _FormFields(HTMLParser):
    """The values a browser would submit for the change form (inputs and selects)."""

    def __init__(self):
        super().__init__()
        self.values, self._select = {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "checkbox"):
            self.values[name] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self.values[name] = ""
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def change_form(client, enrolment) -> dict:
    response = client.get(f"{URL}{enrolment.pk}/change/")
    assert response.status_code == 200
    parser = _FormFields()
    parser.feed(response.content.decode())
    return parser.values


def test_admin_add_goes_through_the_service(cycle, pandeglang_operator):
    hh = household(DESA_PANDEGLANG)
    client = admin_client(pandeglang_operator)
    response = client.post(f"{URL}add/", {
        "household": hh.pk, "cycle": cycle.pk, "source": "Musdes", "channel": "bank_banten",
        "account_number": "009811112222",
        **{f"{prefix}-{key}": value for prefix in ("members", "companions", "transitions",
                                                   "payments")
           for key, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))}})
    assert response.status_code == 302, response.content[:2000]
    enrolment = Enrolment.objects.get()
    assert (enrolment.desa_id, enrolment.status, enrolment.decile) == (DESA_PANDEGLANG, "calon",
                                                                       2)
    assert enrolment.members.count() == 1
    assert EnrolmentTransition.objects.get().actor == pandeglang_operator


def test_admin_actions_follow_the_transition_rules(cycle, province_operator):
    ready = enrol(province_operator, household(), cycle, "ditetapkan")
    unverified = enrol(province_operator, household(), cycle)
    client = admin_client(province_operator)
    response = client.post(URL, {"action": "activate", "_selected_action": [ready.pk,
                                                                            unverified.pk]},
                           follow=True)
    assert response.status_code == 200
    assert dict(Enrolment.objects.values_list("pk", "status")) == {
        ready.pk: "aktif", unverified.pk: "calon"}
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1
    assert "tidak dapat diubah menjadi aktif" in errors[0]


def test_admin_change_cannot_swap_in_a_household_of_another_district(cycle,
                                                                     pandeglang_operator):
    enrolment = enrol(pandeglang_operator, household(DESA_PANDEGLANG), cycle)
    original = enrolment.household_id
    lebak = household(DESA_LEBAK)
    client = admin_client(pandeglang_operator)
    data = change_form(client, enrolment)
    assert "household" not in data  # read-only once the enrolment exists
    client.post(f"{URL}{enrolment.pk}/change/", {**data, "household": str(lebak.pk)})
    enrolment.refresh_from_db()
    assert enrolment.household_id == original


def test_the_household_picker_names_the_household_as_the_user_may_see_it(cycle,
                                                                         pandeglang_operator):
    """Found by a browser walk: next to the household's id the enrolment form showed only
    "KK 360101********19" — masked for an operator who may see it whole, and no name, so one
    household could not be told from another."""
    hh = household(DESA_PANDEGLANG)
    page = admin_client(pandeglang_operator).get(f"{URL}add/", {"household": hh.pk})
    assert f"KK {hh.no_kk} — {hh.people[0].name}" in page.content.decode()


def _change(client, enrolment, **fields):
    data = {k: v for k, v in change_form(client, enrolment).items() if "__prefix__" not in k}
    return client.post(f"{URL}{enrolment.pk}/change/", {**data, **fields})


def test_a_channel_changed_in_the_admin_reaches_the_scheduled_unsent_payments(
        cycle, province_operator):
    """The admin's door of ``enrolment_update`` (the only one: the API's enrolments take no
    update): Bank Banten → PT Pos takes the scheduled payment out of the bank file, PT Pos →
    Bank Banten with an account puts it back with that account; a payment already sent to
    the bank keeps what it was sent to."""
    from jamsosratu import banking, services
    from jamsosratu.models import Payment

    moving = enrol(province_operator, household(DESA_PANDEGLANG), cycle, "aktif")
    sent = enrol(province_operator, household(DESA_LEBAK), cycle, "aktif")
    first = cycle.tranches.get(number=1)
    services.payments_generate(tranche=first)
    Payment.objects.filter(enrolment=sent).update(sent_at="2026-06-01T08:00:00+07:00")
    client = admin_client(province_operator)
    for enrolment in (moving, sent):
        response = _change(client, enrolment, channel="pos", account_number="")
        assert response.status_code == 302, response.content.decode()[:2000]
    payment = Payment.objects.get(enrolment=moving)
    assert (payment.channel, payment.account_number) == ("pos", "")
    assert Payment.objects.get(enrolment=sent).channel == "bank_banten"
    _text, count, _total = banking.transfer_file(first, hand_out=False)
    assert count == 0  # the sent one is in the bank's hands, not in a next file
    assert [d["count"] for d in banking.dispatches(first)] == [1]

    assert _change(client, moving, channel="bank_banten",
                   account_number="5550001112").status_code == 302
    payment.refresh_from_db()
    assert (payment.channel, payment.account_number) == ("bank_banten", "5550001112")
    assert banking.transfer_file(first, hand_out=False)[1] == 0  # the new account: four eyes
    services.enrolment_account_verify(actor=account_checker(), enrolment=moving)
    text, count, _total = banking.transfer_file(first, hand_out=False)
    assert count == 1 and "5550001112" in text
