"""kaleido's Pygments lexer (editors/pygments, issue 25 item 4) on every example: no Error token anywhere,
every keyword a Keyword, builtins and operators told apart; and nbconvert's HTML export of a notebook
uses it (the kernel's language_info names it).
"""

import pathlib
import unittest

import nbconvert
import nbformat
from jupyter_client import KernelManager
from pygments.lexers import get_lexer_by_name
from pygments.token import Error, Keyword, Name, Number, Operator

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.kal")) + sorted((ROOT / "tests" / "programs").rglob("*.kal"))


class HighlightingTests(unittest.TestCase):
    def setUp(self):
        self.lexer = get_lexer_by_name("kaleido")

    def test_no_example_has_an_error_token(self):
        self.assertGreater(len(EXAMPLES), 20)
        for path in EXAMPLES:
            with self.subTest(example=path.name):
                text = path.read_text(encoding="utf-8", errors="replace")
                errors = [value for token, value in self.lexer.get_tokens(text) if token in Error]
                self.assertEqual(errors, [])

    def test_every_keyword_and_operator_is_coloured(self):
        code = "extern sin(x)\ndef binary% 50 (a b) fmod(a, b)\ndef unary~(v) 0 - v\n" \
               "var g = 1\ndef f(x) if x < 1 then 2 else for i = 0, i < x in var y = i in y % 2\n:show f\n"
        tokens = [(token, value) for token, value in self.lexer.get_tokens(code) if value.strip()]
        keywords = {value for token, value in tokens if token in Keyword}
        self.assertEqual(keywords, {"extern", "def", "binary", "unary", "var", "if", "then", "else", "for", "in", ":show"})
        self.assertIn((Name.Builtin, "fmod"), tokens)
        self.assertIn((Name.Function, "%"), tokens)
        self.assertIn((Operator, "<"), tokens)
        self.assertIn((Number.Float, "50"), tokens)

    def test_html_export_highlights_kaleido_cells(self):
        manager = KernelManager(kernel_name="kaleido")
        manager.start_kernel()
        client = manager.client()
        client.start_channels()
        try:
            language_info = client.kernel_info(reply=True, timeout=60)["content"]["language_info"]
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
        self.assertEqual(language_info["pygments_lexer"], "kaleido")
        cell = nbformat.v4.new_code_cell("def f(x) if x then sqrt(x) else 0")
        notebook = nbformat.v4.new_notebook(cells=[cell], metadata={"language_info": language_info})
        html, _ = nbconvert.HTMLExporter().from_notebook_node(notebook)
        # Pygments' classes: `k` keyword, `nb` builtin; Python's lexer marks neither `then` nor `sqrt`.
        for marked in ('<span class="k">then</span>', '<span class="nb">sqrt</span>', '<span class="k">def</span>'):
            self.assertIn(marked, html)


if __name__ == "__main__":
    unittest.main()
