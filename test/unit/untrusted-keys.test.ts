import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Issue 12's rule, enforced: no plain object is read or written by a key typed `string` in product
 * code. Ids come from producers, and `obj[id]` on a plain object answers `constructor`,
 * `toString` or `__proto__` with something inherited (a boost of NaN, a lost reasons entry). Use a
 * Map, or `ownValue` (models/core/own.ts) for records that must stay objects (config, parsed
 * JSON). The type checker finds every element access and `in` test whose key is a non-literal
 * string on something that is not an array or string; a reviewed exception carries
 * `// trusted-key: why` on the line before.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PRODUCT = [
  'pipeline',
  'operators',
  'records',
  'sinks',
  'kafka',
  'stream',
  'features',
  'push',
  'privacy',
  'stack',
  'config',
  'models',
];
const SANCTIONED = new Set(['models/core/own.ts']);

function scan(program: ts.Program, include: (file: string) => boolean): string[] {
  const checker = program.getTypeChecker();
  const out: string[] = [];
  const isStringKey = (t: ts.Type): boolean => {
    if (t.isUnion()) return t.types.some(isStringKey);
    // `string` and `${...}` template types; literal keys (a known field) are fine
    return (t.flags & (ts.TypeFlags.String | ts.TypeFlags.TemplateLiteral)) !== 0;
  };
  const isListLike = (t: ts.Type): boolean => {
    const a = checker.getApparentType(t);
    if (checker.isArrayType(a) || checker.isTupleType(a)) return true;
    if ((a.flags & ts.TypeFlags.StringLike) !== 0) return true;
    const name = a.getSymbol()?.getName() ?? '';
    return /Array$/.test(name) || name === 'Buffer' || name === 'String';
  };
  for (const sf of program.getSourceFiles()) {
    const file = relative(ROOT, sf.fileName);
    if (sf.isDeclarationFile || !include(file)) continue;
    const lines = sf.text.split('\n');
    const report = (node: ts.Node, what: string): void => {
      const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      if (/trusted-key:/.test(lines[line - 1] ?? '')) return;
      out.push(`${file}:${line + 1}: ${what}: ${node.getText(sf).slice(0, 80)}`);
    };
    const visit = (node: ts.Node): void => {
      if (ts.isElementAccessExpression(node)) {
        const key = checker.getTypeAtLocation(node.argumentExpression);
        if (isStringKey(key) && !isListLike(checker.getTypeAtLocation(node.expression)))
          report(node, 'plain-object lookup by a string key');
      } else if (
        ts.isBinaryExpression(node) &&
        node.operatorToken.kind === ts.SyntaxKind.InKeyword &&
        isStringKey(checker.getTypeAtLocation(node.left))
      ) {
        report(node, '`in` test by a string key');
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
}

function productProgram(): ts.Program {
  const cfg = ts.readConfigFile(join(ROOT, 'tsconfig.build.json'), (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(cfg.config, ts.sys, ROOT);
  return ts.createProgram(parsed.fileNames, { ...parsed.options, noEmit: true });
}

/** A program of one in-memory file, for checking the checker. */
function programOf(text: string): ts.Program {
  const name = join(ROOT, 'models', '__scratch__.ts');
  const options: ts.CompilerOptions = {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (f, lang, ...rest) =>
    f === name ? ts.createSourceFile(f, text, lang) : getSourceFile(f, lang, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (f) => f === name || fileExists(f);
  return ts.createProgram([name], options, host);
}

describe('no plain-object lookups keyed by untrusted strings (issue 12)', () => {
  it('catches the bug class and lets Maps, arrays and literal keys through', () => {
    const found = scan(
      programOf(`
        export function boost(boosts: Record<string, number>, itemId: string): number {
          return boosts[itemId] ?? 1;
        }
        export function tag(seen: { [id: string]: boolean }, id: string): void {
          seen[id] = true;
        }
        export const known = (o: object, k: string): boolean => k in o;
        export function fine(m: Map<string, number>, xs: number[], i: number, id: string): number {
          const o = { a: 1 };
          return (m.get(id) ?? 0) + xs[i] + o['a'] + id[0].length;
        }
        export function reviewed(o: Record<string, number>, k: string): number {
          // trusted-key: a key the code chose
          return o[k];
        }
      `),
      (f) => f.endsWith('__scratch__.ts'),
    );
    expect(found.map((f) => f.replace(/^.*__scratch__\.ts:/, ''))).toEqual([
      '3: plain-object lookup by a string key: boosts[itemId]',
      '6: plain-object lookup by a string key: seen[id]',
      '8: `in` test by a string key: k in o',
    ]);
  });

  it('finds none in product code', () => {
    const found = scan(
      productProgram(),
      (f) => PRODUCT.some((d) => f.startsWith(`${d}/`)) && !SANCTIONED.has(f),
    );
    expect(found).toEqual([]);
  }, 60_000);
});
