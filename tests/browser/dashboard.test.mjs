// Browser tests of the dashboard: Debian's chromium driven by playwright-core, under node's test
// runner, with axe-core checking every page for WCAG 2.1 AA violations, at a desktop's width and
// at a phone's (375 px). Run by tests/dashboard_browser.rs, which starts a server on PostgreSQL,
// seeds a tenant and passes BASE_URL, MANAGER_TOKEN, VIEWER_TOKEN, BELOW_SKU, OTHER_SKU,
// REFILL_ID, SCREENSHOT_DIR and what the pages must state (SALES_LAST_30, DAYS_OF_COVER,
// RUNS_OUT, from the tools) in the environment.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

// axe-core's browser build, run in the page through the DevTools protocol (the pages' CSP
// refuses any script tag that is not ours, as it should).
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
const PHONE = { width: 375, height: 812 };

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
async function newPage(viewport = { width: 1400, height: 1000 }) {
  const context = await browser.newContext({ viewport });
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

/** No WCAG 2.1 A or AA violation that axe-core finds on the page as it is now. */
async function assertAccessible(page, name) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) {
    await page.evaluate(AXE);
  }
  const result = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: "tag", values: tags } }),
    WCAG_21_AA,
  );
  const found = result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
  );
  assert.deepEqual(found, [], `${name}: axe-core finds no WCAG 2.1 AA violation`);
  assert.ok(result.passes.length > 10, `${name}: axe-core ran its checks (${result.passes.length} passed)`);
}

/** The page does not scroll sideways, and every part of the header is on the screen. */
async function assertFitsPhone(page, name) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `${name}: the page is ${width}px wide at ${PHONE.width}px`);
  const parts = page.locator("header.top a, header.top button, header.top #who");
  assert.ok((await parts.count()) >= 6, `${name}: the header has its links`);
  for (const part of await parts.all()) {
    const box = await part.boundingBox();
    const what = (await part.innerText()).trim();
    assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width + 0.5, `${name}: "${what}" is on the screen: ${JSON.stringify(box)}`);
  }
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
  await assertAccessible(page, "login");
  await shot(page, "login");
  await login(page, env("MANAGER_TOKEN"));

  // Products: the below-minimum one comes first.
  const rows = page.locator("table.products tbody tr");
  await rows.first().waitFor();
  assert.equal(await rows.first().getAttribute("data-sku"), BELOW);
  assert.match(await rows.first().getAttribute("class"), /below/);
  assert.ok((await rows.count()) >= 2);
  await assertAccessible(page, "products");
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

  // One product: demand per day with the forecast and its band; apart from it the projected
  // stock with the minimum, the run-out day and the refill's arrival; the timeline; as of.
  await page.goto(`${BASE}/ui/products/${BELOW}`);
  const chart = page.locator("#demand-chart canvas");
  await chart.first().waitFor();
  const legend = await page.locator("#demand-chart .u-legend").innerText();
  for (const series of ["Demand", "Forecast", "Lower", "Upper"]) {
    assert.ok(legend.includes(series), `the chart has ${series}: ${legend}`);
  }
  assert.ok(!legend.includes("Minimum"), `units in stock are not drawn on units a day: ${legend}`);
  await page.locator("#stock-chart canvas").first().waitFor();
  const stockLegend = await page.locator("#stock-chart .u-legend").innerText();
  for (const series of ["Projected stock", "Minimum", "Runs out", "Refill arrives"]) {
    assert.ok(stockLegend.includes(series), `the stock chart has ${series}: ${stockLegend}`);
  }
  assert.equal((await page.locator("#days-of-cover").innerText()).trim(), env("DAYS_OF_COVER"));
  assert.equal((await page.locator("#runs-out").innerText()).trim(), env("RUNS_OUT"));
  assert.match(await page.locator("#outlook-refill").innerText(), /units, expected on \d{4}-\d\d-\d\d/, "the agent's refill");
  assert.ok((await page.locator("#projection-table tbody tr").count()) > 0, "the projection as a table");
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
  await assertAccessible(page, "product");
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
  await assertAccessible(page, "refill-audit");
  await shot(page, "refill-audit");
  await page.goto(`${BASE}/ui/refills`);
  await assertAccessible(page, "refills");

  await page.goto(`${BASE}/ui/notifications`);
  await page.locator("h1", { hasText: "Notifications" }).waitFor();
  await assertAccessible(page, "notifications");
  await shot(page, "notifications");

  // Sales, from the header: a quick period, the total, the best and the worst sellers.
  await page.click('header nav a[href="/ui/sales"]');
  await page.locator("h1", { hasText: "Sales" }).waitFor();
  await Promise.all([
    page.waitForURL(/from=/),
    page.locator("#quick-periods a", { hasText: "Last 30 days" }).click(),
  ]);
  const total = env("SALES_LAST_30");
  assert.match(await page.locator("#total-units").innerText(), new RegExp(`^${total} units sold from `));
  assert.equal(await page.locator("#best-sellers li").first().getAttribute("data-sku"), BELOW);
  assert.match(await page.locator("#best-sellers li").first().innerText(), new RegExp(`: ${total} units$`));
  assert.match(await page.locator("#worst-sellers li").first().innerText(), /: 0 units$/, "a product that sold nothing");
  assert.equal(await page.locator(`#sales-table tr[data-sku="${BELOW}"] td.units`).innerText(), total);
  await assertAccessible(page, "sales");
  await shot(page, "sales");
  // The picker: to before from is said on the page, with the dates kept to correct. The
  // browser logs each 400 it is answered; those two are expected, nothing else.
  const seen = errors.length;
  const to = await page.locator("#to").inputValue();
  const dayBefore = new Date(Date.parse(`${to}T00:00:00Z`) - 86400000).toISOString().slice(0, 10);
  await page.fill("#from", to);
  await page.fill("#to", dayBefore);
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.url().includes("/ui/sales?")),
    page.click("#period button[type=submit]"),
  ]);
  assert.equal(refused.status(), 400);
  assert.match(await page.locator(".notice.error").innerText(), /must not be after/);
  assert.equal(await page.locator("#from").inputValue(), to);
  await assertAccessible(page, "sales-refused");
  const garbled = await page.goto(`${BASE}/ui/sales?from=last+tuesday&to=${to}`);
  assert.equal(garbled.status(), 400);
  assert.match(await page.locator(".notice.error").innerText(), /is not a date/);
  const refusals = errors.splice(seen);
  assert.ok(
    refusals.length === 2 && refusals.every((e) => /status of 400/.test(e)),
    `only the two refused periods were logged: ${refusals}`,
  );

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

test("on a phone (375 px) the pages fit the screen and stay accessible", async () => {
  const { context, page, errors } = await newPage(PHONE);
  await login(page, env("MANAGER_TOKEN"));
  for (const [name, path, ready] of [
    ["products", "/", "table.products tbody tr"],
    ["product", `/ui/products/${BELOW}`, "#stock-chart canvas"],
    ["sales", "/ui/sales", "#sales-table tbody tr"],
  ]) {
    await page.goto(`${BASE}${path}`);
    await page.locator(ready).first().waitFor();
    await assertFitsPhone(page, name);
    await assertAccessible(page, `${name} at 375px`);
    await shot(page, `${name}-375`);
  }
  // A wide table scrolls inside its own box, not the page.
  await page.goto(`${BASE}/`);
  const box = page.locator("div.scroll", { has: page.locator("table.products") });
  assert.ok(
    await box.evaluate((el) => el.scrollWidth > el.clientWidth),
    "the products table is wider than a phone and scrolls in its box",
  );
  assert.deepEqual(errors, [], "no script error or CSP violation on a phone");
  await context.close();
});
