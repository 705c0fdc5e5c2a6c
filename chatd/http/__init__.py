"""chatd's HTTP side: health (and later metrics and registration pages)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from aiohttp import web

HealthReport = Callable[[], Coroutine[Any, Any, dict[str, Any]]]
Routes = Callable[[web.Application], None]  # adds a feature's routes (e.g. registration pages)


def make_app(health: HealthReport, features: Sequence[Routes] = ()) -> web.Application:
    async def healthz(_request: web.Request) -> web.Response:
        report = await health()
        return web.json_response(report, status=200 if report["status"] == "ok" else 503)

    app = web.Application(client_max_size=64 * 1024)
    app.router.add_get("/healthz", healthz)
    for add_routes in features:
        add_routes(app)
    return app
