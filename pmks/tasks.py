from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import OperationalError

from pmks import services


@shared_task(name="pmks.find_duplicates", autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def find_duplicates(user_id: int | None = None) -> int:
    """Nightly scan for likely duplicate persons (province-wide by default)."""
    users = get_user_model().objects.filter(is_active=True)
    actor = users.get(pk=user_id) if user_id else users.filter(is_superuser=True).first()
    if actor is None:
        return 0
    return services.duplicates_find(user=actor).pairs
