"""A replay server: records the mock's pages once, then serves the same bytes.

The mock computes every page (about 6 K members/s at 100 K people on this machine), which would
make it, not the pipeline, the bottleneck. The benchmark points every comparator at this server
instead: the first request for a URL is forwarded to the mock and its answer stored on disk;
every later request for it is a file read. Every comparator asks for the same URLs, and a
warm-up pass fills the cache before anything is timed, so the timed runs all see cached pages
and the mock's own CPU is reported apart (as the warm-up's).

``POST /_mock/advance`` is forwarded and starts a new cache generation (the world changed);
``/_mock/*`` is never cached. Pages are keyed by method, path, query and body, not by
credentials: it is a benchmark tool on 127.0.0.1, not a shared cache.

    python -m bench.replay --upstream http://127.0.0.1:8765 --cache data/bench/replay --port 8799
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import httpx
import uvicorn

FORWARDED_HEADERS = (b"authorization", b"content-type")


class ReplayApp:
    """The ASGI app: cached bytes when it has them, else the upstream's answer (then cached)."""

    def __init__(self, upstream: str, cache: Path) -> None:
        self.upstream = upstream.rstrip("/")
        self.cache = cache
        self.generation = 0
        self.hits = 0
        self.misses = 0
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        method, path, query = scope["method"], scope["path"], scope["query_string"]
        if path == "/_replay/stats":
            payload = f'{{"hits":{self.hits},"misses":{self.misses}}}'.encode()
            await _respond(send, 200, b"application/json", payload)
            return
        cacheable = not path.startswith("/_mock/")
        file = self._file(method, path, query, body) if cacheable else None
        if file is not None and file.exists():
            self.hits += 1
            content_type, _, payload = file.read_bytes().partition(b"\n")
            await _respond(send, 200, content_type, payload)
            return
        self.misses += cacheable
        status, content_type, payload, headers = await self._forward(scope, method, body)
        if file is not None and status == 200:
            file.parent.mkdir(parents=True, exist_ok=True)
            partial = file.with_suffix(".tmp")
            partial.write_bytes(content_type + b"\n" + payload)
            partial.replace(file)
        if path == "/_mock/advance" and status == 200:
            self.generation += 1
        await _respond(send, status, content_type, payload, headers)

    def _file(self, method: str, path: str, query: bytes, body: bytes) -> Path:
        # The query in a canonical order: clients may send the same parameters in any order.
        canonical = urlencode(sorted(parse_qsl(query.decode(), keep_blank_values=True))).encode()
        key = hashlib.blake2b(b"\0".join([method.encode(), path.encode(), canonical, body]))
        digest = key.hexdigest()[:32]
        return self.cache / f"g{self.generation}" / digest[:2] / digest

    async def _forward(self, scope, method: str, body: bytes):
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(600.0))
        headers = {
            name.decode(): value.decode()
            for name, value in scope["headers"]
            if name in FORWARDED_HEADERS
        }
        url = self.upstream + scope["path"]
        if scope["query_string"]:
            url += "?" + scope["query_string"].decode()
        response = await self._client.request(method, url, content=body, headers=headers)
        content_type = response.headers.get("content-type", "application/json").encode()
        extra = [
            (name.encode(), value.encode())
            for name, value in response.headers.items()
            if name.lower() == "retry-after"
        ]
        return response.status_code, content_type, response.content, extra


async def _respond(send, status: int, content_type: bytes, payload: bytes, headers=()) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the mock's pages from a disk cache.")
    parser.add_argument("--upstream", required=True, help="the mock's URL")
    parser.add_argument("--cache", required=True, type=Path, help="the cache folder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    app = ReplayApp(args.upstream, args.cache)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
