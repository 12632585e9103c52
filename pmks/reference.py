"""Reference lists of the registry, loaded by migration and kept as data (editable in admin)."""

from dinsos.choices import Pillar

# (number, slug, name, household_level, minimum_service) — Permensos 08/2012, official order.
# minimum_service: the province's PP 2/2018 duty (in-panti rehabilitation of neglected children,
# elderly and disabled people, gelandangan and pengemis; protection of disaster victims).
CATEGORIES = [
    (1, "anak-balita-terlantar", "Anak Balita Terlantar", False, True),
    (2, "anak-terlantar", "Anak Terlantar", False, True),
    (3, "anak-berhadapan-dengan-hukum", "Anak yang Berhadapan dengan Hukum (ABH)", False, False),
    (4, "anak-jalanan", "Anak Jalanan", False, False),
    (5, "anak-dengan-kedisabilitasan", "Anak dengan Kedisabilitasan (ADK)", False, False),
    (6, "anak-korban-tindak-kekerasan",
     "Anak yang Menjadi Korban Tindak Kekerasan atau Diperlakukan Salah", False, False),
    (7, "anak-memerlukan-perlindungan-khusus",
     "Anak yang Memerlukan Perlindungan Khusus (AMPK)", False, False),
    (8, "lanjut-usia-terlantar", "Lanjut Usia Terlantar", False, True),
    (9, "penyandang-disabilitas", "Penyandang Disabilitas", False, True),
    (10, "tuna-susila", "Tuna Susila", False, False),
    (11, "gelandangan", "Gelandangan", False, True),
    (12, "pengemis", "Pengemis", False, True),
    (13, "pemulung", "Pemulung", False, False),
    (14, "kelompok-minoritas", "Kelompok Minoritas", False, False),
    (15, "bekas-warga-binaan-lapas",
     "Bekas Warga Binaan Lembaga Pemasyarakatan (BWBLP)", False, False),
    (16, "odha", "Orang dengan HIV/AIDS (ODHA)", False, False),
    (17, "korban-napza", "Korban Penyalahgunaan NAPZA", False, False),
    (18, "korban-trafficking", "Korban Trafficking", False, False),
    (19, "korban-tindak-kekerasan", "Korban Tindak Kekerasan", False, False),
    (20, "pekerja-migran-bermasalah-sosial",
     "Pekerja Migran Bermasalah Sosial (PMBS)", False, False),
    (21, "korban-bencana-alam", "Korban Bencana Alam", True, True),
    (22, "korban-bencana-sosial", "Korban Bencana Sosial", True, True),
    (23, "perempuan-rawan-sosial-ekonomi", "Perempuan Rawan Sosial Ekonomi (PRSE)", False, False),
    (24, "fakir-miskin", "Fakir Miskin", True, False),
    (25, "keluarga-bermasalah-sosial-psikologis",
     "Keluarga Bermasalah Sosial Psikologis", True, False),
    (26, "komunitas-adat-terpencil", "Komunitas Adat Terpencil (KAT)", True, False),
]

SERVICE_TYPES = [
    (Pillar.REHABILITASI_SOSIAL, "rehabilitasi-dalam-panti", "Rehabilitasi sosial dalam panti"),
    (Pillar.REHABILITASI_SOSIAL, "rehabilitasi-luar-panti",
     "Rehabilitasi sosial luar panti (berbasis keluarga/komunitas)"),
    (Pillar.REHABILITASI_SOSIAL, "alat-bantu-disabilitas", "Bantuan alat bantu disabilitas"),
    (Pillar.REHABILITASI_SOSIAL, "pendampingan-psikososial", "Pendampingan psikososial"),
    (Pillar.JAMINAN_SOSIAL, "pbi-jaminan-kesehatan", "PBI Jaminan Kesehatan"),
    (Pillar.JAMINAN_SOSIAL, "jamsosratu", "Jamsosratu (bantuan tunai bersyarat provinsi)"),
    (Pillar.JAMINAN_SOSIAL, "asistensi-sosial", "Asistensi sosial lansia/disabilitas"),
    (Pillar.PEMBERDAYAAN_SOSIAL, "pembinaan-keterampilan", "Pembinaan keterampilan"),
    (Pillar.PEMBERDAYAAN_SOSIAL, "usaha-ekonomi-produktif",
     "Bantuan usaha ekonomi produktif (UEP/KUBE)"),
    (Pillar.PEMBERDAYAAN_SOSIAL, "rumah-tidak-layak-huni", "Rehabilitasi rumah tidak layak huni"),
    (Pillar.PERLINDUNGAN_SOSIAL, "bantuan-sosial-tunai", "Bantuan sosial tunai"),
    (Pillar.PERLINDUNGAN_SOSIAL, "bantuan-sembako", "Bantuan sembako"),
    (Pillar.PERLINDUNGAN_SOSIAL, "santunan-korban-bencana", "Santunan korban bencana"),
    (Pillar.PERLINDUNGAN_SOSIAL, "logistik-tanggap-darurat", "Bantuan logistik tanggap darurat"),
]


def load_reference(apps, schema_editor=None):
    Category = apps.get_model("pmks", "Category")
    ServiceType = apps.get_model("pmks", "ServiceType")
    for number, slug, name, household_level, minimum_service in CATEGORIES:
        Category.objects.update_or_create(
            number=number,
            defaults={"slug": slug, "name": name, "household_level": household_level,
                      "minimum_service": minimum_service},
        )
    for pillar, code, name in SERVICE_TYPES:
        ServiceType.objects.get_or_create(code=code, defaults={"pillar": pillar, "name": name})


# (code, name) in the order of the DTKS/BDT household form: aset bergerak, then aset tidak
# bergerak
ASSETS = [
    ("tabung-gas", "Tabung gas 5,5 kg atau lebih"),
    ("lemari-es", "Lemari es/kulkas"),
    ("ac", "AC (penyejuk udara)"),
    ("pemanas-air", "Pemanas air (water heater)"),
    ("telepon-rumah", "Telepon rumah (PSTN)"),
    ("televisi-layar-datar", "Televisi layar datar minimal 30 inci"),
    ("emas-perhiasan", "Emas/perhiasan minimal 10 gram"),
    ("komputer", "Komputer/laptop/tablet"),
    ("sepeda", "Sepeda"),
    ("sepeda-motor", "Sepeda motor"),
    ("mobil", "Mobil"),
    ("perahu", "Perahu"),
    ("motor-tempel", "Motor tempel"),
    ("perahu-motor", "Perahu motor"),
    ("kapal", "Kapal"),
    ("lahan", "Lahan"),
    ("rumah-lain", "Rumah di tempat lain"),
]

# (code, name): the programs the DTKS form asks about, the province's own (Jamsosratu,
# Rutilahu) last
PROGRAMS = [
    ("kks", "KKS/KPS (Kartu Keluarga Sejahtera/Kartu Perlindungan Sosial)"),
    ("pkh", "PKH (Program Keluarga Harapan)"),
    ("bpnt", "BPNT/Program Sembako"),
    ("kip-pip", "KIP/PIP (Program Indonesia Pintar)"),
    ("kis-pbi-jk", "KIS/PBI JK (Penerima Bantuan Iuran Jaminan Kesehatan)"),
    ("bpjs-kesehatan-mandiri", "BPJS Kesehatan mandiri"),
    ("bpjs-ketenagakerjaan", "BPJS Ketenagakerjaan"),
    ("blt-dana-desa", "BLT Dana Desa"),
    ("rastra", "Rastra/Raskin"),
    ("kur", "KUR (Kredit Usaha Rakyat)"),
    ("jamsosratu", "Jamsosratu"),
    ("rutilahu", "Rutilahu (rehabilitasi rumah tidak layak huni)"),
]


def load_household_lists(apps, schema_editor=None):
    """The DTKS lists of assets and programs (idempotent: names and order refreshed, an
    entry added by hand kept)."""
    for model, rows in (("Asset", ASSETS), ("Program", PROGRAMS)):
        model = apps.get_model("pmks", model)
        for order, (code, name) in enumerate(rows, start=1):
            model.objects.update_or_create(code=code, defaults={"name": name, "order": order})
