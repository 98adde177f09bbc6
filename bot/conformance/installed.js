// Exits 0 when node_modules holds exactly the versions package-lock.json
// pins (so `make conformance` can skip `npm ci`), 1 otherwise.
"use strict";
const fs = require("fs");
const path = require("path");

const dir = __dirname;
const read = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
try {
  const lock = read("package-lock.json").packages;
  const hidden = read("node_modules/.package-lock.json").packages;
  for (const [p, want] of Object.entries(lock)) {
    if (p === "") continue;
    const got = read(path.join(p, "package.json")).version;
    const have = hidden[p] || {};
    if (got !== want.version || have.integrity !== want.integrity) {
      console.log(`${p}: installed ${got}, locked ${want.version}`);
      process.exit(1);
    }
  }
} catch (e) {
  console.log(`node_modules is not installed from the lock: ${e.message}`);
  process.exit(1);
}
