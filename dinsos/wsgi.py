import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dinsos.settings")
application = get_wsgi_application()

from dinsos import locks  # noqa: E402 - after Django is set up

locks.for_requests()  # a request never waits long for rows an import or a payout run holds
