// The text of a config file, JSON or YAML, turned into a plain value, and the line each key stands on,
// so that every problem the schema finds can name its line. CLI-only.
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';

/** A config file that cannot be read or is not valid: the message says where and why. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type ConfigFormat = 'json' | 'yaml';

/** `.yaml` and `.yml` files are YAML; everything else is JSON. */
export function configFormatOf(file: string): ConfigFormat {
  return /\.ya?ml$/i.test(file) ? 'yaml' : 'json';
}

export interface ConfigText {
  value: unknown;
  /** The 1-based line of the key at `path` (or of the nearest key above it that exists). */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

/**
 * Parses a config file's text. A syntax error throws ConfigError with its line and column. JSON is
 * read by JSON.parse; its lines come from the same text read as YAML (JSON is YAML's flow style).
 */
export function readConfigText(text: string, format: ConfigFormat): ConfigText {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (format === 'yaml') {
    const first = doc.errors[0];
    if (first) {
      const at = lines.linePos(first.pos[0]);
      throw new ConfigError(`line ${at.line}, column ${at.col}: ${first.message.split('\n')[0]}`);
    }
    // An empty file (or only comments) is an empty config: every default.
    return { value: doc.toJS() ?? {}, lineOf: (path) => lineIn(doc.contents, path, lines) };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const position = /at position (\d+)/.exec(message);
    if (!position) throw new ConfigError(message);
    const at = lines.linePos(Number(position[1]));
    throw new ConfigError(`line ${at.line}, column ${at.col}: ${message}`);
  }
  const located = doc.errors.length === 0;
  return { value, lineOf: (path) => (located ? lineIn(doc.contents, path, lines) : undefined) };
}

/**
 * Walks `path` down the document. The line is that of the last key found on the way (a value that
 * spans lines starts below its key), or of the value itself when the path ends at a scalar.
 */
function lineIn(root: unknown, path: readonly PropertyKey[], lines: LineCounter): number | undefined {
  let node: unknown = root;
  let at: Node | undefined = hasRange(root) ? root : undefined;
  let complete = true;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(key));
      if (!pair) {
        complete = false;
        break;
      }
      if (hasRange(pair.key)) at = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number' && hasRange(node.items[key])) {
      node = node.items[key];
      at = node as Node;
    } else {
      complete = false;
      break;
    }
  }
  if (complete && isScalar(node) && hasRange(node)) at = node;
  return at?.range ? lines.linePos(at.range[0]).line : undefined;
}

function hasRange(value: unknown): value is Node {
  return (isScalar(value) || isMap(value) || isSeq(value)) && Array.isArray((value as Node).range);
}
