// Opens every page of the built dashboards in headless Chromium (playwright-core, driving the
// system's Chromium) and prints what the test asserts, as JSON: console errors, charts drawn,
// headline figures, and the headline before and after a filter is changed.
//   node check_dashboard.mjs <playwright-core dir> <chromium> <base url> <screenshot dir> <page>...
import {createRequire} from "node:module";
import path from "node:path";

const [playwrightDir, chromium, base, shots, ...pages] = process.argv.slice(2);
const {chromium: launcher} = createRequire(path.join(playwrightDir, "package.json"))("playwright-core");
const browser = await launcher.launch({
  executablePath: chromium,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
});
const results = {};
try {
  for (const name of pages) {
    const page = await browser.newPage({viewport: {width: 1280, height: 1800}});
    const errors = [];
    page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("requestfailed", (request) => errors.push(`request failed: ${request.url()}`));
    page.on("response", (response) => response.status() >= 400 && errors.push(`${response.status()}: ${response.url()}`));
    await page.goto(`${base}/${name === "index" ? "" : name + ".html"}`, {waitUntil: "networkidle"});
    await page.waitForSelector("main svg", {timeout: 30000}).catch(() => null);
    await page.waitForTimeout(500);
    const headlines = await page.$$eval("[id^=headline-],[id^=campaign-],[id^=ros-],[id^=quality-]", (elements) =>
      Object.fromEntries(elements.map((e) => [e.id, e.textContent.trim()]))
    );
    // Framework shows a cell that threw in the page itself, not always in the console.
    errors.push(...(await page.$$eval(".observablehq--error", (e) => e.map((x) => x.textContent.trim()))));
    const charts = await page.$$eval("main figure svg, main svg.plot, main svg[class^=plot]", (e) => e.length);
    const tables = await page.$$eval("main form table, main table", (e) => e.length);
    await page.screenshot({path: path.join(shots, `${name}.png`), fullPage: true});
    const result = {errors, headlines, charts, tables};
    if (name === "index") {
      // Choose the second audience: the headline figures must follow the filter.
      const select = page.locator("main select").first();
      const options = await select.locator("option").allTextContents();
      await select.selectOption({index: 1});
      await page.waitForTimeout(800);
      result.filtered = {
        audience: options[1],
        headlines: await page.$$eval("[id^=headline-]", (elements) =>
          Object.fromEntries(elements.map((e) => [e.id, e.textContent.trim()]))
        )
      };
      await page.screenshot({path: path.join(shots, "index-filtered.png"), fullPage: true});
    }
    results[name] = result;
    await page.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results));
