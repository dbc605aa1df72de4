#!/usr/bin/env node
// Syntax check of C# files with tree-sitter's C# grammar (tree-sitter-c-sharp, as WebAssembly on
// web-tree-sitter: nothing native to build), for tests/examples/csharp_test.go, since no C#
// compiler can run here.
//
//   node parse-csharp.js [--json] FILE...
//
// Every ERROR node (text the grammar cannot parse) and MISSING node (a token the parser had to
// invent, e.g. a `;` or `}`) is printed on stderr as `FILE:LINE:COLUMN: ...` (1-based; columns
// count UTF-16 code units, which is characters for ASCII). Exit status 1 when there is any,
// 2 on a usage or load error.
//
// With --json, stdout gets one JSON document with what the test checks beyond syntax, per file:
//   errors        the problems above, as {line, column, kind: "ERROR"|"MISSING", text}
//   usings        [{alias, name}] (alias is "" for a plain `using N;`)
//   types         declared classes, records, structs, interfaces and enums:
//                 {namespace, name, kind, line, column, properties: [{name, type, modifiers,
//                 input}], fields: [{name, type, modifiers, input}], methods: [{name, returns}]}
//                 (types as written; input is the name of an [Input("name")] attribute, or "")
//   creations     every `new T(...) { A = ..., B = ... }`: {type (as written, generic arguments
//                 dropped), line, column, members: [{name, line, column, method, args}]} (the
//                 initializer's `Name = value` assignments; method and args when the value is a
//                 call `x.M(args)`, possibly followed by `!`)
//   variables     `var v = new T(...)` declarations: {name, type}
//   memberAccess  every `v.M` whose left side is a plain identifier: {object, member, line, column}
//
// web-tree-sitter and tree-sitter-c-sharp are resolved through NODE_PATH (scripts/example-tools.sh
// csharp-parser installs them into the tool cache and prints the node_modules directory).
'use strict';

const fs = require('fs');

function usage(msg) {
  process.stderr.write(`parse-csharp.js: ${msg}\nusage: node parse-csharp.js [--json] FILE...\n`);
  process.exit(2);
}

function pos(node) {
  return { line: node.startPosition.row + 1, column: node.startPosition.column + 1 };
}

function snippet(text) {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > 40 ? s.slice(0, 40) + '...' : s;
}

// typeName drops generic arguments and nullable marks: Dictionary<string, object?> -> Dictionary.
function typeName(node) {
  if (!node) return '';
  switch (node.type) {
    case 'generic_name':
      return node.namedChildren[0].text;
    case 'nullable_type':
      return typeName(node.childForFieldName('type'));
    case 'qualified_name': {
      const q = node.childForFieldName('qualifier');
      const n = node.childForFieldName('name');
      return `${typeName(q)}.${typeName(n)}`;
    }
    case 'alias_qualified_name':
      return `${node.childForFieldName('alias').text}::${typeName(node.childForFieldName('name'))}`;
    default:
      return node.text;
  }
}

// firstProblem is the first ERROR or MISSING node below node, in document order.
function firstProblem(node) {
  for (const c of node.children) {
    if (c.type === 'ERROR' || c.isMissing) return c;
    const inner = firstProblem(c);
    if (inner) return inner;
  }
  return null;
}

function modifiers(decl) {
  return decl.namedChildren.filter((m) => m.type === 'modifier').map((m) => m.text);
}

// inputName is the name in an `[Input("name", ...)]` attribute of a declaration ("" without one):
// the property's name in the schema, as the generated SDK serialises it.
function inputName(decl) {
  for (const list of decl.namedChildren.filter((c) => c.type === 'attribute_list')) {
    for (const a of list.namedChildren.filter((c) => c.type === 'attribute')) {
      if (a.childForFieldName('name').text !== 'Input') continue;
      const args = a.namedChildren.find((c) => c.type === 'attribute_argument_list');
      const first = args && args.namedChildren[0];
      const str = first && first.namedChildren.find((c) => c.type === 'string_literal');
      if (str) return str.text.slice(1, -1);
    }
  }
  return '';
}

// call describes an initializer's value when it is a method call `x.M(a, b)` or `M(a, b)`, with
// an optional trailing `!`: {method: "M", args: ["a", "b"]}; {} otherwise.
function call(value) {
  let v = value;
  if (v && v.type === 'postfix_unary_expression' && v.text.endsWith('!')) v = v.namedChildren[0];
  if (!v || v.type !== 'invocation_expression') return {};
  const f = v.childForFieldName('function');
  const name = f.type === 'member_access_expression' ? f.childForFieldName('name') : f;
  const args = v.childForFieldName('arguments').namedChildren.map((a) => a.text);
  return { method: typeName(name), args };
}

function namespaceOf(node) {
  const parts = [];
  for (let n = node.parent; n; n = n.parent) {
    if (n.type === 'namespace_declaration') parts.unshift(n.childForFieldName('name').text);
  }
  // A file-scoped namespace (`namespace N;`) is a sibling of the declarations, not a parent.
  const root = node.tree.rootNode;
  for (const c of root.namedChildren) {
    if (c.type === 'file_scoped_namespace_declaration') parts.unshift(c.childForFieldName('name').text);
  }
  return parts.join('.');
}

const TYPE_DECLARATIONS = {
  class_declaration: 'class',
  record_declaration: 'record',
  struct_declaration: 'struct',
  interface_declaration: 'interface',
  enum_declaration: 'enum',
};

function analyse(tree) {
  const out = { errors: [], usings: [], types: [], creations: [], variables: [], memberAccess: [] };
  const visit = (node) => {
    if (node.isMissing) {
      out.errors.push({ ...pos(node), kind: 'MISSING', text: `missing "${node.type}"` });
    } else if (node.type === 'ERROR') {
      // An ERROR node can span much more than the mistake (up to the whole file, as error
      // recovery gives up): the first ERROR or MISSING inside it is where parsing went wrong.
      const first = firstProblem(node);
      const at = first ? pos(first) : pos(node);
      const from = pos(node);
      const to = { line: node.endPosition.row + 1, column: node.endPosition.column + 1 };
      const near = first && !first.isMissing ? first.text : node.text;
      out.errors.push({
        ...at,
        kind: 'ERROR',
        text: `cannot parse "${snippet(near)}"${first && first.isMissing ? ` (missing "${first.type}")` : ''}` +
          ` (unparsable ${from.line}:${from.column}-${to.line}:${to.column})`,
      });
    }
    switch (node.type) {
      case 'using_directive': {
        const alias = node.childForFieldName('name');
        const target = node.namedChildren.filter((c) => c.id !== (alias && alias.id)).pop();
        out.usings.push({ alias: alias ? alias.text : '', name: target ? target.text : '' });
        break;
      }
      case 'object_creation_expression': {
        const init = node.childForFieldName('initializer');
        const members = [];
        if (init) {
          for (const a of init.namedChildren) {
            const left = a.type === 'assignment_expression' && a.childForFieldName('left');
            if (left && left.type === 'identifier') members.push({ name: left.text, ...pos(left), ...call(a.childForFieldName('right')) });
          }
        }
        out.creations.push({ type: typeName(node.childForFieldName('type')), ...pos(node), members });
        break;
      }
      case 'variable_declarator': {
        const value = node.namedChildren[node.namedChildren.length - 1];
        if (value && value.type === 'object_creation_expression') {
          out.variables.push({ name: node.childForFieldName('name').text, type: typeName(value.childForFieldName('type')) });
        }
        break;
      }
      case 'member_access_expression': {
        const e = node.childForFieldName('expression');
        if (e && e.type === 'identifier') {
          const m = node.childForFieldName('name');
          out.memberAccess.push({ object: e.text, member: m.text, ...pos(m) });
        }
        break;
      }
      default:
        if (TYPE_DECLARATIONS[node.type]) {
          const body = node.childForFieldName('body');
          const members = (type) => (body ? body.namedChildren.filter((c) => c.type === type) : []);
          out.types.push({
            namespace: namespaceOf(node),
            name: node.childForFieldName('name').text,
            kind: TYPE_DECLARATIONS[node.type],
            ...pos(node),
            properties: members('property_declaration').map((c) => ({
              name: c.childForFieldName('name').text,
              type: c.childForFieldName('type').text,
              modifiers: modifiers(c),
              input: inputName(c),
            })),
            fields: members('field_declaration').flatMap((c) => {
              const decl = c.namedChildren.find((d) => d.type === 'variable_declaration');
              if (!decl) return [];
              const type = decl.childForFieldName('type').text;
              return decl.namedChildren
                .filter((d) => d.type === 'variable_declarator')
                .map((d) => ({ name: d.childForFieldName('name').text, type, modifiers: modifiers(c), input: inputName(c) }));
            }),
            methods: members('method_declaration').map((c) => ({
              name: c.childForFieldName('name').text,
              returns: c.childForFieldName('returns').text,
            })),
          });
        }
    }
    // Problems inside an ERROR node follow from it: it is reported once, above.
    if (node.type === 'ERROR') return;
    for (const c of node.children) visit(c);
  };
  visit(tree.rootNode);
  return out;
}

async function main() {
  const args = process.argv.slice(2);
  const json = args[0] === '--json';
  const files = json ? args.slice(1) : args;
  if (files.length === 0) usage('no files');

  let Parser, language;
  try {
    let Language;
    ({ Parser, Language } = require('web-tree-sitter'));
    await Parser.init();
    language = await Language.load(require.resolve('tree-sitter-c-sharp/tree-sitter-c_sharp.wasm'));
  } catch (e) {
    process.stderr.write(`parse-csharp.js: cannot load tree-sitter's C# grammar (NODE_PATH=${process.env.NODE_PATH || ''}): ${e.message}\n`);
    process.exit(2);
  }
  const parser = new Parser();
  parser.setLanguage(language);

  const result = { files: [] };
  let problems = 0;
  for (const file of files) {
    let source;
    try {
      source = fs.readFileSync(file, 'utf8');
    } catch (e) {
      usage(`cannot read ${file}: ${e.message}`);
    }
    const tree = parser.parse(source);
    const a = analyse(tree);
    tree.delete();
    for (const e of a.errors) process.stderr.write(`${file}:${e.line}:${e.column}: ${e.kind}: ${e.text}\n`);
    problems += a.errors.length;
    result.files.push({ file, ...a });
  }
  process.stderr.write(`parse-csharp.js: ${files.length} file(s), ${problems} syntax error(s)\n`);
  const code = problems > 0 ? 1 : 0;
  // process.exit() right after a write to a pipe drops what the pipe has not taken yet (the
  // JSON outgrew 64 KiB): exit once stdout has flushed it.
  if (json) process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(code));
  else process.exit(code);
}

main();
