// Cross-checks deploy/monitoring that promtool cannot:
//   - every alert has a severity, a summary, a description and a runbook_url
//     naming a section of docs/runbook.md that exists and says what the alert
//     means, what to look at and what to do; no runbook section without alert;
//   - every alert has a promtool test case where it fires and one where it
//     does not;
//   - every metric a rule or a dashboard panel uses is in metric-names.txt;
//   - dashboards are valid Grafana JSON with unique panel ids, and their
//     queries are written out as recording rules so that
//     `promtool check rules` parses each one (--promql-out FILE).
//
//   node check-monitoring.mjs --rules R.yaml --tests T.yaml --runbook docs/runbook.md \
//     --metrics metric-names.txt --promql-out OUT.yaml DASHBOARD.json ...
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";

const opts = {};
const dashboards = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i].startsWith("--")) opts[argv[i].slice(2)] = argv[++i];
  else dashboards.push(argv[i]);
}
for (const k of ["rules", "tests", "runbook", "metrics", "promql-out"]) {
  if (!opts[k]) {
    console.error(`missing --${k}`);
    process.exit(2);
  }
}

let failures = 0;
function fail(where, message) {
  failures++;
  console.log(`  FAIL ${where}: ${message}`);
}
const readYaml = (file) => YAML.parse(fs.readFileSync(file, "utf8"), { uniqueKeys: true });

// ---------------------------------------------------------------- metrics
const known = new Map();  // name -> type
for (const line of fs.readFileSync(opts.metrics, "utf8").split("\n")) {
  const t = line.replace(/#.*/, "").trim();
  if (!t) continue;
  const [name, type] = t.split(/\s+/);
  known.set(name, type);
}
function metricNames(expr) {
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const names = new Set();
  for (const m of noStrings.matchAll(/\b(?:handoff_[a-z0-9_]+|grpc_(?:server|client)_[a-z0-9_]+)\b/g)) {
    names.add(m[0]);
  }
  return [...names];
}
function checkMetrics(where, expr) {
  for (const name of metricNames(expr)) {
    if (known.has(name)) continue;
    const base = name.replace(/_(bucket|count|sum)$/, "");
    if (base !== name && known.get(base) === "histogram") continue;
    fail(where, `uses ${name}, which is not in ${path.basename(opts.metrics)}`);
  }
}

// ---------------------------------------------------------------- runbook
const runbook = fs.readFileSync(opts.runbook, "utf8");
const sections = new Map();  // anchor -> {title, body}
{
  let current = null;
  for (const line of runbook.split("\n")) {
    const h = /^## (.+)$/.exec(line);
    if (h) {
      const title = h[1].trim();
      // GitHub's anchors: lower case, punctuation dropped, spaces to hyphens.
      const anchor = title.toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-");
      current = { title, body: "" };
      sections.set(anchor, current);
    } else if (current) {
      current.body += line + "\n";
    }
  }
}

// ---------------------------------------------------------------- rules
const rules = readYaml(opts.rules);
const alerts = [];
for (const group of rules.groups ?? []) {
  for (const rule of group.rules ?? []) {
    if (rule.record) {
      checkMetrics(`rule ${rule.record}`, rule.expr);
      continue;
    }
    alerts.push(rule.alert);
    const where = `alert ${rule.alert}`;
    checkMetrics(where, rule.expr);
    if (!["critical", "warning", "info"].includes(rule.labels?.severity)) {
      fail(where, "labels.severity must be critical, warning or info");
    }
    for (const a of ["summary", "description", "runbook_url"]) {
      if (!rule.annotations?.[a]) fail(where, `annotations.${a} is missing`);
    }
    const m = /^docs\/runbook\.md#([a-z0-9-]+)$/.exec(rule.annotations?.runbook_url ?? "");
    if (!m) {
      fail(where, `runbook_url ${rule.annotations?.runbook_url} is not docs/runbook.md#<anchor>`);
      continue;
    }
    const section = sections.get(m[1]);
    if (!section) {
      fail(where, `runbook_url anchor #${m[1]} has no "## " section in ${opts.runbook}`);
      continue;
    }
    if (section.title !== rule.alert) fail(where, `runbook section is titled "${section.title}"`);
    for (const part of ["What it means", "What to look at", "What to do"]) {
      if (!section.body.includes(part)) fail(where, `runbook section has no "${part}"`);
    }
  }
}
for (const [anchor, s] of sections) {
  if (/^Handoff[A-Z]/.test(s.title) && !alerts.includes(s.title)) {
    fail(opts.runbook, `section "${s.title}" (#${anchor}) has no alert of that name`);
  }
}
console.log(`alerts: ${alerts.length}, each with severity, summary, description and a runbook section`);

// ---------------------------------------------------------------- tests
const tests = readYaml(opts.tests);
const cases = new Map(alerts.map((a) => [a, { fires: 0, silent: 0 }]));
for (const t of tests.tests ?? []) {
  for (const a of t.alert_rule_test ?? []) {
    const c = cases.get(a.alertname);
    if (!c) {
      fail(opts.tests, `tests unknown alert ${a.alertname}`);
      continue;
    }
    if ((a.exp_alerts ?? []).length > 0) c.fires++;
    else c.silent++;
  }
}
for (const [alert, c] of cases) {
  if (c.fires === 0) fail(`alert ${alert}`, "no promtool test case where it fires");
  if (c.silent === 0) fail(`alert ${alert}`, "no promtool test case where it does not fire");
}
console.log(`promtool cases: ${[...cases.values()].reduce((n, c) => n + c.fires + c.silent, 0)} ` +
  `(every alert has a firing and a non-firing case)`);

// ---------------------------------------------------------------- dashboards
const promql = [];
function substitute(expr) {
  return expr
    .replace(/\$__rate_interval|\$__interval|\$\{__rate_interval\}|\$\{__interval\}/g, "5m")
    .replace(/\$__range|\$\{__range\}/g, "1h")
    .replace(/\$\{?(\w+)(?::\w+)?\}?/g, "VAR_$1");
}
for (const file of dashboards) {
  let dash;
  try {
    dash = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    fail(file, `not JSON: ${e.message}`);
    continue;
  }
  const where = path.basename(file);
  if (!dash.uid || !dash.title) fail(where, "uid and title are required");
  if (!Array.isArray(dash.panels)) {
    fail(where, "no panels");
    continue;
  }
  const variables = new Set((dash.templating?.list ?? []).map((v) => v.name));
  const ids = new Set();
  let queries = 0;
  const all = dash.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  for (const p of all) {
    const pw = `${where} panel "${p.title}"`;
    if (ids.has(p.id)) fail(pw, `duplicate id ${p.id}`);
    ids.add(p.id);
    if (!p.gridPos) fail(pw, "no gridPos");
    if (p.type === "row") continue;
    if (!p.datasource) fail(pw, "no datasource");
    if (!p.targets?.length) fail(pw, "no query");
    for (const t of p.targets ?? []) {
      if (!t.expr) {
        fail(pw, `target ${t.refId} has no expr`);
        continue;
      }
      for (const m of t.expr.matchAll(/\$\{?(\w+)/g)) {
        if (!m[1].startsWith("__") && !variables.has(m[1])) fail(pw, `uses undefined variable $${m[1]}`);
      }
      checkMetrics(pw, t.expr);
      promql.push({ record: `dashboard:query_${promql.length}`, expr: substitute(t.expr) });
      queries++;
    }
  }
  console.log(`${where}: ${all.length} panels, ${queries} queries, metric names known`);
}
for (const v of [...dashboards.length ? [] : ["(none)"]]) console.log(`dashboards: ${v}`);

fs.writeFileSync(opts["promql-out"], YAML.stringify({ groups: [{ name: "dashboard-queries", rules: promql }] }));

if (failures > 0) {
  console.log(`check-monitoring: ${failures} problem(s)`);
  process.exit(1);
}
