"""Optimistic locking on the staff pages (issue #14): every write form carries the version of
the record it was rendered from (``dinsos.pages.IfMatchPage``). Two "tabs" open the same page,
one writes, the other's POST is refused with the Indonesian message and changes nothing.

The views are enumerated from the URLconf: every staff page that answers POST is either an
``IfMatchPage`` with a scenario below, or says why it writes without a version."""

import datetime
from html import unescape

import pytest
from django.urls import reverse

from bench import pages as bench_pages
from dinsos import roles
from dinsos.pages import STALE_MESSAGE, IfMatchPage, StaffPage
from incentives import services as payouts
from pmks import calculations
from pmks import services as registry
from pmks.models import Asset, Case, Category, DuplicateCandidate, Household, Person
from tests.factories import DESA_PANDEGLANG, HouseholdFactory, PersonFactory
from tests.helpers import client_for, version_in
from tests.incentives.factories import OCT, tksk

pytestmark = pytest.mark.django_db


def staff_write_views() -> dict[str, type]:
    """``{"namespace:name": view class}`` of every staff page (not API, not admin) with POST."""
    return {name: view for name, _pattern, view in bench_pages.staff_routes()
            if issubclass(view, StaffPage) and hasattr(view, "post")}


# --- scenarios: (user, page, url, action, post of tab A or other write, post of tab B, state) ---

def _person(name="Mak Icih") -> Person:
    return PersonFactory(name=name, name_key=calculations.name_key(name))


def _case(person, actor) -> Case:
    return registry.case_open(actor=actor, person=person,
                              category=Category.objects.get(slug="lanjut-usia-terlantar"),
                              identified_on=datetime.date(2026, 11, 2), source="tksk")


def case_transition(make_user):
    user = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    person = _person()
    case = _case(person, user)
    a_url = reverse("pmks:case-transition", args=[person.pk, case.pk, "dirujuk"])
    b_url = reverse("pmks:case-transition", args=[person.pk, case.pk, "ditutup"])
    a, b = f"c{case.pk}-dirujuk", f"c{case.pk}-ditutup"
    return {
        "user": user, "page": reverse("pmks:person-detail", args=[person.pk]),
        "a": (a_url, {f"{a}-status": "dirujuk", f"{a}-reason": "Dirujuk ke panti werdha"}),
        "b": (b_url, {f"{b}-status": "ditutup", f"{b}-reason": "Pindah",
                   f"{b}-close_reason": "pindah"}),
        "state": lambda: (Case.objects.values_list("status", "close_reason").get(pk=case.pk),
                       case.transitions.count())}


def case_open(make_user):
    user = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    person = _person()
    url = reverse("pmks:case-open", args=[person.pk])
    category = Category.objects.get(slug="lanjut-usia-terlantar")
    return {
        "user": user, "page": reverse("pmks:person-detail", args=[person.pk]),
        # the other user changes the person (e.g. records the schooling) meanwhile
        "a": lambda: registry.person_update(actor=user, person=Person.objects.get(pk=person.pk),
                                         schooling="smp"),
        "b": (url, {"category": category.pk, "identified_on": "2026-11-02", "source": "tksk"}),
        "state": lambda: list(Case.objects.filter(person=person).values_list("id", flat=True))}


def person_update(make_user):
    user = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    person = _person()
    url = reverse("pmks:person-update", args=[person.pk])
    post = {"nik": person.nik, "name": person.name, "birth_place": person.birth_place,
            "birth_date": person.birth_date.isoformat(), "sex": person.sex,
            "desa": person.desa_id, "disability": "tidak", "schooling": ""}
    return {
        "user": user, "page": url,
        "a": (url, {**post, "occupation": "Petani"}),
        # the second tab still shows the person before the first one's change
        "b": (url, {**post, "occupation": "Nelayan"}),
        "state": lambda: Person.objects.values_list("occupation", "updated_at").get(
            pk=person.pk)}


def household_update(make_user):
    user = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG)
    url = reverse("pmks:household-update", args=[household.pk])
    post = {"address": household.address, "rt": household.rt, "rw": household.rw}
    sepeda, lahan = (Asset.objects.get(code=c).pk for c in ("sepeda", "lahan"))
    return {
        "user": user, "page": url,
        "a": (url, {**post, "assets": [sepeda]}),
        # the second tab still shows the household before the first one's change
        "b": (url, {**post, "assets": [lahan]}),
        "state": lambda: (list(Household.objects.get(pk=household.pk).assets.values_list(
            "code", flat=True)), Household.objects.get(pk=household.pk).updated_at)}


def service_record(make_user):
    from pmks.models import Service, ServiceType

    user = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    person = _person()
    case = registry.case_transition(actor=user, case=_case(person, user),
                                    to_status="terverifikasi", reason="Dikunjungi TKSK")
    url = reverse("pmks:service-record", args=[person.pk, case.pk])
    post = {f"s{case.pk}-{name}": value for name, value in {
        "service_type": ServiceType.objects.get(code="pembinaan-keterampilan").pk,
        "start_date": "2026-11-20", "funding_source": "apbd_provinsi",
        "provider_name": "LKS Mekar Sari"}.items()}
    return {
        "user": user, "page": reverse("pmks:person-detail", args=[person.pk]),
        # the first service puts the case "dalam penanganan": the second tab showed it verified
        "a": (url, post), "b": (url, {**post, f"s{case.pk}-provider_name": "Panti Werdha"}),
        "state": lambda: (Case.objects.values_list("status", flat=True).get(pk=case.pk),
                          list(Service.objects.filter(case=case).values_list("id", flat=True)))}


def service_update(make_user):
    from pmks.models import Service, ServiceType

    user = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    person = _person()
    case = registry.case_transition(actor=user, case=_case(person, user),
                                    to_status="terverifikasi", reason="Dikunjungi TKSK")
    service = registry.service_record(
        actor=user, case=case, service_type=ServiceType.objects.get(code="pembinaan-keterampilan"),
        start_date=datetime.date(2026, 11, 20), funding_source="apbd_provinsi",
        provider_name="LKS Mekar Sari")
    url = reverse("pmks:service-update", args=[person.pk, service.pk])
    post = {f"l{service.pk}-{name}": value for name, value in {
        "start_date": "2026-11-20", "funding_source": "apbd_provinsi",
        "provider_name": "LKS Mekar Sari"}.items()}
    return {
        "user": user, "page": reverse("pmks:person-detail", args=[person.pk]),
        "a": (url, {**post, f"l{service.pk}-value_amount": "300000"}),
        "b": (url, {**post, f"l{service.pk}-value_amount": "450000"}),
        "state": lambda: Service.objects.values_list("value_amount", "updated_at").get(
            pk=service.pk)}


def duplicate_decision(make_user):
    user = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    a, b = _person("M. Rizky"), _person("Muhammad Rizky")
    pair = DuplicateCandidate.objects.create(person_a=a, person_b=b, score=90, reasons=[])
    url = reverse("pmks:duplicate-detail", args=[pair.pk])
    return {
        "user": user, "page": url, "a": (url, {"decision": "bukan"}), "b": (url, {"decision": "a"}),
        "state": lambda: (DuplicateCandidate.objects.values_list("status", flat=True).get(
            pk=pair.pk), sorted(Person.objects.filter(pk__in=[a.pk, b.pk]).values_list(
                "pk", "merged_into_id")))}


def run_action(make_user):
    tksk()
    run = payouts.run_compute(actor=make_user(roles.KEUANGAN), period=OCT)
    user = make_user(roles.KEUANGAN)
    verify = reverse("incentives:run-action", args=[run.pk, "verifikasi"])
    cancel = reverse("incentives:run-action", args=[run.pk, "batalkan"])
    from incentives.models import PayoutRun

    return {
        "user": user, "page": (verify, cancel), "a": (verify, {}),
        # the second tab still shows the computed run and cancels it
        "b": (cancel, {"reason": "Salah periode"}),
        "state": lambda: PayoutRun.objects.values_list("status", "cancel_reason").get(pk=run.pk)}


def report_review(make_user):
    from psks.models import ActivityReport
    from tests.factories import ActivityReportFactory, WorkerFactory

    user = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    report = ActivityReportFactory(worker=WorkerFactory(desa_id="36.01.01.2001"),
                                   status="diajukan")
    accept = reverse("psks:report-review", args=[report.pk, "terima"])
    back = reverse("psks:report-review", args=[report.pk, "kembalikan"])
    return {
        "user": user, "page": reverse("psks:report-detail", args=[report.pk]),
        "a": (accept, {}),
        # the second tab still shows the submitted report and returns it
        "b": (back, {"reason": "Foto kegiatan kurang"}),
        "state": lambda: ActivityReport.objects.values_list(
            "status", "rejection_reason").get(pk=report.pk)}


def _enrolment(user):
    from tests.factories import cycle_with_tranches
    from tests.jamsosratu.factories import enrol, household

    return enrol(user, household(), cycle_with_tranches(2026))


def enrolment_transition(make_user):
    from jamsosratu import services as jamsosratu
    from jamsosratu.models import Enrolment
    from tests.jamsosratu.factories import VISIT, tksk_of

    user = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    enrolment = _enrolment(user)
    jamsosratu.verification_record(actor=user, enrolment=enrolment, visit_date=VISIT,
                                   verifier=tksk_of(enrolment.desa_id[:8]), result="sesuai")
    a, b = f"e{enrolment.pk}-terverifikasi", f"e{enrolment.pk}-dikeluarkan"
    return {
        "user": user, "page": reverse("jamsosratu:enrolment-detail", args=[enrolment.pk]),
        "a": (reverse("jamsosratu:enrolment-transition", args=[enrolment.pk, "terverifikasi"]),
              {f"{a}-reason": ""}),
        # the second tab still shows the proposed household and excludes it
        "b": (reverse("jamsosratu:enrolment-transition", args=[enrolment.pk, "dikeluarkan"]),
              {f"{b}-reason": "Tidak ditemukan"}),
        "state": lambda: (Enrolment.objects.values_list("status", "exit_reason").get(
            pk=enrolment.pk), enrolment.transitions.count())}


def verification_visit(make_user):
    from jamsosratu import services as jamsosratu
    from jamsosratu.models import Verification
    from tests.jamsosratu.factories import tksk_of

    user = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    enrolment = _enrolment(user)
    url = reverse("jamsosratu:verification-create", args=[enrolment.pk])
    tksk = tksk_of(enrolment.desa_id[:8])
    return {
        "user": user, "page": url,
        # another user excludes the household while the visit is being entered
        "a": lambda: jamsosratu.enrolment_transition(actor=user, enrolment=enrolment,
                                                     to_status="dikeluarkan", reason="Pindah"),
        "b": (url, {"verifier": tksk.pk, "visit_date": "2026-11-20", "result": "sesuai"}),
        "state": lambda: list(Verification.objects.filter(enrolment=enrolment).values_list(
            "id", flat=True))}


def payment_reschedule(make_user):
    from jamsosratu.models import Payment
    from tests.factories import PaymentFactory, cycle_with_tranches
    from tests.jamsosratu.factories import enrol, household

    user = make_user(roles.OPERATOR_PROVINSI)
    enrolment = enrol(user, household(), cycle_with_tranches(2026), "aktif")
    payment = PaymentFactory(enrolment=enrolment, status="gagal",
                             failure_reason="Rekening tidak aktif", explanation={"rule": "penuh"})
    page = reverse("jamsosratu:failed-payments", args=[2026, 1])
    url = reverse("jamsosratu:payment-reschedule", args=[2026, 1, payment.pk])
    return {
        "user": user, "page": page,
        # both tabs show the failed transfer; the first schedules it again
        "a": (url, {}), "b": (url, {}),
        "state": lambda: Payment.objects.values_list("status", "updated_at").get(
            pk=payment.pk)}


def tranche_over_budget(make_user):
    from jamsosratu.models import Cycle, Tranche, TrancheJob
    from tests.factories import cycle_with_tranches

    user = make_user(roles.PIMPINAN)
    cycle = cycle_with_tranches(2026)
    Cycle.objects.filter(pk=cycle.pk).update(budget_ceiling=1750000)
    tranche = cycle.tranches.get(number=2)
    TrancheJob.objects.create(tranche=tranche, kind="penyaluran", requested_by=user,
                              status="gagal", totals={"melampaui_pagu": True},
                              message="melampaui pagu")
    url = reverse("jamsosratu:tranche-over-budget", args=[2026, 2])
    return {
        "user": user, "page": reverse("jamsosratu:cycle-detail", args=[2026]),
        # two Pimpinan decide at once: the second does not overwrite the first unseen
        "a": (url, {"tahap2-over_budget_reason": "Tambahan sasaran, Pergub perubahan"}),
        "b": (url, {"tahap2-over_budget_reason": "Alasan lain"}),
        "state": lambda: Tranche.objects.values_list(
            "over_budget_reason", "over_budget_at").get(pk=tranche.pk)}


def account_verify(make_user):
    from jamsosratu import services as jamsosratu
    from jamsosratu.models import Enrolment
    from tests.factories import cycle_with_tranches
    from tests.jamsosratu.factories import enrol, household

    recorder = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    user = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    enrolment = enrol(recorder, household(), cycle_with_tranches(2026), account_checked=False)
    url = reverse("jamsosratu:enrolment-account-verify", args=[enrolment.pk])
    return {
        "user": user, "page": reverse("jamsosratu:enrolment-detail", args=[enrolment.pk]),
        # the recorder types another account while the checker has the page open: the
        # checker must not confirm an account she never saw
        "a": lambda: jamsosratu.enrolment_update(actor=recorder, enrolment=enrolment,
                                                 account_number="009876543210"),
        "b": (url, {}),
        "state": lambda: Enrolment.objects.values_list(
            "account_number", "account_verified_at").get(pk=enrolment.pk)}


SCENARIOS = {
    "jamsosratu:enrolment-account-verify": account_verify,
    "jamsosratu:payment-reschedule": payment_reschedule,
    "jamsosratu:tranche-over-budget": tranche_over_budget,
    "jamsosratu:enrolment-transition": enrolment_transition,
    "jamsosratu:verification-create": verification_visit,
    "psks:report-review": report_review,
    "pmks:case-transition": case_transition,
    "pmks:case-open": case_open,
    "pmks:person-update": person_update,
    "pmks:household-update": household_update,
    "pmks:service-record": service_record,
    "pmks:service-update": service_update,
    "pmks:duplicate-detail": duplicate_decision,
    "incentives:run-action": run_action,
}


def test_every_staff_write_is_versioned_or_says_why_not():
    views = staff_write_views()
    assert views, "no staff write view found: the URLconf walk is broken"
    unversioned = {name: view.__name__ for name, view in views.items()
                   if not issubclass(view, IfMatchPage)
                   and not getattr(view, "writes_without_version", "")}
    assert not unversioned, (
        f"staff pages that write without a version: {unversioned} — make them IfMatchPage "
        "(dinsos.pages) or give writes_without_version a reason")
    versioned = {name for name, view in views.items() if issubclass(view, IfMatchPage)
                 and not getattr(view, "writes_without_version", "")}
    assert versioned == set(SCENARIOS), (
        f"add a two-tab scenario here for: {sorted(versioned - set(SCENARIOS))}")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_second_tab_is_refused_and_nothing_changes(name, make_user):
    s = SCENARIOS[name](make_user)
    pages = s["page"] if isinstance(s["page"], tuple) else (s["page"],) * 2
    tab_a, tab_b = client_for(s["user"]), client_for(s["user"])
    b_url, b_post = s["b"]
    b_version = version_in(tab_b.get(pages[1]).content.decode(),
                           None if b_url == pages[1] else b_url)
    if callable(s["a"]):
        s["a"]()
    else:
        a_url, a_post = s["a"]
        a_version = version_in(tab_a.get(pages[0]).content.decode(),
                               None if a_url == pages[0] else a_url)
        assert a_version == b_version  # both tabs opened the same version
        written = tab_a.post(a_url, {**a_post, "if_match": a_version})
        assert written.status_code == 302, written.content.decode()[:2000]
    before = s["state"]()
    refused = tab_b.post(b_url, {**b_post, "if_match": b_version})
    assert refused.status_code == 409
    assert str(STALE_MESSAGE) in unescape(refused.content.decode())
    assert s["state"]() == before


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_post_without_a_version_is_refused(name, make_user):
    s = SCENARIOS[name](make_user)
    before = s["state"]()
    b_url, b_post = s["b"]
    refused = client_for(s["user"]).post(b_url, b_post)
    assert refused.status_code == 409
    assert str(STALE_MESSAGE) in unescape(refused.content.decode())
    assert s["state"]() == before


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_current_version_writes(name, make_user):
    s = SCENARIOS[name](make_user)
    pages = s["page"] if isinstance(s["page"], tuple) else (s["page"],) * 2
    b_url, b_post = s["b"]
    client = client_for(s["user"])
    version = version_in(client.get(pages[1]).content.decode(),
                         None if b_url == pages[1] else b_url)
    before = s["state"]()
    assert client.post(b_url, {**b_post, "if_match": version}).status_code == 302
    assert s["state"]() != before
