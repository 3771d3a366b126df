// Validates rendered Kubernetes manifests offline.
//
//   node validate-k8s.mjs [--schema-only] [--no-strict] NAME=FILE.yaml ...
//
// 1. Schema: every object against the Kubernetes (and Prometheus Operator)
//    JSON schemas shipped in the kubernetes-models packages: types, formats,
//    required fields, enums. An unknown apiVersion/kind is an error.
// 2. Strict fields: the JSON schemas accept unknown fields, so every object is
//    also type-checked by TypeScript against the same packages' interfaces;
//    excess-property checks turn a misspelt field into an error.
// 3. Unless --schema-only, Handoff's own rules on the whole rendered set:
//    restricted security contexts, gRPC probes on the gRPC port, resources,
//    ports and HANDOFF_* settings agreeing, grace period longer than the
//    service's drain, callee addresses naming real Services, NetworkPolicies
//    allowing exactly the calls the settings make, one replica per SQLite store.
//
// Must run from a directory whose node_modules has the packages of
// deploy/tools/package.json (scripts/check-deploy copies it there).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import ts from "typescript";

const here = path.dirname(fileURLToPath(import.meta.url));

const args = process.argv.slice(2);
const schemaOnly = args.includes("--schema-only");
// Skips step 2, the slow one (a TypeScript compile): for quick self-tests.
const noStrict = args.includes("--no-strict");
const inputs = args
  .filter((a) => !a.startsWith("--"))
  .map((a) => {
    const eq = a.indexOf("=");
    return eq > 0 ? { name: a.slice(0, eq), file: a.slice(eq + 1) } : { name: a, file: a };
  });
if (inputs.length === 0) {
  console.error("usage: node validate-k8s.mjs [--schema-only] [--no-strict] NAME=FILE.yaml ...");
  process.exit(2);
}

let failures = 0;
function fail(where, message) {
  failures++;
  console.log(`  FAIL ${where}: ${message}`);
}

// ---------------------------------------------------------------- models
function modelModule(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string") return null;
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  }
  return `kubernetes-models/${apiVersion}/${kind}`;
}

async function loadModel(apiVersion, kind) {
  const spec = modelModule(apiVersion, kind);
  if (!spec) return null;
  try {
    const mod = await import(spec);
    return mod[kind] ? { spec, Model: mod[kind] } : null;
  } catch {
    return null;
  }
}

function describe(obj) {
  return `${obj?.kind ?? "?"}/${obj?.metadata?.name ?? "?"}`;
}

// ---------------------------------------------------------------- parsing
function parseRendered(file) {
  const text = fs.readFileSync(file, "utf8");
  const docs = YAML.parseAllDocuments(text, { uniqueKeys: true });
  const objects = [];
  for (const doc of docs) {
    for (const e of [...doc.errors, ...doc.warnings]) fail(file, `YAML: ${e.message}`);
    const value = doc.toJS();
    if (value == null) continue;
    objects.push(value);
  }
  return objects;
}

// ---------------------------------------------------------------- strict
// One TypeScript program for all objects of all inputs.
function strictCheck(entries) {
  const lines = [];
  const ranges = [];
  entries.forEach(({ obj, spec }, i) => {
    lines.push(`import type { I${obj.kind} as T${i} } from ${JSON.stringify(spec)};`);
  });
  entries.forEach(({ obj, where }, i) => {
    const start = lines.length + 1;
    const body = JSON.stringify(obj, null, 2).split("\n");
    lines.push(`export const o${i}: T${i} = ${body[0]}`, ...body.slice(1));
    lines[lines.length - 1] += ";";
    ranges.push({ start, end: lines.length, where, body });
  });
  const file = path.join(here, "strict-check.generated.mts");
  fs.writeFileSync(file, lines.join("\n") + "\n");
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    types: [],
  });
  const diags = ts.getPreEmitDiagnostics(program);
  let count = 0;
  for (const d of diags) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, " ")
      .replace(/type '\{.{60,}?\}'/g, "type '{...}'");
    if (!d.file) {
      fail("typescript", message);
      count++;
      continue;
    }
    const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    const lineNo = line + 1;
    const range = ranges.find((r) => lineNo >= r.start && lineNo <= r.end);
    const where = range ? range.where : path.basename(d.file.fileName);
    const snippet = range ? range.body[lineNo - range.start]?.trim() : "";
    fail(where, `${message}${snippet ? `  [at ${snippet}]` : ""}`);
    count++;
  }
  return count;
}

// ---------------------------------------------------------------- helpers
function durationSeconds(text) {
  if (typeof text !== "string") return NaN;
  const re = /(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  let m;
  while ((m = re.exec(text)) !== null) {
    const n = Number(m[1]);
    total += n * { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9 }[m[2]];
    consumed += m[0].length;
  }
  return consumed === text.length && consumed > 0 ? total : NaN;
}

function matches(selector, labels) {
  if (!selector) return false;
  if (selector.matchExpressions?.length) return null;  // not used here; unsupported
  return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels?.[k] === v);
}

const workloadKinds = new Set(["Deployment", "StatefulSet"]);

// ---------------------------------------------------------------- rules
function semanticChecks(name, objects) {
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const find = (kind, n) => objects.find((o) => o.kind === kind && o.metadata?.name === n);
  const workloads = objects.filter((o) => workloadKinds.has(o.kind));
  const services = byKind("Service");
  const policies = byKind("NetworkPolicy");
  const hpas = byKind("HorizontalPodAutoscaler");
  const edges = [];  // {from: workload, to: workload, port}
  const facts = [];

  const podLabels = (w) => w.spec?.template?.metadata?.labels ?? {};
  const workloadForService = (svc) =>
    workloads.find((w) => svc.spec?.selector && matches({ matchLabels: svc.spec.selector }, podLabels(w)));

  for (const w of workloads) {
    const where = `${name}: ${describe(w)}`;
    const pod = w.spec.template.spec;
    const psc = pod.securityContext ?? {};
    if (pod.enableServiceLinks !== false) {
      fail(where, "enableServiceLinks must be false: service links inject HANDOFF_<SERVICE>_PORT=tcp://... variables into the HANDOFF_ namespace the flags are read from");
    }
    if (pod.automountServiceAccountToken !== false) {
      fail(where, "automountServiceAccountToken must be false: the services never call the Kubernetes API");
    }
    if (psc.runAsNonRoot !== true) fail(where, "pod securityContext.runAsNonRoot must be true");
    if (psc.seccompProfile?.type !== "RuntimeDefault") fail(where, "pod securityContext.seccompProfile.type must be RuntimeDefault");
    if (psc.runAsUser === 0) fail(where, "pod securityContext.runAsUser must not be 0");

    for (const c of pod.containers ?? []) {
      const cw = `${where} container ${c.name}`;
      const sc = c.securityContext ?? {};
      if (sc.allowPrivilegeEscalation !== false) fail(cw, "securityContext.allowPrivilegeEscalation must be false");
      if (sc.readOnlyRootFilesystem !== true) fail(cw, "securityContext.readOnlyRootFilesystem must be true");
      if (sc.privileged === true) fail(cw, "securityContext.privileged must not be true");
      if (!(sc.capabilities?.drop ?? []).includes("ALL")) fail(cw, "securityContext.capabilities.drop must include ALL");
      if (sc.runAsUser === 0) fail(cw, "securityContext.runAsUser must not be 0");
      for (const kind of ["requests", "limits"]) {
        for (const r of ["cpu", "memory"]) {
          if (c.resources?.[kind]?.[r] == null) fail(cw, `resources.${kind}.${r} is not set`);
        }
      }
      if (typeof c.image !== "string" || c.image.endsWith(":latest") || !c.image.includes(":")) {
        fail(cw, `image ${c.image} must carry an explicit tag other than latest`);
      }

      const ports = Object.fromEntries((c.ports ?? []).map((p) => [p.name, Number(p.containerPort)]));
      if (ports.grpc == null) fail(cw, "no container port named grpc");
      if (ports.metrics == null) fail(cw, "no container port named metrics");
      for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
        const p = c[probe];
        if (!p) {
          if (probe !== "startupProbe") fail(cw, `${probe} is missing`);
          continue;
        }
        if (!p.grpc) fail(cw, `${probe} must be a native grpc: probe (grpc.health.v1)`);
        else if (p.grpc.port !== ports.grpc) fail(cw, `${probe}.grpc.port ${p.grpc.port} is not the grpc container port ${ports.grpc}`);
      }

      // Settings: envFrom ConfigMaps in order, then env.
      const env = {};
      for (const src of c.envFrom ?? []) {
        if (src.configMapRef) {
          const cm = find("ConfigMap", src.configMapRef.name);
          if (!cm) fail(cw, `envFrom ConfigMap ${src.configMapRef.name} is not in the rendered output`);
          else Object.assign(env, cm.data ?? {});
        }
      }
      for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;

      if (env.HANDOFF_PORT !== undefined && Number(env.HANDOFF_PORT) !== ports.grpc) {
        fail(cw, `HANDOFF_PORT=${env.HANDOFF_PORT} but the grpc container port is ${ports.grpc}`);
      }
      if (env.HANDOFF_METRICS_PORT !== undefined && Number(env.HANDOFF_METRICS_PORT) !== ports.metrics) {
        fail(cw, `HANDOFF_METRICS_PORT=${env.HANDOFF_METRICS_PORT} but the metrics container port is ${ports.metrics}`);
      }
      if (env.HANDOFF_PORT === undefined) fail(cw, "HANDOFF_PORT is not set");
      if (env.HANDOFF_METRICS_PORT === undefined) fail(cw, "HANDOFF_METRICS_PORT is not set");

      const grace = durationSeconds(env.HANDOFF_SHUTDOWN_GRACE ?? "5s");
      const drain = durationSeconds(env.HANDOFF_DRAIN_TIMEOUT ?? "10s");
      if (Number.isNaN(grace)) fail(cw, `HANDOFF_SHUTDOWN_GRACE=${env.HANDOFF_SHUTDOWN_GRACE} is not a duration`);
      if (Number.isNaN(drain)) fail(cw, `HANDOFF_DRAIN_TIMEOUT=${env.HANDOFF_DRAIN_TIMEOUT} is not a duration`);
      // Background work and the metrics exposer take about 2 s more to stop.
      const needed = grace + drain + 2;
      const tgps = pod.terminationGracePeriodSeconds ?? 30;
      if (!(tgps > needed)) {
        fail(where, `terminationGracePeriodSeconds ${tgps} must exceed shutdown_grace ${grace}s + drain_timeout ${drain}s + 2s to stop, or the kubelet kills the drain`);
      } else {
        w._facts = [`grace ${tgps}s > ${grace}s+${drain}s+2s`];
      }

      // The database file must be on a mounted volume: the root is read-only.
      let sqlite = false;
      if (env.HANDOFF_DB_PATH !== undefined) {
        sqlite = true;
        const dir = path.posix.dirname(env.HANDOFF_DB_PATH);
        const mount = (c.volumeMounts ?? []).find((m) => dir === m.mountPath || dir.startsWith(m.mountPath + "/"));
        if (!mount) fail(cw, `HANDOFF_DB_PATH=${env.HANDOFF_DB_PATH} is not under a mounted volume (the root filesystem is read-only)`);
        else if (mount.readOnly) fail(cw, `HANDOFF_DB_PATH=${env.HANDOFF_DB_PATH} is on a read-only mount`);
      }

      // An embedded SQLite store allows one process per file.
      if (sqlite) {
        const replicas = w.spec.replicas ?? 1;
        if (replicas > 1) fail(where, `replicas ${replicas}: the embedded SQLite store allows one replica; several wait for the PostgreSQL backend`);
        const usesPvc = (pod.volumes ?? []).some((v) => v.persistentVolumeClaim);
        if (w.kind === "Deployment" && w.spec.strategy?.type !== "Recreate") {
          fail(where, "strategy must be Recreate: a rolling update would run two processes on one SQLite store (and one ReadWriteOnce volume)");
        }
        for (const h of hpas) {
          if (h.spec?.scaleTargetRef?.name === w.metadata.name && (h.spec.maxReplicas ?? 1) > 1) {
            fail(`${name}: ${describe(h)}`, `scales ${w.metadata.name} to ${h.spec.maxReplicas} replicas, unsafe with the embedded SQLite store`);
          }
        }
        (w._facts ??= []).push(`SQLite on ${usesPvc ? "PVC" : "emptyDir"}, ${replicas} replica, ${w.spec.strategy?.type}`);
      }

      // Callees: HANDOFF_<SERVICE>_ADDRESS=host:port must name a Service port.
      for (const [k, v] of Object.entries(env)) {
        if (!/^HANDOFF_[A-Z]+_ADDRESS$/.test(k)) continue;
        const m = /^([a-z0-9-]+)(?:\.[a-z0-9.-]+)?:(\d+)$/.exec(v);
        if (!m) {
          fail(cw, `${k}=${v} is not host:port`);
          continue;
        }
        const svc = find("Service", m[1]);
        const svcPort = svc?.spec?.ports?.find((p) => p.port === Number(m[2]));
        if (!svc || !svcPort) {
          fail(cw, `${k}=${v}: no Service ${m[1]} with port ${m[2]} in the rendered output`);
          continue;
        }
        const target = workloadForService(svc);
        if (!target) {
          fail(cw, `${k}=${v}: Service ${m[1]} selects no workload`);
          continue;
        }
        const tc = target.spec.template.spec.containers[0];
        const tp = typeof svcPort.targetPort === "string"
          ? tc.ports?.find((p) => p.name === svcPort.targetPort)?.containerPort
          : svcPort.targetPort ?? svcPort.port;
        edges.push({ from: w, to: target, port: tp });
      }
    }

    facts.push(`${w.metadata.name}: ${(w._facts ?? []).join("; ")}`);
    delete w._facts;

    // A Service with named grpc and metrics ports selects this workload.
    const svc = services.find((s) => s.spec?.selector && matches({ matchLabels: s.spec.selector }, podLabels(w)));
    if (!svc) {
      fail(where, "no Service selects its pods");
    } else {
      const c = pod.containers[0];
      for (const portName of ["grpc", "metrics"]) {
        const sp = svc.spec.ports?.find((p) => p.name === portName);
        if (!sp) {
          fail(`${name}: ${describe(svc)}`, `no port named ${portName}`);
          continue;
        }
        const resolved = typeof sp.targetPort === "string"
          ? c.ports?.find((p) => p.name === sp.targetPort)?.containerPort
          : sp.targetPort ?? sp.port;
        if (resolved !== c.ports?.find((p) => p.name === portName)?.containerPort) {
          fail(`${name}: ${describe(svc)}`, `port ${portName} does not reach the ${portName} container port`);
        }
      }
    }
  }

  // Selectors of HPAs, PDBs and ServiceMonitors point at something.
  for (const h of hpas) {
    const ref = h.spec.scaleTargetRef;
    if (!find(ref.kind, ref.name)) fail(`${name}: ${describe(h)}`, `scaleTargetRef ${ref.kind}/${ref.name} is not in the rendered output`);
  }
  for (const p of byKind("PodDisruptionBudget")) {
    if (!workloads.some((w) => matches(p.spec.selector, podLabels(w)))) fail(`${name}: ${describe(p)}`, "selects no pods");
  }
  for (const sm of byKind("ServiceMonitor")) {
    const selected = services.filter((s) => matches(sm.spec.selector, s.metadata?.labels));
    if (selected.length === 0) fail(`${name}: ${describe(sm)}`, "selects no Service");
    for (const s of selected) {
      for (const ep of sm.spec.endpoints ?? []) {
        if (ep.port && !s.spec.ports?.some((p) => p.name === ep.port)) {
          fail(`${name}: ${describe(sm)}`, `Service ${s.metadata.name} has no port named ${ep.port}`);
        }
      }
    }
    const unscraped = workloads.filter((w) => !selected.some((s) => matches({ matchLabels: s.spec.selector }, podLabels(w))));
    for (const w of unscraped) fail(`${name}: ${describe(sm)}`, `does not scrape ${w.metadata.name}`);
  }

  // NetworkPolicies: when present, exactly the calls the settings make.
  if (policies.length > 0) {
    const beforePolicies = failures;
    const selecting = (w, type) =>
      policies.filter((p) => matches(p.spec.podSelector, podLabels(w)) &&
        (p.spec.policyTypes ?? ["Ingress"]).includes(type));
    const portAllowed = (rulePorts, number, namedAs) =>
      !rulePorts || rulePorts.length === 0 ||
      rulePorts.some((p) => p.port === undefined || p.port === number || p.port === namedAs);
    // A peer with only a podSelector means "this namespace"; with a
    // namespaceSelector too it may also be this namespace ({} or a match).
    const peerAllows = (peer, fromLabels) => !peer.ipBlock && peer.podSelector !== undefined &&
      matches(peer.podSelector, fromLabels) === true;
    const ingressAllows = (from, to, number) => selecting(to, "Ingress").some((p) =>
      (p.spec.ingress ?? []).some((r) =>
        (r.from ?? []).some((peer) => peerAllows(peer, podLabels(from))) &&
        portAllowed(r.ports, number, "grpc")));
    const egressAllows = (from, to, number) => selecting(from, "Egress").some((p) =>
      (p.spec.egress ?? []).some((r) =>
        (r.to ?? []).some((peer) => peerAllows(peer, podLabels(to))) &&
        portAllowed(r.ports, number, "grpc")));

    for (const w of workloads) {
      if (selecting(w, "Ingress").length === 0) fail(`${name}: ${describe(w)}`, "no NetworkPolicy restricts its ingress");
      if (selecting(w, "Egress").length === 0) fail(`${name}: ${describe(w)}`, "no NetworkPolicy restricts its egress");
      const metricsPort = w.spec.template.spec.containers[0].ports?.find((p) => p.name === "metrics")?.containerPort;
      const scrapable = selecting(w, "Ingress").some((p) => (p.spec.ingress ?? []).some((r) =>
        (r.ports ?? []).some((pt) => pt.port === "metrics" || pt.port === metricsPort)));
      if (!scrapable) fail(`${name}: ${describe(w)}`, "no NetworkPolicy lets Prometheus reach the metrics port");
    }
    for (const from of workloads) {
      for (const to of workloads) {
        if (from === to) continue;
        const toPort = to.spec.template.spec.containers[0].ports?.find((p) => p.name === "grpc")?.containerPort;
        const wanted = edges.some((e) => e.from === from && e.to === to);
        const inOk = ingressAllows(from, to, toPort);
        const outOk = egressAllows(from, to, toPort);
        const pair = `${from.metadata.name} -> ${to.metadata.name}:${toPort}`;
        if (wanted && !(inOk && outOk)) {
          fail(`${name}: NetworkPolicy`, `${pair} is configured (HANDOFF_*_ADDRESS) but not allowed (${inOk ? "" : "ingress "}${outOk ? "" : "egress"})`.replace(" )", ")"));
        }
        if (!wanted && (inOk || outOk)) {
          fail(`${name}: NetworkPolicy`, `${pair} is allowed (${inOk ? "ingress " : ""}${outOk ? "egress" : ""}) but the settings make no such call`.replace(" )", ")"));
        }
      }
    }
    if (failures === beforePolicies) facts.push(`NetworkPolicies allow exactly the configured calls: ${edges.map((e) => `${e.from.metadata.name.replace("handoff-", "")}->${e.to.metadata.name.replace("handoff-", "")}`).join(", ")}`);
  } else {
    facts.push(`calls configured: ${edges.map((e) => `${e.from.metadata.name.replace("handoff-", "")}->${e.to.metadata.name.replace("handoff-", "")}`).join(", ")} (no NetworkPolicies in this overlay)`);
  }
  return facts;
}

// ---------------------------------------------------------------- main
const strictEntries = [];
for (const input of inputs) {
  const objects = parseRendered(input.file);
  const kinds = {};
  for (const obj of objects) kinds[obj.kind] = (kinds[obj.kind] ?? 0) + 1;
  const summary = Object.entries(kinds).sort().map(([k, n]) => `${n} ${k}`).join(", ");
  console.log(`${input.name}: ${objects.length} objects (${summary})`);
  const before = failures;
  for (const obj of objects) {
    const where = `${input.name}: ${describe(obj)}`;
    if (!obj?.metadata?.name) fail(where, "metadata.name is missing");
    const model = await loadModel(obj.apiVersion, obj.kind);
    if (!model) {
      fail(where, `no schema for apiVersion ${obj.apiVersion} kind ${obj.kind}`);
      continue;
    }
    try {
      new model.Model(obj).validate();
    } catch (e) {
      fail(where, `schema: ${e.message}`);
    }
    strictEntries.push({ obj, spec: model.spec, where });
  }
  if (failures === before) console.log("  schema: every object valid");
  if (!schemaOnly) {
    const beforeRules = failures;
    const facts = semanticChecks(input.name, objects);
    for (const fact of facts) console.log(`  ${fact}`);
    if (failures === beforeRules) console.log("  Handoff rules: all hold");
  }
}

if (!noStrict) {
  console.log(`strict field check (TypeScript), ${strictEntries.length} objects:`);
  if (strictCheck(strictEntries) === 0) console.log("  no unknown or mistyped fields");
}

if (failures > 0) {
  console.log(`validate-k8s: ${failures} problem(s)`);
  process.exit(1);
}
