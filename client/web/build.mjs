// Builds the app into dist/ (committed; `concord web` embeds it): one minified ES module,
// deterministic for a given lockfile. `node build.mjs --out DIR` builds elsewhere (the test
// script compares a fresh build with dist/ to catch a stale bundle).
import { build } from "esbuild";
import fs from "node:fs";
import path from "node:path";

const root = import.meta.dirname;
const at = process.argv.indexOf("--out");
const out = at > 0 ? path.resolve(process.argv[at + 1]) : path.join(root, "dist");
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
await build({
  entryPoints: [path.join(root, "src/main.ts")],
  outfile: path.join(out, "app.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022", "chrome109", "firefox115", "safari16"],
  minify: true,
  legalComments: "none",
  charset: "utf8",
  define: { global: "globalThis", "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});
for (const f of ["index.html", "app.css", "favicon.svg"]) fs.copyFileSync(path.join(root, "static", f), path.join(out, f));
const size = fs.statSync(path.join(out, "app.js")).size;
console.log(`built ${path.relative(process.cwd(), out) || "."}: app.js ${(size / 1024).toFixed(0)} KiB`);
