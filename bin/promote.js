#!/usr/bin/env node
// `npx promote`: brings the compiled build up to date (scripts/setup.mjs's check: a no-op in about
// 0.06 s when nothing changed), then runs the precompiled CLI in dist/.
"use strict";
const { join } = require("node:path");
const { pathToFileURL } = require("node:url");

const root = join(__dirname, "..");
// `npx promote review prod | head`: a closed pipe ends the output, not the process with a stack trace.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});
// The setup check runs in this process (scripts/setup.mjs's runSetup: the same steps as
// `node scripts/setup.mjs --if-needed --quiet`, one node start fewer), then the CLI is loaded.
import(pathToFileURL(join(root, "scripts", "setup.mjs")).href)
  .catch((e) => {
    process.stderr.write(`promote: could not load scripts/setup.mjs: ${e && e.message}\npromote: setup failed (see above); nothing was changed\n`);
    process.exit(2);
  })
  .then((setup) => {
    try {
      setup.runSetup({ ifNeeded: true, quiet: true });
    } catch (e) {
      if (!(e instanceof setup.SetupError)) throw e;
      process.stderr.write(`setup failed: ${e.message}\npromote: setup failed (see above); nothing was changed\n`);
      process.exit(2);
    }
    const { main, installInterruptHandler } = require(join(root, "dist", "scripts", "promote.js"));
    installInterruptHandler();
    return main(process.argv.slice(2)).then((code) => {
      process.exitCode = code;
    });
  });
