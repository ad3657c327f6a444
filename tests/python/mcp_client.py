"""Restock's MCP server seen by the official Python MCP client (PyPI `mcp` 2.x).

Run by tests/mcp_python.rs against a real server on PostgreSQL that it seeded (see
tests/common/mcp_seed.rs): every check compares what a tool returns with what the HTTP API
returns for the same tenant, and every write with the product's event log.

    mcp_client.py http  --api URL --manager-token T --viewer-token T --other-token T --actor A
    mcp_client.py stdio --api URL --manager-token T --restock BIN --database-url URL
                        --tenant T --other-tenant T --actor A

Exits 0 when every check holds, 1 naming the first that does not.
"""

import argparse
import asyncio
import json
import sys

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

READ_TOOLS = [
    "list_products",
    "check_stock",
    "stock_history",
    "get_forecast",
    "list_refills",
    "explain_refill",
    "list_notifications",
    "purchase_plan",
    "sales_summary",
    "rank_products",
    "stock_outlook",
    "product_timeline",
]
WRITE_TOOLS = [
    "refill_stock",
    "set_min_stock",
    "receive_stock",
    "record_sale",
    "count_stock",
    "cancel_refill",
    "receive_refill",
]

checks = 0


def check(condition, what):
    global checks
    if not condition:
        raise AssertionError(what)
    checks += 1
    print(f"ok: {what}", flush=True)


class Api:
    """The HTTP API, to compare figures with and to read the event log."""

    def __init__(self, base, token):
        self.base = base
        self.client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)

    async def get(self, path):
        r = await self.client.get(self.base + path)
        if r.status_code != 200:
            raise AssertionError(f"GET {path}: {r.status_code} {r.text}")
        return r.json()

    async def events(self, sku):
        return (await self.get(f"/v1/products/{sku}/events?limit=500"))["items"]


def answer(result, tool):
    """A successful result's JSON (its text; its structured content must agree)."""
    text = result.content[0].text
    if result.is_error:
        raise AssertionError(f"{tool} failed: {text}")
    value = json.loads(text)
    if result.structured_content is not None:
        check(result.structured_content == value, f"{tool}: structured content equals the text")
    return value


def refusal(result, tool):
    check(result.is_error, f"{tool}: refused as a tool result (isError)")
    return result.content[0].text


async def tool_names(client):
    listed = await client.list_tools()
    return [t.name for t in listed.tools], listed.tools


async def read_tools_match_the_api(client, api, label):
    names, tools = await tool_names(client)
    check(names == READ_TOOLS + WRITE_TOOLS, f"{label}: a manager is offered every tool")
    for tool in tools:
        check(
            tool.annotations is not None and tool.annotations.read_only_hint == (tool.name in READ_TOOLS),
            f"{label}: {tool.name} is annotated read-only exactly when it is a read tool",
        )

    async def call(tool, args):
        return answer(await client.call_tool(tool, args), tool)

    products = await api.get("/v1/products")
    check(len(products["items"]) == 3, f"{label}: the tenant has 3 products over HTTP")
    check((await call("list_products", {}))["items"] == products["items"], f"{label}: list_products = GET /v1/products")
    below = await api.get("/v1/products?below_min=true")
    check(
        (await call("list_products", {"below_min": True}))["items"] == below["items"],
        f"{label}: list_products below_min = GET /v1/products?below_min=true",
    )
    milk = await api.get("/v1/products/milk")
    check(await call("check_stock", {"sku": "milk"}) == milk, f"{label}: check_stock = GET /v1/products/milk")
    check(await call("check_stock", {"name": "Whole milk"}) == milk, f"{label}: check_stock by name")
    history = await call("stock_history", {"sku": "milk"})
    movements = await api.get("/v1/products/milk/movements")
    check(
        history["product"] == milk and history["movements"] == movements["items"],
        f"{label}: stock_history = the product and GET .../movements",
    )
    forecast = await api.get("/v1/products/milk/forecast")
    check(await call("get_forecast", {"sku": "milk"}) == forecast, f"{label}: get_forecast = GET .../forecast")
    refills = await api.get("/v1/refills")
    check(len(refills["items"]) >= 1, f"{label}: the agent's refill exists")
    check((await call("list_refills", {}))["items"] == refills["items"], f"{label}: list_refills = GET /v1/refills")
    refill_id = refills["items"][-1]["id"]
    audit = await api.get(f"/v1/refills/{refill_id}/audit")
    check(await call("explain_refill", {"refill_id": refill_id}) == audit, f"{label}: explain_refill = GET .../audit")
    notes = await api.get("/v1/notifications")
    check(len(notes["items"]) >= 1, f"{label}: the agent's notification exists")
    check(
        (await call("list_notifications", {}))["items"] == notes["items"],
        f"{label}: list_notifications = GET /v1/notifications",
    )
    return refill_id


async def writes(client, api, label, sku, actor):
    before = len(await api.events(sku))
    bad = refusal(
        await client.call_tool("refill_stock", {"sku": sku, "quantity": 0, "reason": "bad"}),
        "refill_stock with quantity 0",
    )
    check(bad.startswith("invalid_arguments") and "quantity" in bad, f"{label}: the message names quantity: {bad}")
    check(len(await api.events(sku)) == before, f"{label}: bad arguments append nothing")
    done = answer(
        await client.call_tool("refill_stock", {"sku": sku, "quantity": 12, "reason": "python client"}),
        "refill_stock",
    )
    check(done["refill"]["quantity"] == 12, f"{label}: refill_stock answers the refill")
    events = await api.events(sku)
    check(len(events) == before + 1, f"{label}: refill_stock appended exactly one event")
    check(
        events[-1]["type"] == "RefillRequested" and events[-1]["metadata"]["actor"] == actor,
        f"{label}: the event is RefillRequested by {actor}",
    )
    # Let the server's projections take the write in before the next comparison of figures.
    await asyncio.sleep(0.5)


async def other_tenant(client, label, refill_id):
    text = refusal(await client.call_tool("check_stock", {"sku": "milk"}), "check_stock of another tenant")
    check(text.startswith("not_found"), f"{label}: another tenant's sku is unknown: {text}")
    text = refusal(await client.call_tool("explain_refill", {"refill_id": refill_id}), "explain_refill")
    check(text.startswith("not_found"), f"{label}: another tenant's refill is unknown: {text}")


async def viewer(client, api, label, sku):
    names, _ = await tool_names(client)
    check(names == READ_TOOLS, f"{label}: a viewer is offered the 7 read tools")
    before = len(await api.events(sku))
    text = refusal(
        await client.call_tool("set_min_stock", {"sku": sku, "quantity": 3}), "set_min_stock as a viewer"
    )
    check(text.startswith("forbidden"), f"{label}: a viewer's write is forbidden: {text}")
    check(len(await api.events(sku)) == before, f"{label}: a viewer's write appends nothing")


def http_client(url, token, mode):
    headers = {"Authorization": f"Bearer {token}"}
    return Client(streamable_http_client(url, http_client=httpx2.AsyncClient(headers=headers)), mode=mode)


async def over_http(a, api):
    url = a.api + "/mcp"
    refill_id = None
    # "auto" is what clients do by default (server/discover, else the handshake); "legacy" is
    # the 2025-11-25 handshake; "2026-07-28" sends the version with every request.
    for mode, sku in [("auto", "coffee"), ("legacy", None), ("2026-07-28", None)]:
        label = f"http {mode}"
        async with http_client(url, a.manager_token, mode) as client:
            refill_id = await read_tools_match_the_api(client, api, label)
            if sku:
                await writes(client, api, label, sku, a.actor)
        async with http_client(url, a.viewer_token, mode) as client:
            await viewer(client, api, label, "tea")
        async with http_client(url, a.other_token, mode) as client:
            await other_tenant(client, label, refill_id)

    async with httpx2.AsyncClient(timeout=30) as raw:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
        accept = {"Accept": "application/json, text/event-stream"}
        r = await raw.post(url, json=body, headers=accept)
        check(r.status_code == 401, f"http: no token -> {r.status_code}")
        check(r.headers.get("content-type") == "application/problem+json", "http: the 401 is problem+json")
        auth = {**accept, "Authorization": f"Bearer {a.manager_token}"}
        r = await raw.post(url, json=body, headers={**auth, "Host": "evil.example"})
        check(r.status_code in (400, 403), f"http: a bad Host is refused ({r.status_code})")
    failed = False
    try:
        async with Client(url, mode="legacy") as client:
            await client.list_tools()
    except Exception:  # the SDK raises its own error types for a 401
        failed = True
    check(failed, "http: the client cannot connect without a token")


async def over_stdio(a, api):
    def server(tenant, role):
        return StdioServerParameters(
            command=a.restock,
            args=["mcp", "--tenant", tenant, "--role", role],
            env={"DATABASE_URL": a.database_url, "RESTOCK_LOG": "warn"},
        )

    async with Client(server(a.tenant, "manager")) as client:
        refill_id = await read_tools_match_the_api(client, api, "stdio")
        await writes(client, api, "stdio", "milk", a.actor)
    async with Client(server(a.tenant, "viewer")) as client:
        await viewer(client, api, "stdio", "tea")
    async with Client(server(a.other_tenant, "manager")) as client:
        await other_tenant(client, "stdio", refill_id)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("transport", choices=["http", "stdio"])
    parser.add_argument("--api", required=True)
    parser.add_argument("--manager-token", required=True)
    parser.add_argument("--viewer-token")
    parser.add_argument("--other-token")
    parser.add_argument("--actor", required=True)
    parser.add_argument("--restock")
    parser.add_argument("--database-url")
    parser.add_argument("--tenant")
    parser.add_argument("--other-tenant")
    a = parser.parse_args()
    api = Api(a.api, a.manager_token)
    try:
        if a.transport == "http":
            await over_http(a, api)
        else:
            await over_stdio(a, api)
    except AssertionError as e:
        print(f"FAILED: {e}", flush=True)
        return 1
    print(f"mcp_client {a.transport}: all {checks} checks hold", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
