"""The web UI: static files (static/: index.html, ES modules, style.css) served at /ui, and the
few API routes it needs beyond the REST API (`corral.server.routes_ui`)."""
