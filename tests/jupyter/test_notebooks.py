"""Every notebook in examples/notebooks/ executed by nbclient with the kaleido kernel; its outputs must be
the stored ones (addresses aside). `KALEIDO_BLESS=1` stores the new outputs instead.
"""

import base64
import os
import pathlib
import re
import struct
import unittest

import nbclient
import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "examples" / "notebooks").glob("*.ipynb"))


def comparable(notebook):
    """The outputs of every code cell, without what changes from run to run (addresses)."""
    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            kept = {key: output[key] for key in ("output_type", "name", "text", "ename", "evalue") if key in output}
            if "data" in output:
                kept["data"] = dict(sorted(output["data"].items()))
                # A PNG is compared by its size: its bytes depend on the rasteriser's floating point.
                if "image/png" in kept["data"]:
                    raw = base64.b64decode(kept["data"]["image/png"])
                    kept["data"]["image/png"] = "PNG %dx%d" % struct.unpack(">II", raw[16:24])
            if "traceback" in output:
                kept["traceback"] = list(output["traceback"])
            outputs.append(kept)
        cells.append(re.sub(r"0x[0-9a-f]{8,}", "0x…", repr(outputs)))
    return cells


class NotebookTests(unittest.TestCase):
    def test_there_are_notebooks(self):
        self.assertGreaterEqual(len(NOTEBOOKS), 2, NOTEBOOKS)

    def test_every_notebook_executes_with_its_stored_outputs(self):
        for path in NOTEBOOKS:
            with self.subTest(notebook=path.name):
                stored = nbformat.read(path, as_version=4)
                executed = nbformat.read(path, as_version=4)
                client = nbclient.NotebookClient(executed, kernel_name="kaleido", timeout=60, allow_errors=True)
                client.execute()
                if os.environ.get("KALEIDO_BLESS"):
                    nbformat.write(executed, path)
                    continue
                self.assertEqual(comparable(executed), comparable(stored))


if __name__ == "__main__":
    unittest.main()
