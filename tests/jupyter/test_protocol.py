"""The kaleido kernel against the messaging protocol, with jupyter_client (issue 25, item 1).

A failed cell with `stop_on_error` aborts the requests queued behind it, as ipykernel does; the kernel
exits when the process that started it dies; `history_request` answers what ran, across sessions; the
stdin port is bound; a comm the kernel cannot open is closed. Run by scripts/jupyter-tests.sh, which
installs the kernelspec of the binary under test into a temporary JUPYTER_PATH first.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from jupyter_client import KernelManager


def start(env=None):
    manager = KernelManager(kernel_name="kaleido")
    manager.start_kernel(env={**os.environ, **(env or {})})
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    return manager, client


def replies(client, ids, timeout=30):
    """The shell replies to the requests `ids`, in that order."""
    found = {}
    deadline = time.monotonic() + timeout
    while len(found) < len(ids) and time.monotonic() < deadline:
        reply = client.get_shell_msg(timeout=timeout)
        found[reply["parent_header"].get("msg_id")] = reply
    return [found[i] for i in ids]


def gone(pid):
    """Whether process `pid` has ended (a zombie nobody reaped counts as ended)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return any(line.startswith("State:") and "Z" in line for line in status)
    except FileNotFoundError:
        return True


class ProtocolTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.history = os.path.join(self.dir.name, "notebook-history.jsonl")
        self.manager, self.client = start({"KALEIDO_NOTEBOOK_HISTORY": self.history})

    def tearDown(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
        self.dir.cleanup()

    def test_an_error_aborts_the_requests_queued_behind_it(self):
        # The failing cell runs a moment first, as in Run All the later cells are queued while an earlier
        # one runs: requests the kernel received before the failure are the ones aborted.
        failing = "for i = 0, i < 30000000 in 0;\nnosuch(1)"
        ids = [self.client.execute(code) for code in [failing, "printd(2)", "printd(2)"]]
        statuses = [r["content"]["status"] for r in replies(self.client, ids)]
        self.assertEqual(statuses, ["error", "aborted", "aborted"])
        # A request sent once the error was seen runs, at once; without stop_on_error nothing is aborted.
        ids = [self.client.execute("nosuch(1)", stop_on_error=False), self.client.execute("printd(2)")]
        statuses = [r["content"]["status"] for r in replies(self.client, ids)]
        self.assertEqual(statuses, ["error", "ok"])
        # Requests made before an error but arriving just after it (as JupyterLab's Run All sends them,
        # through its server) are queued behind it: aborted, with no execution count.
        failing = self.client.session.msg("execute_request", {"code": "nosuch(3)", "silent": False,
                                          "store_history": True, "stop_on_error": True, "user_expressions": {},
                                          "allow_stdin": False})
        late = self.client.session.msg("execute_request", {"code": "printd(4)", "silent": False,
                                       "store_history": True, "stop_on_error": True, "user_expressions": {},
                                       "allow_stdin": False})
        self.client.shell_channel.send(failing)
        time.sleep(0.03)
        self.client.shell_channel.send(late)
        failed, aborted = replies(self.client, [failing["header"]["msg_id"], late["header"]["msg_id"]])
        self.assertEqual(failed["content"]["status"], "error")
        self.assertEqual(aborted["content"], {"status": "aborted"})
        # One sent after the error reply arrived runs.
        ran = replies(self.client, [self.client.execute("printd(5)")])[0]
        self.assertEqual(ran["content"]["status"], "ok")

    def test_history_answers_what_ran_across_sessions(self):
        for code in ["def h(x) x + 1", "h(2)"]:
            replies(self.client, [self.client.execute(code)])
        msg_id = self.client.history(hist_access_type="tail", n=2)
        reply = replies(self.client, [msg_id])[0]["content"]
        self.assertEqual([entry[1:] for entry in reply["history"]], [[1, "def h(x) x + 1"], [2, "h(2)"]])
        first_session = reply["history"][0][0]
        # A second kernel is a new session that finds the first one's inputs.
        manager, client = start({"KALEIDO_NOTEBOOK_HISTORY": self.history})
        try:
            msg_id = client.history(hist_access_type="range", session=-1, start=1, stop=0)
            earlier = replies(client, [msg_id])[0]["content"]["history"]
            self.assertEqual(earlier, [[first_session, 1, "def h(x) x + 1"], [first_session, 2, "h(2)"]])
            msg_id = client.history(hist_access_type="search", pattern="h(*", unique=True, n=10)
            found = replies(client, [msg_id])[0]["content"]["history"]
            self.assertEqual([entry[2] for entry in found], ["h(2)"])
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)

    def test_the_stdin_port_is_bound(self):
        port = self.manager.get_connection_info()["stdin_port"]
        with socket.socket() as probe:
            with self.assertRaises(OSError):
                probe.bind(("127.0.0.1", port))

    def test_a_comm_nobody_can_open_is_closed(self):
        message = self.client.session.msg("comm_open", {"comm_id": "c1", "target_name": "nothing", "data": {}})
        self.client.shell_channel.send(message)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            iopub = self.client.get_iopub_msg(timeout=20)
            if iopub["msg_type"] == "comm_close":
                self.assertEqual(iopub["content"]["comm_id"], "c1")
                return
        self.fail("no comm_close")


class IntrospectionTests(unittest.TestCase):
    """Shift-Tab and Tab as IPython answers them (issue 25, item 2)."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        env = {"KALEIDO_NOTEBOOK_HISTORY": os.path.join(self.dir.name, "h.jsonl")}
        self.manager, self.client = start(env)
        code = "def g(x) x * 2\ndef binary^ 60 (a b) pow(a, b)\nvar total = 3"
        replies(self.client, [self.client.execute(code)])

    def tearDown(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
        self.dir.cleanup()

    def inspect(self, code, cursor, level=0):
        return replies(self.client, [self.client.inspect(code, cursor, detail_level=level)])[0]["content"]

    def complete(self, code, cursor=None):
        cursor = len(code) if cursor is None else cursor
        return replies(self.client, [self.client.complete(code, cursor)])[0]["content"]

    def test_inspection_inside_a_call_on_operators_globals_and_builtins(self):
        inside = self.inspect("g(1, ", 5)
        self.assertTrue(inside["found"])
        self.assertTrue(inside["data"]["text/plain"].startswith("g(x)"), inside)
        for code, cursor in [("2 ^ 3", 2), ("binary^", 3), ("total + 1", 2), ("sin(1)", 1)]:
            self.assertTrue(self.inspect(code, cursor)["found"], code)
        brief, full = self.inspect("g", 1, 0), self.inspect("g", 1, 1)
        self.assertNotIn("def g(x) x * 2", brief["data"]["text/plain"])
        self.assertIn("def g(x) x * 2", full["data"]["text/plain"])

    def test_completion_of_parameters_locals_names_and_command_arguments(self):
        self.assertEqual(self.complete("def foo(alpha) al")["matches"], ["alpha"])
        self.assertIn("width", self.complete("var width = 2 in wi")["matches"])
        after_paren = self.complete("g(")["matches"]
        self.assertIn("total", after_paren)
        self.assertIn("g", after_paren)
        partial = self.complete("1 + tot")
        self.assertEqual((partial["matches"], partial["cursor_start"], partial["cursor_end"]), (["total"], 4, 7))
        self.assertEqual(self.complete(":show g")["matches"], ["g"])
        files = self.complete(":load exam")
        self.assertEqual(files["matches"], ["examples/"])
        self.assertEqual(files["cursor_start"], len(":load "))


class ParentTests(unittest.TestCase):
    def test_the_kernel_exits_when_the_process_that_started_it_dies(self):
        starter = (
            "import sys, time\n"
            "from jupyter_client import KernelManager\n"
            "manager = KernelManager(kernel_name='kaleido')\n"
            "manager.start_kernel()\n"
            "print(manager.provisioner.process.pid, flush=True)\n"
            "time.sleep(600)\n"
        )
        env = {**os.environ, "KALEIDO_NOTEBOOK_HISTORY": os.devnull}
        parent = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True, env=env)
        kernel = int(parent.stdout.readline())
        parent.stdout.close()
        self.assertFalse(gone(kernel))
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while not gone(kernel) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertTrue(gone(kernel), "the kernel outlived the process that started it")


if __name__ == "__main__":
    unittest.main()
