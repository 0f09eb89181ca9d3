"""iRooms: private rooms for one group of practitioners, with their experts and trainers."""

from flask import Blueprint

bp = Blueprint("irooms", __name__)

from irooms import chat, views  # noqa: E402,F401  (registers the routes and Socket.IO events)
