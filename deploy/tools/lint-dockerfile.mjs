// Lints deploy/docker/Dockerfile without a Docker engine.
//
//   node lint-dockerfile.mjs deploy/docker/Dockerfile
//
// 1. dockerfile-utils (the validator behind VS Code's Dockerfile support):
//    syntax, instruction arguments, flags, JSON forms; warnings count as errors.
// 2. Rules in the spirit of hadolint (not packaged for Debian or npm), with
//    its rule ids where one exists, plus what issue 4 asks of the image.
import fs from "node:fs";
import path from "node:path";
import { validate, ValidationSeverity } from "dockerfile-utils";
import { DockerfileParser } from "dockerfile-ast";

const file = process.argv[2];
if (!file) {
  console.error("usage: node lint-dockerfile.mjs DOCKERFILE");
  process.exit(2);
}
const content = fs.readFileSync(file, "utf8");
let failures = 0;
const checks = [];
function check(ok, rule, message) {
  if (ok) {
    checks.push(rule);
  } else {
    failures++;
    console.log(`  FAIL ${rule}: ${message}`);
  }
}

// ---------------------------------------------------------------- 1. validator
const all = ValidationSeverity.ERROR;
const diagnostics = validate(content, {
  deprecatedMaintainer: all,
  directiveCasing: all,
  emptyContinuationLine: all,
  instructionCasing: all,
  instructionCmdMultiple: all,
  instructionEntrypointMultiple: all,
  instructionHealthcheckMultiple: all,
  instructionJSONInSingleQuotes: all,
  instructionWorkdirRelative: all,
});
for (const d of diagnostics) {
  failures++;
  console.log(`  FAIL ${path.basename(file)}:${d.range.start.line + 1}: ${d.message}`);
}
console.log(`dockerfile-utils: ${diagnostics.length} diagnostic(s)`);

// ---------------------------------------------------------------- 2. rules
const dockerfile = DockerfileParser.parse(content);
const froms = dockerfile.getFROMs();
const instructions = dockerfile.getInstructions();
const stages = froms.map((from, i) => {
  const start = from.getRange().start.line;
  const end = i + 1 < froms.length ? froms[i + 1].getRange().start.line : Infinity;
  return {
    from,
    name: from.getBuildStage(),
    instructions: instructions.filter((ins) => {
      const line = ins.getRange().start.line;
      return line > start && line < end;
    }),
  };
});
const final = stages[stages.length - 1];
const args = (ins) => ins.getArgumentsContent() ?? "";

for (const s of stages) {
  const image = s.from.getImageName();
  const tag = s.from.getImageTag();
  check(tag && tag !== "latest", "DL3006/DL3007", `FROM ${image} must name a tag other than latest`);
}
check(stages.length >= 2, "multi-stage", "expected a build stage and a runtime stage");
check(stages[0]?.from.getImageName() === "debian" && stages[0]?.from.getImageTag() === "12",
  "build-on-debian-12", "the build stage must be FROM debian:12");
check(final?.from.getImageName() === "debian" && final?.from.getImageTag() === "12-slim",
  "run-on-debian-12-slim", "the runtime stage must be FROM debian:12-slim");

const users = final.instructions.filter((i) => i.getKeyword() === "USER");
const user = users.length ? args(users[users.length - 1]).trim() : "";
check(/^[1-9]\d*(:\d+)?$/.test(user), "DL3002",
  `the runtime stage must end as a numeric non-root USER (Kubernetes checks runAsNonRoot by uid), got "${user}"`);

for (const kw of ["ENTRYPOINT", "CMD"]) {
  const list = final.instructions.filter((i) => i.getKeyword() === kw);
  check(list.length === 1, `one-${kw.toLowerCase()}`, `the runtime stage needs exactly one ${kw}`);
  for (const ins of list) {
    let parsed = null;
    try {
      parsed = JSON.parse(args(ins));
    } catch {
      parsed = null;
    }
    check(Array.isArray(parsed), "DL3025", `${kw} must use the JSON (exec) form so no shell runs and SIGTERM reaches the process`);
  }
}
const entrypoint = final.instructions.find((i) => i.getKeyword() === "ENTRYPOINT");
check(entrypoint && /tini/.test(args(entrypoint)), "init-entrypoint",
  "the entrypoint should be tini, so SIGTERM is forwarded even before the service installs its handler");

for (const s of stages) {
  for (const ins of s.instructions) {
    const kw = ins.getKeyword();
    const text = args(ins);
    const line = ins.getRange().start.line + 1;
    if (kw === "ADD") check(false, "DL3020", `line ${line}: use COPY, not ADD`);
    if (kw !== "RUN") continue;
    if (/apt-get\s+install/.test(text)) {
      check(/--no-install-recommends/.test(text), "DL3015", `line ${line}: apt-get install without --no-install-recommends`);
      check(/\s-y\b|--yes|--assume-yes/.test(text), "DL3014", `line ${line}: apt-get install without -y`);
    }
    if (/apt-get\s+update|install-deps/.test(text)) {
      check(/rm -rf \/var\/lib\/apt\/lists/.test(text), "DL3009", `line ${line}: apt lists are not removed in the same RUN`);
    }
    if (/\b(curl|wget)\b[^|]*\|\s*(ba)?sh/.test(text)) check(false, "no-curl-pipe-sh", `line ${line}: piping a download into a shell`);
  }
}

const runtimeArg = final.instructions.find((i) => i.getKeyword() === "ARG" && /^RUNTIME_PACKAGES=/.test(args(i)));
check(runtimeArg, "runtime-package-list", "the runtime stage needs ARG RUNTIME_PACKAGES=\"...\" (check-runtime-libs reads it)");

for (const bin of ["handoff-persona", "handoff-campaign", "handoff-routing", "handoff-deal", "handoffctl"]) {
  check(content.includes(`/${bin}`), "all-binaries", `${bin} is not built and copied`);
}
const copies = final.instructions.filter((i) => i.getKeyword() === "COPY");
const fromBuild = (c) => (c.getFlags?.() ?? []).some((f) => f.getName() === "from" && f.getValue() === stages[0].name);
check(copies.some(fromBuild), "copy-from-build", `the runtime stage must COPY --from=${stages[0].name} (the build stage)`);
const exposed = final.instructions.filter((i) => i.getKeyword() === "EXPOSE").map(args).join(" ");
for (const port of [50051, 50052, 50053, 50054, 9101, 9102, 9103, 9104]) {
  check(exposed.split(/\s+/).includes(String(port)), "expose-ports", `port ${port} is not EXPOSEd`);
}

const ignoreFile = `${file}.dockerignore`;
if (fs.existsSync(ignoreFile)) {
  const ignored = fs.readFileSync(ignoreFile, "utf8").split("\n").map((l) => l.trim());
  for (const p of [".git", "build", ".cache"]) {
    check(ignored.includes(p), "dockerignore", `${path.basename(ignoreFile)} should exclude ${p}`);
  }
} else {
  check(false, "dockerignore", `${ignoreFile} is missing: the whole repository (build/, .git) would be sent`);
}

const passed = [...new Set(checks)];
console.log(`rules: ${passed.length} held (${passed.join(", ")})`);
if (failures > 0) {
  console.log(`lint-dockerfile: ${failures} problem(s)`);
  process.exit(1);
}
