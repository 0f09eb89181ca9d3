"""Accounts: registration, login, logout, passwords, profile."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from learnplatform.accounts import views  # noqa: E402,F401  (registers the routes)
