# Regenerates openapi.json (served at /openapi.json). Run `python3 api/openapi.py` from api/ after changing the API;
# tests check that every documented path is routed.
import json
P = lambda name, desc: {"name": name, "in": "path", "required": True, "schema": {"type": "string"}, "description": desc}
Q = lambda name, typ, desc: {"name": name, "in": "query", "required": False, "schema": {"type": typ}, "description": desc}
SKU = P("sku", "[A-Za-z0-9._-]{1,64}")
IDEM = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "minLength": 1, "maxLength": 128},
        "description": "A repeat with the same key and body returns the first response and appends nothing."}
ref = lambda n: {"$ref": f"#/components/schemas/{n}"}
def ok(code, schema, desc="OK"):
    r = {"description": desc}
    if schema: r["content"] = {"application/json": {"schema": schema}}
    return {str(code): r}
def problems(*codes):
    return {str(c): {"description": "Problem", "content": {"application/problem+json": {"schema": ref("Problem")}}} for c in codes}
def op(summary, tag, responses, params=(), body=None, security=True):
    o = {"summary": summary, "tags": [tag], "responses": responses}
    if params: o["parameters"] = list(params)
    if body: o["requestBody"] = {"required": True, "content": body}
    if not security: o["security"] = []
    return o
def jbody(schema): return {"application/json": {"schema": schema}}
page = lambda item: {"type": "object", "required": ["items", "next_cursor"], "properties": {"items": {"type": "array", "items": item}, "next_cursor": {"type": ["string", "null"]}}}
LIST = [Q("limit", "integer", "1-500, default 50"), Q("cursor", "string", "opaque cursor from next_cursor")]
CMD_ERR = (400, 401, 403, 404, 422)

schemas = {
 "Problem": {"type": "object", "required": ["type", "title", "status", "detail", "code"], "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
    "code": {"type": "string", "enum": ["validation_failed", "unauthorized", "forbidden", "not_found", "insufficient_stock", "conflict",
                                         "reservation_expired", "idempotency_key_reused", "rate_limited", "internal", "method_not_allowed"]}}},
 "Product": {"type": "object", "required": ["sku", "name", "on_hand", "reserved", "available", "min_stock", "min_stock_source", "lead_time_days",
                                             "service_level", "below_min", "open_refill_id", "version", "updated_at"], "properties": {
    "sku": {"type": "string"}, "name": {"type": "string"}, "on_hand": {"type": "integer"}, "reserved": {"type": "integer"},
    "available": {"type": "integer", "description": "on_hand - reserved"}, "min_stock": {"type": ["integer", "null"]},
    "min_stock_source": {"type": "string", "enum": ["manual", "forecast", "none"]}, "lead_time_days": {"type": "integer"},
    "service_level": {"type": "number"}, "below_min": {"type": "boolean"}, "open_refill_id": {"type": ["string", "null"], "format": "uuid"},
    "unit": {"type": ["string", "null"]}, "supplier": {"type": ["string", "null"]}, "reorder_quantity": {"type": ["integer", "null"]},
    "version": {"type": "integer"}, "updated_at": {"type": "string", "format": "date-time"},
    "as_of": {"type": "string", "format": "date-time", "description": "present on ?as_of= reads"}}},
 "ProductInput": {"type": "object", "additionalProperties": False, "required": ["name"], "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 200}, "lead_time_days": {"type": "integer", "minimum": 0, "maximum": 365, "default": 7},
    "service_level": {"type": "number", "minimum": 0.5, "maximum": 0.999, "default": 0.95}, "unit": {"type": "string"}, "supplier": {"type": "string"},
    "reorder_quantity": {"type": "integer", "minimum": 1}}},
 "Movement": {"type": "object", "additionalProperties": False, "required": ["quantity"], "properties": {
    "quantity": {"type": "integer", "minimum": 1, "maximum": 1000000000}, "reference": {"type": "string", "maxLength": 200},
    "occurred_at": {"type": "string", "format": "date-time", "description": "not in the future"}}},
 "Adjustment": {"type": "object", "additionalProperties": False, "required": ["counted", "reason"], "properties": {
    "counted": {"type": "integer", "minimum": 0, "maximum": 1000000000}, "reason": {"type": "string", "minLength": 1, "maxLength": 200}}},
 "MinStock": {"type": "object", "additionalProperties": False, "required": ["quantity"], "properties": {
    "quantity": {"type": ["integer", "null"], "minimum": 0, "maximum": 1000000000}}},
 "ReserveInput": {"type": "object", "additionalProperties": False, "required": ["quantity"], "properties": {
    "quantity": {"type": "integer", "minimum": 1, "maximum": 1000000000}, "ttl_seconds": {"type": "integer", "minimum": 1, "maximum": 86400, "default": 900}}},
 "Reservation": {"type": "object", "required": ["id", "sku", "quantity", "expires_at"], "properties": {
    "id": {"type": "string", "format": "uuid"}, "sku": {"type": "string"}, "quantity": {"type": "integer"},
    "status": {"type": "string", "enum": ["active", "confirmed", "released", "expired"]}, "expires_at": {"type": "string", "format": "date-time"}}},
 "Forecast": {"type": "object", "required": ["sku", "model", "computed_at", "history", "forecast", "lead_time_demand", "safety_stock", "reorder_point", "service_level"],
    "properties": {"sku": {"type": "string"}, "model": {"type": "string", "description": "mstl_ets, ets, croston, sba, tsb, seasonal_naive or mean_fallback"},
      "computed_at": {"type": "string", "format": "date-time"},
      "history": {"type": "array", "items": {"type": "object", "properties": {"date": {"type": "string", "format": "date"}, "quantity": {"type": "integer"}}}},
      "forecast": {"type": "array", "items": {"type": "object", "properties": {"date": {"type": "string", "format": "date"}, "mean": {"type": "number"},
                                                                              "lower": {"type": "number"}, "upper": {"type": "number"}}}},
      "lead_time_demand": {"type": "number"}, "safety_stock": {"type": "number"}, "reorder_point": {"type": "integer"},
      "service_level": {"type": "number"}, "lead_time_days": {"type": "integer"}}},
 "CommandResult": {"type": "object", "required": ["version", "product"], "properties": {"version": {"type": "integer"}, "product": ref("Product")}},
 "Event": {"type": "object", "required": ["event_id", "version", "type", "recorded_at", "occurred_at", "payload", "metadata"], "properties": {
    "event_id": {"type": "string", "format": "uuid"}, "version": {"type": "integer"}, "type": {"type": "string"},
    "recorded_at": {"type": "string", "format": "date-time"}, "occurred_at": {"type": "string", "format": "date-time"}, "payload": {"type": "object"},
    "metadata": {"type": "object", "properties": {"correlation_id": {"type": "string", "format": "uuid"},
        "causation_id": {"type": ["string", "null"], "format": "uuid"}, "actor": {"type": "string"}}}}},
 "LedgerRow": {"type": "object", "required": ["version", "type", "delta_on_hand", "on_hand_after", "reference", "occurred_at"], "properties": {
    "version": {"type": "integer"}, "type": {"type": "string"}, "delta_on_hand": {"type": "integer"}, "on_hand_after": {"type": "integer"},
    "reference": {"type": ["string", "null"]}, "occurred_at": {"type": "string", "format": "date-time"}}},
}

paths = {
 "/v1/products": {"get": op("List products", "products", {**ok(200, page(ref("Product"))), **problems(400, 401)},
     [Q("below_min", "boolean", "only products below their minimum"), *LIST])},
 "/v1/products/{sku}": {
     "get": op("Get a product (optionally as of a past instant, folded from its events)", "products",
               {**ok(200, ref("Product")), **problems(400, 401, 404)}, [SKU, Q("as_of", "string", "RFC 3339 time")]),
     "put": op("Register or update a product", "products", {**ok(201, ref("Product"), "Created"), **ok(200, ref("Product"), "Updated"), **problems(400, 401, 403)},
               [SKU], jbody(ref("ProductInput")))},
 "/v1/products/{sku}/receipts": {"post": op("Receive stock", "stock", {**ok(201, ref("CommandResult"), "Recorded"), **problems(*CMD_ERR)},
     [SKU, IDEM], jbody(ref("Movement")))},
 "/v1/products/{sku}/sales": {"post": op("Sell stock", "stock", {**ok(201, ref("CommandResult"), "Recorded"), **problems(*CMD_ERR, 409)},
     [SKU, IDEM], jbody(ref("Movement")))},
 "/v1/products/{sku}/adjustments": {"post": op("Record a physical count (sets on_hand)", "stock", {**ok(201, ref("CommandResult"), "Recorded"), **problems(*CMD_ERR)},
     [SKU, IDEM], jbody(ref("Adjustment")))},
 "/v1/products/{sku}/min-stock": {"put": op("Pin a manual minimum, or null to hand it back to the forecast", "stock",
     {**ok(200, ref("Product")), **problems(400, 401, 403, 404)}, [SKU], jbody(ref("MinStock")))},
 "/v1/products/{sku}/events": {"get": op("The product's events", "products", {**ok(200, page(ref("Event"))), **problems(400, 401, 404)},
     [SKU, Q("after_version", "integer", "events after this version"), *LIST])},
 "/v1/products/{sku}/movements": {"get": op("The stock ledger", "products", {**ok(200, page(ref("LedgerRow"))), **problems(400, 401, 404)}, [SKU, *LIST])},
 "/v1/products/{sku}/reservations": {"post": op("Reserve units (they leave available until confirmed, released or expired)", "reservations",
     {**ok(201, ref("Reservation"), "Reserved"), **problems(*CMD_ERR, 409)}, [SKU, IDEM], jbody(ref("ReserveInput")))},
 "/v1/reservations/{id}/confirm": {"post": op("Confirm: the units leave stock (a second confirm changes nothing)", "reservations",
     {**ok(200, ref("Reservation")), **problems(400, 401, 403, 404, 409, 410)}, [P("id", "reservation id"), IDEM])},
 "/v1/reservations/{id}": {"delete": op("Release the units", "reservations",
     {"204": {"description": "Released"}, **problems(400, 401, 403, 404, 409)}, [P("id", "reservation id"), IDEM])},
 "/v1/imports/demand-history": {"post": op("Import past daily demand (CSV date,sku,quantity); all or nothing", "imports",
     {**ok(201, {"type": "object", "properties": {"rows": {"type": "integer"}, "skus": {"type": "integer"}}}, "Imported"), **problems(400, 401, 403, 422)},
     [IDEM], {"text/csv": {"schema": {"type": "string"}}})},
 "/v1/products/{sku}/forecast": {"get": op("The latest forecast and the reorder point computed from it", "forecasts",
     {**ok(200, ref("Forecast")), **problems(400, 401, 404)}, [SKU])},
 "/v1/jobs/recompute-thresholds": {"post": op("Recompute the caller's minimums now (the scheduler also does it every RESTOCK_FORECAST_INTERVAL)", "forecasts",
     {**ok(200, {"type": "object", "required": ["products", "changed"], "properties": {"products": {"type": "integer"}, "changed": {"type": "integer"}}}),
      **problems(401, 403)}, [IDEM])},
 "/healthz": {"get": op("Alive", "operations", ok(200, {"type": "object"}), security=False)},
 "/readyz": {"get": op("Store reachable and migrations applied", "operations", {**ok(200, {"type": "object"}), "503": {"description": "Not ready"}}, security=False)},
 "/metrics": {"get": op("Prometheus metrics", "operations", {"200": {"description": "text/plain exposition format"}}, security=False)},
 "/openapi.json": {"get": op("This document", "operations", ok(200, {"type": "object"}), security=False)},
 "/docs": {"get": op("Interactive documentation (works offline)", "operations", {"200": {"description": "HTML"}}, security=False)},
}
# Refills and the agent (API.md "Refills and the agent").
schemas.update({
 "Refill": {"type": "object", "required": ["id", "sku", "quantity", "status", "decided_by", "trigger_event_id", "created_at", "received_at"], "properties": {
    "id": {"type": "string", "format": "uuid"}, "sku": {"type": "string"}, "quantity": {"type": "integer", "description": "units requested"},
    "status": {"type": "string", "enum": ["requested", "received", "cancelled"]},
    "decided_by": {"type": "string", "description": "policy or llm:<model>"}, "trigger_event_id": {"type": ["string", "null"], "format": "uuid"},
    "reason": {"type": "string"}, "received_quantity": {"type": ["integer", "null"]},
    "created_at": {"type": "string", "format": "date-time"}, "received_at": {"type": ["string", "null"], "format": "date-time"},
    "cancelled_at": {"type": ["string", "null"], "format": "date-time"}}},
 "RefillReceive": {"type": "object", "additionalProperties": False, "properties": {
    "quantity": {"type": "integer", "minimum": 1, "maximum": 1000000000, "description": "default: the quantity requested"}}},
 "RefillResult": {"type": "object", "required": ["refill", "version", "product"], "properties": {
    "refill": {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}, "sku": {"type": "string"},
                                                 "quantity": {"type": "integer"}, "status": {"type": "string"}}},
    "version": {"type": "integer"}, "product": ref("Product")}},
 "ToolCall": {"type": "object", "required": ["name", "arguments"], "properties": {
    "name": {"type": "string", "enum": ["check_stock", "refill_stock", "notify_manager"]}, "arguments": {"type": "object"}}},
 "RefillAudit": {"type": "object", "required": ["refill", "trigger", "state_at_trigger", "threshold", "decision", "events", "replayed_decision"], "properties": {
    "refill": ref("Refill"), "trigger": {"oneOf": [ref("Event"), {"type": "null"}]},
    "state_at_trigger": {"oneOf": [ref("Product"), {"type": "null"}], "description": "folded from the product's events up to and including the trigger"},
    "threshold": {"type": ["object", "null"], "properties": {"reorder_point": {"type": "integer"}, "source": {"type": "string", "enum": ["manual", "forecast"]},
        "model": {"type": ["string", "null"]}, "computed_at": {"type": ["string", "null"], "format": "date-time"}}},
    "decision": {"type": ["object", "null"], "properties": {
        "decider": {"type": "string"}, "model": {"type": ["string", "null"]}, "tool_calls": {"type": "array", "items": ref("ToolCall")},
        "rationale": {"type": "string"}, "fallback_reason": {"type": ["string", "null"], "description":
            "why the policy decided instead of the LLM: timeout, http_429, http_500, transport, malformed_response, invalid_arguments, "
            "unknown_tool, wrong_sku, out_of_bounds, no_tool_call, no_action, too_many_calls, budget_exhausted, circuit_open, interrupted"},
        "prompt_sha256": {"type": "string"}, "usage": {"type": ["object", "null"], "properties": {"prompt_tokens": {"type": "integer"}, "completion_tokens": {"type": "integer"}}},
        "latency_ms": {"type": "integer"}, "context": {"type": "object", "description": "what the decision was made on"}}},
    "events": {"type": "array", "items": ref("Event"), "description": "every event caused by the decision (causation_id = the trigger)"},
    "replayed_decision": {"type": ["object", "null"], "properties": {"tool_calls": {"type": "array", "items": ref("ToolCall")}, "matches": {"type": "boolean"},
        "basis": {"type": "string"}}}}},
 "Notification": {"type": "object", "required": ["id", "kind", "sku", "message", "created_at"], "properties": {
    "id": {"type": "string", "format": "uuid"}, "kind": {"type": "string"}, "sku": {"type": ["string", "null"]}, "message": {"type": "string"},
    "severity": {"type": "string", "enum": ["info", "warning", "critical"]}, "trigger_event_id": {"type": ["string", "null"], "format": "uuid"},
    "created_at": {"type": "string", "format": "date-time"},
    "delivery": {"type": "string", "enum": ["none", "pending", "delivered", "failed"], "description": "webhook delivery (RESTOCK_WEBHOOK_URL)"},
    "attempts": {"type": "integer"}}},
})
REFILL_ID = P("id", "refill id")
paths.update({
 "/v1/refills": {"get": op("Refills (purchase requests) opened by the agent", "refills", {**ok(200, page(ref("Refill"))), **problems(400, 401)},
     [Q("status", "string", "requested | received | cancelled"), *LIST])},
 "/v1/refills/{id}/audit": {"get": op("Why this refill: trigger, state then, threshold, decision, caused events, the policy re-run now", "refills",
     {**ok(200, ref("RefillAudit")), **problems(400, 401, 404)}, [REFILL_ID])},
 "/v1/refills/{id}/receive": {"post": op("Receive stock against the refill (default: the quantity requested)", "refills",
     {**ok(201, ref("RefillResult"), "Received"), **problems(*CMD_ERR, 409)}, [REFILL_ID, IDEM], jbody(ref("RefillReceive")))},
 "/v1/refills/{id}/cancel": {"post": op("Cancel the refill", "refills", {**ok(200, ref("RefillResult")), **problems(*CMD_ERR, 409)}, [REFILL_ID, IDEM])},
 "/v1/notifications": {"get": op("Notifications the agent wrote for the manager", "refills", {**ok(200, page(ref("Notification"))), **problems(400, 401)}, LIST)},
})
doc = {"openapi": "3.1.0",
       "info": {"title": "Restock", "version": "1.0.0", "description": "Event-sourced multi-tenant inventory engine. See API.md for the full contract."},
       "servers": [{"url": "/"}],
       "security": [{"bearer": []}],
       "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}, "schemas": schemas},
       "paths": paths}
import sys
extra = sys.argv[1] if len(sys.argv) > 1 else None
json.dump(doc, open("openapi.json", "w"), indent=1)
