"""The UI's routes, as `app.py` looks for them (kept in `corral.server.routes_ui`)."""

from corral.server.routes_ui import router

__all__ = ["router"]
