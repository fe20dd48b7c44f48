// kaleido's CodeMirror language for JupyterLab: cells of a kaleido notebook (language_info.codemirror_mode
// "kaleido", mimetype text/x-kaleido) and .kal files are coloured by it. The tokens are those of
// editors/pygments (the HTML export's lexer): keywords, builtins, numbers, comments, operators (built in
// and user-defined: any ASCII punctuation but ( ) , ; # _), punctuation, and shell commands (a line
// starting with `:`).
import { LanguageSupport, StreamLanguage } from '@codemirror/language';
import { IEditorLanguageRegistry } from '@jupyterlab/codemirror';

const KEYWORDS = new Set(['def', 'extern', 'if', 'then', 'else', 'for', 'in', 'var', 'binary', 'unary']);
const BUILTINS = new Set([
  'putchard', 'printd', 'pixel', 'plotpoint', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'atan2', 'sinh',
  'cosh', 'tanh', 'exp', 'log', 'log10', 'pow', 'sqrt', 'floor', 'ceil', 'fabs', 'fmod'
]);
const OPERATOR = /^[!"$%&'*+\-./:<=>?@[\\\]^`{|}~]/;

/** The tokenizer, in CodeMirror's stream-parser form (the state remembers an operator's name is next). */
export const kaleido = {
  name: 'kaleido',
  startState: () => ({ operatorName: false, command: false }),
  token(stream, state) {
    if (stream.sol()) {
      state.command = false;
      if (stream.match(/^\s*:[A-Za-z?]+/)) {
        state.command = true;
        return 'meta';
      }
    }
    if (stream.eatSpace()) return null;
    if (stream.match(/^#.*/)) return 'comment';
    if (state.operatorName) {
      state.operatorName = false;
      if (stream.match(OPERATOR)) return 'def';
    }
    const word = stream.match(/^[A-Za-z][A-Za-z0-9_]*/);
    if (word) {
      const text = word[0];
      if (text === 'binary' || text === 'unary') {
        state.operatorName = true;
        return 'keyword';
      }
      if (KEYWORDS.has(text)) return 'keyword';
      if (BUILTINS.has(text)) return 'builtin';
      return 'variableName';
    }
    if (stream.match(/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/)) return 'number';
    if (stream.match(/^[(),;]/)) return 'punctuation';
    if (stream.match(OPERATOR)) return 'operator';
    stream.next();
    return null;
  },
  languageData: { commentTokens: { line: '#' } }
};

/** Registers the language with JupyterLab's editor languages. */
const plugin = {
  id: 'kaleido-jupyterlab:language',
  description: 'The kaleido language for CodeMirror',
  autoStart: true,
  requires: [IEditorLanguageRegistry],
  activate: (app, languages) => {
    languages.addLanguage({
      name: 'kaleido',
      displayName: 'kaleido',
      alias: ['kal', 'kaleidoscope'],
      mime: 'text/x-kaleido',
      extensions: ['kal'],
      support: new LanguageSupport(StreamLanguage.define(kaleido))
    });
  }
};

export default plugin;
