"""Maker-checker in the database too (PostgreSQL): whoever added a correction to a run is never
recorded as its verifier. A trigger, because the rule spans the run and its lines; SQLite relies
on the service check (incentives.services.run_verify)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION incentives_run_checker_not_adjuster() RETURNS trigger AS $$
BEGIN
    IF NEW.verified_by_id IS NOT NULL
       AND NEW.verified_by_id IS DISTINCT FROM OLD.verified_by_id
       AND EXISTS (SELECT 1 FROM incentives_payoutline
                   WHERE run_id = NEW.id AND kind = 'penyesuaian'
                     AND created_by_id = NEW.verified_by_id) THEN
        RAISE EXCEPTION 'incentives_run_checker_not_adjuster: yang menambah penyesuaian tidak '
                        'boleh memverifikasi' USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS incentives_run_checker_not_adjuster ON incentives_payoutrun;
CREATE TRIGGER incentives_run_checker_not_adjuster BEFORE UPDATE ON incentives_payoutrun
    FOR EACH ROW EXECUTE FUNCTION incentives_run_checker_not_adjuster();
"""
DROP = """
DROP TRIGGER IF EXISTS incentives_run_checker_not_adjuster ON incentives_payoutrun;
DROP FUNCTION IF EXISTS incentives_run_checker_not_adjuster();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("incentives", "0005_hard_months")]
    operations = [migrations.RunPython(create, drop)]
