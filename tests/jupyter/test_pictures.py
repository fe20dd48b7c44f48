"""Pictures in the notebook (issue 25, item 3): what a cell draws arrives as `display_data` with PNG, SVG
and text, after the cell's printed output and before its error; a silent request shows none. Run by
scripts/jupyter-tests.sh against the kernelspec of the binary under test.
"""

import base64
import os
import struct
import unittest

from jupyter_client import KernelManager


def png_size(data):
    """The width and height in a PNG's header (it must be one)."""
    raw = base64.b64decode(data)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n", raw[:8]
    return struct.unpack(">II", raw[16:24])


class PictureTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.manager = KernelManager(kernel_name="kaleido")
        cls.manager.start_kernel(env=dict(os.environ))
        cls.client = cls.manager.client()
        cls.client.start_channels()
        cls.client.wait_for_ready(timeout=60)

    @classmethod
    def tearDownClass(cls):
        cls.client.stop_channels()
        cls.manager.shutdown_kernel(now=True)

    def run_cell(self, code, **options):
        """The iopub messages of one execute request (status and input left out), and its reply."""
        msg_id = self.client.execute(code, **options)
        reply = self.client.get_shell_msg(timeout=60)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        messages = []
        while True:
            message = self.client.get_iopub_msg(timeout=60)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            kind = message["msg_type"]
            if kind == "status" and message["content"]["execution_state"] == "idle":
                return messages, reply["content"]
            if kind not in ("status", "execute_input"):
                messages.append(message)

    def test_a_plot_is_display_data_in_png_svg_and_text(self):
        messages, reply = self.run_cell("def f(x) x * x\n:plot f(x), 1 - f(x) for x in -1..1")
        self.assertEqual(reply["status"], "ok")
        [display] = [m for m in messages if m["msg_type"] == "display_data"]
        data = display["content"]["data"]
        self.assertEqual(png_size(data["image/png"]), (640, 400))
        self.assertTrue(data["image/svg+xml"].startswith("<svg"), data["image/svg+xml"][:80])
        self.assertIn("f(x)", data["image/svg+xml"])
        self.assertIn("lines: f(x), 1 - f(x)", data["text/plain"])

    def test_a_programs_pixels_are_shown_after_its_output_and_before_its_error(self):
        code = "printd(1);\nfor x = 0, x < 3 in pixel(x, 0, x);\nnosuch(1)"
        # Without stop_on_error, so the next test's request (sent at once) is not aborted.
        messages, reply = self.run_cell(code, stop_on_error=False)
        self.assertEqual(reply["status"], "error")
        kinds = [m["msg_type"] for m in messages]
        self.assertEqual(kinds, ["stream", "display_data", "error"], kinds)
        self.assertIn("4 × 1 pixels", messages[1]["content"]["data"]["text/plain"])

    def test_a_silent_request_shows_no_picture(self):
        messages, reply = self.run_cell("pixel(0, 0, 1);", silent=True)
        self.assertEqual(reply["status"], "ok")
        self.assertEqual([m for m in messages if m["msg_type"] == "display_data"], [])


if __name__ == "__main__":
    unittest.main()
