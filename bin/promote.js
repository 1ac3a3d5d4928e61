#!/usr/bin/env node
// `npx promote`: brings the compiled build up to date (scripts/setup.mjs --if-needed: a no-op in about
// 0.1 s when nothing changed), then runs the precompiled CLI in dist/.
"use strict";
const { spawnSync } = require("node:child_process");
const { join } = require("node:path");

const root = join(__dirname, "..");
// `npx promote review prod | head`: a closed pipe ends the output, not the process with a stack trace.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});
const setup = spawnSync(process.execPath, [join(root, "scripts", "setup.mjs"), "--if-needed", "--quiet"], { stdio: "inherit" });
if (setup.status !== 0) {
  process.stderr.write("promote: setup failed (see above); nothing was changed\n");
  process.exit(2);
}
const { main, installInterruptHandler } = require(join(root, "dist", "scripts", "promote.js"));
installInterruptHandler();
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
