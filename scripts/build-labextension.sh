#!/usr/bin/env bash
# Rebuilds kaleido's JupyterLab extension (editors/jupyterlab: the CodeMirror language for kaleido cells)
# into editors/jupyterlab/labextension, which is committed and embedded in the binary (repl/build.rs),
# so neither users nor CI need Node.js. Run it after changing editors/jupyterlab/lib/index.js, then
# commit the new build (its file names carry content hashes; the bundler's module ids depend on the
# directory it runs in, so builds elsewhere differ byte for byte). The browser test checks the result.
# Needs Node.js and npm (the npm registry) and the notebook tests' environment (scripts/python-env.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$("$root/scripts/python-env.sh")"
cd "$root/editors/jupyterlab"
npm ci --no-audit --no-fund --loglevel=error
rm -rf labextension
PATH="$venv/bin:$PATH" jupyter labextension build .
