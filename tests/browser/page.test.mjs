// The page of `attnmt serve` in a real browser: Debian's chromium, headless, driven by
// playwright-core. Starts the server on a free port with the shipped model, translates a
// sentence, hovers words and checks from the DOM what is highlighted against the API's own
// numbers, switches heads and levels, downloads the matrix, and saves a screenshot that must
// not be blank. Run by tests/browser/run.sh (a ctest test).
// usage: node page.test.mjs ATTNMT_BINARY MODEL OUT_DIR
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { chromium } from "playwright-core";

const [bin, model, outDir] = process.argv.slice(2);
const SENTENCE = "The king gave bread and water to the people of the city.";
let failures = 0;
function check(ok, what) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures++;
}

// PNG -> {width, height, channels, pixels} (8-bit RGB or RGBA, not interlaced: what
// Chromium writes).
function decodePng(buf) {
  let pos = 8, width = 0, height = 0, channels = 0;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos), type = buf.toString("ascii", pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error("not an 8-bit non-interlaced PNG");
      channels = { 2: 3, 6: 4 }[data[9]];
      if (!channels) throw new Error(`PNG colour type ${data[9]}`);
    } else if (type === "IDAT") {
      idat.push(data);
    }
    pos += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels, pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)], line = raw.subarray(y * (stride + 1) + 1);
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter];
      pixels[y * stride + x] = (line[x] + pred) & 255;
    }
  }
  return { width, height, channels, pixels };
}

function startServer() {
  const server = spawn(bin, ["serve", "-m", model, "--port", "0"],
                       { stdio: ["ignore", "ignore", "pipe"] });
  const port = new Promise((resolve, reject) => {
    let err = "";
    server.stderr.on("data", (d) => {
      err += d;
      const m = err.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) resolve(Number(m[1]));
    });
    server.on("exit", (code) => reject(new Error(`attnmt serve exited (${code}): ${err}`)));
    setTimeout(() => reject(new Error(`attnmt serve printed no address in 120 s: ${err}`)),
               120000);
  });
  return { server, port };
}

const { server, port: portPromise } = startServer();
let browser;
try {
  const port = await portPromise;
  const base = `http://127.0.0.1:${port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 },
                                             acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(120000);
  await page.goto(base + "/");
  await page.waitForFunction(() => document.getElementById("model").textContent.includes("parameters"));
  const info = await (await fetch(base + "/v1/model")).json();
  const L = info.alignment.layer, H = info.model.heads;

  await page.fill("#source", SENTENCE);
  await page.click("#translate");
  await page.waitForSelector("#heatmap svg rect.cell");
  // The same request through the API: the numbers the page must show.
  const api = await (await fetch(base + "/v1/translate", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ text: [SENTENCE], beam: 5, attention: "all", alignment: "hard" }),
  })).json();
  const result = api.results[0];
  check((await page.textContent("#translations li")).startsWith(result.translation),
        `the translation is shown: "${result.translation}"`);

  // Default view: source attention of the alignment layer, heads averaged, word level.
  const heads = result.attention.source[L];
  const word = (h) => heads[h].word;
  const rows = word(0).rows, cols = word(0).columns;
  const mean = rows.map((_, r) => cols.map((_, c) =>
    heads.reduce((s, h) => s + h.word.weights[r][c], 0) / heads.length));
  check(await page.inputValue("#layer") === String(L), `layer ${L} (the model's) is shown first`);
  check(await page.locator("#heatmap rect.cell").count() === rows.length * cols.length,
        `${rows.length} x ${cols.length} cells at word level`);

  // Hover each of the first target words: its row is outlined, the strongest source word marked.
  for (let r = 0; r < Math.min(3, rows.length); r++) {
    await page.hover(`#rows-strip .tok[data-i="${r}"]`);
    const best = mean[r].indexOf(Math.max(...mean[r]));
    check(await page.locator("#heatmap rect.cell.hl").count() === cols.length,
          `hovering "${rows[r]}" outlines its ${cols.length} cells`);
    const top = await page.locator("#cols-strip .tok.top").allTextContents();
    check(top.length === 1 && top[0] === cols[best],
          `hovering "${rows[r]}" marks "${cols[best]}" as what it attended to most (page: ${top})`);
    const shaded = await page.locator("#cols-strip .tok.col").evaluateAll(
      (els) => els.filter((e) => e.style.background !== "").length);
    check(shaded === cols.length, "every source word is shaded by its weight");
  }
  // And the other way round: a source word outlines its column.
  await page.hover(`#cols-strip .tok[data-i="0"]`);
  check(await page.locator("#heatmap rect.cell.hl").count() === rows.length,
        `hovering source word "${cols[0]}" outlines its column of ${rows.length} cells`);

  // The head selector: the average, every head, all heads as small multiples.
  const options = await page.locator("#head option").evaluateAll((els) => els.map((e) => e.value));
  const expected = ["avg", ...Array.from({ length: H }, (_, h) => String(h)), "all"];
  check(JSON.stringify(options) === JSON.stringify(expected),
        `head selector offers ${expected.join(", ")} (page: ${options.join(", ")})`);
  await page.selectOption("#head", "1");
  const shown = await page.locator("#heatmap rect.cell").evaluateAll(
    (els) => els.map((e) => Number(e.dataset.w)));
  const want = word(1).weights.flat();
  check(shown.length === want.length && shown.every((w, i) => Math.abs(w - want[i]) < 1e-9),
        "head 1 shows the API's weights of head 1");
  await page.selectOption("#head", "all");
  check(await page.locator("#heatmap .multiples figure").count() === H,
        `"all heads" draws ${H} small maps`);
  await page.selectOption("#head", "avg");

  // Pieces instead of words.
  await page.check("input[name=level][value=piece]");
  const pieces = heads[0].piece;
  check(await page.locator("#heatmap rect.cell").count() ===
          pieces.rows.length * pieces.columns.length,
        `piece level: ${pieces.rows.length} x ${pieces.columns.length} cells`);
  await page.check("input[name=level][value=word]");

  // The decoder's self-attention is causal: nothing above the diagonal.
  await page.selectOption("#kind", "decoder");
  const above = await page.locator("#heatmap rect.cell").evaluateAll((els) =>
    els.filter((e) => Number(e.dataset.c) > Number(e.dataset.r) + 1 && Number(e.dataset.w) > 0)
       .length);
  check(above === 0, "decoder self-attention shows no weight on later words");
  await page.selectOption("#kind", "source");

  // Downloads: the JSON holds the matrix on screen; the SVG is an SVG document.
  const [jsonDownload] = await Promise.all([page.waitForEvent("download"),
                                            page.click("#download-json")]);
  const saved = JSON.parse(fs.readFileSync(await jsonDownload.path(), "utf8"));
  check(JSON.stringify(saved.columns) === JSON.stringify(cols) && saved.weights.length === rows.length,
        `the JSON download is the ${rows.length} x ${cols.length} map on screen`);
  const [svgDownload] = await Promise.all([page.waitForEvent("download"),
                                           page.click("#download-svg")]);
  const svgText = fs.readFileSync(await svgDownload.path(), "utf8");
  check(svgText.startsWith("<svg") && svgText.includes('class="cell"'),
        "the SVG download is the heatmap");

  // A screenshot, and it is not blank: many non-white pixels, some of the heatmap's blue.
  fs.mkdirSync(outDir, { recursive: true });
  const shot = path.join(outDir, "page.png");
  await page.screenshot({ path: shot, fullPage: true });
  const png = decodePng(fs.readFileSync(shot));
  let ink = 0, blue = 0;
  for (let i = 0; i < png.pixels.length; i += png.channels) {
    const [r, g, b] = [png.pixels[i], png.pixels[i + 1], png.pixels[i + 2]];
    if (r + g + b < 720) ink++;
    if (b > r + 60 && b > 90) blue++;
  }
  const total = png.width * png.height;
  check(ink / total > 0.02 && blue > 200,
        `screenshot ${shot}: ${png.width}x${png.height}, ${(100 * ink / total).toFixed(1)}% ` +
        `non-white, ${blue} heatmap-blue pixels`);

  // Phone width: nothing wider than the screen (the map scrolls in its own box).
  await page.setViewportSize({ width: 390, height: 800 });
  const overflow = await page.evaluate(() =>
    document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check(overflow <= 0, `at 390 px wide the page does not scroll sideways (${overflow} px over)`);
  await page.screenshot({ path: path.join(outDir, "page-phone.png"), fullPage: true });
} catch (e) {
  console.log(`FAIL ${e.stack || e}`);
  failures++;
} finally {
  if (browser) await browser.close();
  server.kill("SIGTERM");
}
console.log(failures ? `${failures} check(s) failed` : "all checks passed");
process.exit(failures ? 1 : 0);
