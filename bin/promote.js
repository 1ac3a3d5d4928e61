#!/usr/bin/env node
// `npx promote`: runs scripts/promote.ts from source (transpile only; `npm run typecheck` checks types).
"use strict";
const { join } = require("node:path");
require(join(__dirname, "..", "scripts", "lib", "engine", "ts-hook.js"));
const { main } = require(join(__dirname, "..", "scripts", "promote.ts"));
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
