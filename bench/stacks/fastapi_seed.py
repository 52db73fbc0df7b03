"""The seed's stack: FastAPI + sse-starlette + uvicorn, one Redis subscription per client.

    uvicorn bench.stacks.fastapi_seed:app --port N   (REDIS_URL in the environment)
"""

from __future__ import annotations

import json
import os

import redis.asyncio as aioredis
from fastapi import FastAPI
from sse_starlette.sse import EventSourceResponse

app = FastAPI()
pool = aioredis.ConnectionPool.from_url(os.environ["REDIS_URL"], max_connections=30_000)


@app.get("/runs/{run_id}/events")
async def events(run_id: str):
    async def stream():
        pubsub = aioredis.Redis(connection_pool=pool).pubsub()
        await pubsub.subscribe(f"analysis:{run_id}")
        try:
            async for message in pubsub.listen():
                if message["type"] != "message":
                    continue
                payload = json.loads(message["data"])
                yield {"event": payload.get("type"), "id": str(payload.get("id")), "data": payload["data"]["html"]}
        finally:
            await pubsub.aclose()

    return EventSourceResponse(stream(), ping=20)
