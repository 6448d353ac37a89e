// A grid worker signs in on a phone-sized screen and opens a resident's
// page, in Debian's headless Chromium driven by playwright-core.
//
// WANGGE_URL       the running server (default http://127.0.0.1:18080)
// WANGGE_ACCOUNTS  the demo's accounts file (JSON)
// CHROMIUM         the browser (default /usr/bin/chromium)
import { readFileSync, mkdirSync } from "node:fs";
import { chromium } from "playwright-core";

const base = process.env.WANGGE_URL ?? "http://127.0.0.1:18080";
const accounts = JSON.parse(readFileSync(process.env.WANGGE_ACCOUNTS, "utf8"));
const worker = accounts.find((a) => a.username === "wangge.heping02");
const shots = process.env.WANGGE_SHOTS ?? "target/e2e";
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
let passed = 0;
let failed = 0;
async function step(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}: ${e.message}`);
  }
}
function expect(cond, message) {
  if (!cond) throw new Error(message);
}

// Her phone stands in 和平社区第二网格 (the demo's lattice, second cell).
const page = await browser.newPage({
  viewport: { width: 390, height: 844 },
  locale: "zh-CN",
  geolocation: { latitude: 31.8438, longitude: 117.2543 },
  permissions: ["geolocation"],
});
try {
  await step("an anonymous visit to /my goes to the login page", async () => {
    await page.goto(`${base}/my`);
    expect(page.url().includes("/login"), `at ${page.url()}`);
    expect((await page.locator("h1").textContent()).includes("登录"), "no login heading");
  });
  await step("a wrong password is refused in Chinese", async () => {
    await page.fill('input[name="username"]', worker.username);
    await page.fill('input[name="password"]', "not-the-password");
    await page.click('button[type="submit"]');
    expect((await page.locator('[role="alert"]').textContent()).includes("用户名或密码不正确"), "no error");
  });
  await step("the grid worker signs in and sees her grid", async () => {
    await page.fill('input[name="username"]', worker.username);
    await page.fill('input[name="password"]', worker.password);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/my$/);
    expect((await page.content()).includes("和平社区第二网格"), "her grid is not listed");
  });
  await step("she walks grid → building → household → resident", async () => {
    await page.click("text=和平社区第二网格");
    await page.waitForURL(/\/register\/grids\//);
    await page.locator("table.list a").first().click();
    await page.waitForURL(/\/register\/buildings\//);
    await page.locator("ul.rows a").first().click();
    await page.waitForURL(/\/register\/households\//);
    await page.locator("table.list a").first().click();
    await page.waitForURL(/\/register\/residents\/\d+$/);
    const masked = (await page.locator("#id-number").textContent()).trim();
    expect(/^\d{3}\*{11}[\dX]{4}$/.test(masked), `ID not masked: ${masked}`);
    await page.screenshot({ path: `${shots}/resident.png`, fullPage: true });
  });
  await step("a reveal with a reason shows the full number", async () => {
    await page.click("summary");
    await page.fill('input[name="reason"]', "核对帮扶材料");
    await page.click('form[action$="/reveal"] button');
    const full = (await page.locator("#revealed").textContent()).trim();
    expect(/^\d{17}[\dX]$/.test(full), `not a full ID: ${full}`);
  });
  await step("she reports a missing drain cover from her phone, with a photo", async () => {
    // A photo from the phone: here, a screenshot of the page itself.
    const photo = await page.screenshot();
    await page.goto(`${base}/cases/new`);
    await page.click("#locate-me");
    await page.waitForFunction(() => document.getElementById("lat").value !== "");
    await page.fill('textarea[name="description"]', "13栋门前雨水井盖缺失，人车流量大");
    await page.setInputFiles('input[name="photo"]', { name: "drain.png", mimeType: "image/png", buffer: photo });
    await page.click('form[action="/cases/new"] button[type="submit"]');
    // An open case of the same kind nearby is offered first: file anyway.
    if (await page.locator('input[name="confirm_duplicate"]').count()) {
      await page.check('input[name="confirm_duplicate"]');
      await page.click('form[action="/cases/new"] button[type="submit"]');
    }
    await page.waitForURL(/\/cases\/\d+$/);
    const html = await page.content();
    expect(html.includes("雨水井盖") && html.includes("和平社区第二网格"), "not filed in her grid");
    const thumb = page.locator("img.thumb").first();
    await thumb.waitFor();
    const width = await thumb.evaluate((img) => img.complete && img.naturalWidth);
    expect(width > 0, "the photo's thumbnail does not load");
    await page.screenshot({ path: `${shots}/case.png`, fullPage: true });
  });
  await step("she starts a patrol and her phone's positions reach the server", async () => {
    await page.goto(`${base}/field`);
    await page.click('form[action="/field/patrol/start"] button');
    await page.waitForSelector("#patrol");
    await page.waitForFunction(() => Number(document.getElementById("points").textContent) >= 1, null, { timeout: 15000 });
    expect((await page.locator("#unsent").textContent()).trim() === "0", "fixes left unsent");
    await page.screenshot({ path: `${shots}/patrol.png`, fullPage: true });
  });
  await step("she ends the patrol", async () => {
    await page.click('form[action$="/end"] button');
    await page.waitForSelector('form[action="/field/patrol/start"]');
  });
  await step("she finds a resident by pinyin from the search box in the header", async () => {
    await page.goto(`${base}/my`);
    await page.fill('form[role="search"] input[name="q"]', "zhouguiying");
    await page.press('form[role="search"] input[name="q"]', "Enter");
    await page.waitForURL(/\/search\?q=/);
    const html = await page.content();
    expect(html.includes("周桂英"), "周桂英 not found by pinyin");
    expect(!/\d{11,}/.test(await page.locator("main").textContent()), "an unmasked number in the results");
    await page.click("text=周桂英");
    await page.waitForURL(/\/register\/residents\/\d+$/);
  });
  await step("she uploads a sheet and reads every problem by row and column", async () => {
    await page.goto(`${base}/register/import`);
    const csv = "\uFEFF姓名,身份证号,联系电话,民族,人口类型,与户主关系,政治面貌,标签,楼栋,单元,房号\n" +
      "张三,110105194912310021,,汉族,户籍人口,户主,,,999,1,101\n";
    await page.selectOption('select[name="kind"]', "residents");
    await page.selectOption('select[name="mode"]', "dry_run");
    await page.setInputFiles('input[name="file"]', { name: "人口.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.click('#import-form button[type="submit"]');
    await page.waitForSelector("table.list td.num");
    // The problems table: row (header = 1), column, problem.
    const rows = await page.locator("table.list").last().locator("tbody tr").allTextContents();
    expect(rows.some((r) => r.startsWith("2身份证号") && r.includes("校验")), `no ID error on row 2: ${rows}`);
    expect(rows.some((r) => r.startsWith("2楼栋") && r.includes("999")), `no building error: ${rows}`);
    expect(await page.locator('a[download="rejected.csv"]').count() === 1, "no rejected rows to download");
    await page.screenshot({ path: `${shots}/import.png`, fullPage: true });
  });
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
