"""Bank Banten files of a tranche: the transfer list out (with control totals) and the bank's
result file in. A result line is applied only when its payment, account and amount match what
was sent; a line already applied with the same reference changes nothing."""

import csv
import datetime
import io
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from dinsos.importing import ImportReport
from dinsos.scoping import in_area
from dinsos.tabular import read_table, safe_cell
from jamsosratu.choices import Channel, EnrolmentStatus, PaymentStatus
from jamsosratu.models import Payment, Tranche

RESULT_COLUMNS = ["id_penyaluran", "rekening", "jumlah", "status", "referensi", "tanggal",
                  "keterangan"]


def transfer_file(tranche: Tranche) -> tuple[str, int, Decimal]:
    payments = (Payment.objects.filter(tranche=tranche, status=PaymentStatus.DIJADWALKAN,
                                       channel=Channel.BANK_BANTEN,
                                       enrolment__status=EnrolmentStatus.AKTIF)
                .select_related("enrolment__household__head").order_by("desa_id", "id"))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id_penyaluran", "rekening", "nama", "jumlah", "keterangan"])
    count, total = 0, Decimal(0)
    for payment in payments.iterator(chunk_size=5000):
        head = payment.enrolment.household.head
        writer.writerow([payment.pk, payment.account_number,
                         safe_cell(head.name if head else ""), f"{payment.amount:.0f}",
                         f"Jamsosratu {tranche.cycle.year} tahap {tranche.number}"])
        count += 1
        total += payment.amount
    writer.writerow(["TOTAL", count, "", f"{total:.0f}", "kontrol: jumlah baris, jumlah Rp"])
    return out.getvalue(), count, total


def _amount(text: str) -> Decimal:
    """875000, 875000.00, 875.000 or 875.000,00 (Indonesian thousands and decimals)."""
    text = text.strip()
    if "," in text or re.fullmatch(r"\d{1,3}(\.\d{3})+", text):
        text = text.replace(".", "").replace(",", ".")
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(text) from exc


@transaction.atomic
def bank_result_import(*, actor, tranche: Tranche, fileobj, filename: str) -> ImportReport:
    report = ImportReport()
    for row in read_table(fileobj, filename, required=RESULT_COLUMNS[:5]):
        if row.values.get("id_penyaluran", "").upper() == "TOTAL":
            continue
        report.rows += 1
        problems = _apply(row.values, actor=actor, tranche=tranche, report=report)
        if problems:
            report.reject(row.number, problems)
    return report


def _apply(values: dict, *, actor, tranche, report) -> list[tuple[str, str]]:
    pk = values.get("id_penyaluran", "")
    payment = Payment.objects.select_for_update().filter(
        pk=int(pk) if pk.isdigit() else 0, tranche=tranche).first()
    if payment is None or not in_area(actor, payment.desa_id):
        return [("id_penyaluran", _("penyaluran '%(v)s' tidak ada pada tahap ini") % {"v": pk})]
    if values.get("rekening", "") != payment.account_number:
        return [("rekening", _("rekening %(got)s tidak sama dengan yang dikirim (%(sent)s)")
                 % {"got": values.get("rekening"), "sent": payment.account_number})]
    try:
        amount = _amount(values.get("jumlah", ""))
    except ValueError:
        return [("jumlah", _("jumlah '%(v)s' bukan angka") % {"v": values.get("jumlah")})]
    if amount != payment.amount:
        return [("jumlah", _("jumlah %(got)s tidak sama dengan yang dikirim (%(sent)s)")
                 % {"got": amount, "sent": f"{payment.amount:.0f}"})]
    status = values.get("status", "").lower()
    reference = values.get("referensi", "").strip()
    if status in ("berhasil", "sukses", "disalurkan"):
        if payment.status == PaymentStatus.DISALURKAN:
            if payment.reference == reference:
                report.count("sudah_tercatat")
                return []
            return [("referensi", _("sudah disalurkan dengan referensi %(r)s")
                     % {"r": payment.reference})]
        if payment.status != PaymentStatus.DIJADWALKAN:
            return [("status", _("penyaluran berstatus %(s)s") % {"s": payment.status})]
        try:
            paid_on = datetime.date.fromisoformat(values.get("tanggal", ""))
        except ValueError:
            return [("tanggal", _("tanggal harus TTTT-BB-HH"))]
        if not reference:
            return [("referensi", _("wajib diisi"))]
        payment.status, payment.paid_on, payment.reference = (PaymentStatus.DISALURKAN, paid_on,
                                                              reference)
        report.count("disalurkan")
    elif status == "gagal":
        if payment.status == PaymentStatus.GAGAL:
            report.count("sudah_tercatat")
            return []
        if payment.status != PaymentStatus.DIJADWALKAN:
            return [("status", _("penyaluran berstatus %(s)s") % {"s": payment.status})]
        payment.status = PaymentStatus.GAGAL
        payment.failure_reason = values.get("keterangan", "") or _("gagal menurut bank")
        report.count("gagal")
    else:
        return [("status", _("status harus berhasil atau gagal"))]
    try:
        payment.full_clean()
    except ValidationError as exc:
        return [("-", " ".join(exc.messages))]
    payment.save()
    return []
