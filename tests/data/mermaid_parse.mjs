// Parse Mermaid diagrams with Mermaid's own parser (mermaid.parse), in node, without a browser.
// Usage: node mermaid_parse.mjs NODE_MODULES_DIR < diagrams.json  (a JSON list of diagram texts)
// Prints a JSON list with, for each diagram, {ok: false, error} or {ok: true, type, nodes, edges}:
// nodes {id: [label, shape]} and edges [[from, to, label]], labels with their entity codes decoded
// as Mermaid decodes them when it draws (a flowchart's; other diagrams give only their type).
// Needs the npm packages mermaid and jsdom in NODE_MODULES_DIR (tests/test_access_render.py).
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const dir = process.argv[2];
const require = createRequire(join(dir, "resolve-from-here.js"));
const { JSDOM } = require("jsdom");
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import(pathToFileURL(join(dir, "mermaid", "dist", "mermaid.core.mjs")).href);
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });

// Mermaid keeps an entity code (#35;, #quot;) as a placeholder until it draws the label.
const NAMED = { quot: '"', amp: "&", lt: "<", gt: ">", nbsp: "\u00a0" };
function decode(text) {
  return String(text ?? "")
    .replace(/\ufb02\u00b0\u00b0(\d+)\u00b6\u00df/g, (_, n) => String.fromCodePoint(Number(n)))
    .replace(/\ufb02\u00b0(\w+)\u00b6\u00df/g, (m, name) => NAMED[name] ?? m);
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const text of JSON.parse(input)) {
  try {
    const parsed = await mermaid.parse(text);
    const found = { ok: true, type: parsed.diagramType, nodes: {}, edges: [] };
    if (parsed.diagramType.startsWith("flowchart")) {
      const db = (await mermaid.mermaidAPI.getDiagramFromText(text)).db;
      const vertices = db.getVertices();
      for (const [id, v] of vertices instanceof Map ? vertices : Object.entries(vertices)) {
        found.nodes[id] = [decode(v.text), v.type];
      }
      found.edges = db.getEdges().map((e) => [e.start, e.end, decode(e.text)]);
    }
    out.push(found);
  } catch (e) {
    out.push({ ok: false, error: String((e && e.message) || e).slice(0, 800) });
  }
}
console.log(JSON.stringify(out));
