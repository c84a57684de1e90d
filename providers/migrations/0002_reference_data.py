"""Reference data: every US ZIP code with its centroid (offline `zipcodes` package) and NUCC specialties."""

from django.db import migrations

NUCC_SPECIALTIES = [
    ("207Q00000X", "Family Medicine", "family-medicine"),
    ("207R00000X", "Internal Medicine", "internal-medicine"),
    ("208000000X", "Pediatrics", "pediatrics"),
    ("208D00000X", "General Practice", "general-practice"),
    ("207V00000X", "Obstetrics & Gynecology", "obstetrics-gynecology"),
    ("363LF0000X", "Nurse Practitioner, Family", "nurse-practitioner-family"),
    ("363LP2300X", "Nurse Practitioner, Primary Care", "nurse-practitioner-primary-care"),
    ("363A00000X", "Physician Assistant", "physician-assistant"),
    ("111N00000X", "Chiropractor", "chiropractor"),
    ("175F00000X", "Naturopath", "naturopath"),
    ("171100000X", "Acupuncturist", "acupuncturist"),
    ("1041C0700X", "Social Worker, Clinical", "clinical-social-worker"),
    ("103T00000X", "Psychologist", "psychologist"),
    ("2084P0800X", "Psychiatry", "psychiatry"),
    ("207RC0000X", "Cardiovascular Disease", "cardiology"),
    ("207RE0101X", "Endocrinology, Diabetes & Metabolism", "endocrinology"),
    ("207N00000X", "Dermatology", "dermatology"),
    ("207X00000X", "Orthopaedic Surgery", "orthopaedic-surgery"),
    ("225100000X", "Physical Therapist", "physical-therapist"),
    ("133V00000X", "Dietitian, Registered", "dietitian"),
    ("207RG0300X", "Geriatric Medicine", "geriatric-medicine"),
    ("207QI0002X", "Integrative Medicine (Family Medicine)", "integrative-medicine"),
]


def load(apps, schema_editor):
    import zipcodes

    zip_model = apps.get_model("providers", "ZipCode")
    rows = {}
    for entry in zipcodes.list_all():
        if entry.get("lat") in (None, "") or entry.get("long") in (None, ""):
            continue
        rows[entry["zip_code"]] = zip_model(
            code=entry["zip_code"],
            city=entry["city"].title()[:100],
            state=entry["state"],
            latitude=entry["lat"],
            longitude=entry["long"],
        )
    zip_model.objects.bulk_create(rows.values(), batch_size=5000, ignore_conflicts=True)
    specialty_model = apps.get_model("providers", "Specialty")
    specialty_model.objects.bulk_create(
        [specialty_model(nucc_code=c, display=d, slug=s) for c, d, s in NUCC_SPECIALTIES],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("providers", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
