/**
 * `deno task check` runs this: it fails when the modules of lib/ import each other in a
 * cycle, or break the layering (the records module imports nothing; no stage imports the
 * command line). It reads the module graph from `deno info --json`, type imports included.
 *
 * Usage: `deno run --allow-run --allow-read scripts/check_cycles.ts [entry …]`
 * (default entries: main.ts, mod.ts and the scan worker, which is loaded by URL).
 *
 * @module
 */

interface InfoModule {
  specifier: string;
  dependencies?: Array<{ code?: { specifier?: string }; type?: { specifier?: string } }>;
}

const root = new URL("../", import.meta.url).href;
const lib = `${root}lib/`;
const entries = Deno.args.length > 0 ? Deno.args : ["main.ts", "mod.ts", "lib/scan/walk_worker.ts"];

function modulesOf(entry: string): InfoModule[] {
  const info = new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: new URL(root).pathname,
    stdout: "piped",
    stderr: "inherit",
  }).outputSync();
  if (!info.success) Deno.exit(1);
  return (JSON.parse(new TextDecoder().decode(info.stdout)) as { modules: InfoModule[] }).modules;
}
const modules = entries.flatMap(modulesOf);

/** lib/ modules → the lib/ modules they import. */
const graph = new Map<string, string[]>();
for (const module of modules) {
  if (!module.specifier.startsWith(lib)) continue;
  const targets = new Set<string>();
  for (const dependency of module.dependencies ?? []) {
    for (const specifier of [dependency.code?.specifier, dependency.type?.specifier]) {
      if (specifier?.startsWith(lib)) targets.add(specifier);
    }
  }
  graph.set(module.specifier, [...targets].sort());
}

const name = (specifier: string) => specifier.slice(root.length);
const problems: string[] = [];

// Strongly connected components (Tarjan): each with more than one module is a cycle.
let counter = 0;
const index = new Map<string, number>();
const low = new Map<string, number>();
const stack: string[] = [];
const onStack = new Set<string>();
function connect(module: string): void {
  index.set(module, counter);
  low.set(module, counter);
  counter++;
  stack.push(module);
  onStack.add(module);
  for (const next of graph.get(module) ?? []) {
    if (!index.has(next)) {
      connect(next);
      low.set(module, Math.min(low.get(module)!, low.get(next)!));
    } else if (onStack.has(next)) {
      low.set(module, Math.min(low.get(module)!, index.get(next)!));
    }
  }
  if (low.get(module) !== index.get(module)) return;
  const component: string[] = [];
  let member: string;
  do {
    member = stack.pop()!;
    onStack.delete(member);
    component.push(member);
  } while (member !== module);
  const selfImport = (graph.get(module) ?? []).includes(module);
  if (component.length > 1 || selfImport) {
    problems.push(`import cycle: ${component.map(name).sort().join(" → ")}`);
  }
}
for (const module of [...graph.keys()].sort()) if (!index.has(module)) connect(module);

// Layering: the records at the bottom, the command line at the top.
for (const [module, targets] of graph) {
  if (module === `${lib}model.ts` && targets.length > 0) {
    problems.push(`lib/model.ts imports ${targets.map(name).join(", ")}; it must import nothing`);
  }
  if (!module.startsWith(`${lib}cli/`)) {
    for (const target of targets.filter((target) => target.startsWith(`${lib}cli/`))) {
      problems.push(`${name(module)} imports the command line (${name(target)})`);
    }
  }
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`error: ${problem}`);
  Deno.exit(1);
}
console.log(`No import cycles among ${graph.size} modules of lib/; layering holds.`);
