"""SMARTS Alert Analyzer web app.

Kept import-free on purpose: gunicorn imports this package before our config can apply
gevent's monkey patching, so nothing that opens sockets may be imported here.
"""


def create_app(*args, **kwargs):
    """The application factory (see :mod:`webapp.app`)."""
    from webapp.app import create_app as factory

    return factory(*args, **kwargs)
