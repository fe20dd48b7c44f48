"""The kaleido kernel under the Jupyter project's own kernel test suite (jupyter_kernel_test).

Run by scripts/jupyter-tests.sh, which installs the kernelspec of the binary under test into a
temporary JUPYTER_PATH first.
"""

import unittest

import jupyter_kernel_test


def putchards(text):
    """A kaleido expression printing `text` with putchard, silenced with a trailing `;`."""
    return " : ".join(f"putchard({ord(c)})" for c in text) + ";"


class KaleidoKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "kaleido"
    language_name = "kaleido"
    file_extension = ".kal"

    code_hello_world = putchards("hello, world")
    # A forward reference is a warning, and warnings go to stderr.
    code_stderr = "def warns(x) not_defined_yet(x)"
    completion_samples = [
        {"text": "de", "matches": {"def"}},
        {"text": "sq", "matches": {"sqrt"}},
        {"text": ":sh", "matches": {":show"}},
    ]
    complete_code_samples = ["1 + 2", "def f(x) x * 2", ":list", "def g(x)\n  x + 1"]
    incomplete_code_samples = ["def f(x)", "(1 + 2", "if 1 then"]
    invalid_code_samples = ["1 + )", "def (x) x"]
    code_execute_result = [{"code": "6 * 7", "result": "42"}, {"code": "def sq(x) x * x\nsq(12)", "result": "144"}]
    code_inspect_sample = "sin"
    # `search` is tested in test_protocol.py: jupyter-protocol 2.0.3 requires `unique` and `n` in a
    # search request, which this suite leaves out, so the kernel never sees its searches.
    supported_history_operations = ("tail", "range")
    code_generate_error = "not_defined_at_all(1)"


if __name__ == "__main__":
    unittest.main()
