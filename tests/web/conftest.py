"""Web fixtures: the Flask test client of the real app on the test database, signed in when the
app has sign-in, with findings on the database for the map's rule layers."""

from __future__ import annotations

import importlib.util

import pytest

from tests import signin

WEB_USER = ("web.viewer", "web-test-password", "bureau_viewer")


def sign_in(client, engine, user=WEB_USER) -> None:
    """Create ``user`` if needed and sign the test client in through the sign-in form."""
    from gisapp.errors import NotFoundError
    from gisapp.queries.users import add_user, find_account

    username, password, role = user
    try:
        find_account(engine, username)
    except NotFoundError:
        add_user(engine, username, password, role)
    signin.sign_in(client, username, password)


@pytest.fixture(scope="session")
def findings_source(engine) -> str:
    from tests.web.sample_findings import ensure_findings

    return ensure_findings(engine)


@pytest.fixture(scope="module")
def app(engine, findings_source):
    """A new app for the test module (its own pools and caches)."""
    from gisapp.web.app import create_app

    return create_app()


@pytest.fixture(scope="module")
def viewer(app, engine, request):
    """A test client of the module's app signed in as a bureau viewer of the module's own."""
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")
    client = app.server.test_client()
    sign_in(client, engine, (f"{name}.viewer", f"{name}-viewer-password", "bureau_viewer"))
    return client


@pytest.fixture(scope="module")
def client(engine, findings_source):
    from gisapp.web.app import create_app

    test_client = create_app().server.test_client()
    if importlib.util.find_spec("gisapp.web.auth") is not None:
        sign_in(test_client, engine)
    return test_client
