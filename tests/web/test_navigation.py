"""The top menu: a link only for the roles that work there (issue #12)."""

import pytest
from django.test import Client
from django.urls import reverse

from dinsos import roles

pytestmark = pytest.mark.django_db


def _menu_links(user) -> str:
    client = Client()
    client.force_login(user)
    html = client.get(reverse("home")).content.decode()
    return html[html.index('class="mainnav"'):html.index("</nav>")]


@pytest.mark.parametrize("role, shown", [
    (roles.OPERATOR_PROVINSI, True), (roles.OPERATOR_KAB_KOTA, True), (roles.ADMIN, True),
    (roles.KEUANGAN, False), (roles.PIMPINAN, False), (roles.AUDITOR, False)])
def test_impor_is_in_the_menu_only_of_roles_that_may_import(make_user, role, shown):
    area = "36.01" if role == roles.OPERATOR_KAB_KOTA else "36"
    menu = _menu_links(make_user(role, area))
    assert (f'href="{reverse("imports")}"' in menu) is shown
    assert ">Impor<" in menu if shown else ">Impor<" not in menu
