"""A Pygments lexer for kaleido (the Kaleidoscope language of LLVM's tutorial, as kaleido runs it).

Installed as the ``kaleido`` lexer (the kernel's ``language_info.pygments_lexer``), so nbconvert's HTML
export, Sphinx and ``pygmentize -l kaleido`` colour kaleido code. Every character of a valid program gets a
token that is not ``Error``: keywords, builtins, numbers, comments, operators (built in and user-defined,
any ASCII punctuation but ``( ) , ; # _``), punctuation, shell commands (a line starting with ``:``).
"""

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, Text, Whitespace

__all__ = ["KaleidoLexer"]

KEYWORDS = ("def", "extern", "if", "then", "else", "for", "in", "var", "binary", "unary")
BUILTINS = (
    "putchard", "printd", "pixel", "plotpoint", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh",
    "cosh", "tanh", "exp", "log", "log10", "pow", "sqrt", "floor", "ceil", "fabs", "fmod",
)
# ASCII punctuation but the characters the language gives other jobs: ( ) , ; # and _ (in names).
OPERATOR_CHARS = r"!\"$%&'*+\-./:<=>?@\[\\\]^`{|}~"


class KaleidoLexer(RegexLexer):
    """kaleido source: definitions, externs, expressions, operators, globals and shell commands."""

    name = "kaleido"
    aliases = ["kaleido", "kal", "kaleidoscope"]
    filenames = ["*.kal"]
    mimetypes = ["text/x-kaleido"]
    url = "https://llvm.org/docs/tutorial/MyFirstLanguageFrontend/"

    tokens = {
        "root": [
            (r"\n", Whitespace),
            # A command line: `:show fib`, `:plot sin(x) for x in -3..3`.
            (r"^([ \t]*)(:[A-Za-z?]+)(.*)$", bygroups(Whitespace, Keyword.Pseudo, Text)),
            (r"[ \t\r\f\v]+", Whitespace),
            (r"#.*?$", Comment.Single),
            # An operator's definition names it: `binary%`, `unary-` (the symbol is part of the name).
            (r"\b(binary|unary)([" + OPERATOR_CHARS + r"])", bygroups(Keyword, Name.Function)),
            (words(KEYWORDS, suffix=r"\b"), Keyword),
            (words(BUILTINS, suffix=r"\b"), Name.Builtin),
            (r"[A-Za-z][A-Za-z0-9_]*", Name),
            (r"([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", Number.Float),
            (r"[(),;]", Punctuation),
            (r"[" + OPERATOR_CHARS + r"]", Operator),
            # Anything else (non-ASCII in a string-less language) is left plain rather than flagged.
            (r".", Text),
        ],
    }
