// A tool, not a test: photographs Prometheus' own graph page for the Grafana dashboard's
// queries (docs/grafana/tillval-dashboard.json), while a soak load runs. Grafana itself cannot
// be installed here (it is in none of the registries this machine reaches); Prometheus is
// Debian's. Usage (docs/operations.md): PROMETHEUS=http://127.0.0.1:9090 OUT=docs/screenshots/metrics-prometheus.png node prometheus_snapshot.mjs
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const prometheus = process.env.PROMETHEUS;
const out = process.env.OUT;
const dashboard = JSON.parse(readFileSync(new URL("../../../docs/grafana/tillval-dashboard.json", import.meta.url)));
const wanted = [
  "Requests per second, by operation",
  "p99 latency, by operation",
  "Rule time per call, by function",
  "Catalogue cache hit ratio",
];
const params = new URLSearchParams();
wanted.forEach((title, i) => {
  const panel = dashboard.panels.find((p) => p.title === title);
  params.set(`g${i}.expr`, panel.targets[0].expr);
  params.set(`g${i}.tab`, "0");
  params.set(`g${i}.range_input`, "5m");
});
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${prometheus}/graph?${params}`);
  await page.waitForTimeout(4000);
  // The fixed navigation bar would be painted over the page midway in a full-page picture.
  await page.addStyleTag({ content: "nav.navbar { display: none !important; }" });
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
}
