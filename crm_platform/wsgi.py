"""WSGI entry point for gunicorn: `gunicorn 'crm_platform.wsgi:app'` (config from env)."""

from crm_platform import create_app

app = create_app()
