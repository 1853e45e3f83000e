/**
 * A second real S3 server for end-to-end tests: Ceph's RADOS Gateway (RGW) on a throw-away
 * single-node Ceph cluster (one mon, one memstore OSD, one radosgw), all on 127.0.0.1, all
 * state in a fresh temp dir, stopped by process id.
 *
 * Needs Debian's `radosgw ceph-mon ceph-osd ceph-common` (see scripts/install_rgw.sh). Never
 * touches /etc/ceph, /var/lib/ceph or /var/log/ceph: every command gets `-c <temp>/ceph.conf`
 * and `CEPH_CONF`, and the config points every path into the temp dir.
 *
 * @module
 */
import { ListBucketsCommand } from "@aws-sdk/client-s3";
import { testClient } from "./s3_server.ts";

/** A running RGW and the Ceph daemons behind it. */
export interface RgwProcess {
  /** e.g. http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** pids of every daemon started (mon, osd, radosgw), for diagnostics */
  readonly pids: number[];
  /** The temp dir holding config, data and logs (`log/`); removed by stop(). */
  readonly dir: string;
  /** Stops every daemon it started, by process id (SIGTERM, then SIGKILL after a timeout), and removes its temp dir. */
  stop(): Promise<void>;
}

/** Options of {@linkcode startRgw}. */
export interface RgwOptions {
  /**
   * Storage classes besides STANDARD that PutObject/CopyObject accept (all stored in the same
   * pool); stock RGW answers 400 InvalidArgument to any other. Default:
   * {@linkcode RGW_STORAGE_CLASSES}.
   */
  storageClasses?: string[];
  /**
   * Extra `name = value` lines for radosgw's config section, e.g.
   * `{ rgw_crypt_require_ssl: false }` to accept SSE headers over plain HTTP.
   */
  rgwConfig?: Record<string, string | number | boolean>;
}

/** The storage classes created when {@linkcode startRgw} is given none (STANDARD always exists). */
export const RGW_STORAGE_CLASSES: readonly string[] = [
  "STANDARD_IA",
  "ONEZONE_IA",
  "INTELLIGENT_TIERING",
  "GLACIER_IR",
  "GLACIER",
  "DEEP_ARCHIVE",
  "REDUCED_REDUNDANCY",
  "OUTPOSTS",
  "SNOW",
  "EXPRESS_ONEZONE",
];

const BINARIES = ["ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "monmaptool"];

/** Overall start-up budget. */
const START_TIMEOUT_MS = 90_000;
/** How long stop() waits after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5_000;
/**
 * memstore keeps object data in RAM (the OSD's RSS grows by about twice the bytes stored, and
 * deleted data is freed only after RGW's garbage collection). This size is what the OSD
 * reports as its capacity; without a ceph-mgr the mon never flags the pool full, so it is a
 * soft limit at best: keep test data small.
 */
const MEMSTORE_BYTES = 1024 * 1024 * 1024;
const POOLS = [
  ".rgw.root",
  "default.rgw.control",
  "default.rgw.meta",
  "default.rgw.log",
  "default.rgw.otp",
  "default.rgw.buckets.index",
  "default.rgw.buckets.data",
  "default.rgw.buckets.non-ec",
];

function which(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    if (!dir) continue;
    try {
      const info = Deno.statSync(`${dir}/${name}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return `${dir}/${name}`;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** True when the ceph binaries needed are installed (ceph-mon, ceph-osd, radosgw, radosgw-admin, ceph). */
export function rgwAvailable(): boolean {
  return missingRgwBinaries().length === 0;
}

/** The ceph binaries that {@linkcode startRgw} needs and that are not on PATH. */
export function missingRgwBinaries(): string[] {
  return BINARIES.filter((name) => which(name) === undefined);
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The last `lines` lines of a file (each cut to 300 characters), or "" when it can't be read. */
function tail(path: string, lines = 20): string {
  try {
    const text = Deno.readTextFileSync(path).trimEnd();
    return text.split("\n").slice(-lines).map((line) => line.slice(0, 300)).join("\n");
  } catch {
    return "";
  }
}

/** A daemon run in the foreground (`-f`), its stderr collected. */
class Daemon {
  readonly child: Deno.ChildProcess;
  #stderr = "";
  readonly #drained: Promise<void>;
  exited = false;
  readonly status: Promise<Deno.CommandStatus>;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    env: Record<string, string>,
    readonly logFile: string,
  ) {
    // With setpriv (util-linux), a daemon gets SIGKILL if the thread that spawned it dies, so a
    // test process killed before stop() leaves no daemons behind. setpriv execs: same pid.
    const setpriv = which("setpriv");
    const child = new Deno.Command(setpriv ?? command, {
      args: setpriv ? ["--pdeathsig", "KILL", "--", command, ...args] : args,
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.child = child;
    this.status = child.status.then((status) => {
      this.exited = true;
      return status;
    });
    this.#drained = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stderr) {
        this.#stderr = (this.#stderr + decoder.decode(chunk, { stream: true })).slice(-8192);
      }
    })().catch(() => {});
  }

  get pid(): number {
    return this.child.pid;
  }

  /** stderr and the end of the log file, for error messages. */
  diagnostics(): string {
    const stderr = this.#stderr.trim();
    return `--- ${this.name} (pid ${this.pid}${this.exited ? ", exited" : ""}) stderr:\n` +
      `${stderr || "(empty)"}\n--- ${this.logFile} (tail):\n${tail(this.logFile) || "(empty)"}`;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is reaped. */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    if (!this.exited) {
      try {
        this.child.kill("SIGTERM");
      } catch {
        // already gone
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = await Promise.race([
        this.status.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        try {
          this.child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    await this.status;
    await this.#drained;
  }
}

/** Thrown when a start-up step fails; carries the diagnostics. */
export class RgwStartError extends Error {
  constructor(message: string, readonly portInUse: boolean) {
    super(message);
    this.name = "RgwStartError";
  }
}

interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

class Cluster {
  readonly daemons: Daemon[] = [];
  readonly env: Record<string, string>;
  readonly conf: string;
  readonly deadline: number;

  constructor(readonly dir: string, deadline: number) {
    this.conf = `${dir}/ceph.conf`;
    this.deadline = deadline;
    const env: Record<string, string> = {};
    for (const name of ["PATH", "LANG", "LC_ALL", "TZ"]) {
      const value = Deno.env.get(name);
      if (value !== undefined) env[name] = value;
    }
    this.env = { ...env, CEPH_CONF: this.conf, HOME: dir, TMPDIR: dir };
    globalThis.addEventListener("unload", this.#onUnload);
  }

  /** Runs a command to completion, killed at the start deadline. */
  async run(command: string, args: string[], stdin?: string): Promise<ToolResult> {
    const remaining = this.deadline - Date.now();
    if (remaining <= 0) throw new RgwStartError(`timed out before running ${command}`, false);
    const child = new Deno.Command(command, {
      args,
      env: this.env,
      clearEnv: true,
      cwd: this.dir,
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, remaining);
    try {
      if (stdin !== undefined) {
        const writer = child.stdin.getWriter();
        await writer.write(new TextEncoder().encode(stdin));
        await writer.close();
      }
      const output = await child.output();
      const decoder = new TextDecoder();
      return {
        code: output.signal ? 128 : output.code,
        stdout: decoder.decode(output.stdout),
        stderr: decoder.decode(output.stderr),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs a command and throws with its output and the daemons' logs when it fails. */
  async check(command: string, args: string[], stdin?: string): Promise<string> {
    const result = await this.run(command, args, stdin);
    // `ceph` reading commands from stdin exits 0 even when one fails: look for "Error".
    const failed = result.code !== 0 || (stdin !== undefined && /^Error /m.test(result.stderr));
    if (failed) {
      throw this.error(
        `\`${command} ${args.join(" ")}\` failed (exit ${result.code}):\n` +
          `${result.stdout.trim()}\n${result.stderr.trim()}`,
      );
    }
    return result.stdout;
  }

  spawn(name: string, command: string, args: string[], logFile: string): Daemon {
    const daemon = new Daemon(name, command, args, this.env, `${this.dir}/log/${logFile}`);
    this.daemons.push(daemon);
    return daemon;
  }

  error(message: string): RgwStartError {
    // The last daemon started is the likeliest culprit: its logs first.
    const diagnostics = this.daemons.toReversed().map((daemon) => daemon.diagnostics()).join(
      "\n",
    );
    const portInUse = /Address already in use|EADDRINUSE|unable to bind/i.test(
      message + diagnostics,
    );
    return new RgwStartError(
      `RGW start-up failed (temp dir ${this.dir}, removed): ${message}\n${diagnostics}`,
      portInUse,
    );
  }

  /** Throws if a daemon has exited. */
  assertRunning(): void {
    for (const daemon of this.daemons) {
      if (daemon.exited) throw this.error(`${daemon.name} exited during start-up`);
    }
  }

  /** Stops the daemons (radosgw, then the OSD while the mon can still acknowledge, then the
   * mon) and removes the temp dir. */
  async stop(): Promise<void> {
    try {
      for (const daemon of [...this.daemons].reverse()) await daemon.stop();
    } finally {
      globalThis.removeEventListener("unload", this.#onUnload);
      await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    }
  }

  /** Last resort when the test process exits without stop(): kill, don't leave daemons behind. */
  readonly #onUnload = () => {
    for (const daemon of this.daemons) {
      if (daemon.exited) continue;
      try {
        daemon.child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    try {
      Deno.removeSync(this.dir, { recursive: true });
    } catch {
      // best effort
    }
  };
}

function cephConf(
  dir: string,
  fsid: string,
  monPort: number,
  rgwPort: number,
  rgwConfig: Record<string, string | number | boolean>,
): string {
  const extra = Object.entries(rgwConfig).map(([name, value]) => `${name} = ${value}\n`).join("");
  return `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
ms bind msgr1 = false
ms bind msgr2 = true
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = false
ms mon client mode = crc secure
keyring = ${dir}/keyring
run dir = ${dir}/run
exec dir = ${dir}/run
crash dir = ${dir}/crash
admin socket = ${dir}/run/$cluster-$name.asok
pid file = ${dir}/run/$cluster-$name.pid
log file = ${dir}/log/$cluster-$name.log
log to stderr = false
log max recent = 500
mon cluster log file = default=${dir}/log/$cluster.$channel.log cluster=${dir}/log/$cluster.log
mon data = ${dir}/mon/$cluster-$id
osd data = ${dir}/osd/$cluster-$id
rgw data = ${dir}/rgw/$cluster-$id
mgr data = ${dir}/mgr/$cluster-$id
osd objectstore = memstore
memstore device bytes = ${MEMSTORE_BYTES}
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail crit = 1
mon data avail warn = 2
paxos propose interval = 0.05
paxos min wait = 0.01
osd op num shards = 2
osd op num threads per shard = 2
osd mon shutdown timeout = 1
osd scrub min interval = 86400000
osd scrub max interval = 86400000
osd deep scrub interval = 86400000

[client.admin]
# Retry waiting ops every 0.1 s (default 5 s): radosgw-admin runs while the OSD boots.
objecter tick interval = 0.1
client mount timeout = 30
rados mon op timeout = 60
rados osd op timeout = 60

[client.rgw.s3]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw thread pool size = 64
rgw enable usage log = false
rgw enable ops log = false
rgw gc obj min wait = 60
rgw gc processor period = 60
# A RADOS op that never completes (e.g. a full OSD) fails the request instead of hanging it.
rados osd op timeout = 60
rados mon op timeout = 60
${extra}`;
}

/** Adds `classes` to every placement target of the zonegroup JSON. */
function withZonegroupClasses(json: string, classes: string[]): string {
  const zonegroup = JSON.parse(json);
  for (const target of zonegroup.placement_targets ?? []) {
    target.storage_classes = [...new Set([...(target.storage_classes ?? []), ...classes])];
  }
  return JSON.stringify(zonegroup);
}

/** Adds `classes` to every placement pool of the zone JSON, stored in the STANDARD data pool. */
function withZoneClasses(json: string, classes: string[]): string {
  const zone = JSON.parse(json);
  for (const placement of zone.placement_pools ?? []) {
    const storageClasses = placement.val.storage_classes ??= {};
    const dataPool = storageClasses.STANDARD?.data_pool ?? "default.rgw.buckets.data";
    for (const name of classes) storageClasses[name] ??= { data_pool: dataPool };
  }
  return JSON.stringify(zone);
}

async function startOnce(options: Required<RgwOptions>): Promise<RgwProcess> {
  const dir = await Deno.makeTempDir({ prefix: "rgw-" });
  const cluster = new Cluster(dir, Date.now() + START_TIMEOUT_MS);
  try {
    for (const sub of ["log", "run", "crash", "mon", "osd/ceph-0", "rgw/ceph-rgw.s3"]) {
      await Deno.mkdir(`${dir}/${sub}`, { recursive: true });
    }
    const fsid = crypto.randomUUID();
    const monPort = freePort();
    const rgwPort = freePort();
    const conf = cluster.conf;
    await Deno.writeTextFile(conf, cephConf(dir, fsid, monPort, rgwPort, options.rgwConfig));

    // The mon.
    await cluster.check("monmaptool", [
      "-c",
      conf,
      "--create",
      "--fsid",
      fsid,
      "--addv",
      "a",
      `[v2:127.0.0.1:${monPort}]`,
      `${dir}/monmap`,
    ]);
    await cluster.check("ceph-mon", ["-c", conf, "--mkfs", "-i", "a", "--monmap", `${dir}/monmap`]);
    cluster.spawn("ceph-mon", "ceph-mon", ["-c", conf, "-f", "-i", "a"], "ceph-mon.a.log");

    // Register osd.0 and create RGW's pools in one `ceph` process (commands on stdin); the
    // pools' PGs become active once the OSD is up.
    const osdUuid = crypto.randomUUID();
    const commands = [
      `osd new ${osdUuid} 0`,
      ...POOLS.map((pool) => `osd pool create ${pool} 8 8 replicated`),
    ];
    await cluster.check(
      "ceph",
      ["-c", conf, "--connect-timeout", "30"],
      commands.join("\n") + "\n",
    );
    cluster.assertRunning();

    // The OSD, its data in RAM.
    await cluster.check("ceph-osd", ["-c", conf, "--mkfs", "-i", "0", "--osd-uuid", osdUuid]);
    cluster.spawn("ceph-osd", "ceph-osd", ["-c", conf, "-f", "-i", "0"], "ceph-osd.0.log");

    // The default zonegroup and zone (created by the first radosgw-admin command), the S3 user,
    // then the extra storage classes, all before radosgw starts.
    await cluster.check("radosgw-admin", [
      "-c",
      conf,
      "user",
      "create",
      "--uid=testing",
      "--display-name=testing",
      "--access-key=testing",
      "--secret=testing",
    ]);
    cluster.assertRunning();
    const extra = options.storageClasses.filter((name) => name !== "STANDARD");
    if (extra.length > 0) {
      const zonegroup = await cluster.check("radosgw-admin", ["-c", conf, "zonegroup", "get"]);
      await Deno.writeTextFile(`${dir}/zonegroup.json`, withZonegroupClasses(zonegroup, extra));
      await cluster.check("radosgw-admin", [
        "-c",
        conf,
        "zonegroup",
        "set",
        `--infile=${dir}/zonegroup.json`,
      ]);
      const zone = await cluster.check("radosgw-admin", ["-c", conf, "zone", "get"]);
      await Deno.writeTextFile(`${dir}/zone.json`, withZoneClasses(zone, extra));
      await cluster.check("radosgw-admin", [
        "-c",
        conf,
        "zone",
        "set",
        "--rgw-zone=default",
        `--infile=${dir}/zone.json`,
      ]);
    }

    // radosgw.
    const rgw = cluster.spawn(
      "radosgw",
      "radosgw",
      ["-c", conf, "-f", "-n", "client.rgw.s3"],
      "ceph-client.rgw.s3.log",
    );
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    await waitForS3(cluster, rgw, endpoint);

    const pids = cluster.daemons.map((daemon) => daemon.pid);
    let stopped: Promise<void> | undefined;
    return {
      endpoint,
      pids,
      dir,
      stop() {
        stopped ??= cluster.stop();
        return stopped;
      },
    };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/** Waits until an anonymous GET / answers, then until a signed ListBuckets succeeds. */
async function waitForS3(cluster: Cluster, rgw: Daemon, endpoint: string): Promise<void> {
  let lastError = "no answer yet";
  while (Date.now() < cluster.deadline) {
    cluster.assertRunning();
    try {
      const response = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(5_000) });
      await response.body?.cancel();
      break;
    } catch (error) {
      lastError = String(error);
    }
    // radosgw lingers ~5 s after failing to bind its port: don't wait for it to exit.
    if (/failed initializing frontend/.test(tail(rgw.logFile, 5))) {
      throw cluster.error(`radosgw could not start its HTTP frontend on ${endpoint}`);
    }
    await sleep(50);
  }
  const client = testClient(endpoint, { maxAttempts: 1 });
  try {
    while (Date.now() < cluster.deadline) {
      cluster.assertRunning();
      try {
        await client.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(5_000) });
        return;
      } catch (error) {
        lastError = String(error);
      }
      await sleep(100);
    }
  } finally {
    client.destroy();
  }
  throw cluster.error(
    `radosgw (pid ${rgw.pid}) did not answer a signed ListBuckets on ${endpoint} within ` +
      `${START_TIMEOUT_MS / 1000} s: ${lastError}`,
  );
}

/** Starts a single-node Ceph cluster + RGW on 127.0.0.1 free ports in a fresh temp dir; S3 user with access key "testing" and secret "testing" (the credentials the tests already use for moto). */
export async function startRgw(
  options: RgwOptions = {},
): Promise<RgwProcess> {
  if (!rgwAvailable()) {
    throw new Error(
      `RGW needs ${BINARIES.join(", ")} on PATH: run scripts/install_rgw.sh`,
    );
  }
  const resolved: Required<RgwOptions> = {
    storageClasses: options.storageClasses ?? [...RGW_STORAGE_CLASSES],
    rgwConfig: options.rgwConfig ?? {},
  };
  for (let attempt = 1;; attempt++) {
    try {
      return await startOnce(resolved);
    } catch (error) {
      // A free port picked here can be taken by someone else before the daemon binds it.
      if (error instanceof RgwStartError && error.portInUse && attempt < 3) continue;
      throw error;
    }
  }
}
