"""Schemathesis hooks for tests/contract_fuzz.rs (loaded through SCHEMATHESIS_HOOKS).

- Every request carries its own `X-Request-Id`, which the server uses as the correlation id of
  the events a command appends; each answer is logged as one JSON line (id, method, path,
  status) to $RESTOCK_FUZZ_LOG, so the Rust test can check that no event came from a request
  that was answered with an error.
- `problem_json_with_a_contract_code`: every 4xx is `application/problem+json` whose `status` is
  the answer's and whose `code` is one the contract (docs/api.md "Conventions") lists.
"""

import json
import os
import uuid

import schemathesis

# docs/api.md "Conventions", plus the router's own 405 answer.
CONTRACT_CODES = {
    "validation_failed": {400, 422},
    "unauthorized": {401},
    "forbidden": {403},
    "not_found": {404},
    "method_not_allowed": {405},
    "insufficient_stock": {409},
    "conflict": {409},
    "reservation_expired": {410},
    "idempotency_key_reused": {422},
    "rate_limited": {429},
}

LOG_PATH = os.environ.get("RESTOCK_FUZZ_LOG")


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers if case.headers is not None else {}
    headers["X-Request-Id"] = str(uuid.uuid4())
    case.headers = headers


@schemathesis.hook
def after_call(context, case, response):
    if not LOG_PATH:
        return
    request = response.request
    line = {
        "request_id": request.headers.get("X-Request-Id"),
        "method": request.method,
        "url": request.url,
        "status": response.status_code,
    }
    with open(LOG_PATH, "a", encoding="utf-8") as log:
        log.write(json.dumps(line) + "\n")


@schemathesis.check
def problem_json_with_a_contract_code(ctx, response, case):
    status = response.status_code
    if not 400 <= status < 500:
        return None
    content_type = response.headers.get("Content-Type", response.headers.get("content-type", ""))
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else ""
    if not content_type.startswith("application/problem+json"):
        raise AssertionError(f"{status} answered as {content_type!r}, not application/problem+json")
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(f"{status} problem body is not JSON: {exc}") from exc
    code = body.get("code") if isinstance(body, dict) else None
    if code not in CONTRACT_CODES:
        raise AssertionError(f"{status} problem has no contract code: {body!r}")
    if status not in CONTRACT_CODES[code] or body.get("status") != status:
        raise AssertionError(f"`{code}` answered with status {status} (body says {body.get('status')})")
    for field in ("type", "title", "detail"):
        if not isinstance(body.get(field), str):
            raise AssertionError(f"{status} problem lacks `{field}`: {body!r}")
    return None
