"""Issue #12, point 9: the pages work from the keyboard — the first Tab offers "Langsung ke
isi", the menu and a form are reached and sent with keys only, and a refused form shows its
errors next to the fields."""

import pytest
from playwright.sync_api import expect

from pmks.models import Person

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_an_operator_gets_to_the_registration_form_and_sends_it_by_keyboard(
        open_page, pandeglang_operator):
    page = open_page(pandeglang_operator)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Langsung ke isi")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    for _ in range(12):  # along the menu to "Registri PMKS"
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Registri PMKS":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/pmks/")
    page.goto("/pmks/orang/baru/")
    page.get_by_label("NIK").focus()
    page.keyboard.type("3601015708800001")
    page.keyboard.press("Enter")  # sent with the other required fields empty
    page.wait_for_load_state()
    expect(page.locator("#id_name").locator("xpath=..").locator(".errorlist")).to_be_visible()
    assert Person.objects.count() == 0
