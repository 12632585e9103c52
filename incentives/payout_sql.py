"""The lines of a payout run, set-based on PostgreSQL: one ``INSERT … SELECT`` per kind of line.

The rules stay in :mod:`incentives.calculations`. Python resolves what does not depend on the
worker — for every role × component × funding source the window, the rule, the governing rate
and each rate's part of the window with its base (``calculations.plan_component``, a handful of
rows) — and hands that plan to one statement as JSON. The statement does per worker only what
the plan leaves: the worker's active days in each part (the union of its assignments as a
``datemultirange``, so overlapping decrees count a day once), ``Σ base × days`` (an integer),
one division by the days of the window rounded half-up in integers (``(2n + d) div 2d``, the
exact ``dinsos.money.round_rupiah`` of ``n / d``), the explanation's part amounts rounded down
with the remainder in the last part (``split_rupiah``), PPh 21 rounded half away from zero
(PostgreSQL's ``round(numeric)`` = ``ROUND_HALF_UP``), hold reasons and bank fields; amounts
in notes are written by :func:`rupiah_sql`, the SQL twin of ``format_rupiah``. Texts
(labels, notes, rules, tax rules, hold-reason names) are made by the same Python code as in the
Python path and passed as parameters. ``tests/incentives/test_set_based.py`` compares every
column of both paths line by line over generated months.

Nothing here holds lines in memory or sends a query per worker: each function is one statement.
"""

import json

from django.db import connection
from django.utils.translation import gettext as _

from incentives import calculations
from incentives.choices import HoldReason, LineKind, LineStatus, RunStatus
from psks.choices import ReportStatus, WorkerStatus

LINE = "incentives_payoutline"
SPENT = (RunStatus.DISETUJUI, RunStatus.DIBAYAR)
COLUMNS = ("run_id, kind, worker_id, role, component, period, area_id, rate_id, rate_amount, "
           "unit, base_amount, days_active, days_in_window, factor, schedule_rule, "
           "gross_amount, tax_amount, net_amount, funding_source, status, hold_reason, "
           "bank_account_id, bank_name, account_number, account_holder, arrears_of_id, "
           "corrects_id, recovers_id, created_by_id, note, explanation, paid_reference")

# The verified account in force at month end, per worker (as services._accounts_in_force).
ACCOUNTS = """
    SELECT DISTINCT ON (ba.worker_id) ba.worker_id, ba.id, b.name AS bank_name,
           ba.account_number, ba.holder_name
    FROM psks_bankaccount ba JOIN psks_bank b ON b.id = ba.bank_id
    WHERE ba.verified_at IS NOT NULL AND ba.effective_from <= %(month_last)s
    ORDER BY ba.worker_id, ba.effective_from DESC, ba.verified_at DESC, ba.id DESC"""


def rupiah_sql(expr: str) -> str:
    """SQL for ``dinsos.money.format_rupiah(expr)``: Rp1.500.000, -Rp1.500.000."""
    return (f"(CASE WHEN round({expr}) < 0 THEN '-' ELSE '' END || 'Rp' || "
            f"replace(to_char(abs(round({expr})), 'FM999,999,999,999,999,990'), ',', '.'))")


def _execute(sql: str, params: dict) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _plan(rates: dict, period) -> tuple[list[dict], list[dict]]:
    """Groups (one per role × component × funding source due this month) and their parts.
    The explanation's fixed texts are written here as JSON fragments, once per group or part
    (not once per line)."""
    groups, parts = [], []
    for (role, component, funding), in_force in rates.items():
        terms = [calculations.RateTerms.of(r, continued=r.continued) for r in in_force]
        plan = calculations.plan_component(terms, year=period.year, month=period.month)
        if plan is None or not plan.parts:
            continue
        rate = in_force[-1]
        g = len(groups)
        window = [plan.window.first.isoformat(), plan.window.last.isoformat()]
        groups.append({
            "g": g, "role": role, "component": component, "funding_source": funding,
            "rate_id": rate.pk, "rate_amount": str(rate.amount), "unit": rate.unit,
            "w_days": plan.window.days, "rule": plan.rule, "base_amount": str(plan.base_amount),
            "withhold_tax": rate.withhold_tax,
            "needs_report": rate.requires_report and rate.unit == "per_bulan",
            "head": json.dumps({"window": window, "rate": str(rate),
                                "legal_basis": rate.legal_basis})[1:-1],
            "tax_npwp": json.dumps(calculations.tax_rule_text(rate.withhold_tax, True)),
            "tax_no_npwp": json.dumps(calculations.tax_rule_text(rate.withhold_tax, False)),
        })
        for k, part in enumerate(plan.parts):
            parts.append({"g": g, "k": k, "p_first": part.first.isoformat(),
                          "p_last": part.last.isoformat(), "base": str(part.base),
                          "head": json.dumps({"rate": part.rate.label,
                                              "from": part.first.isoformat(),
                                              "to": part.last.isoformat(),
                                              "base": str(part.base)})[:-1]})
    return groups, parts


# The explanation is written as JSON text from fragments (dates and numbers need no escaping;
# every other text is a fragment made by json.dumps or to_json) and cast to jsonb once per line.
REGULAR = f"""
WITH grp AS (
    SELECT * FROM jsonb_to_recordset(%(groups)s::jsonb) AS x(
        g int, role text, component text, funding_source text, rate_id bigint,
        rate_amount numeric, unit text, w_days int, rule text, base_amount numeric,
        withhold_tax boolean, needs_report boolean, head text, tax_npwp text, tax_no_npwp text)
), plan_part AS (
    SELECT * FROM jsonb_to_recordset(%(parts)s::jsonb) AS x(
        g int, k int, p_first date, p_last date, base numeric, head text)
), asg AS (
    SELECT a.worker_id, a.role, count(*) AS n, min(a.start_date) AS first_start,
           max(a.end_date) AS last_end,
           range_agg(daterange(a.start_date, a.end_date, '[]')) AS covered,
           '[' || string_agg('["' || to_char(a.start_date, 'YYYY-MM-DD') || '", '
                             || coalesce('"' || to_char(a.end_date, 'YYYY-MM-DD') || '"',
                                         'null') || ']', ', ' ORDER BY a.start_date, a.id)
               || ']' AS periods,
           '[' || string_agg(to_json(a.decree_number)::text, ', '
                             ORDER BY a.start_date, a.id) || ']' AS decrees,
           (array_agg(a.area_id ORDER BY a.start_date DESC, a.id DESC))[1] AS area_id
    FROM psks_assignment a
    WHERE a.role IN (SELECT role FROM grp) AND a.start_date <= %(month_last)s
      AND (a.end_date IS NULL OR a.end_date >= %(year_first)s)
    GROUP BY a.worker_id, a.role
), part AS (
    SELECT *, base * days AS weight FROM (
        SELECT s.worker_id, grp.g, p.k, p.head, p.base,
               CASE WHEN s.n = 1 THEN  -- one decree: the overlap of two date ranges
                   greatest(0, least(coalesce(s.last_end, p.p_last), p.p_last)
                               - greatest(s.first_start, p.p_first) + 1)
               ELSE (SELECT coalesce(sum(upper(r) - lower(r)), 0)::int
                     FROM unnest(s.covered * datemultirange(daterange(p.p_first, p.p_last,
                                                                      '[]'))) r)
               END AS days
        FROM asg s JOIN grp ON grp.role = s.role JOIN plan_part p ON p.g = grp.g) x
    WHERE days > 0
), line AS (
    SELECT part.worker_id, part.g, sum(part.days)::int AS days,
           max(part.k) FILTER (WHERE part.weight > 0) AS last_k, sum(part.weight) AS weight,
           div(2 * sum(part.weight) + min(grp.w_days), 2 * min(grp.w_days)) AS gross
    FROM part JOIN grp ON grp.g = part.g
    GROUP BY part.worker_id, part.g
), parts_json AS (
    SELECT worker_id, g,
           string_agg(head || ', "days": ' || days || ', "amount": "'
                      || (CASE WHEN k = last_k THEN gross - (sum_down - down) ELSE down END)
                      || '"}}', ', ' ORDER BY k) AS parts
    FROM (SELECT *, sum(down) OVER (PARTITION BY worker_id, g) AS sum_down
          FROM (SELECT part.worker_id, part.g, part.k, part.head, part.days, line.gross,
                       line.last_k,
                       CASE WHEN line.weight > 0 THEN div(line.gross * part.weight, line.weight)
                            ELSE 0 END AS down
                FROM part JOIN line ON line.worker_id = part.worker_id
                                   AND line.g = part.g) d) s
    GROUP BY worker_id, g
), acc AS ({ACCOUNTS}
), rep AS (
    SELECT DISTINCT worker_id FROM psks_activityreport
    WHERE period = %(period)s AND status = %(accepted)s
), fin AS (
    SELECT line.*, w.npwp <> '' AS has_npwp,
           CASE WHEN grp.withhold_tax THEN round(line.gross * %(tax_share)s::numeric
                    * CASE WHEN w.npwp <> '' THEN 1::numeric
                           ELSE %(no_npwp_factor)s::numeric END)
                ELSE 0 END AS tax,
           array_remove(ARRAY[
               CASE WHEN acc.id IS NULL THEN %(no_account)s END,
               CASE WHEN grp.needs_report AND rep.worker_id IS NULL THEN %(no_report)s END,
               CASE WHEN w.status = %(inactive)s THEN %(suspended)s END]::text[], NULL)
               AS reasons,
           acc.id AS account_id, acc.bank_name, acc.account_number, acc.holder_name
    FROM line JOIN grp ON grp.g = line.g JOIN psks_worker w ON w.id = line.worker_id
    LEFT JOIN acc ON acc.worker_id = line.worker_id
    LEFT JOIN rep ON rep.worker_id = line.worker_id
    WHERE line.gross > 0
)
INSERT INTO {LINE} ({COLUMNS})
SELECT %(run)s, %(kind)s, f.worker_id, grp.role, grp.component, %(period)s, s.area_id,
       grp.rate_id, grp.rate_amount, grp.unit, grp.base_amount, f.days, grp.w_days,
       round(f.days::numeric / grp.w_days, 4), grp.rule, f.gross, f.tax, f.gross - f.tax,
       grp.funding_source,
       CASE WHEN cardinality(f.reasons) > 0 THEN %(held)s ELSE %(payable)s END,
       coalesce(f.reasons[1], ''),
       CASE WHEN cardinality(f.reasons) = 0 THEN f.account_id END,
       CASE WHEN cardinality(f.reasons) = 0 THEN f.bank_name ELSE '' END,
       CASE WHEN cardinality(f.reasons) = 0 THEN f.account_number ELSE '' END,
       CASE WHEN cardinality(f.reasons) = 0 THEN f.holder_name ELSE '' END,
       NULL, NULL, NULL, NULL, '',
       ('{{' || grp.head || ', "periods": ' || s.periods || ', "parts": [' || pj.parts
        || '], "tax_rule": ' || CASE WHEN f.has_npwp THEN grp.tax_npwp ELSE grp.tax_no_npwp END
        || ', "hold_reasons": '
        || CASE WHEN cardinality(f.reasons) = 0 THEN '[]'
                ELSE '["' || array_to_string(f.reasons, '", "') || '"]' END
        || ', "decrees": ' || s.decrees || '}}')::jsonb,
       ''
FROM fin f JOIN grp ON grp.g = f.g
JOIN asg s ON s.worker_id = f.worker_id AND s.role = grp.role
JOIN parts_json pj ON pj.worker_id = f.worker_id AND pj.g = f.g
ORDER BY f.worker_id, grp.role, f.g
"""


def insert_regular(run, rates: dict, *, year_first, month_last) -> int:
    """The run's regular lines in one statement; returns how many."""
    groups, parts = _plan(rates, run.period)
    if not groups:
        return 0
    tax = calculations.PPH21_NON_EMPLOYEE
    return _execute(REGULAR, {
        "groups": json.dumps(groups), "parts": json.dumps(parts), "run": run.pk,
        "kind": LineKind.REGULAR.value, "period": run.period, "year_first": year_first,
        "month_last": month_last, "accepted": ReportStatus.DITERIMA.value,
        "tax_share": str(tax.base_share * tax.rate), "no_npwp_factor": str(tax.without_npwp_factor),
        "no_account": HoldReason.NO_ACCOUNT.value, "no_report": HoldReason.REPORT.value,
        "inactive": WorkerStatus.NONAKTIF.value, "suspended": HoldReason.SUSPENDED.value,
        "held": LineStatus.HELD.value, "payable": LineStatus.PAYABLE.value,
    })


P_MARK, R_MARK = "\x01period\x01", "\x01reason\x01"


def _reason_label_sql(column: str) -> tuple[str, dict]:
    """SQL for ``get_hold_reason_display()`` of ``column`` (the value when unknown)."""
    whens = " ".join(f"WHEN %(hr_v{i})s THEN %(hr_l{i})s"
                     for i in range(len(HoldReason.choices)))
    params = {}
    for i, (value, label) in enumerate(HoldReason.choices):
        params[f"hr_v{i}"], params[f"hr_l{i}"] = value, str(label)
    return f"(CASE {column} {whens} ELSE {column} END)", params


def insert_arrears(run, *, month_last) -> int:
    """Held lines of approved runs whose reasons are gone, paid now once (``arrears_of`` is
    unique) at the amounts computed then."""
    label, params = _reason_label_sql("h.hold_reason")
    sql = f"""
    WITH acc AS ({ACCOUNTS})
    INSERT INTO {LINE} ({COLUMNS})
    SELECT %(run)s, %(kind)s, h.worker_id, h.role, h.component, h.period, h.area_id, h.rate_id,
           h.rate_amount, h.unit, h.base_amount, h.days_active, h.days_in_window, h.factor,
           h.schedule_rule, h.gross_amount, h.tax_amount, h.net_amount, h.funding_source,
           %(payable)s, '', acc.id, acc.bank_name, acc.account_number, acc.holder_name,
           h.id, NULL, NULL, NULL,
           replace(replace(%(note)s, %(p_mark)s, to_char(h.period, 'YYYY-MM')),
                   %(r_mark)s, {label}),
           h.explanation || jsonb_build_object('arrears_of', h.id, 'hold_reasons',
                                               '[]'::jsonb),
           ''
    FROM {LINE} h JOIN incentives_payoutrun r ON r.id = h.run_id
    JOIN psks_worker w ON w.id = h.worker_id
    JOIN acc ON acc.worker_id = h.worker_id
    WHERE h.status = %(held)s AND r.status IN (%(spent0)s, %(spent1)s) AND h.period < %(period)s
      AND NOT EXISTS (SELECT 1 FROM {LINE} x WHERE x.arrears_of_id = h.id)
      AND w.status <> %(inactive)s
      AND (NOT coalesce((h.explanation -> 'hold_reasons') ? %(no_report)s, false)
           OR EXISTS (SELECT 1 FROM psks_activityreport ar WHERE ar.worker_id = h.worker_id
                      AND ar.period = h.period AND ar.status = %(accepted)s))
    ORDER BY h.area_id, h.role, w.name, h.component, h.id  -- as the Python path"""
    return _execute(sql, {
        **params, "run": run.pk, "kind": LineKind.ARREARS.value, "period": run.period,
        "month_last": month_last, "payable": LineStatus.PAYABLE.value,
        "held": LineStatus.HELD.value, "spent0": SPENT[0].value, "spent1": SPENT[1].value,
        "inactive": WorkerStatus.NONAKTIF.value, "no_report": HoldReason.REPORT.value,
        "accepted": ReportStatus.DITERIMA.value, "p_mark": P_MARK, "r_mark": R_MARK,
        "note": _("Rapel %(period)s (sebelumnya ditahan: %(reason)s)")
        % {"period": P_MARK, "reason": R_MARK},
    })


def insert_rests(run, rests: list[dict], *, month_last) -> int:
    """The ``sisa_tahunan`` lines of the run in one statement (as ``services._rest_lines``):
    per regular line of an approved or paid last window of a yearly rate that ended alone
    (``rests``: ``services.yearly_rests``), the window's plan now × the line's own days in
    each part (its explanation's parts, matched by their dates), divided once and rounded
    half-up, minus what the line paid and what hand-made corrections of its payment added
    (a recursive CTE down ``corrects`` and ``arrears_of`` carrying the branch — the
    first-level correction each line is under — each branch clamped at zero on its own, then
    summed: ``services._hand_corrections``) — when positive and not paid yet."""
    from incentives import services

    if not rests:
        return 0
    groups, parts = [], []
    owed_mark, paid_mark = "\x01owed\x01", "\x01paid\x01"
    for g, rest in enumerate(rests):
        plan, rate = rest["plan"], rest["rate"]
        role, component, funding = rest["kind"]
        groups.append({
            "g": g, "role": role, "component": component, "funding_source": funding,
            "period": rest["period"].isoformat(), "rate_id": rate.pk,
            "rate_amount": str(rate.amount), "unit": rate.unit, "w_days": plan.window.days,
            "base_amount": str(plan.base_amount), "withhold_tax": rate.withhold_tax,
            "head": services.rest_head(rest),
            "note": services.rest_note(rate, rest["period"], owed_mark, paid_mark),
            "tax_npwp": calculations.tax_rule_text(rate.withhold_tax, True),
            "tax_no_npwp": calculations.tax_rule_text(rate.withhold_tax, False),
        })
        parts += [{"g": g, "p_from": p.first.isoformat(), "p_to": p.last.isoformat(),
                   "base": str(p.base)} for p in plan.parts]
    tax = calculations.PPH21_NON_EMPLOYEE
    sql = f"""
    WITH RECURSIVE grp AS (
        SELECT * FROM jsonb_to_recordset(%(groups)s::jsonb) AS x(
            g int, role text, component text, funding_source text, period date,
            rate_id bigint, rate_amount numeric, unit text, w_days int, base_amount numeric,
            withhold_tax boolean, head jsonb, note text, tax_npwp text, tax_no_npwp text)
    ), pp AS (
        SELECT * FROM jsonb_to_recordset(%(parts)s::jsonb) AS x(
            g int, p_from text, p_to text, base numeric)
    ), paid AS (
        SELECT l.id, l.worker_id, l.role, l.component, l.funding_source, l.period, l.area_id,
               l.days_active, l.days_in_window, l.factor, l.gross_amount, l.explanation, grp.g
        FROM {LINE} l JOIN incentives_payoutrun r ON r.id = l.run_id
        JOIN grp ON grp.role = l.role AND grp.component = l.component
                AND grp.funding_source = l.funding_source AND grp.period = l.period
        WHERE l.kind = %(regular)s AND r.status IN (%(spent0)s, %(spent1)s)
          AND NOT EXISTS (SELECT 1 FROM {LINE} x WHERE x.kind = %(kind)s
                          AND x.worker_id = l.worker_id AND x.role = l.role
                          AND x.component = l.component
                          AND x.funding_source = l.funding_source AND x.period = l.period)
    ), owed AS (
        SELECT p.id, div(2 * sum(pp.base * (e ->> 'days')::int) + min(grp.w_days),
                         2 * min(grp.w_days)) AS owed
        FROM paid p JOIN grp ON grp.g = p.g
        CROSS JOIN LATERAL jsonb_array_elements(
            CASE WHEN jsonb_typeof(p.explanation -> 'parts') = 'array'
                 THEN p.explanation -> 'parts' ELSE '[]'::jsonb END) e
        LEFT JOIN pp ON pp.g = p.g AND pp.p_from = e ->> 'from' AND pp.p_to = e ->> 'to'
        GROUP BY p.id HAVING count(pp.base) = count(*)
    ), tree AS (
        -- each line's payment, down its corrections and arrears lines: one probe of the
        -- ``corrects`` and one of the ``arrears_of`` index per line and level. ``branch`` is
        -- the first-level correction a line is under (NULL: the payment itself, the line or
        -- its arrears partner); a correction of the payment opens its own branch
        SELECT p.id AS root, p.id, NULL::bigint AS branch FROM paid p JOIN owed o ON o.id = p.id
        WHERE o.owed > p.gross_amount
        UNION ALL
        SELECT t.root, l.id, coalesce(t.branch, l.opens) FROM tree t CROSS JOIN LATERAL (
            SELECT c.id, c.id AS opens FROM {LINE} c WHERE c.corrects_id = t.id
            UNION ALL
            SELECT a.id, NULL FROM {LINE} a WHERE a.arrears_of_id = t.id) l
    ), branch AS (
        SELECT t.root, greatest(sum(l.gross_amount), 0) AS by_hand
        FROM tree t JOIN {LINE} l ON l.id = t.id
        WHERE l.kind = %(adjustment)s GROUP BY t.root, t.branch
    ), hand AS (
        SELECT root AS id, sum(by_hand) AS by_hand FROM branch GROUP BY root
    ), acc AS ({ACCOUNTS}
    ), fin AS (
        SELECT p.*, o.owed, coalesce(h.by_hand, 0) AS by_hand,
               o.owed - p.gross_amount - coalesce(h.by_hand, 0) AS rest,
               w.npwp <> '' AS has_npwp,
               array_remove(ARRAY[
                   CASE WHEN acc.id IS NULL THEN %(no_account)s END,
                   CASE WHEN w.status = %(inactive)s THEN %(suspended)s END]::text[], NULL)
                   AS reasons,
               acc.id AS account_id, acc.bank_name AS acc_bank,
               acc.account_number AS acc_number, acc.holder_name AS acc_holder
        FROM paid p JOIN owed o ON o.id = p.id JOIN psks_worker w ON w.id = p.worker_id
        LEFT JOIN hand h ON h.id = p.id
        LEFT JOIN acc ON acc.worker_id = p.worker_id
        WHERE o.owed > p.gross_amount + coalesce(h.by_hand, 0)
    ), taxed AS (
        SELECT fin.*, CASE WHEN grp.withhold_tax THEN round(fin.rest * %(tax_share)s::numeric
                               * CASE WHEN fin.has_npwp THEN 1::numeric
                                      ELSE %(no_npwp_factor)s::numeric END)
                           ELSE 0 END AS tax
        FROM fin JOIN grp ON grp.g = fin.g
    )
    INSERT INTO {LINE} ({COLUMNS})
    SELECT %(run)s, %(kind)s, t.worker_id, t.role, t.component, t.period, t.area_id,
           grp.rate_id, grp.rate_amount, grp.unit, grp.base_amount, t.days_active,
           t.days_in_window, t.factor, %(rule)s, t.rest, t.tax, t.rest - t.tax,
           t.funding_source,
           CASE WHEN cardinality(t.reasons) > 0 THEN %(held)s ELSE %(payable)s END,
           coalesce(t.reasons[1], ''),
           CASE WHEN cardinality(t.reasons) = 0 THEN t.account_id END,
           CASE WHEN cardinality(t.reasons) = 0 THEN t.acc_bank ELSE '' END,
           CASE WHEN cardinality(t.reasons) = 0 THEN t.acc_number ELSE '' END,
           CASE WHEN cardinality(t.reasons) = 0 THEN t.acc_holder ELSE '' END,
           NULL, NULL, NULL, NULL,
           replace(replace(grp.note, %(owed_mark)s, {rupiah_sql("t.owed")}),
                   %(paid_mark)s, {rupiah_sql("t.gross_amount + t.by_hand")}),
           grp.head || jsonb_build_object(
               'remainder_of', t.id, 'owed', t.owed::bigint::text,
               'paid', (t.gross_amount + t.by_hand)::bigint::text,
               'paid_by_hand', t.by_hand::bigint::text, 'days', t.days_active,
               'tax_rule', CASE WHEN t.has_npwp THEN grp.tax_npwp ELSE grp.tax_no_npwp END,
               'hold_reasons', to_jsonb(t.reasons)),
           ''
    FROM taxed t JOIN grp ON grp.g = t.g
    ORDER BY t.g, t.worker_id"""
    return _execute(sql, {
        "groups": json.dumps(groups), "parts": json.dumps(parts), "run": run.pk,
        "kind": LineKind.YEARLY_REST.value, "regular": LineKind.REGULAR.value,
        "adjustment": LineKind.ADJUSTMENT.value, "spent0": SPENT[0].value,
        "spent1": SPENT[1].value, "month_last": month_last,
        "no_account": HoldReason.NO_ACCOUNT.value, "inactive": WorkerStatus.NONAKTIF.value,
        "suspended": HoldReason.SUSPENDED.value, "held": LineStatus.HELD.value,
        "payable": LineStatus.PAYABLE.value, "tax_share": str(tax.base_share * tax.rate),
        "no_npwp_factor": str(tax.without_npwp_factor), "rule": services.rest_rule(),
        "owed_mark": owed_mark, "paid_mark": paid_mark,
    })


def insert_recoveries(run, *, month_last) -> int:
    """Negative balances carried out of approved runs, recovered once (``recovers`` is unique)
    in this run when the worker has payable regular or arrears lines in it and an account."""
    amount_mark = "\x01amount\x01"
    sql = f"""
    WITH acc AS ({ACCOUNTS})
    INSERT INTO {LINE} ({COLUMNS})
    SELECT %(run)s, %(kind)s, c.worker_id, c.role, c.component, %(period)s, c.area_id, NULL,
           NULL, '', NULL, NULL, NULL, NULL, %(rule)s, -c.gross_amount, -c.tax_amount,
           -c.net_amount, c.funding_source, %(payable)s, '', acc.id, acc.bank_name,
           acc.account_number, acc.holder_name, NULL, NULL, c.id, NULL,
           replace(replace(%(note)s, %(p_mark)s, to_char(c.period, 'YYYY-MM')),
                   %(a_mark)s, {rupiah_sql("c.net_amount")}),
           jsonb_build_object('recovers', c.id, 'carried_from_run', c.run_id,
                              'carried_period', to_char(c.period, 'YYYY-MM'),
                              'amount', {rupiah_sql("-c.net_amount")}),
           ''
    FROM {LINE} c JOIN incentives_payoutrun r ON r.id = c.run_id
    JOIN acc ON acc.worker_id = c.worker_id
    JOIN psks_worker w ON w.id = c.worker_id
    WHERE c.kind = %(carried)s AND r.status IN (%(spent0)s, %(spent1)s)
      AND c.period < %(period)s
      AND NOT EXISTS (SELECT 1 FROM {LINE} x WHERE x.recovers_id = c.id)
      AND EXISTS (SELECT 1 FROM {LINE} p WHERE p.run_id = %(run)s
                  AND p.worker_id = c.worker_id AND p.status = %(payable)s
                  AND p.kind IN (%(regular)s, %(arrears)s))
    ORDER BY c.area_id, c.role, w.name, c.component, c.id"""
    return _execute(sql, {
        "run": run.pk, "kind": LineKind.RECOVERY.value, "period": run.period,
        "month_last": month_last, "rule": _("potongan saldo negatif"),
        "payable": LineStatus.PAYABLE.value, "carried": LineKind.CARRIED.value,
        "spent0": SPENT[0].value, "spent1": SPENT[1].value,
        "regular": LineKind.REGULAR.value, "arrears": LineKind.ARREARS.value,
        "p_mark": P_MARK, "a_mark": amount_mark,
        "note": _("Potongan saldo negatif %(period)s: %(amount)s")
        % {"period": P_MARK, "amount": amount_mark},
    })


def align_accounts(run, *, month_last) -> int:
    """The payable lines of a worker that name more than one account in the run all take the
    worker's account in force at month end (as ``services._align_accounts``)."""
    sql = f"""
    WITH split AS (
        SELECT worker_id FROM {LINE} WHERE run_id = %(run)s AND status = %(payable)s
        GROUP BY worker_id HAVING count(DISTINCT bank_account_id) > 1
    ), acc AS (
        SELECT DISTINCT ON (ba.worker_id) ba.worker_id, ba.id, b.name AS bank_name,
               ba.account_number, ba.holder_name
        FROM psks_bankaccount ba JOIN psks_bank b ON b.id = ba.bank_id
        WHERE ba.verified_at IS NOT NULL AND ba.effective_from <= %(month_last)s
          AND ba.worker_id IN (SELECT worker_id FROM split)
        ORDER BY ba.worker_id, ba.effective_from DESC, ba.verified_at DESC, ba.id DESC
    )
    UPDATE {LINE} l SET bank_account_id = acc.id, bank_name = acc.bank_name,
           account_number = acc.account_number, account_holder = acc.holder_name
    FROM acc
    WHERE l.run_id = %(run)s AND l.status = %(payable)s AND l.worker_id = acc.worker_id
      AND l.bank_account_id IS DISTINCT FROM acc.id"""
    return _execute(sql, {"run": run.pk, "payable": LineStatus.PAYABLE.value,
                          "month_last": month_last})


def insert_balances(run) -> int:
    """A ``saldo_minus`` line for every worker whose payable lines in the run sum below zero,
    taking role, component, area and bank fields from its most negative line."""
    amount_mark = "\x01amount\x01"
    sql = f"""
    WITH bal AS (
        SELECT worker_id, sum(gross_amount) AS gross, sum(tax_amount) AS tax,
               sum(net_amount) AS net
        FROM {LINE} WHERE run_id = %(run)s AND status = %(payable)s
        GROUP BY worker_id HAVING sum(net_amount) < 0
    ), src AS (
        SELECT DISTINCT ON (l.worker_id) l.worker_id, l.bank_account_id,
               l.role, l.component, l.area_id, l.funding_source, l.bank_name,
               l.account_number, l.account_holder, bal.gross, bal.tax, bal.net
        FROM {LINE} l JOIN bal ON bal.worker_id = l.worker_id
        WHERE l.run_id = %(run)s AND l.status = %(payable)s
        ORDER BY l.worker_id, l.net_amount, l.id
    )
    INSERT INTO {LINE} ({COLUMNS})
    SELECT %(run)s, %(kind)s, worker_id, role, component, %(period)s, area_id, NULL, NULL, '',
           NULL, NULL, NULL, NULL, %(rule)s, -gross, -tax, -net, funding_source, %(payable)s,
           '', bank_account_id, bank_name, account_number, account_holder, NULL, NULL, NULL,
           NULL, replace(%(note)s, %(a_mark)s, {rupiah_sql("net")}),
           jsonb_build_object('balance', net::text, 'carried', (-net)::text,
                              'rule', %(why)s),
           ''
    FROM src ORDER BY worker_id"""
    return _execute(sql, {
        "run": run.pk, "kind": LineKind.CARRIED.value, "period": run.period,
        "payable": LineStatus.PAYABLE.value, "rule": _("saldo negatif dibawa"),
        "a_mark": amount_mark,
        "note": _("Saldo negatif %(amount)s dibawa ke periode berikutnya dan dipotong dari "
                  "pembayaran berikutnya") % {"amount": amount_mark},
        "why": _("jumlah baris dapat dibayar tenaga ini negatif; dibawa sebagai potongan ke "
                 "pembayaran berikutnya"),
    })


def rupiah_of_sql(value) -> str:
    """What :func:`rupiah_sql` makes of ``value`` (tests compare it with format_rupiah)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {rupiah_sql('v')} FROM (SELECT %s::numeric AS v) x",
                       [str(value)])
        return cursor.fetchone()[0]
