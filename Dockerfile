# syntax=docker/dockerfile:1
# One image for the web server (gunicorn), the Celery worker and Celery beat; see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

WORKDIR /app

# The unprivileged user that runs every process of the image.
RUN groupadd --system --gid 1000 dinsos \
    && useradd --system --uid 1000 --gid dinsos --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin dinsos

# Dependencies first (from pyproject.toml, without the dev extras) so that a code change does not
# reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
       > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The code is owned by root and only readable by the app user; var/ (static files, media, the
# SQLite fallback) is the one writable place. The processes run from /app (PYTHONPATH) so that
# BASE_DIR is /app and templates/, static/ and the data files are found.
COPY . .
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info \
    && python -m compileall -q . \
    && mkdir -p var/media var/mail var/staticfiles \
    && chown -R dinsos:dinsos var

USER dinsos

# Production settings only for this step: the manifest storage needs DEBUG off. The key is a
# throwaway that is never used at run time.
RUN DJANGO_DEBUG=0 \
    DJANGO_SECRET_KEY=build-only-Zq8vN3kR7tW2yXp5LmB9cF4hJ6dS1gA0eU7iO3nK8rT5wY2zQxVb \
    DJANGO_ALLOWED_HOSTS='*' \
    python manage.py collectstatic --noinput

EXPOSE 8000

# Workers, threads and timeout sized to the cores: dinsos/gunicorn.py (WEB_CONCURRENCY,
# GUNICORN_THREADS, GUNICORN_TIMEOUT override them).
CMD ["gunicorn", "dinsos.wsgi:application", "--bind", "0.0.0.0:8000", "--config", "python:dinsos.gunicorn"]
