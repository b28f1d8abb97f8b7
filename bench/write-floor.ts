// The kernel's floor for the fan-out's latency: bench/write-floor.c writes the bench stream's
// interleaved frames (same sizes, same GOP) to N loopback TCP connections, one write() per client
// per frame, from one or two threads, and times each frame from its due instant to the last write's
// return. No Node, no RTSP: what the machine itself takes to move the bytes, beside which the fan-out
// bench's "push→last write" (smolrtsp and the Node floor) can be read.
//
//   npm run bench:write-floor [-- --clients 200,500 --writers 1,2 --seconds 10 --no-write]
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { H264Packetizer } from '../src/codecs/h264/packetizer.js';
import { RtpBatchWriter } from '../src/rtp/batch.js';
import { writeBenchmarksSection } from './benchmarks-md.js';
import { buildCProgram } from './c-build.js';
import { buildSyntheticStream } from './frames.js';

const SOURCE = fileURLToPath(new URL('./write-floor.c', import.meta.url));
const START = '<!-- write-floor:start -->';
const END = '<!-- write-floor:end -->';

interface Stats {
  frames: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}
interface Run {
  clients: number;
  writers: number;
  seconds: number;
  keyframeWriteBytes: number;
  deltaWriteBytes: number;
  shortWrites: number;
  wouldBlock: number;
  cpuS: number;
  all: Stats;
  keyframes: Stats;
  deltas: Stats;
  loadAvg: number;
}

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '50,200,500' },
    writers: { type: 'string', default: '1,2' },
    seconds: { type: 'string', default: '10' },
    'no-write': { type: 'boolean', default: false },
  },
});
const clientCounts = values.clients.split(',').map(Number);
const writerCounts = values.writers.split(',').map(Number);
const seconds = Number(values.seconds);
if ([...clientCounts, ...writerCounts, seconds].some((x) => !Number.isInteger(x) || x < 1)) {
  console.error('write-floor: --clients, --writers and --seconds take positive integers');
  process.exit(2);
}

const build = buildCProgram(SOURCE, ['-lpthread']);
if ('skipped' in build) {
  console.log(`write floor skipped: ${build.skipped}`);
  process.exit(0);
}

// The exact bytes smolrtsp and the Node floor write per client per frame: one interleaved batch.
const stream = buildSyntheticStream();
const packetizer = new H264Packetizer({ mtu: 1400 });
const writer = new RtpBatchWriter({ payloadType: 96, ssrc: 1, initialSequence: 0 });
const keyframeWriteBytes = packetizer.packetize(stream.keyframe, 0, writer).framed.length;
const deltaWriteBytes = packetizer.packetize(stream.delta, 3600, writer).framed.length;

const runs: Run[] = [];
for (const clients of clientCounts) {
  for (const writers of writerCounts) {
    const loadAvg = loadavg()[0];
    const out = execFileSync(
      build.path,
      [clients, writers, seconds, keyframeWriteBytes, deltaWriteBytes, stream.gop, stream.fps].map(String),
      { encoding: 'utf8', timeout: (seconds + 30) * 1000 },
    );
    const run = { ...(JSON.parse(out) as Omit<Run, 'loadAvg'>), loadAvg };
    runs.push(run);
    console.log(
      `${clients} clients, ${writers} writer thread(s): push→last write p50 ${run.all.p50Ms.toFixed(2)} / ` +
        `p99 ${run.all.p99Ms.toFixed(2)} / max ${run.all.maxMs.toFixed(2)} ms; CPU ${run.cpuS.toFixed(2)} s`,
    );
  }
}

const f2 = (x: number) => x.toFixed(2);
const rows = runs.map((r) =>
  [
    r.clients,
    r.writers,
    `${f2(r.all.p50Ms)} / ${f2(r.all.p99Ms)} / ${f2(r.all.maxMs)}`,
    `${f2(r.deltas.p50Ms)} / ${f2(r.deltas.p99Ms)}`,
    `${f2(r.keyframes.p50Ms)} / ${f2(r.keyframes.maxMs)}`,
    f2((r.all.p50Ms * 1000) / r.clients),
    `${f2(r.cpuS)} / ${r.seconds} s`,
    r.shortWrites + r.wouldBlock,
    f2(r.loadAvg),
  ].join(' | '),
);
const section = `${START}
## Push → last write: the kernel's floor

Produced by \`npm run bench\` (\`npm run bench:write-floor\`, bench/write-floor.ts). Last run: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, ${cpus().length} cores.
bench/write-floor.c, in C: N loopback TCP connections to itself, the bench stream's frames
(interleaved: ${keyframeWriteBytes} bytes per IDR, ${deltaWriteBytes} per P frame, one IDR every ${stream.gop} frames, ${stream.fps} fps), one
\`write()\` per connection per frame from W threads, each with a slice of the connections, timed from
the frame's due instant until every thread's last write had returned; a reader thread drains every
connection with epoll, as the load client does. No Node, no RTSP, no RTP headers to stamp: what this
machine's kernel takes to move one frame to N clients. The fan-out's "push→last write" (smolrtsp and
the Node floor, same stream) is in the fan-out details above; ${seconds} s per row.

| clients | writer threads | push→last write p50 / p99 / max ms | P frames p50 / p99 ms | IDR p50 / max ms | µs per client (p50) | CPU (writers + reader) | short writes | load avg |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.map((r) => `| ${r} |`).join('\n')}

On loopback the receiving side's TCP processing (the segment's delivery into the reader's socket,
the reader's wake-up) runs inside the sender's \`write()\`, so each write costs several
microseconds whatever the program around it. A second thread helps only as far as the
second core is free: here it is shared with the reading side.
${END}`;
console.log(`\n${section}`);
if (!values['no-write']) writeBenchmarksSection(START, END, section);
