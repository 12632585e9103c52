"""The staff pages' formatting, one filter set over ``dinsos.money`` and the access policy:
``{{ amount|rupiah }}`` → Rp1.500.000, ``{{ day|tanggal }}`` → 30 November 2026,
``{{ n|angka }}`` → 12.345, ``{{ moment|waktu }}`` → 30 November 2026 14.05 WIB,
``{{ period|bulan }}`` → November 2026,
``{{ person.nik|identitas:"pmks.change_person" }}`` → whole or masked for the viewer."""

import datetime

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from dinsos import money
from dinsos.scoping import shown_identifier

register = template.Library()


@register.filter
def rupiah(value):
    if value is None or value == "":
        return "—"
    return money.format_rupiah(value if not isinstance(value, float) else str(value))


@register.filter
def angka(value):
    """A count the Indonesian way: 12.345."""
    if value is None or value == "":
        return "—"
    return f"{int(value):,}".replace(",", ".")


@register.filter
def tanggal(value):
    if not isinstance(value, datetime.date):
        return "—"
    return money.format_tanggal(value)


@register.filter
def waktu(value):
    if not isinstance(value, datetime.datetime):
        return tanggal(value)
    return money.format_waktu(value)


@register.filter
def bulan(value):
    if not isinstance(value, datetime.date):
        return "—"
    return money.format_bulan(value)


@register.simple_tag(takes_context=True)
def identitas(context, value, full_perm):
    """``{% identitas person.nik "pmks.change_person" %}``: whole or masked for this viewer."""
    request = context.get("request")
    return shown_identifier(getattr(request, "user", None), value, full_perm=full_perm) or "—"


@register.filter
def percent(part, whole):
    """Share of ``whole`` as a whole-number percentage for bars (0–100, capped)."""
    try:
        share = int(part * 100 / whole) if whole else 0
    except (TypeError, ArithmeticError):
        return 0
    return max(0, min(100, share))


@register.simple_tag(takes_context=True)
def if_match_field(context, *objects):
    """``{% if_match_field case %}``: the hidden version a write form carries
    (``dinsos.pages.IfMatchPage``). A page with many forms puts the versions of its records,
    read at once, in ``if_match_versions`` (``dinsos.versions.current_versions``); any other
    record is read here, once per page."""
    from django.utils.html import format_html

    from dinsos.pages import IF_MATCH_FIELD
    from dinsos.versions import combined_version, current_versions, key

    objects = [o for o in objects if o is not None]
    known = context.render_context.get("if_match_versions")
    if known is None:
        known = context.render_context["if_match_versions"] = dict(
            context.get("if_match_versions") or {})
    missing = [o for o in objects if key(o) not in known]
    if missing:
        known.update(current_versions(missing))
    return format_html('<input type="hidden" name="{}" value="{}">', IF_MATCH_FIELD,
                       combined_version(objects, known=known) or "")



@register.filter
def error_summary(form):
    """``(id, label, message)`` for each error of a visible field, in the form's order, for the
    summary above a form of more than one field; a message that already starts with its
    field's label ("Tanggal lahir: tanggal tidak dikenali…") loses that start."""
    fields = form.visible_fields()
    if len(fields) < 2:
        return []
    rows = []
    for field in fields:
        prefix = f"{field.label}:".lower()
        for error in field.errors:
            text = str(error)
            if text.lower().startswith(prefix):
                text = text[len(prefix):].lstrip()
            # a radio group's label points at no input: link its first choice
            rows.append((field.id_for_label or f"{field.auto_id}_0", field.label, text))
    return rows


class TableWrapNode(template.Node):
    def __init__(self, label, nodelist):
        self.label, self.nodelist = label, nodelist

    def render(self, context):
        return format_html('<div class="table-wrap" tabindex="0" role="region" aria-label="{}">'
                           '{}</div>', self.label.resolve(context),
                           mark_safe(self.nodelist.render(context)))  # rendered, escaped


@register.tag
def table_wrap(parser, token):
    """``{% table_wrap label %}<table>…</table>{% endtable_wrap %}``: the one wrapper of a table
    that may scroll sideways. A region that scrolls must be reachable by keyboard (axe
    scrollable-region-focusable): focusable (tabindex="0"), a region, named in Indonesian by
    ``label`` (e.g. ``_("Tabel cakupan, dapat digeser ke samping")``)."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("{% table_wrap label %} takes one argument, the label")
    nodelist = parser.parse(("endtable_wrap",))
    parser.delete_first_token()
    return TableWrapNode(parser.compile_filter(bits[1]), nodelist)
