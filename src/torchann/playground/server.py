"""The playground's web server: the page, its assets and one WebSocket per page.

Starlette on uvicorn: a small, maintained ASGI stack with WebSockets built in, and no
template engine or build step. Every request must name this server in its ``Host`` header
(a DNS-rebinding page cannot), and a WebSocket must come from this server's own page
(``Origin``). Files arrive only as bytes inside messages, never as paths, and every size and
setting is checked before anything is allocated.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import traceback
from importlib import resources

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute

from torchann.errors import TorchannError
from torchann.playground.code import Config
from torchann.playground.datasets import MAX_CSV_BYTES
from torchann.playground.messages import PageError, as_message
from torchann.playground.session import Channel, TrainingSession

#: The most pages open at once; one more is told to close another.
MAX_PAGES = 8
#: Largest uploaded image and largest WebSocket message, in bytes.
MAX_IMAGE_BYTES = 4_000_000
MAX_MESSAGE = 6_000_000
LANGS = ("en", "ko")
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".png": "image/png", ".json": "application/json"}
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _static(name: str) -> bytes | None:
    """A packaged asset's bytes, or None; only plain names of files we ship."""
    if "/" in name or "\\" in name or name.startswith(".") or not name:
        return None
    node = resources.files("torchann.playground").joinpath("static", name)
    return node.read_bytes() if node.is_file() else None


def decode_upload(text, limit: int) -> bytes:
    """Decode a base64 upload, refusing more than ``limit`` bytes before decoding."""
    if not isinstance(text, str):
        raise PageError("upload_text")
    if len(text) > (limit + 2) // 3 * 4 + 4:
        raise PageError("upload_size", most=f"{limit:,}")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise PageError("upload_base64") from None
    if len(data) > limit:
        raise PageError("upload_size", most=f"{limit:,}")
    return data


def _display_name(name) -> str:
    """A file name to show in the code panel: the last component, printable, short."""
    name = str(name or "data.csv").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in "'\"")[:60]
    return name or "data.csv"


class PageSession:
    """One page's socket: dispatches its messages to the training and race workers."""

    def __init__(self, channel: Channel):
        self.channel = channel
        self.training = TrainingSession(channel).start()
        self.race = None

    def close(self):
        self.training.close()
        if self.race is not None:
            self.race.close()

    def handle(self, text) -> None:
        """Act on one message from the page; a bad one raises :class:`TorchannError`."""
        if text is None:
            raise PageError("message_binary")
        if len(text) > MAX_MESSAGE:
            raise PageError("message_size", size=f"{len(text):,}", most=f"{MAX_MESSAGE:,}")
        try:
            msg = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            raise PageError("message_json") from None
        except ValueError as err:  # an integer of more digits than Python converts
            raise PageError("message_integer", detail=str(err)[:80]) from None
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            raise PageError("message_object")
        kind = msg["type"]
        version = msg.get("version", 0)
        if isinstance(version, bool) or not isinstance(version, int):
            raise PageError("version_integer")
        if kind in ("config", "csv"):
            try:  # a refusal names the settings' version: the page puts its controls back
                data = decode_upload(msg.get("data"), MAX_CSV_BYTES) if kind == "csv" else None
                cfg = Config.from_dict(msg.get("config"))
            except TorchannError as err:
                err.version = version
                raise
            if kind == "config":
                self.training.send("config", cfg, version)
            else:
                self.training.send("csv", data, _display_name(msg.get("name")), cfg, version)
        elif kind in ("play", "pause", "step", "reset", "export"):
            self.training.send(kind)
        elif kind.startswith("race_"):
            self._race(kind[5:], msg)
        else:
            raise PageError("message_type", type=repr(kind[:40]))

    def _race(self, kind, msg):
        from torchann.playground.race import RaceConfig, RaceSession

        if self.race is None:
            self.race = RaceSession(self.channel).start()
        if kind == "config":
            self.race.send("config", RaceConfig.from_dict(msg.get("config")))
        elif kind == "upload":
            data = decode_upload(msg.get("data"), MAX_IMAGE_BYTES)
            self.race.send("upload", data, _display_name(msg.get("name")),
                           RaceConfig.from_dict(msg.get("config")))
        elif kind in ("play", "pause", "reset"):
            self.race.send(kind)
        else:
            raise PageError("message_type", type=repr("race_" + kind[:40]))


def create_app(hosts, lang: str = "en", max_pages: int = MAX_PAGES) -> Starlette:
    """The playground app.

    Parameters
    ----------
    hosts : iterable of str
        The ``Host`` header values this server answers to (``"127.0.0.1:8765"``, ...);
        anything else is refused, as is a WebSocket whose ``Origin`` is not
        ``http://`` + one of them.
    lang : {'en', 'ko'}
        The page's language unless its URL says ``?lang=``.
    max_pages : int
        Pages open at once.
    """
    hosts = {h.lower() for h in hosts}
    origins = {"http://" + h for h in hosts}
    pages = {"open": 0}

    async def index(request):
        page = _static("index.html").decode("utf-8").replace("data-default-lang=\"en\"",
                                                             f"data-default-lang=\"{lang}\"")
        return HTMLResponse(page, headers=_SECURITY_HEADERS)

    async def asset(request):
        name = request.path_params["name"]
        data = _static(name)
        suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
        if data is None or suffix not in _TYPES:
            return PlainTextResponse("not found", status_code=404)
        return Response(data, media_type=_TYPES[suffix], headers=_SECURITY_HEADERS)

    async def socket(ws):
        if pages["open"] >= max_pages:
            await ws.accept()
            await ws.send_text(json.dumps(as_message(PageError("pages_full", most=max_pages))))
            await ws.close(code=1013)
            return
        pages["open"] += 1
        try:
            await ws.accept()
            await _serve(ws)
        finally:
            pages["open"] -= 1

    async def _serve(ws):
        channel = Channel(asyncio.get_running_loop())
        session = PageSession(channel)

        async def sender():
            while True:
                for text in await channel.take():
                    await ws.send_text(text)

        task = asyncio.create_task(sender())
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    session.handle(message.get("text"))
                except TorchannError as err:
                    channel.error(err)
                except Exception as err:  # noqa: BLE001 - a bug must not close the page
                    traceback.print_exc()
                    channel.error(PageError("bug", kind=type(err).__name__,
                                            message=str(err)[:200]))
        finally:
            session.close()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def messages(request):
        """The catalogue's ``playground.*`` messages in one language, as JSON."""
        from torchann.i18n import LANGUAGES, entries

        chosen = request.path_params["lang"]
        if chosen not in LANGUAGES:
            return PlainTextResponse("not found", status_code=404)
        return JSONResponse(entries("playground.", chosen), headers=_SECURITY_HEADERS)

    app = Starlette(routes=[Route("/", index), Route("/static/{name}", asset),
                            Route("/messages/{lang}.json", messages),
                            WebSocketRoute("/ws", socket)])
    return _Guard(app, hosts, origins)


class _Guard:
    """ASGI middleware: refuse a foreign Host anywhere and a foreign Origin on a WebSocket."""

    def __init__(self, app, hosts, origins):
        self.app, self.hosts, self.origins = app, hosts, origins

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        host_ok = headers.get("host", "").lower() in self.hosts
        origin = headers.get("origin")
        if scope["type"] == "websocket":
            if not host_ok or origin is None or origin.lower() not in self.origins:
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 1008})
                return
        elif not host_ok or (origin is not None and origin.lower() not in self.origins):
            response = PlainTextResponse("this server answers only to its own address",
                                         status_code=403)
            return await response(scope, receive, send)
        return await self.app(scope, receive, send)
