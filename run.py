"""Entry point for `flask run` and gunicorn (`gunicorn run:app`); the shell context is set in create_app."""

from hotline import create_app

app = create_app()
