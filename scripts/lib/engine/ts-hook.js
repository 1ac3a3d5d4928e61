/**
 * A require hook that runs the project's TypeScript sources without a build step (transpile only, no
 * type check: `npm run typecheck` and the tests do that). Used by bin/promote.js and by the default
 * synth (`node -r scripts/lib/engine/ts-hook.js main.ts`). Files under node_modules are never touched.
 */
"use strict";
const fs = require("node:fs");
const ts = require("typescript");

if (!require.extensions[".ts"]) {
  require.extensions[".ts"] = function compileTs(module, filename) {
    if (filename.includes(`${require("node:path").sep}node_modules${require("node:path").sep}`)) {
      throw new Error(`refusing to transpile ${filename}`);
    }
    const source = fs.readFileSync(filename, "utf8");
    const { outputText } = ts.transpileModule(source, {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        resolveJsonModule: true,
        inlineSourceMap: true,
        inlineSources: false,
      },
    });
    module._compile(outputText, filename);
  };
}
