/**
 * Opens the HTML report of a tiny synthetic run in headless Chromium: it must render with no
 * console errors, request nothing but the file itself and inline data, decode every embedded
 * PNG and draw every SVG plot; a screenshot is saved and checked to be a non-blank PNG.
 * Needs Debian's `chromium` (CI's .ci/run installs it); GENSEMBLE_SKIP_BROWSER=1 skips it.
 */
import assert from "node:assert/strict";
import { initBackend } from "../core/backend.ts";
import { decodePng } from "../report/png.ts";
import { writeReport } from "../tasks/report.ts";
import { HeadlessChromium, processesUsing } from "../report/headless_chromium.ts";
import { makeSyntheticRun, SYNTHETIC_SETS } from "./report_fixture.ts";

const skip = Deno.env.get("GENSEMBLE_SKIP_BROWSER") === "1";

interface PageFacts {
  title: string;
  sections: string[];
  svgs: number;
  svgsDrawn: number;
  polylines: number;
  images: number;
  imagesDecoded: number;
  minNaturalWidth: number;
  scripts: number;
  height: number;
}

const FACTS = `(() => {
  const imgs = [...document.images];
  const svgs = [...document.querySelectorAll("svg")];
  return {
    title: document.title,
    sections: [...document.querySelectorAll("section")].map((s) => s.id),
    svgs: svgs.length,
    svgsDrawn: svgs.filter((s) => s.checkVisibility() && s.getBoundingClientRect().width > 100)
      .length,
    polylines: document.querySelectorAll("svg polyline").length,
    images: imgs.length,
    imagesDecoded: imgs.filter((i) => i.complete && i.naturalWidth > 0).length,
    minNaturalWidth: Math.min(...imgs.map((i) => i.naturalWidth)),
    scripts: document.scripts.length,
    height: document.documentElement.scrollHeight,
  };
})()`;

Deno.test({
  name: "report renders in headless Chromium: no errors, images decoded, SVGs drawn, offline",
  ignore: skip,
  sanitizeResources: true,
  sanitizeOps: true,
  async fn() {
    await initBackend("cpu", { quiet: true });
    const dir = await Deno.makeTempDir({ prefix: "gensemble_report_browser_" });
    let browser: HeadlessChromium | undefined;
    try {
      const { scoreNames } = await makeSyntheticRun(dir);
      const page = await writeReport(dir, { generatedAt: "2025-01-02T00:00:00Z" });
      browser = await HeadlessChromium.launch({ width: 1280, height: 900 });
      const url = new URL(`file://${await Deno.realPath(page)}`).href;
      await browser.open(url);
      // Give late decode errors or console messages a moment to arrive.
      await new Promise((r) => setTimeout(r, 200));
      const facts = await browser.evaluate<PageFacts>(FACTS);

      assert.deepEqual(browser.problems, [], "the page logged errors");
      assert.equal(facts.title, "gensemble report: blobs vae");
      assert.deepEqual(facts.sections, [
        "results",
        "roc",
        "histograms",
        "images",
        "reconstructions",
        "latent",
        "training",
        "config",
      ]);
      const ood = SYNTHETIC_SETS.length - 1;
      assert.equal(facts.svgs, ood + ood * scoreNames.length + 1 + 3);
      // Histograms of the closed <details> take no space; the open ones and the rest are drawn.
      assert.equal(facts.svgsDrawn, ood + ood + 1 + 3);
      assert.equal(facts.polylines, ood * scoreNames.length + 3 * 3); // ROC curves + 3 members × 3
      assert.equal(facts.images, 3 * SYNTHETIC_SETS.length);
      assert.equal(facts.imagesDecoded, facts.images, "some embedded PNGs did not decode");
      assert.ok(facts.minNaturalWidth > 0);
      assert.equal(facts.scripts, 0);
      // Offline: only the page itself and inline data were requested.
      const external = browser.requests.filter((u) => !u.startsWith("data:") && u !== url);
      assert.deepEqual(external, [], "the page requested something outside itself");

      const shot = await browser.screenshot({ x: 0, y: 0, width: 1280, height: 1400 });
      const shotPath = `${dir}/report_screenshot.png`;
      await Deno.writeFile(shotPath, shot);
      const png = decodePng(await Deno.readFile(shotPath));
      assert.deepEqual([png.width, png.height], [1280, 1400]);
      const distinct = new Set<number>();
      for (let p = 0; p < png.pixels.length; p += 4 * 97) distinct.add(png.pixels[p]);
      assert.ok(distinct.size > 20, `screenshot looks blank (${distinct.size} gray levels)`);

      const profile = browser.profile;
      const killed = await browser.close();
      browser = undefined;
      assert.equal(killed, 0, "Chromium left helper processes behind");
      assert.deepEqual(await processesUsing(profile), []);
    } finally {
      await browser?.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
