"""The WSGI application for any WSGI server: ``waitress-serve gisapp.web.wsgi:app``.

``gisapp serve`` runs waitress with the project's settings (gisapp.web.server); this module is for
deployments that start the server themselves. With a forking server (gunicorn) do not
``--preload`` it: each worker process must make its own database pools and account listener.
"""

from gisapp.web.app import create_app

app = create_app().server
