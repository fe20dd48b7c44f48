"""The kernel runs its code in an executor process (issue 26, items 4-6), seen by a real Jupyter client.

A cell that aborts, exits or is killed gets an error reply naming what happened; the kernel is still the
same process, and the next cell finds every definition and every global as after the last completed cell.
An interrupt stops a loop in the executor, and ends code stuck in C after the grace period.
`kernel_info` and `:stats` say where code runs. Run by scripts/jupyter-tests.sh.
"""

import os
import signal
import subprocess
import tempfile
import time
import unittest

from jupyter_client import KernelManager


def start():
    manager = KernelManager(kernel_name="kaleido")
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    return manager, client


def run(client, code, timeout=30):
    """The reply to `code`, and the text of its stream and result messages."""
    msg_id = client.execute(code)
    reply = client.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = client.get_shell_msg(timeout=timeout)
    texts = []
    while True:
        message = client.get_iopub_msg(timeout=timeout)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            texts.append(content["text"])
        elif kind == "execute_result":
            texts.append(content["data"]["text/plain"])
        elif kind == "status" and content["execution_state"] == "idle":
            break
    return reply["content"], "".join(texts)


class ExecutorTests(unittest.TestCase):
    def setUp(self):
        self.manager, self.client = start()

    def tearDown(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)

    def test_a_crash_loses_no_definition_or_global(self):
        kernel_pid = self.manager.provisioner.process.pid
        run(self.client, "def keep(x) x * 2\nvar g = 21\nextern abort()\nextern exit(x)")
        reply, text = run(self.client, "printd(1) : g = 0 : abort()")
        self.assertEqual(reply["status"], "error")
        self.assertIn("the code ended the executor: SIGABRT (abort)", reply["evalue"])
        self.assertIn("1", text, "output written before the crash reaches the notebook")
        reply, text = run(self.client, "keep(g)")
        self.assertEqual((reply["status"], text), ("ok", "42"))
        reply, _ = run(self.client, "exit(3)")
        self.assertIn("the code ended the executor: exit with status", reply["evalue"])
        reply, text = run(self.client, ":executor")
        pid = int(text.split("in executor process ")[1].split(";")[0])
        self.assertNotEqual(pid, kernel_pid)
        os.kill(pid, signal.SIGKILL)
        reply, _ = run(self.client, "keep(1)")
        self.assertIn("SIGKILL (killed)", reply["evalue"])
        reply, text = run(self.client, "keep(g) + 1")
        self.assertEqual((reply["status"], text), ("ok", "43"))
        self.assertTrue(self.manager.is_alive())
        self.assertEqual(self.manager.provisioner.process.pid, kernel_pid, "the kernel itself never restarted")
        _, text = run(self.client, ":stats")
        self.assertIn("executors started: 4, ended by the code: 3", text)

    def test_kernel_info_says_where_code_runs(self):
        self.client.kernel_info()
        reply = self.client.get_shell_msg(timeout=30)
        self.assertIn("Code runs in an executor process", reply["content"]["banner"])

    def test_an_interrupt_stops_a_loop_and_ends_code_stuck_in_c(self):
        run(self.client, "def keep(x) x * 2\nextern pause()")
        for code, expected in [("for i = 0, 1 in 0", "interrupted"),
                               ("pause()", "still running 500 ms after the interrupt")]:
            msg_id = self.client.execute(code)
            time.sleep(0.5)
            started = time.monotonic()
            self.manager.interrupt_kernel()
            reply = self.client.get_shell_msg(timeout=30)
            while reply["parent_header"].get("msg_id") != msg_id:
                reply = self.client.get_shell_msg(timeout=30)
            self.assertIn(expected, reply["content"]["evalue"])
            self.assertLess(time.monotonic() - started, 5)
        reply, text = run(self.client, "keep(21)")
        self.assertEqual((reply["status"], text), ("ok", "42"))

    def test_a_segfault_in_a_c_library_loses_nothing(self):
        with tempfile.TemporaryDirectory() as directory:
            source = os.path.join(directory, "crash.c")
            library = os.path.join(directory, "libcrash.so")
            with open(source, "w") as file:
                file.write("double crash(double x) { *(volatile double *)0 = x; return x; }\n"
                           "double twice(double x) { return 2 * x; }\n")
            subprocess.run(["cc", "-shared", "-fPIC", "-o", library, source], check=True)
            run(self.client, f"def keep(x) x + 1\nvar g = 41\n:lib {library}\nextern crash(x)\nextern twice(x)")
            reply, _ = run(self.client, "g = 0 : crash(1)")
            self.assertEqual(reply["status"], "error")
            self.assertIn("the code ended the executor: SIGSEGV (segmentation fault)", reply["evalue"])
            reply, text = run(self.client, "keep(g) + twice(1)")
            self.assertEqual((reply["status"], text), ("ok", "44"))


if __name__ == "__main__":
    unittest.main()
