#!/usr/bin/env bash
# Makes the virtual environment the notebook tests use (.venv-jupyter at the repository root) and
# installs the Jupyter reference tools into it from PyPI: the kernel and notebook clients, JupyterLab and
# Playwright (which drives Debian's Chromium for the browser test; it downloads no browser). kaleido's own
# Pygments lexer comes from `kaleido kernel install --python` (scripts/jupyter-tests.sh), which the
# highlighting test thereby checks. Idempotent: a second run only checks.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv-jupyter"
packages=(jupyter_client==8.6.3 jupyter_core==5.7.2 jupyter_kernel_test==0.7.0 nbclient==0.10.2 nbformat==5.10.4
    jupyterlab==4.6.6 playwright==1.65.2 nbconvert==7.16.6 pygments==2.20.0)
if ! command -v python3 >/dev/null; then
    echo "python-env: python3 is missing; the notebook tests need Python 3.9 or later" >&2
    exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import jupyter_client, jupyter_kernel_test, nbclient, nbformat, jupyterlab, playwright, nbconvert" 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${packages[@]}"
fi
echo "$venv"
