"""WSGI entry point: ``gunicorn webapp.wsgi:app``. gevent patches before anything else is imported."""

from gevent import monkey

monkey.patch_all()

from webapp import create_app  # noqa: E402

app = create_app()
