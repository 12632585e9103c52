"""API token authentication: django-rest-knox, made cheap per request.

knox's own ``TokenAuthentication`` loads every token of the user on every request to delete
the expired ones (a query that grows with the tokens a sync account holds) and leaves the
user's office — which the access policy reads on every request (``dinsos.scoping.user_area``)
— to a query of its own. Here the token, its user and the user's office come in one query;
an expired token is still refused and deleted when it is used, and the other expired tokens
are deleted by the nightly ``dinsos.purge_expired_tokens`` task (``services.tokens_purge_expired``).

That query is one SELECT whose text depends only on the models, so it is written once per
database (``TokenQuery``) instead of being compiled by the ORM on every request (the ORM's
compilation and row handling were about 0.8 ms of CPU per API request, several times the
query itself); the rows become the same model instances the ORM would give (``from_db``, the
database converters applied, the user and office cached on them). The checks stay knox's:
the token's key, its expiry, the SHA-512 digest compared in constant time, an active user.
"""

from hmac import compare_digest

from django.db import connections, router
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
        for auth_token in TokenQuery.candidates(token[:CONSTANTS.TOKEN_KEY_LENGTH]):
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


class TokenQuery:
    """``AuthToken.objects.filter(token_key=key).select_related("user__office")``, its SQL and
    its row handling worked out once per database alias."""

    _by_alias: dict[str, "TokenQuery"] = {}

    def __init__(self, alias: str):
        connection = connections[alias]
        quote = connection.ops.quote_name
        token_model = get_token_model()
        user_field = token_model._meta.get_field("user")
        user_model = user_field.related_model
        office_field = user_model._meta.get_field("office")
        office_model = office_field.related_model
        self.alias = alias
        self.user_field, self.office_field = user_field, office_field
        # (model, table alias, its concrete fields): the row is their columns in this order
        self.parts = [(token_model, "t", token_model._meta.concrete_fields),
                      (user_model, "u", user_model._meta.concrete_fields),
                      (office_model, "o", office_model._meta.concrete_fields)]
        columns = [f"{table}.{quote(f.column)}" for _m, table, fields in self.parts
                   for f in fields]
        self.sql = (
            f"SELECT {', '.join(columns)} FROM {quote(token_model._meta.db_table)} t "
            f"INNER JOIN {quote(user_model._meta.db_table)} u "
            f"ON u.{quote(user_model._meta.pk.column)} = t.{quote(user_field.column)} "
            f"LEFT OUTER JOIN {quote(office_model._meta.db_table)} o "
            f"ON o.{quote(office_field.target_field.column)} = u.{quote(office_field.column)} "
            f"WHERE t.{quote(token_model._meta.get_field('token_key').column)} = %s")
        self.slices = []
        start = 0
        for model, _table, fields in self.parts:
            converters = []  # what the ORM applies to each column read (SQLite's dates…)
            for position, field in enumerate(fields):
                column = field.get_col(model._meta.db_table)
                found = (connection.ops.get_db_converters(column)
                         + field.get_db_converters(connection))
                if found:
                    converters.append((position, found, column))
            names = [f.attname for f in fields]
            pk_position = names.index(model._meta.pk.attname)
            self.slices.append((model, names, start, start + len(fields), converters,
                                pk_position))
            start += len(fields)

    @classmethod
    def candidates(cls, key: str) -> list:
        """The tokens stored under ``key``, each with its user and the user's office loaded."""
        alias = router.db_for_read(get_token_model())
        query = cls._by_alias.get(alias)
        if query is None:
            query = cls._by_alias[alias] = cls(alias)
        return query.run(key)

    def run(self, key: str) -> list:
        connection = connections[self.alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [key])
            rows = cursor.fetchall()
        tokens = []
        for row in rows:
            token, user, office = (self._instance(connection, row, part)
                                   for part in self.slices)
            self.office_field.set_cached_value(user, office)
            self.user_field.set_cached_value(token, user)
            tokens.append(token)
        return tokens

    def _instance(self, connection, row, part):
        model, names, start, end, converters, pk_position = part
        values = row[start:end]
        if values[pk_position] is None:  # the user has no office (LEFT JOIN)
            return None
        if converters:
            values = list(values)
            for position, found, column in converters:
                for converter in found:
                    values[position] = converter(values[position], column, connection)
        return model.from_db(self.alias, names, values)


class TokenScheme(KnoxTokenScheme):
    """The schema documents these tokens as knox's (``knoxApiToken``)."""

    target_class = "dinsos.api.authentication.TokenAuthentication"
