"""API token authentication: django-rest-knox, made cheap per request.

knox's own ``TokenAuthentication`` loads every token of the user on every request to delete
the expired ones (a query that grows with the tokens a sync account holds) and leaves the
user's office — which the access policy reads on every request (``dinsos.scoping.user_area``)
— to a query of its own. Here the token, its user and the user's office come in one query;
an expired token is still refused and deleted when it is used, and the other expired tokens
are deleted by the nightly ``dinsos.purge_expired_tokens`` task (``services.tokens_purge_expired``).
"""

from hmac import compare_digest

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import exceptions


class TokenAuthentication(auth.TokenAuthentication):
    def authenticate_credentials(self, token):
        msg = _("Invalid token.")
        token = token.decode("utf-8")
        candidates = get_token_model().objects.filter(
            token_key=token[:CONSTANTS.TOKEN_KEY_LENGTH]).select_related("user__office")
        for auth_token in candidates:
            if self._expired(auth_token):
                continue
            try:
                digest = hash_token(token)
            except (TypeError, ValueError) as exc:
                raise exceptions.AuthenticationFailed(msg) from exc
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(msg)

    def _expired(self, auth_token) -> bool:
        if auth_token.expiry is None or auth_token.expiry >= timezone.now():
            return False
        username = auth_token.user.get_username()
        auth_token.delete()
        token_expired.send(sender=self.__class__, username=username, source="auth_token")
        return True


class TokenScheme(KnoxTokenScheme):
    """The schema documents these tokens as knox's (``knoxApiToken``)."""

    target_class = "dinsos.api.authentication.TokenAuthentication"
