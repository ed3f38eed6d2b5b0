"""The web UI: server-rendered pages under /ui/, live logs, forms that work without JavaScript.

`ick.ui.routes.add_routes(app)` is all the daemon calls; the pages read the daemon's services
through app keys (wiring.py) and import nothing of ick.api.
"""
