/**
 * POST /v1/imports end to end: Laurel's own columns, a Smile.io customer export and a
 * LoyaltyLion customer export as they come, processed in the background (after the answer, by the
 * reads that poll it, by the cron), with every bad row reported by its line and the good rows landed.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { importColumns, importRows, parseCsv } from "../../worker/domain/imports";
import { advanceImportWork, uploadImport } from "../../worker/services/imports";
import { runScheduledWork, SWEEP_CRON } from "../../worker/services/scheduled";
import { shopById } from "../../worker/store/shops";
import {
  assertLedgerInvariants,
  assertOutboxMatchesLedger,
  customer,
  expectError,
  ledgerOf,
  makeShop,
  orderPaid,
  outboxOf,
  sendEvent,
  setProgram,
  snapshot,
  type TestShop,
} from "./helpers";

async function postImport(
  shop: TestShop,
  body: string | Uint8Array,
  options: { key?: string | null; dryRun?: boolean; query?: string; type?: string } = {},
) {
  const headers: Record<string, string> = { authorization: `Bearer ${shop.secretKey}`, "content-type": options.type ?? "text/csv" };
  if (options.key !== null) headers["idempotency-key"] = options.key ?? crypto.randomUUID();
  const query = options.query ?? (options.dryRun ? "?dryRun=true" : "");
  const response = await exports.default.fetch(new Request(`http://laurel.test/v1/imports${query}`, { method: "POST", headers, body }));
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function getImport(shop: TestShop, id: string) {
  const response = await exports.default.fetch(
    new Request(`http://laurel.test/v1/imports/${id}`, { headers: { authorization: `Bearer ${shop.secretKey}` } }),
  );
  return { status: response.status, body: await response.json<any>() };
}

/** Reads the import until it is finished, as the console does (each read carries a waiting import on). */
async function finished(shop: TestShop, id: string) {
  for (let attempt = 0; attempt < 600; attempt++) {
    const { body } = await getImport(shop, id);
    if (body.import.status === "done" || body.import.status === "failed") return body.import;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`import ${id} did not finish`);
}

async function imported(shop: TestShop, csv: string) {
  const res = await postImport(shop, csv);
  expect(res.status).toBe(202);
  return finished(shop, res.body.import.id);
}

const importTables = async () => {
  const row = await env.DB.prepare("SELECT (SELECT COUNT(*) FROM imports) AS imports, (SELECT COUNT(*) FROM import_rows) AS rows").first();
  return row as { imports: number; rows: number };
};

describe("importing members", () => {
  it("Laurel's columns: creates members with their points as one import entry each, first names, birthdays and tiers", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.tiers = [
        { name: "Bronze", basis: "lifetime_points", threshold: 0, multiplier: 1, perks: "" },
        { name: "Gold", basis: "lifetime_points", threshold: 5000, multiplier: 1.5, perks: "" },
      ];
    });
    const csv = [
      "Customer_ID,Email,First Name,Points,Tier,Birthday",
      "m-1,ann@example.com,Ann,1200,Gold,1990-04-12",
      'm-2,bob@example.com,"Bob, Jr.",300,,04-30',
      "m-3,,Cy,0,,",
    ].join("\r\n");
    const res = await postImport(shop, csv);
    expect(res.status).toBe(202);
    expect(res.body.import).toMatchObject({ status: "queued", dryRun: false, source: "laurel", total: 3, errors: [] });
    const done = await finished(shop, res.body.import.id);
    expect(done).toMatchObject({ status: "done", total: 3, processed: 3, imported: 3, skipped: 0, errors: [], errorCount: 0 });

    expect(await customer(shop, "m-1")).toMatchObject({ balance: 1200, lifetimePoints: 1200, email: "ann@example.com", firstName: "Ann", birthday: "1990-04-12", tier: "Gold" });
    expect(await customer(shop, "m-2")).toMatchObject({ balance: 300, firstName: "Bob, Jr.", birthday: "04-30", tier: "Bronze" });
    expect(await customer(shop, "m-3")).toMatchObject({ balance: 0, firstName: "Cy" });
    const entries = await ledgerOf(shop, "m-1");
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ kind: "import", delta: 1200, reference: res.body.import.id, balanceAfter: 1200 });
    expect(await ledgerOf(shop, "m-3")).toEqual([]);
    const events = await outboxOf(shop.id);
    expect(events.filter((e) => e.type === "member.created")).toHaveLength(3);
    expect(events.filter((e) => e.type === "points.earned").map((e) => e.data.points)).toEqual([1200, 300]);
    await assertLedgerInvariants(shop.id);
    await assertOutboxMatchesLedger(shop.id);
  });

  it("a Smile.io customer export as it comes: members found by email (any case), its birthdays and VIP tiers", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.tiers = [{ name: "Silver", basis: "lifetime_points", threshold: 100000, multiplier: 1, perks: "" }];
    });
    await sendEvent(shop, { type: "customer.created", customer: { id: "shop-101", email: "Jane@Doe.com" } });
    expect((await orderPaid(shop, { id: "o-1", customerId: "shop-102", email: "sam@example.com", subtotal: "20.00" })).status).toBe(200);
    const csv = [
      "ID,First name,Last name,Email,Points balance,VIP tier,Date of birth,Member status,Referral url",
      "304169228,Jane,Doe,jane@doe.com,300,Silver,1004-05-27,member,http://i.refs.cc/9qr5Pw",
      "304169229,Sam,Smith,SAM@example.com,1250,,1985-11-02,member,http://i.refs.cc/9qr5Px",
      "304169230,Nora,Lee,nora@example.com,40,,,candidate,",
    ].join("\n");
    const done = await imported(shop, csv);
    expect(done).toMatchObject({
      status: "done",
      source: "smile",
      total: 3,
      imported: 2,
      skipped: 1,
      errorCount: 1,
      columns: { email: "Email", firstName: "First name", points: "Points balance", tier: "VIP tier", birthday: "Date of birth" },
    });
    expect(done.ignoredColumns).toEqual(expect.arrayContaining(["ID", "Last name", "Member status", "Referral url"]));
    expect(done.errors).toEqual([{ row: 4, message: expect.stringMatching(/no member has the email nora@example\.com yet/) }]);
    expect(await customer(shop, "shop-101")).toMatchObject({ balance: 300, firstName: "Jane", birthday: "05-27", tier: "Silver", email: "Jane@Doe.com" });
    expect(await customer(shop, "shop-102")).toMatchObject({ balance: 1270, birthday: "1985-11-02" });
    // Smile's own ids did not become members.
    const list = await (await exports.default.fetch(
      new Request("http://laurel.test/v1/customers?q=3041692", { headers: { authorization: `Bearer ${shop.secretKey}` } }),
    )).json<any>();
    expect(list.customers).toEqual([]);
    await assertLedgerInvariants(shop.id);
  });

  it("a LoyaltyLion customer export as it comes: members by their shop id, approved points carried over", async () => {
    const shop = await makeShop({ platform: "shopify", shopifyDomain: "lion-import.myshopify.com", currency: "USD" });
    await setProgram(shop, (p) => {
      p.tiers = [
        { name: "Cub", basis: "lifetime_points", threshold: 0, multiplier: 1, perks: "" },
        { name: "Lion", basis: "lifetime_points", threshold: 1000000, multiplier: 2, perks: "" },
      ];
    });
    const csv = [
      "Merchant ID,Email,First name,Last name,Points approved,Points pending,Points spent,Tier,Birthday,Enrolled",
      "7001001,alice@example.com,Alice,Kyako,500,200,500,Lion,1991-06-22,true",
      "gid://shopify/Customer/7001002,bo@example.com,Bo,,75,0,0,cub,,false",
      "not-a-number,cy@example.com,Cy,,10,0,0,,,true",
    ].join("\n");
    const done = await imported(shop, csv);
    expect(done).toMatchObject({ status: "done", source: "loyaltylion", imported: 2, skipped: 1 });
    expect(done.columns).toMatchObject({ customerId: "Merchant ID", points: "Points approved", tier: "Tier" });
    expect(done.errors).toEqual([{ row: 4, message: expect.stringContaining("not a Shopify customer id") }]);
    expect(await customer(shop, "7001001")).toMatchObject({ balance: 500, tier: "Lion", birthday: "1991-06-22", firstName: "Alice" });
    expect(await customer(shop, "7001002")).toMatchObject({ balance: 75, tier: "Cub" });
    await assertLedgerInvariants(shop.id);
  });

  it("bad rows are skipped and reported by their line; the good rows land", async () => {
    const shop = await makeShop();
    await setProgram(shop, (p) => {
      p.tiers = [{ name: "Gold", basis: "lifetime_points", threshold: 1000, multiplier: 1, perks: "" }];
    });
    const csv = [
      "customer_id,email,points,tier,birthday",
      "ok-1,ok1@example.com,10,,",
      "bad-1,not-an-email,10,,",
      "bad-2,,-5,,",
      "bad-3,,12.5,,",
      "bad-4,,10,Platinum,",
      "bad-5,,10,,31-31",
      "ok-1,,20,,",
      ",,30,,",
      "bad-6,,10,,,extra",
      "",
      "ok-2,,1,gold,",
    ].join("\n");
    const done = await imported(shop, csv);
    expect(done).toMatchObject({ status: "done", total: 10, imported: 2, skipped: 8, errorCount: 8 });
    expect(done.errors.map((e: { row: number }) => e.row)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    const messages = done.errors.map((e: { message: string }) => e.message);
    expect(messages[0]).toMatch(/not an email address/);
    expect(messages[1]).toMatch(/cannot be negative/);
    expect(messages[2]).toMatch(/not a whole number/);
    expect(messages[3]).toMatch(/tier "Platinum" is not one of the program's tiers \(Gold\)/);
    expect(messages[4]).toMatch(/not a date/);
    expect(messages[5]).toMatch(/same customer as line 2/);
    expect(messages[6]).toMatch(/neither a customer id nor an email/);
    expect(messages[7]).toMatch(/has 6 values but the first row names 5 columns/);
    expect(await customer(shop, "ok-2")).toMatchObject({ balance: 1, tier: "Gold" });
    expect((await customer(shop, "ok-1")).balance).toBe(10);

    const download = await exports.default.fetch(
      new Request(`http://laurel.test/v1/imports/${done.id}/errors`, { headers: { authorization: `Bearer ${shop.secretKey}` } }),
    );
    expect(download.headers.get("content-type")).toMatch(/text\/csv/);
    expect(download.headers.get("content-disposition")).toContain(`import-${done.id}-errors.csv`);
    const lines = (await download.text()).trim().split("\n");
    expect(lines[0]).toBe("row,message");
    expect(lines).toHaveLength(9);
    expect(lines[1]).toMatch(/^3,"/);
  });

  it("refuses a bad file with the contract's 4xx and changes nothing", async () => {
    const shop = await makeShop();
    const before = { ...(await snapshot()), ...(await importTables()) };
    const good = "customer_id,points\nx-1,10\n";
    expectError(await postImport(shop, good, { key: null }), 400, "invalid_request");
    expectError(await postImport(shop, good, { type: "application/json" }), 415, "unsupported_media_type");
    expectError(await postImport(shop, good, { type: "text/plain" }), 415, "unsupported_media_type");
    const badHeader = await postImport(shop, "name,amount\nx,1\n");
    expectError(badHeader, 400, "invalid_request");
    expect(JSON.stringify(badHeader.body.error.details)).toMatch(/customer_id.*email/);
    expect(JSON.stringify(badHeader.body.error.details)).toMatch(/points column/);
    const twice = await postImport(shop, "customer_id,points,balance\nx,1,2\n");
    expectError(twice, 400, "invalid_request");
    expect(JSON.stringify(twice.body.error.details)).toMatch(/both give points/);
    expectError(await postImport(shop, ""), 400, "invalid_request");
    expectError(await postImport(shop, "customer_id,points\n"), 400, "invalid_request");
    expectError(await postImport(shop, new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0xff, 0xfe])), 400, "invalid_request");
    expectError(await postImport(shop, "customer_id,points\nx\u0000,1\n"), 415, "unsupported_media_type");
    expectError(await postImport(shop, good, { query: "?dryRun=maybe" }), 400, "invalid_request");
    const huge = `customer_id,points\n${"x".repeat(10 * 1024 * 1024)}\n`;
    expectError(await postImport(shop, huge), 413, "payload_too_large");
    expect({ ...(await snapshot()), ...(await importTables()), idempotency_keys: 0 }).toEqual({ ...before, idempotency_keys: 0 });
    // 64 KB still holds for JSON routes; the CSV route takes up to 10 MB.
    const big = `customer_id,points\n${Array.from({ length: 8000 }, (_, i) => `big-${i},1`).join("\n")}\n`;
    expect(big.length).toBeGreaterThan(64 * 1024);
    const accepted = await postImport(shop, big);
    expect(accepted.status).toBe(202);
    expect(await finished(shop, accepted.body.import.id)).toMatchObject({ status: "done", imported: 8000 });
  });

  it("a dry run checks every row and writes nothing; the same key replays; the same rows again are skipped", async () => {
    const shop = await makeShop();
    const csv = "customer_id,email,points\nd-1,d1@example.com,100\nd-2,oops,5\nd-3,,7\n";
    const before = await snapshot();
    const dry = await postImport(shop, csv, { dryRun: true });
    expect(dry.status).toBe(202);
    expect(dry.body.import).toMatchObject({ status: "done", dryRun: true, total: 3, processed: 3, imported: 0, skipped: 1 });
    expect(dry.body.import.errors).toEqual([{ row: 3, message: expect.stringMatching(/not an email/) }]);
    expect({ ...(await snapshot()), idempotency_keys: 0 }).toEqual({ ...before, idempotency_keys: 0 });

    const first = await postImport(shop, csv, { key: "import-1" });
    const replay = await postImport(shop, csv, { key: "import-1" });
    expect(replay).toEqual(first);
    expectError(await postImport(shop, `${csv}d-4,,1\n`, { key: "import-1" }), 422, "idempotency_mismatch");
    const done = await finished(shop, first.body.import.id);
    expect(done).toMatchObject({ imported: 2, skipped: 1 });
    expect((await customer(shop, "d-1")).balance).toBe(100);

    // The same file again, under a new key: every row was imported before, so none lands twice.
    const again = await imported(shop, csv);
    expect(again).toMatchObject({ status: "done", imported: 0, skipped: 3, errorCount: 1 });
    expect((await customer(shop, "d-1")).balance).toBe(100);
    expect(await ledgerOf(shop, "d-1")).toHaveLength(1);
    await assertLedgerInvariants(shop.id);
  });

  it("a large file is processed in chunks with progress, resumed by the cron when nobody carries it", async () => {
    const shop = await makeShop();
    const s = (await shopById(env.DB, shop.id))!;
    const rows = 3000;
    const csv = `customer_id,points\n${Array.from({ length: rows }, (_, i) => `bulk-${i},${i % 7}`).join("\n")}\n`;
    // Uploaded without anyone processing it (its request is gone): the cron finds it.
    const claim = () => env.DB.prepare("SELECT 1");
    const record = await uploadImport(env.DB, s, { csv: new TextEncoder().encode(csv).buffer as ArrayBuffer, dryRun: false }, claim);
    expect(record).toMatchObject({ status: "queued", total: rows, processed: 0 });
    // One worker with a tiny budget does one chunk and leaves the rest.
    await advanceImportWork(env, s, record.id, 0);
    const partly = (await getImport(shop, record.id)).body.import;
    expect(partly.processed).toBeGreaterThan(0);
    expect(partly.processed).toBeLessThan(rows);
    expect(["running", "done"]).toContain(partly.status);
    // Two workers at once never process a chunk twice.
    await Promise.all([runScheduledWork(env, new Date(), SWEEP_CRON), advanceImportWork(env, s, record.id, 60_000)]);
    const done = await finished(shop, record.id);
    expect(done).toMatchObject({ status: "done", total: rows, processed: rows, imported: rows, skipped: 0 });
    const sum = await env.DB.prepare("SELECT COUNT(*) AS n, SUM(delta) AS points FROM ledger WHERE shop_id = ? AND kind = 'import'")
      .bind(shop.id)
      .first();
    const expected = Array.from({ length: rows }, (_, i) => i % 7).reduce((a, b) => a + b, 0);
    expect(sum).toEqual({ n: Array.from({ length: rows }, (_, i) => i % 7).filter((p) => p > 0).length, points: expected });
    await assertLedgerInvariants(shop.id);
    // Thousands of rows on a shared 2-core machine: a generous limit (nothing here is timed).
  }, 180_000);

  it("members created by orders while the import runs are not created twice, and keep every point", async () => {
    const shop = await makeShop();
    const csv = `customer_id,points\n${Array.from({ length: 1200 }, (_, i) => `live-${i},10`).join("\n")}\n`;
    const res = await postImport(shop, csv);
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => orderPaid(shop, { id: `live-order-${i}`, customerId: `live-${i * 100}`, subtotal: "5.00" })),
    );
    const done = await finished(shop, res.body.import.id);
    expect(done).toMatchObject({ status: "done", imported: 1200 });
    for (let i = 0; i < 12; i++) expect((await customer(shop, `live-${i * 100}`)).balance).toBe(15);
    const members = await env.DB.prepare("SELECT COUNT(*) AS n FROM customers WHERE shop_id = ?").bind(shop.id).first();
    expect(members).toEqual({ n: 1200 });
    await assertLedgerInvariants(shop.id);
    await assertOutboxMatchesLedger(shop.id);
  });
});

describe("reading other programs' files (pure rules)", () => {
  it("maps headers in any case and spacing, and says what is missing", () => {
    const cols = importColumns(["  CUSTOMER ID", "Notes", "Points Balance"]);
    expect(cols.ok && cols.columns.index).toEqual({ customerId: 0, points: 2 });
    expect(cols.ok && cols.columns.ignored).toEqual(["Notes"]);
    const missing = importColumns(["name", "notes"]);
    expect(missing.ok).toBe(false);
  });

  it("parses quoted cells with separators, quotes and line breaks, CRLF, a BOM and semicolon files", () => {
    const { records } = parseCsv('\uFEFFcustomer_id,first_name,points\r\n"a,1","Ann ""A""\nB",5\r\n\r\nb,Bo,6');
    expect(records).toEqual([
      { line: 1, cells: ["customer_id", "first_name", "points"] },
      { line: 2, cells: ["a,1", 'Ann "A"\nB', "5"] },
      { line: 5, cells: ["b", "Bo", "6"] },
    ]);
    expect(parseCsv("customer_id;points\nx;1\n").records[1]!.cells).toEqual(["x", "1"]);
    expect(parseCsv('customer_id,points\n"x,1\ny,2\n').unclosedAt).toBe(2);
  });

  it("reads Smile's no-year birthdays and refuses days that do not exist", () => {
    const parsed = importColumns(["customer_id", "points", "birthday"]);
    if (!parsed.ok) throw new Error("header");
    const rows = importRows(
      [
        { line: 2, cells: ["a", "1", "1004-05-27"] },
        { line: 3, cells: ["b", "1", "2023-02-29"] },
        { line: 4, cells: ["c", "1", "2024-02-29"] },
      ],
      parsed.columns,
      { tiers: [], shopify: false },
    );
    expect(rows.map((r) => (r.ok ? r.row.birthday : "error"))).toEqual(["05-27", "error", "2024-02-29"]);
  });
});
