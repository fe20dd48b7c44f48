"""Makes a notebook of a .kal tutorial: each run of `#` comment lines becomes a Markdown cell, each run of
code (and command) lines a code cell. Usage: python scripts/notebooks-from-kal.py examples/02-redefinition.kal
examples/notebooks/02-redefinition.ipynb. Outputs are filled in by running the notebook tests with
KALEIDO_BLESS=1 (scripts/jupyter-tests.sh).
"""

import re
import sys

import nbformat

# A tutorial's "Run it with: cargo run ... FILE" line, which a notebook says its own way.
RUN_IT = re.compile(r"^Run it with:\s*(.*)$", re.MULTILINE)


def cells_of(text):
    cells, kind, lines = [], None, []

    def close():
        if lines:
            body = "\n".join(lines).strip("\n")
            cells.append(nbformat.v4.new_markdown_cell(body) if kind == "markdown" else nbformat.v4.new_code_cell(body))
        lines.clear()

    for line in text.splitlines():
        if not line.strip():
            close()
            kind = None
            continue
        this = "markdown" if line.startswith("#") else "code"
        if this != kind:
            close()
            kind = this
        lines.append(line[1:].strip() if this == "markdown" and line.startswith("# ") is False else (line[2:] if this == "markdown" else line))
    close()
    return cells


def main(source, target):
    with open(source, encoding="utf-8") as f:
        cells = cells_of(f.read())
    for cell in cells:
        if cell.cell_type == "markdown":
            cell.source = RUN_IT.sub(
                lambda m: "Run the cells in order (Shift-Enter), or all of them with Run → Run All Cells. "
                f"The same tutorial runs as a script: `{m.group(1).strip()}`.",
                cell.source,
            )
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "kaleido", "display_name": "kaleido", "language": "kaleido"}
    notebook.metadata["language_info"] = {"name": "kaleido", "file_extension": ".kal"}
    nbformat.write(notebook, target)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
