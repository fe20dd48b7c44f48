"""JupyterLab in a real browser (issue 25, item 5): JupyterLab serves on loopback, headless Chromium
(Debian's, driven by Playwright) opens each example notebook with its outputs cleared, runs all its cells
from the Run menu and checks what the page renders: every code cell ran, no cell failed, the pictures
are there as images; Run All stops at a cell that fails; and cells are coloured by kaleido's CodeMirror
language (editors/jupyterlab, which `kaleido kernel install` puts beside the kernelspec). Screenshots go to $KALEIDO_SCREENSHOTS (the
log names the directory). Run by scripts/jupyter-tests.sh, which installs the kernelspec under test.
"""

import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import nbformat
from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "examples" / "notebooks").glob("*.ipynb"))
EXAMPLES = sorted((ROOT / "examples").glob("*.kal"))
CHROMIUM = os.environ.get("KALEIDO_CHROMIUM", "/usr/bin/chromium")
# Without these Chromium tries the network at every start, which this machine's closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
TOKEN = "kaleido-browser-test"
# A cell with every kind of token: keywords, an operator's name, builtins, numbers, a comment, a command.
HIGHLIGHTED = "extern cos(x)\ndef binary% 50 (a b) if a then fmod(a, b) else 0  # note\n" \
              "var g = 1\ndef f(x) for i = 0, i < x in var y = i in y\n:show f"
# How many pictures each notebook draws (the others draw none).
PICTURES = {"06-pictures.ipynb": 5}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cleared(source, target):
    """Copies a notebook without its outputs, so whatever the page shows comes from this run."""
    notebook = nbformat.read(source, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(notebook, target)


class BrowserTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = pathlib.Path(tempfile.mkdtemp(prefix="kaleido-lab-"))
        for path in NOTEBOOKS:
            cleared(path, cls.dir / path.name)
        for path in EXAMPLES:
            shutil.copy(path, cls.dir / path.name)
        failing = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code) for code in
                                                  ["printd(1)", "nosuch(2)", "printd(3)"]])
        failing.metadata["kernelspec"] = {"name": "kaleido", "display_name": "kaleido", "language": "kaleido"}
        nbformat.write(failing, cls.dir / "stops.ipynb")
        highlighted = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(HIGHLIGHTED)])
        highlighted.metadata["kernelspec"] = failing.metadata["kernelspec"]
        nbformat.write(highlighted, cls.dir / "highlight.ipynb")
        cls.shots = pathlib.Path(os.environ.get("KALEIDO_SCREENSHOTS", ROOT / "target" / "browser-screenshots"))
        cls.shots.mkdir(parents=True, exist_ok=True)
        print(f"\nbrowser test: screenshots in {cls.shots}", file=sys.stderr)
        # No "news" toast over the screenshots (JupyterLab would ask whether to fetch news).
        notification = cls.dir / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        notification.parent.mkdir(parents=True)
        notification.write_text('{"fetchNews": "false", "checkForUpdates": false}')
        cls.port = free_port()
        cls.log = open(cls.dir / "jupyterlab.log", "w")
        cls.lab = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={cls.port}", "--ip=127.0.0.1",
             f"--ServerApp.root_dir={cls.dir}", f"--IdentityProvider.token={TOKEN}",
             f"--LabApp.workspaces_dir={cls.dir / 'workspaces'}", f"--LabApp.user_settings_dir={cls.dir / 'settings'}",
             "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            stdout=cls.log, stderr=subprocess.STDOUT)
        cls.base = f"http://127.0.0.1:{cls.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{cls.base}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or cls.lab.poll() is not None:
                    raise RuntimeError("JupyterLab did not start: " + (cls.dir / "jupyterlab.log").read_text())
                time.sleep(0.3)
        cls.playwright = sync_playwright().start()
        cls.browser = cls.playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.playwright.stop()
        cls.lab.terminate()
        cls.lab.wait(timeout=30)
        cls.log.close()
        if os.environ.get("KEEP_LAB_LOG"):
            shutil.copy(cls.dir / "jupyterlab.log", "/tmp/jupyterlab.log")
        shutil.rmtree(cls.dir, ignore_errors=True)

    def run_all(self, name):
        """Opens notebook `name`, runs all its cells from the Run menu, waits until the kernel is done and
        returns the page."""
        page = self.browser.new_page(viewport={"width": 1280, "height": 900})
        # A workspace of its own, reset: only this notebook is open, whatever earlier pages left.
        workspace = pathlib.Path(name).stem
        page.goto(f"{self.base}/lab/workspaces/{workspace}/tree/{name}?reset&token={TOKEN}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60000)
        # The kernel has started once the status bar names it idle (the toolbar's indicator says idle
        # before the kernel is connected).
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60000)
        page.get_by_text("kaleido | Idle").wait_for(timeout=60000)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        # Busy while any cell is queued or running; idle again once Run All has finished (or stopped).
        try:
            self.wait_until_done(page)
        except Exception:
            self.shot(page, name)
            raise AssertionError(f"{name}: Run All did not finish; prompts {self.prompts(page)}")
        return page

    def wait_until_done(self, page):
        page.wait_for_function(
            """() => {
                const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
                const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
                return prompts.every(p => !p.textContent.includes('*'))
                    && indicator && indicator.dataset.status === 'idle'
                    && prompts.some(p => /\\[\\d+\\]/.test(p.textContent));
            }""", timeout=120000)

    def prompts(self, page):
        # textContent, not innerText: JupyterLab leaves cells outside the view unrendered (content-visibility).
        return [p.strip() for p in page.locator(".jp-CodeCell .jp-InputPrompt").evaluate_all(
            "prompts => prompts.map(p => p.textContent)")]

    def shot(self, page, name):
        page.screenshot(path=str(self.shots / (pathlib.Path(name).stem + ".png")), full_page=True)

    def test_every_example_notebook_runs_in_jupyterlab(self):
        for path in NOTEBOOKS:
            with self.subTest(notebook=path.name):
                page = self.run_all(path.name)
                try:
                    # Every cell ran: Run All stops at a failure, so none failed either.
                    prompts = self.prompts(page)
                    self.assertTrue(all(p.startswith("[") and p[1:-2].isdigit() for p in prompts), prompts)
                    # The cells that printed something when the notebook was stored print something here.
                    stored = nbformat.read(path, as_version=4)
                    expected = [bool(cell.outputs) for cell in stored.cells if cell.cell_type == "code"]
                    shown = page.locator(".jp-CodeCell").evaluate_all(
                        "cells => cells.map(c => c.querySelectorAll('.jp-OutputArea-output').length > 0)")
                    self.assertEqual(shown, expected)
                    images = page.locator(".jp-OutputArea-output img")
                    self.assertEqual(images.count(), PICTURES.get(path.name, 0))
                    for i in range(images.count()):
                        images.nth(i).scroll_into_view_if_needed()
                        width = images.nth(i).evaluate("img => img.complete ? img.naturalWidth : 0")
                        self.assertEqual(width, 640, "a picture was not decoded")
                    if path.name in PICTURES:
                        # The README's picture: the sidebar closed, the redefined function's plot on top.
                        page.keyboard.press("Escape")
                        page.keyboard.press("Control+b")
                        images.nth(1).evaluate("img => img.closest('.jp-Cell').scrollIntoView({block: 'start'})")
                        page.wait_for_timeout(500)
                        page.screenshot(path=str(self.shots / "notebook-picture.png"))
                finally:
                    self.shot(page, path.name)
                    page.close()

    def test_cells_are_coloured_as_kaleido(self):
        page = self.browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(f"{self.base}/lab/workspaces/highlight/tree/highlight.ipynb?reset&token={TOKEN}")
            page.get_by_text("kaleido | Idle").wait_for(timeout=60000)
            # Once the kernel's language_info arrives the editor switches to the kaleido language.
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-Cell .cm-line span')].some(s => s.textContent === 'then')",
                timeout=30000)
            colours = page.evaluate("""() => {
                const spans = [...document.querySelectorAll('.jp-Cell .cm-line span')];
                const colour = text => spans.filter(s => s.textContent.trim() === text)
                    .map(s => getComputedStyle(s).color)[0] || null;
                const line = document.querySelector('.jp-Cell .cm-line');
                return {plain: getComputedStyle(line).color,
                        words: Object.fromEntries(['extern', 'def', 'binary', 'if', 'then', 'else', 'for', 'in',
                            'var', 'fmod', 'cos', '%', '50', '# note', ':show', '<'].map(w => [w, colour(w)]))};
            }""")
            self.shot(page, "highlight")
            words = colours["words"]
            for word, colour in words.items():
                self.assertIsNotNone(colour, f"`{word}` is not a token of its own: {words}")
                self.assertNotEqual(colour, colours["plain"], f"`{word}` is not coloured: {words}")
            keywords = {words[w] for w in ['extern', 'def', 'binary', 'if', 'then', 'else', 'for', 'in', 'var']}
            self.assertEqual(len(keywords), 1, f"every keyword alike: {words}")
            self.assertNotEqual(words["# note"], words["then"])
            self.assertNotEqual(words["%"], words["then"], "an operator's name is not a keyword")
        finally:
            page.close()

    def test_every_example_file_is_tokenized_whole(self):
        # JupyterLab's file editor picks the language by the .kal extension. Every character of every
        # example must be inside a token the highlighter styled, but for whitespace and plain names (which
        # JupyterLab's theme leaves the text colour): no operator, number or punctuation unrecognised.
        for path in EXAMPLES:
            with self.subTest(example=path.name):
                page = self.browser.new_page(viewport={"width": 1280, "height": 20000})
                try:
                    page.goto(f"{self.base}/lab/workspaces/{path.stem}-file/tree/{path.name}?reset&token={TOKEN}")
                    page.wait_for_selector(".jp-FileEditor .cm-line span", timeout=60000)
                    page.wait_for_timeout(300)
                    bare = page.evaluate("""() => {
                        const lines = [...document.querySelectorAll('.jp-FileEditor .cm-line')];
                        return lines.flatMap(line => [...line.childNodes]
                            .filter(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim())
                            .map(n => n.textContent.trim()));
                    }""")
                    unstyled = [word for text in bare for word in text.split()
                                if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", word)]
                    self.assertEqual(unstyled, [], "text no token covers")
                    self.assertGreater(len(bare), 0, "names are left plain, so some bare text is expected")
                finally:
                    page.close()

    def test_run_all_stops_at_a_failing_cell(self):
        page = self.run_all("stops.ipynb")
        try:
            prompts = self.prompts(page)
            self.assertEqual(prompts[0:2], ["[1]:", "[2]:"])
            self.assertNotRegex(prompts[2], r"\d", "the cell after the error ran")
            outputs = [o.strip() for o in page.locator(".jp-CodeCell").nth(1).locator(".jp-OutputArea").all_inner_texts()]
            self.assertIn("`nosuch` is not defined", " ".join(outputs))
            self.assertEqual(page.locator(".jp-CodeCell").nth(2).locator(".jp-OutputArea-output").count(), 0)
        finally:
            self.shot(page, "stops")
            page.close()


if __name__ == "__main__":
    unittest.main()
