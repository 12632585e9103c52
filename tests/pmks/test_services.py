"""Writes of the registry through pmks.services: validation, the case workflow, services, and
the district rule."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dinsos.models import Office
from pmks import services
from pmks.models import Case, CaseTransition, Household, Person, Service
from tests.factories import (
    DESA_LEBAK,
    DESA_PANDEGLANG,
    DESA_PANDEGLANG_2,
    HouseholdFactory,
)
from tests.pmks.factories import (
    CaseFactory,
    RegistryPersonFactory,
    ServiceFactory,
    category,
    nik_for,
    no_kk_for,
    service_type,
    transitions_of,
)
from tests.pmks.test_calculations import ALLOWED, REFUSED

pytestmark = pytest.mark.django_db

BORN = datetime.date(1985, 3, 12)
LABELS = {
    "teridentifikasi": "Teridentifikasi", "terverifikasi": "Terverifikasi",
    "dalam_penanganan": "Dalam penanganan", "selesai": "Selesai", "dirujuk": "Dirujuk",
    "ditutup": "Ditutup",
}


def register(actor, **fields):
    data = {"name": "Siti Aminah", "birth_date": BORN, "sex": "P", "desa_id": DESA_PANDEGLANG}
    data.update(fields)
    return services.person_register(actor=actor, **data)


# --- persons ----------------------------------------------------------------------------------


def test_person_register_normalises_name_and_keeps_nik(pandeglang_operator):
    person = register(pandeglang_operator, nik="3601015203850001", name="  Hj.  Siti   Aminah ")
    person.refresh_from_db()
    assert person.nik == "3601015203850001"
    assert person.name == "Hj. Siti Aminah"
    assert person.name_key == "sitiaminah"
    assert person.tanpa_nik is False
    assert person.life_status == "hidup"
    assert person.disability == "tidak"


@pytest.mark.parametrize(
    ("nik", "birth_date", "sex", "message"),
    [
        # a woman whose NIK has the day without +40 (a man's NIK)
        ("3601011203850001", BORN, "P",
         "NIK menunjukkan jenis kelamin laki-laki (perempuan: tanggal lahir + 40), tetapi "
         "data tertulis jenis kelamin perempuan."),
        # a man with +40 in his NIK
        ("3601015203850001", BORN, "L",
         "NIK menunjukkan jenis kelamin perempuan (perempuan: tanggal lahir + 40), tetapi "
         "data tertulis jenis kelamin laki-laki."),
        # another day
        ("3601015303850001", BORN, "P",
         "NIK menunjukkan tanggal lahir 13-03-(19)85, tetapi data tertulis tanggal lahir "
         "12-03-1985."),
        # another month
        ("3601015204850001", BORN, "P",
         "NIK menunjukkan tanggal lahir 12-04-(19)85, tetapi data tertulis tanggal lahir "
         "12-03-1985."),
        # another year
        ("3601015203860001", BORN, "P",
         "NIK menunjukkan tanggal lahir 12-03-(19)86, tetapi data tertulis tanggal lahir "
         "12-03-1985."),
    ],
)
def test_person_register_rejects_nik_disagreeing_with_birth_date_or_sex(
    pandeglang_operator, nik, birth_date, sex, message
):
    with pytest.raises(ValidationError) as caught:
        register(pandeglang_operator, nik=nik, birth_date=birth_date, sex=sex)
    assert caught.value.message_dict == {"nik": [message]}
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    ("nik", "message"),
    [
        ("360101520385001", "NIK harus terdiri dari tepat 16 angka."),
        ("36010152038500O1", "NIK harus terdiri dari tepat 16 angka."),
        ("9901015203850001", "Kode provinsi 99 pada NIK tidak dikenal."),
        ("3601015203850000", "Nomor urut (4 angka terakhir) NIK tidak boleh 0000."),
    ],
)
def test_person_register_rejects_invalid_nik(pandeglang_operator, nik, message):
    with pytest.raises(ValidationError) as caught:
        register(pandeglang_operator, nik=nik)
    assert message in caught.value.message_dict["nik"]
    assert not Person.objects.exists()


@pytest.mark.parametrize("nik", [None, ""])
def test_person_without_nik_is_allowed(pandeglang_operator, nik):
    first = register(pandeglang_operator, nik=nik)
    second = register(pandeglang_operator, nik=nik, name="Siti Aminah")
    for person in (first, second):
        person.refresh_from_db()
        assert person.nik is None
        assert person.tanpa_nik is True
    assert Person.objects.filter(nik__isnull=True).count() == 2


@pytest.mark.parametrize(("nik", "stored"), [("   ", None), (" 3601015203850001 ",
                                                             "3601015203850001")])
def test_person_nik_with_surrounding_spaces_is_normalised(pandeglang_operator, nik, stored):
    person = register(pandeglang_operator, nik=nik)
    person.refresh_from_db()
    assert person.nik == stored


def test_nik_is_unique(pandeglang_operator):
    register(pandeglang_operator, nik="3601015203850001")
    with pytest.raises(ValidationError) as caught:
        register(pandeglang_operator, nik="3601015203850001", name="Siti Aminah Lain",
                 desa_id=DESA_PANDEGLANG_2)
    assert caught.value.message_dict == {"nik": ["Orang dengan NIK telah ada."]}
    assert Person.objects.count() == 1


@pytest.mark.parametrize("life_status", ["meninggal", "pindah"])
def test_life_status_other_than_hidup_needs_a_date(pandeglang_operator, life_status):
    with pytest.raises(ValidationError) as caught:
        register(pandeglang_operator, life_status=life_status)
    assert caught.value.message_dict == {
        "life_status_date": ["Tanggal wajib diisi untuk status meninggal atau pindah."]
    }
    person = register(pandeglang_operator, life_status=life_status,
                      life_status_date=datetime.date(2024, 1, 5))
    person.refresh_from_db()
    assert (person.life_status, person.life_status_date) == (life_status,
                                                              datetime.date(2024, 1, 5))


def test_life_status_date_is_dropped_for_a_living_person(pandeglang_operator):
    person = register(pandeglang_operator, life_status="hidup",
                      life_status_date=datetime.date(2024, 1, 5))
    person.refresh_from_db()
    assert person.life_status_date is None


def test_person_update_marks_death(pandeglang_operator):
    person = register(pandeglang_operator)
    services.person_update(actor=pandeglang_operator, person=person, life_status="meninggal",
                           life_status_date=datetime.date(2024, 2, 1))
    person.refresh_from_db()
    assert (person.life_status, person.life_status_date) == ("meninggal",
                                                              datetime.date(2024, 2, 1))


def test_member_registered_as_head_becomes_the_head(pandeglang_operator):
    household = HouseholdFactory()
    head = register(pandeglang_operator, name="Budi Santoso", sex="L", household=household,
                    relationship="kepala")
    register(pandeglang_operator, name="Siti Aminah", household=household,
             relationship="pasangan")
    household.refresh_from_db()
    assert household.head_id == head.pk
    assert household.members.count() == 2


def test_head_who_leaves_the_household_is_no_longer_its_head(pandeglang_operator):
    household = HouseholdFactory()
    head = register(pandeglang_operator, name="Budi Santoso", sex="L", household=household,
                    relationship="kepala", nik=None)
    household.refresh_from_db()
    assert household.head_id == head.pk
    services.person_update(actor=pandeglang_operator, person=head, household=None,
                           relationship="")
    household.refresh_from_db()
    assert household.head_id is None


def test_unknown_person_field_is_a_programming_error(pandeglang_operator):
    with pytest.raises(TypeError, match="unknown fields: \\['merged_into'\\]"):
        register(pandeglang_operator, merged_into=None)


# --- households -------------------------------------------------------------------------------


def create_household(actor, **fields):
    data = {"no_kk": no_kk_for(), "address": "Kp. Sumur RT 01", "desa_id": DESA_PANDEGLANG}
    data.update(fields)
    return services.household_create(actor=actor, **data)


@pytest.mark.parametrize(
    ("no_kk", "message"),
    [
        ("360101120416001", "Nomor KK harus terdiri dari tepat 16 angka."),
        ("36010112041600a1", "Nomor KK harus terdiri dari tepat 16 angka."),
        ("9901011204160001", "Kode provinsi 99 pada Nomor KK tidak dikenal."),
        ("3600011204160001", "Kode kabupaten/kota pada Nomor KK tidak boleh 00."),
        ("3601013204160001",
         "Tanggal pencatatan pada Nomor KK (32-04-16) bukan tanggal yang sah."),
        ("3601011204160000", "Nomor urut (4 angka terakhir) Nomor KK tidak boleh 0000."),
    ],
)
def test_household_no_kk_is_validated(pandeglang_operator, no_kk, message):
    with pytest.raises(ValidationError) as caught:
        create_household(pandeglang_operator, no_kk=no_kk)
    assert message in caught.value.message_dict["no_kk"]
    assert not Household.objects.exists()


def test_household_no_kk_is_unique(pandeglang_operator):
    create_household(pandeglang_operator, no_kk="3601011204160001")
    with pytest.raises(ValidationError) as caught:
        create_household(pandeglang_operator, no_kk="3601011204160001", address="Lain")
    assert caught.value.message_dict == {"no_kk": ["Keluarga dengan No. KK telah ada."]}
    assert Household.objects.count() == 1


def test_household_decile_must_be_1_to_10(pandeglang_operator):
    with pytest.raises(ValidationError):
        create_household(pandeglang_operator, decile=11)
    household = create_household(pandeglang_operator, decile=10)
    assert household.decile == 10


def test_household_head_must_be_a_member(pandeglang_operator):
    household = create_household(pandeglang_operator)
    stranger = RegistryPersonFactory()
    with pytest.raises(ValidationError) as caught:
        services.household_update(actor=pandeglang_operator, household=household, head=stranger)
    assert caught.value.message_dict == {"head": ["Kepala keluarga harus anggota keluarga ini."]}
    member = RegistryPersonFactory(household=household, relationship="kepala")
    services.household_update(actor=pandeglang_operator, household=household, head=member)
    household.refresh_from_db()
    assert household.head_id == member.pk


def test_the_head_named_by_hand_is_the_living_kepala_keluarga(pandeglang_operator):
    """Domain audit (December 2026): the API, the admin and the sync named any member head —
    a 2-year-old child while the father is the kepala keluarga. The head follows the KK."""
    household = create_household(pandeglang_operator)
    father = RegistryPersonFactory(household=household, relationship="kepala")
    child = RegistryPersonFactory(household=household, relationship="anak",
                                  birth_date=datetime.date(2024, 5, 1))
    services.household_update(actor=pandeglang_operator, household=household, head=father)
    with pytest.raises(ValidationError) as caught:
        services.household_update(actor=pandeglang_operator, household=household, head=child)
    assert list(caught.value.message_dict) == ["head"]
    assert Household.objects.get(pk=household.pk).head_id == father.pk
    # the head follows the members' hubungan: the father dies, the child is named kepala
    services.person_update(actor=pandeglang_operator, person=father, life_status="meninggal",
                           life_status_date=datetime.date(2026, 1, 5))
    services.person_update(actor=pandeglang_operator, person=child, relationship="kepala")
    assert Household.objects.get(pk=household.pk).head_id == child.pk


def test_household_with_a_case_cannot_be_deleted(pandeglang_operator):
    household = create_household(pandeglang_operator)
    services.case_open(actor=pandeglang_operator, category=category("fakir-miskin"),
                       household=household, identified_on=datetime.date(2024, 1, 2),
                       source="dtsen")
    with pytest.raises(ValidationError) as caught:
        services.household_delete(actor=pandeglang_operator, household=household)
    assert caught.value.messages == ["Keluarga yang memiliki kasus tidak dapat dihapus."]
    assert Household.objects.filter(pk=household.pk).exists()


def test_household_delete_keeps_its_members(pandeglang_operator):
    household = create_household(pandeglang_operator)
    member = RegistryPersonFactory(household=household, relationship="kepala")
    Household.objects.filter(pk=household.pk).update(head=member)
    services.household_delete(actor=pandeglang_operator, household=household)
    member.refresh_from_db()
    assert member.household_id is None
    assert not Household.objects.filter(pk=household.pk).exists()


# --- cases ------------------------------------------------------------------------------------


def open_case(actor, *, person=None, household=None, slug="anak-terlantar"):
    return services.case_open(
        actor=actor, category=category(slug), person=person, household=household,
        identified_on=datetime.date(2024, 5, 6), source="tksk", source_note="Laporan TKSK",
    )


def test_case_open_for_a_person_derives_the_desa_and_records_the_start(pandeglang_operator):
    person = RegistryPersonFactory(desa_id=DESA_PANDEGLANG_2)
    case = open_case(pandeglang_operator, person=person)
    case.refresh_from_db()
    assert case.desa_id == DESA_PANDEGLANG_2
    assert case.status == "teridentifikasi"
    assert case.person_id == person.pk and case.household_id is None
    assert transitions_of(case) == [
        ("", "teridentifikasi", "Kasus dicatat.", pandeglang_operator.username)
    ]


@pytest.mark.parametrize(
    ("slug", "allowed"),
    [
        ("fakir-miskin", True),
        ("korban-bencana-alam", True),
        ("komunitas-adat-terpencil", True),
        ("anak-terlantar", False),
        ("lanjut-usia-terlantar", False),
    ],
)
def test_case_for_a_household_only_for_household_level_categories(
    pandeglang_operator, slug, allowed
):
    household = HouseholdFactory(desa_id=DESA_PANDEGLANG_2)
    if allowed:
        case = open_case(pandeglang_operator, household=household, slug=slug)
        assert case.desa_id == DESA_PANDEGLANG_2
        assert case.household_id == household.pk and case.person_id is None
    else:
        name = category(slug).name
        with pytest.raises(ValidationError) as caught:
            open_case(pandeglang_operator, household=household, slug=slug)
        assert caught.value.message_dict == {
            "household": [f"Kategori {name} dicatat per orang, bukan per keluarga."]
        }
        assert not Case.objects.exists()


def test_fakir_miskin_may_also_be_recorded_for_a_person(pandeglang_operator):
    case = open_case(pandeglang_operator, person=RegistryPersonFactory(), slug="fakir-miskin")
    assert case.category.slug == "fakir-miskin"


@pytest.mark.parametrize("subjects", ["none", "both"])
def test_case_needs_exactly_one_subject(pandeglang_operator, subjects):
    person = RegistryPersonFactory() if subjects == "both" else None
    household = HouseholdFactory() if subjects == "both" else None
    with pytest.raises(ValidationError) as caught:
        open_case(pandeglang_operator, person=person, household=household, slug="fakir-miskin")
    assert caught.value.messages == ["Kasus harus untuk satu orang atau satu keluarga."]


def test_case_for_a_merged_person_is_refused(pandeglang_operator):
    kept = RegistryPersonFactory()
    merged = RegistryPersonFactory(merged_into=kept)
    with pytest.raises(ValidationError) as caught:
        open_case(pandeglang_operator, person=merged)
    assert caught.value.message_dict == {"person": ["Orang ini sudah digabung ke data lain."]}


@pytest.mark.parametrize(("from_status", "to_status"), sorted(ALLOWED))
def test_allowed_transition(province_operator, from_status, to_status):
    case = CaseFactory(status=from_status)
    result = services.case_transition(actor=province_operator, case=case, to_status=to_status,
                                      reason="Hasil kunjungan", close_reason="lainnya")
    case.refresh_from_db()
    assert result.status == case.status == to_status
    assert case.close_reason == ("lainnya" if to_status == "ditutup" else "")
    assert transitions_of(case) == [
        (from_status, to_status, "Hasil kunjungan", province_operator.username)
    ]


@pytest.mark.parametrize(("from_status", "to_status"), REFUSED)
def test_refused_transition(province_operator, from_status, to_status):
    case = CaseFactory(status=from_status)
    with pytest.raises(ValidationError) as caught:
        services.case_transition(actor=province_operator, case=case, to_status=to_status,
                                 reason="Hasil kunjungan", close_reason="lainnya")
    assert caught.value.message_dict == {
        "status": [f"Status {LABELS[from_status]} tidak dapat diubah menjadi "
                   f"{LABELS[to_status]}."]
    }
    case.refresh_from_db()
    assert case.status == from_status
    assert not CaseTransition.objects.filter(case=case).exists()


@pytest.mark.parametrize("to_status", ["dirujuk", "ditutup"])
@pytest.mark.parametrize("reason", ["", "   "])
def test_referral_and_closing_need_a_reason(province_operator, to_status, reason):
    case = CaseFactory(status="terverifikasi")
    with pytest.raises(ValidationError) as caught:
        services.case_transition(actor=province_operator, case=case, to_status=to_status,
                                 reason=reason, close_reason="pindah")
    assert caught.value.message_dict == {"reason": ["Alasan wajib diisi untuk status ini."]}
    case.refresh_from_db()
    assert case.status == "terverifikasi"


@pytest.mark.parametrize("close_reason", ["", "sembuh"])
def test_closing_needs_a_close_reason(province_operator, close_reason):
    case = CaseFactory(status="teridentifikasi")
    with pytest.raises(ValidationError) as caught:
        services.case_transition(actor=province_operator, case=case, to_status="ditutup",
                                 reason="Tidak ditemukan", close_reason=close_reason)
    assert caught.value.message_dict == {
        "close_reason": ["Pilih alasan penutupan: meninggal, pindah, duplikat, lainnya."]
    }
    case.refresh_from_db()
    assert case.status == "teridentifikasi"


@pytest.mark.parametrize("close_reason", ["meninggal", "pindah", "duplikat", "lainnya"])
def test_closing_keeps_the_close_reason(province_operator, close_reason):
    case = CaseFactory(status="dalam_penanganan")
    services.case_transition(actor=province_operator, case=case, to_status="ditutup",
                             reason="Keterangan desa", close_reason=close_reason)
    case.refresh_from_db()
    assert (case.status, case.close_reason) == ("ditutup", close_reason)


def test_unknown_target_status_is_refused(province_operator):
    case = CaseFactory(status="teridentifikasi")
    with pytest.raises(ValidationError) as caught:
        services.case_transition(actor=province_operator, case=case, to_status="arsip")
    assert caught.value.message_dict == {
        "status": ["Status Teridentifikasi tidak dapat diubah menjadi arsip."]
    }


def test_every_transition_is_recorded_with_actor(pandeglang_operator, make_user):
    from dinsos import roles

    colleague = make_user(roles.OPERATOR_KAB_KOTA, "36.01")
    case = open_case(pandeglang_operator, person=RegistryPersonFactory())
    services.case_transition(actor=pandeglang_operator, case=case, to_status="terverifikasi",
                             reason="Diverifikasi TKSK")
    services.case_transition(actor=colleague, case=case, to_status="dalam_penanganan")
    services.case_transition(actor=colleague, case=case, to_status="dirujuk",
                             reason="Dirujuk ke RSJ")
    assert transitions_of(case) == [
        ("", "teridentifikasi", "Kasus dicatat.", pandeglang_operator.username),
        ("teridentifikasi", "terverifikasi", "Diverifikasi TKSK", pandeglang_operator.username),
        ("terverifikasi", "dalam_penanganan", "", colleague.username),
        ("dalam_penanganan", "dirujuk", "Dirujuk ke RSJ", colleague.username),
    ]
    case.refresh_from_db()
    assert case.status == "dirujuk"


# --- services (layanan) -----------------------------------------------------------------------


def record(actor, case, **fields):
    data = {"service_type": service_type("pembinaan-keterampilan"),
            "start_date": datetime.date(2024, 6, 1), "funding_source": "apbd_provinsi",
            "provider_name": "Balai Latihan Kerja Serang"}
    data.update(fields)
    return services.service_record(actor=actor, case=case, **data)


@pytest.mark.parametrize("status", ["teridentifikasi", "selesai", "dirujuk", "ditutup"])
def test_service_only_on_verified_or_handled_cases(province_operator, status):
    case = CaseFactory(status=status)
    with pytest.raises(ValidationError) as caught:
        record(province_operator, case)
    assert caught.value.message_dict == {
        "case": ["Layanan hanya dapat dicatat untuk kasus terverifikasi atau dalam penanganan "
                 f"(status kasus: {LABELS[status]})."]
    }
    assert not Service.objects.exists()


def test_first_service_puts_a_verified_case_in_handling(province_operator):
    case = CaseFactory(status="terverifikasi")
    service = record(province_operator, case, service_type=service_type("jamsosratu"),
                     value_amount="1500000")
    case.refresh_from_db()
    assert case.status == "dalam_penanganan"
    assert transitions_of(case) == [
        ("terverifikasi", "dalam_penanganan",
         "Layanan pertama dicatat: Jamsosratu (bantuan tunai bersyarat provinsi)",
         province_operator.username),
    ]
    assert service.pillar == "jaminan_sosial"
    record(province_operator, case)
    case.refresh_from_db()
    assert case.status == "dalam_penanganan"
    assert len(transitions_of(case)) == 1
    assert case.services.count() == 2


@pytest.mark.parametrize(
    ("code", "pillar"),
    [
        ("rehabilitasi-dalam-panti", "rehabilitasi_sosial"),
        ("pbi-jaminan-kesehatan", "jaminan_sosial"),
        ("usaha-ekonomi-produktif", "pemberdayaan_sosial"),
        ("santunan-korban-bencana", "perlindungan_sosial"),
    ],
)
def test_service_pillar_is_copied_from_the_type(province_operator, code, pillar):
    service = record(province_operator, CaseFactory(status="dalam_penanganan"),
                     service_type=service_type(code))
    service.refresh_from_db()
    assert service.pillar == pillar


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("1500000.50", Decimal("1500001")),
        ("1500000.49", Decimal("1500000")),
        (Decimal("0.5"), Decimal("1")),
        (250000, Decimal("250000")),
        ("0", Decimal("0")),
        (None, None),
    ],
)
def test_service_value_is_whole_rupiah(province_operator, value, stored):
    service = record(province_operator, CaseFactory(status="dalam_penanganan"),
                     value_amount=value)
    service.refresh_from_db()
    assert service.value_amount == stored
    if stored is not None:
        assert service.value_amount == service.value_amount.to_integral_value()


def test_service_needs_a_provider(province_operator):
    case = CaseFactory(status="dalam_penanganan")
    with pytest.raises(ValidationError) as caught:
        record(province_operator, case, provider_name="")
    assert caught.value.message_dict == {
        "provider_name": ["Isi pemberi layanan (dinas atau lembaga)."]
    }
    office = Office.objects.get(wilayah_id="36")
    service = record(province_operator, case, provider_name="", provider_office=office)
    assert service.provider_office_id == office.pk


def test_service_is_refused_on_a_case_closed_meanwhile(province_operator):
    case = CaseFactory(status="dalam_penanganan")
    stale = Case.objects.get(pk=case.pk)
    services.case_transition(actor=province_operator, case=case, to_status="ditutup",
                             reason="Meninggal dunia", close_reason="meninggal")
    assert stale.status == "dalam_penanganan"  # the caller's copy is out of date
    with pytest.raises(ValidationError) as caught:
        record(province_operator, stale)
    assert caught.value.message_dict == {"case": [
        "Layanan hanya dapat dicatat untuk kasus terverifikasi atau dalam penanganan "
        "(status kasus: Ditutup)."]}
    assert not Service.objects.filter(case=case).exists()


def test_service_end_date_not_before_start(province_operator):
    with pytest.raises(ValidationError):
        record(province_operator, CaseFactory(status="dalam_penanganan"),
               start_date=datetime.date(2024, 6, 1), end_date=datetime.date(2024, 5, 31))
    assert not Service.objects.exists()


def test_service_update_rounds_the_value(province_operator):
    service = record(province_operator, CaseFactory(status="dalam_penanganan"))
    services.service_update(actor=province_operator, service=service,
                            value_amount=Decimal("2250000.5"))
    service.refresh_from_db()
    assert service.value_amount == Decimal("2250001")


# --- the district rule ------------------------------------------------------------------------


def _lebak_case(status="teridentifikasi"):
    return CaseFactory(person=RegistryPersonFactory(desa_id=DESA_LEBAK), status=status)


# name -> (setup making the objects, the write on them)
WRITES_OUTSIDE = {
    "person_register": (lambda: None, lambda actor, _obj: register(actor, desa_id=DESA_LEBAK)),
    "person_register_into_lebak_household": (
        lambda: HouseholdFactory(desa_id=DESA_LEBAK),
        lambda actor, household: register(actor, household=household)),
    "person_update": (
        lambda: RegistryPersonFactory(desa_id=DESA_LEBAK),
        lambda actor, person: services.person_update(actor=actor, person=person, name="Baru")),
    "person_move_out": (
        RegistryPersonFactory,
        lambda actor, person: services.person_update(actor=actor, person=person,
                                                     desa_id=DESA_LEBAK)),
    "person_delete": (
        lambda: RegistryPersonFactory(desa_id=DESA_LEBAK),
        lambda actor, person: services.person_delete(actor=actor, person=person)),
    "household_create": (
        lambda: None,
        lambda actor, _obj: create_household(actor, desa_id=DESA_LEBAK,
                                             no_kk=no_kk_for("36.02.01"))),
    "household_update": (
        lambda: HouseholdFactory(desa_id=DESA_LEBAK),
        lambda actor, household: services.household_update(actor=actor, household=household,
                                                           address="Baru")),
    "household_move_out": (
        HouseholdFactory,
        lambda actor, household: services.household_update(actor=actor, household=household,
                                                           desa_id=DESA_LEBAK)),
    "household_delete": (
        lambda: HouseholdFactory(desa_id=DESA_LEBAK),
        lambda actor, household: services.household_delete(actor=actor, household=household)),
    "case_open": (
        lambda: RegistryPersonFactory(desa_id=DESA_LEBAK),
        lambda actor, person: open_case(actor, person=person)),
    "case_open_household": (
        lambda: HouseholdFactory(desa_id=DESA_LEBAK),
        lambda actor, household: open_case(actor, household=household, slug="fakir-miskin")),
    "case_transition": (
        _lebak_case,
        lambda actor, case: services.case_transition(actor=actor, case=case,
                                                     to_status="terverifikasi")),
    "case_update": (
        _lebak_case,
        lambda actor, case: services.case_update(actor=actor, case=case, description="Baru")),
    "service_record": (
        lambda: _lebak_case("terverifikasi"),
        lambda actor, case: record(actor, case)),
    "service_update": (
        lambda: ServiceFactory(case=_lebak_case("dalam_penanganan")),
        lambda actor, service: services.service_update(actor=actor, service=service,
                                                       note="Baru")),
    "service_delete": (
        lambda: ServiceFactory(case=_lebak_case("dalam_penanganan")),
        lambda actor, service: services.service_delete(actor=actor, service=service)),
}


def _registry_state() -> dict:
    return {
        model.__name__: sorted(model.objects.values_list(*fields))
        for model, fields in [
            (Person, ("id", "name", "desa_id", "household_id")),
            (Household, ("id", "address", "desa_id", "head_id")),
            (Case, ("id", "status", "description", "desa_id")),
            (Service, ("id", "note")),
            (CaseTransition, ("id",)),
        ]
    }


@pytest.mark.parametrize("write", sorted(WRITES_OUTSIDE))
def test_district_operator_cannot_write_outside_its_area(pandeglang_operator, write):
    setup, do = WRITES_OUTSIDE[write]
    obj = setup()
    before = _registry_state()
    with pytest.raises(PermissionDenied) as caught:
        do(pandeglang_operator, obj)
    assert "di luar wilayah kerja Anda" in str(caught.value)
    assert _registry_state() == before


def test_province_operator_writes_everywhere(province_operator):
    person = register(province_operator, desa_id=DESA_LEBAK)
    case = open_case(province_operator, person=person)
    case = services.case_transition(actor=province_operator, case=case,
                                    to_status="terverifikasi")
    record(province_operator, case)
    case.refresh_from_db()
    assert (case.desa_id, case.status) == (DESA_LEBAK, "dalam_penanganan")


def test_person_upsert_creates_then_updates(pandeglang_operator):
    nik = nik_for(BORN, "P")
    person, outcome = services.person_upsert(actor=pandeglang_operator, nik=nik,
                                             name="Siti Aminah", birth_date=BORN, sex="P",
                                             desa_id=DESA_PANDEGLANG)
    assert outcome == "created"
    again, outcome = services.person_upsert(actor=pandeglang_operator, nik=f" {nik} ",
                                            name="Siti Aminah Baru", birth_date=BORN, sex="P",
                                            desa_id=DESA_PANDEGLANG_2)
    assert outcome == "updated"
    assert again.pk == person.pk
    again.refresh_from_db()
    assert (again.name, again.desa_id) == ("Siti Aminah Baru", DESA_PANDEGLANG_2)
    stamp = again.updated_at
    same, outcome = services.person_upsert(actor=pandeglang_operator, nik=nik,
                                           name=" Siti  Aminah Baru", birth_date=BORN, sex="P",
                                           desa_id=DESA_PANDEGLANG_2)
    assert outcome == "unchanged"
    same.refresh_from_db()
    assert same.updated_at == stamp


def test_person_upsert_of_a_nik_from_another_district_names_no_district(pandeglang_operator):
    """Issue #9 point 8: refused by the NIK's uniqueness, as a new registration would be."""
    other = RegistryPersonFactory(desa_id=DESA_LEBAK)
    with pytest.raises(ValidationError) as caught:
        services.person_upsert(actor=pandeglang_operator, nik=other.nik, name="Baru",
                               birth_date=other.birth_date, sex=other.sex,
                               desa_id=DESA_PANDEGLANG)
    assert list(caught.value.message_dict) == ["nik"]
    assert "wilayah lain" not in str(caught.value)
    other.refresh_from_db()
    assert other.desa_id == DESA_LEBAK


def test_dates_before_1900_are_refused_naming_the_field(pandeglang_operator):
    """Found by a form fuzz: 31/12/1899 was stored as a birth date (without NIK), a case's
    identification date and a service's start (the import refused it; the pages did not)."""
    person = RegistryPersonFactory(desa_id=DESA_PANDEGLANG_2)
    person.nik, person.birth_date = None, datetime.date(1899, 12, 31)
    with pytest.raises(ValidationError) as refused:
        person.full_clean()
    assert refused.value.message_dict["birth_date"] == [
        "Tanggal lahir 31-12-1899 sebelum tahun 1900."]
    with pytest.raises(ValidationError) as refused:
        services.case_open(actor=pandeglang_operator, category=category("anak-terlantar"),
                           person=RegistryPersonFactory(desa_id=DESA_PANDEGLANG_2),
                           identified_on=datetime.date(1899, 12, 31), source="tksk")
    assert refused.value.message_dict["identified_on"] == [
        "Tanggal teridentifikasi 31-12-1899 sebelum tahun 1900."]
    with pytest.raises(ValidationError) as refused:
        record(pandeglang_operator, CaseFactory(status="terverifikasi"),
               start_date=datetime.date(1899, 12, 31))
    assert refused.value.message_dict["start_date"] == [
        "Tanggal mulai 31-12-1899 sebelum tahun 1900."]
