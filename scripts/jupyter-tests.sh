#!/usr/bin/env bash
# The notebook tests with the Jupyter project's own tools: jupyter_kernel_test's suite against the kernel,
# and nbclient executing every notebook in examples/notebooks/ against its stored outputs. The kernelspec
# of the binary under test (target/debug/kaleido, built by `cargo test`) goes into a temporary
# JUPYTER_PATH, so nothing is installed for the user. Fails loudly when Python is missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$("$root/scripts/python-env.sh")"
# The browser test drives Debian's Chromium (installed here when missing).
export KALEIDO_CHROMIUM="$("$root/scripts/browser-env.sh")"
export KALEIDO_SCREENSHOTS="${KALEIDO_SCREENSHOTS:-${CARGO_TARGET_DIR:-$root/target}/browser-screenshots}"
kaleido="${KALEIDO_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/kaleido}"
if [ ! -x "$kaleido" ]; then
    echo "jupyter-tests: $kaleido is missing; run cargo test (or cargo build) first" >&2
    exit 1
fi
jupyter_dir="$(mktemp -d)"
trap 'rm -rf "$jupyter_dir"' EXIT
# Also installs the binary's Pygments lexer into the environment (tests/jupyter/test_highlighting.py uses it).
"$kaleido" kernel install --prefix "$jupyter_dir" --python "$venv/bin/python" > /dev/null
export JUPYTER_PATH="$jupyter_dir/share/jupyter"
export JUPYTER_DATA_DIR="$jupyter_dir/data"
export JUPYTER_RUNTIME_DIR="$jupyter_dir/runtime"
# The kernels keep their history here, not in the user's own file.
export KALEIDO_NOTEBOOK_HISTORY="$jupyter_dir/notebook-history.jsonl"
"$venv/bin/jupyter" kernelspec list | grep -q "kaleido" || { echo "jupyter-tests: kernelspec not found" >&2; exit 1; }
# `install --user` goes where Jupyter looks for the user's kernels, and `uninstall` takes it away again.
JUPYTER_PATH="" "$kaleido" kernel install --user --no-lexer > /dev/null
JUPYTER_PATH="" "$venv/bin/jupyter" kernelspec list | grep -q "$JUPYTER_DATA_DIR/kernels/kaleido" \
    || { echo "jupyter-tests: --user kernelspec not listed" >&2; exit 1; }
"$kaleido" kernel uninstall --user > /dev/null
if JUPYTER_PATH="" "$venv/bin/jupyter" kernelspec list | grep -q "$JUPYTER_DATA_DIR/kernels/kaleido"; then
    echo "jupyter-tests: uninstall left the kernelspec" >&2
    exit 1
fi
cd "$root"
"$venv/bin/python" -m unittest -v tests/jupyter/test_kernel.py tests/jupyter/test_protocol.py \
    tests/jupyter/test_pictures.py tests/jupyter/test_highlighting.py tests/jupyter/test_notebooks.py \
    tests/jupyter/test_executor.py tests/jupyter/test_browser.py
