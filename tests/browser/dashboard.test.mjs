// Browser tests of the dashboard: Debian's chromium driven by playwright-core, under node's test
// runner. Run by tests/dashboard_browser.rs, which starts a server on PostgreSQL, seeds a tenant
// and passes BASE_URL, MANAGER_TOKEN, VIEWER_TOKEN, BELOW_SKU, OTHER_SKU, REFILL_ID and
// SCREENSHOT_DIR in the environment.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  assert.ok(value, `${name} is set`);
  return value;
};
const BASE = env("BASE_URL");
const SHOTS = env("SCREENSHOT_DIR");
const BELOW = env("BELOW_SKU");
const OTHER = env("OTHER_SKU");
const REFILL = env("REFILL_ID");

let browser;
// Every request a page tried that would leave this machine (the test fails if there is one).
const leaving = [];

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
      "--no-sandbox",
    ],
  });
});

after(async () => {
  await browser?.close();
  assert.deepEqual(leaving, [], "no page tried to reach another host");
});

/** A fresh browser context whose every request must stay on 127.0.0.1. */
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname !== "127.0.0.1") {
      leaving.push(url.href);
      return route.abort();
    }
    return route.continue();
  });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    // A CSP violation is reported on the console: our pages must cause none.
    if (m.type() === "error") errors.push(m.text());
  });
  return { context, page, errors };
}

async function login(page, token) {
  await page.goto(`${BASE}/`);
  assert.match(page.url(), /\/login$/, "without a session, / sends to the login page");
  await page.fill("#token", token);
  await page.click("button[type=submit]");
  await page.waitForURL(`${BASE}/`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** The product as the JSON API shows it. */
async function apiProduct(sku) {
  const r = await fetch(`${BASE}/v1/products/${sku}`, {
    headers: { authorization: `Bearer ${env("MANAGER_TOKEN")}` },
  });
  assert.equal(r.status, 200);
  return r.json();
}

test("a manager reads every page and acts from them", async () => {
  const { context, page, errors } = await newPage();
  await page.goto(`${BASE}/login`);
  await shot(page, "login");
  await login(page, env("MANAGER_TOKEN"));

  // Products: the below-minimum one comes first.
  const rows = page.locator("table.products tbody tr");
  await rows.first().waitFor();
  assert.equal(await rows.first().getAttribute("data-sku"), BELOW);
  assert.match(await rows.first().getAttribute("class"), /below/);
  assert.ok((await rows.count()) >= 2);
  await shot(page, "products");

  // The chat panel answers from the same tools: the figure it states is the API's.
  const asked = await apiProduct(BELOW);
  await page.fill("#chat-text", `how much ${BELOW} do we have?`);
  await page.click("#chat-form button[type=submit]");
  const answer = page.locator("#chat-log .chat-turn.assistant .answer").last();
  await answer.waitFor();
  const said = await answer.textContent();
  assert.ok(said.includes(String(asked.available)), `the answer states available=${asked.available}: ${said}`);
  assert.equal(await page.locator("#chat-log .chat-turn.assistant").last().getAttribute("data-answered-by"), "interpreter");
  await shot(page, "chat");

  // Search narrows the table (htmx swaps it in place).
  await page.fill("#q", OTHER);
  await page.waitForFunction(
    (sku) => [...document.querySelectorAll("table.products tbody tr")].every((r) => r.dataset.sku === sku),
    OTHER,
  );
  await page.fill("#q", "");

  // One product: chart with forecast, band and minimum, the timeline, the as-of view.
  await page.goto(`${BASE}/ui/products/${BELOW}`);
  const chart = page.locator("#demand-chart canvas");
  await chart.first().waitFor();
  const legend = await page.locator("#demand-chart .u-legend").innerText();
  for (const series of ["Demand", "Forecast", "Lower", "Upper", "Minimum"]) {
    assert.ok(legend.includes(series), `the chart has ${series}: ${legend}`);
  }
  // Hovering the chart shows that day's values in the legend.
  const box = await page.locator("#demand-chart .u-over").boundingBox();
  await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2);
  await page.waitForFunction(() =>
    [...document.querySelectorAll("#demand-chart .u-legend .u-value")].some((v) => /\d/.test(v.textContent)),
  );
  assert.ok((await page.locator("#forecast-table tr.forecast").count()) > 0, "values as a table");
  const timeline = await page.locator("#timeline").innerText();
  assert.match(timeline, /RefillRequested/);
  assert.match(timeline, /agent|policy/, "the agent's refill names who did it");
  assert.match(timeline, /user:/, "people's commands name the person");
  await shot(page, "product");

  // As of an instant before the sales: the product as the system knew it then.
  const onHandNow = await page.locator("#on-hand").innerText();
  // The whole second the sale happened in, cut down: after every earlier event (the seed leaves
  // over a second before the sale), before the sale.
  const sold = page.locator("#timeline tbody tr", { hasText: "StockSold" }).first();
  const soldAt = new Date(await sold.locator("td").nth(1).innerText()).getTime();
  const asOf = new Date(Math.floor(soldAt / 1000) * 1000).toISOString().slice(0, 19);
  await page.fill("#as_of", asOf);
  await Promise.all([page.waitForURL(/as_of=/), page.click("#as-of button[type=submit]")]);
  assert.equal(
    await page.locator("#as-of-banner").count(),
    1,
    `as of ${asOf}: ${page.url()} ${await page.locator(".notice").allInnerTexts()}`,
  );
  assert.notEqual(await page.locator("#on-hand").innerText(), onHandNow, "an earlier stock");
  await shot(page, "product-as-of");

  // Refills, and one refill's audit.
  await page.goto(`${BASE}/ui/refills`);
  await page.locator(`a[href="/ui/refills/${REFILL}"]`).click();
  await page.locator("#audit").waitFor();
  assert.match(await page.locator("#decider").innerText(), /policy|llm/);
  assert.match(await page.locator("#trigger").innerText(), /StockSold|Sold|Recalculated|Minimum/);
  assert.match(await page.locator("#threshold").innerText(), /Reorder point \d+/);
  assert.match(await page.locator("#caused").innerText(), /RefillRequested/);
  assert.match(await page.locator("#replayed").innerText(), /decision/);
  await shot(page, "refill-audit");

  await page.goto(`${BASE}/ui/notifications`);
  await page.locator("h1", { hasText: "Notifications" }).waitFor();
  await shot(page, "notifications");

  // Act: a receipt from the products page's quick actions changes on_hand in the API's view.
  const before = (await apiProduct(OTHER)).on_hand;
  await page.goto(`${BASE}/`);
  const row = page.locator(`tr[data-sku="${OTHER}"]`);
  await row.locator("button", { hasText: "Act" }).click();
  const receive = row.locator(`form[action="/ui/products/${OTHER}/receive"]`);
  await receive.locator("input[name=quantity]").fill("7");
  await receive.locator("input[name=reference]").fill("browser test");
  await receive.locator("button[type=submit]").click();
  await page.locator(".notice.ok", { hasText: "Receipt recorded." }).waitFor();
  let after;
  for (let i = 0; i < 100; i++) {
    after = (await apiProduct(OTHER)).on_hand;
    if (after === before + 7) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(after, before + 7, "the receipt is seen through GET /v1/products/{sku}");

  assert.deepEqual(errors, [], "no script error or CSP violation on any page");
  await context.close();
});

test("a viewer sees everything and can change nothing", async () => {
  const { context, page } = await newPage();
  await login(page, env("VIEWER_TOKEN"));
  await page.locator("table.products tbody tr").first().waitFor();
  assert.equal(await page.locator("button", { hasText: "Act" }).count(), 0, "no action buttons");
  await page.goto(`${BASE}/ui/refills/${REFILL}`);
  await page.locator("#audit").waitFor();
  assert.equal(await page.locator("#refill-actions").count(), 0);

  // The server refuses the viewer's form post itself, with the session cookie and our Origin.
  const before = (await apiProduct(OTHER)).on_hand;
  const r = await page.request.post(`${BASE}/ui/products/${OTHER}/receive`, {
    form: { quantity: "5", back: "product" },
    headers: { origin: BASE },
    maxRedirects: 0,
  });
  assert.equal(r.status(), 403);
  assert.match(await r.text(), /signed in as a viewer/);
  // The same refusal as a page, for the screenshot.
  const refused = await page.goto(`${BASE}/ui/products/${OTHER}/actions`);
  assert.equal(refused.status(), 403);
  await shot(page, "viewer-refused");
  assert.equal((await apiProduct(OTHER)).on_hand, before, "nothing changed");
  await context.close();
});
