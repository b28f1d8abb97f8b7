// What a user reads is what a user gets. From the packed package, installed into a fresh ESM project:
// - every TypeScript block of README.md compiles with TypeScript 5.9 under `tsc --init`'s strict
//   settings, without skipLibCheck, with and without the DOM lib, and with no `types` list at all;
// - the first example runs and ffprobe plays both of its streams;
// - every `smolrtsp serve …` command in README.md and in `smolrtsp serve --help`, and every
//   `npm start -- …` command in README.md, runs as written and ffprobe plays what it prints.
// The only changes to a command: `--host 127.0.0.1 --port N` (and `--tls-port M`) are appended, since
// tests bind loopback on free ports; devices and cameras the machine does not have are stood in for by
// an `ffmpeg` wrapper first on the PATH (lavfi for a raw /dev/video0, an H.264 file for an H.264
// camera, a local server for rtsp://10.0.0.7[:port]/); the files the commands name are made in the project.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createServer, type RtspServer } from '../../src/server/rtsp-server.js';
import { splitArgs } from '../../src/sources/ffmpeg.js';
import { createTestPattern } from '../../src/sources/testpattern/source.js';
import { ffprobeStreams } from '../helpers/clients.js';
import { requireTools } from '../helpers/tools.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const SAMPLE_264 = join(ROOT, 'fixtures/sample-640x480-25fps.264');

/** Fenced blocks of README.md with their language, dedented (blocks inside list items are indented). */
export function fencedBlocks(markdown: string): Array<{ lang: string; code: string }> {
  const blocks: Array<{ lang: string; code: string }> = [];
  const re = /^( *)```(\w*)\n([\s\S]*?)^\1```$/gm;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) {
    const indent = m[1].length;
    const code = m[3]
      .split('\n')
      .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
      .join('\n');
    blocks.push({ lang: m[2], code });
  }
  return blocks;
}

/** The serve and npm start commands a user can copy from README.md: `sh` blocks and inline code. */
export function readmeCommands(markdown: string): string[] {
  const commands: string[] = [];
  for (const b of fencedBlocks(markdown).filter((b) => b.lang === 'sh')) {
    for (const raw of b.code.split('\n')) {
      const line = stripComment(raw).trim();
      if (/^(\w+=\S+ )*(smolrtsp serve|npm start|npm install && npm start)\b/.test(line)) commands.push(line);
    }
  }
  const withoutBlocks = markdown.replace(/^ *```[\s\S]*?^ *```$/gm, '');
  for (const m of withoutBlocks.matchAll(/`([^`\n]+)`/g)) {
    if (/^(smolrtsp serve |npm start -- -)/.test(m[1])) commands.push(m[1]);
  }
  return commands;
}

/** A shell line without its trailing `# comment` (a # inside quotes stays). */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) return line.slice(0, i);
  }
  return line;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createTcpServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function sh(cmd: string, args: string[], cwd: string, timeout = 180_000): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: process.env });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

interface Served {
  child: ChildProcess;
  urls: string[];
  /** URLs printed as publish paths: they play once something publishes to them. */
  publishUrls: Set<string>;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts a long-running command and waits until it prints the URLs it serves. */
async function startServing(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; port: number; timeoutMs?: number },
): Promise<Served> {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  while (!out.includes(' is serving')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      killGroup(child);
      assert.fail(`${cmd} ${args.join(' ')} did not start serving:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 300));
  const urls = [...out.matchAll(new RegExp(`^ +(rtsp://127\\.0\\.0\\.1:${opts.port}/\\S*)`, 'gm'))].map(
    (m) => m[1],
  );
  const publishUrls = new Set(
    [
      ...out.matchAll(new RegExp(`^ +(rtsp://127\\.0\\.0\\.1:${opts.port}/\\S*) +\\(publish to it:`, 'gm')),
    ].map((m) => m[1]),
  );
  return { child, urls, publishUrls, output: () => out, exited };
}

/** A live H.264 encode published to `url` (a publish path plays once something publishes to it). */
function publishTo(url: string): ChildProcess {
  const args =
    '-nostdin -v error -re -f lavfi -i testsrc2=size=320x240:rate=25 -t 60 -c:v libx264 -tune zerolatency ' +
    '-g 25 -pix_fmt yuv420p -f rtsp -rtsp_transport tcp';
  return spawn('ffmpeg', [...args.split(' '), url], { stdio: 'ignore' });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

/**
 * ffprobe's `codec_name,codec_type,width,height` lines for a URL, over TCP. A stream whose source is
 * still starting (an ffmpeg path) answers 503 with Retry-After: asked again, as a user would.
 */
async function probe(url: string): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    // Asynchronous: the camera stand-in lives in this process and must keep answering meanwhile.
    const r = await ffprobeStreams(url, { entries: 'codec_name,codec_type,width,height', timeoutMs: 30_000 });
    if (r.code === 0 || !r.stderr.includes('503') || Date.now() > deadline) {
      assert.equal(r.code, 0, `ffprobe ${url}: ${r.stderr}${r.timedOut ? ' (timed out)' : ''}`);
      return r.lines;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function assertPlays(url: string, expectVideo = /^(h264|hevc),video,\d+,\d+$/): Promise<string[]> {
  const streams = await probe(url);
  assert.ok(
    streams.some((s) => expectVideo.test(s)),
    `${url}: ffprobe saw ${JSON.stringify(streams)}`,
  );
  return streams;
}

/** The ffmpeg stand-in: rewrites the inputs of a machine with no camera, then runs the real ffmpeg. */
function writeFfmpegStandIn(binDir: string, cameraPort: number): void {
  const real = spawnSync('sh', ['-c', 'command -v ffmpeg'], { encoding: 'utf8' }).stdout.trim();
  const script = `#!/usr/bin/env bash
# Test stand-in: a V4L2 /dev/video0 becomes lavfi (raw) or an H.264 file (-input_format h264);
# rtsp://10.0.0.7/ becomes a camera server on this machine. Everything else goes to ffmpeg as is.
args=(); v4l2=; fmt=; size=640x480; rate=25
while [ $# -gt 0 ]; do
  case "$1" in
    -f) if [ "$2" = v4l2 ]; then v4l2=1; shift 2; continue; fi ;;
    -input_format) if [ -n "$v4l2" ]; then fmt=$2; shift 2; continue; fi ;;
    -framerate) if [ -n "$v4l2" ]; then rate=$2; shift 2; continue; fi ;;
    -video_size) if [ -n "$v4l2" ]; then size=$2; shift 2; continue; fi ;;
    -i) if [ "$2" = /dev/video0 ]; then
          if [ "$fmt" = h264 ]; then args+=(-re -stream_loop -1 -f h264 -i '${SAMPLE_264}')
          else args+=(-re -f lavfi -i "testsrc2=size=$size:rate=$rate"); fi
          v4l2=; shift 2; continue
        fi ;;
  esac
  args+=("\${1//rtsp:\\/\\/10.0.0.7\\//rtsp://127.0.0.1:${cameraPort}/}")
  shift
done
exec '${real}' "\${args[@]}"
`;
  writeFileSync(join(binDir, 'ffmpeg'), script);
  chmodSync(join(binDir, 'ffmpeg'), 0o755);
}

/** Users and passwords a command's streams need: from `--user` and from the README's config. */
function credentialsFor(args: string[], env: NodeJS.ProcessEnv): Map<string, string> {
  const creds = new Map<string, string>();
  const user = args.indexOf('--user');
  if (user >= 0) creds.set('*', args[user + 1]);
  if (args.includes('--config')) creds.set('/cam', `viewer:${env.VIEWER_PASSWORD}`);
  return creds;
}

function withCredentials(url: string, creds: Map<string, string>): string {
  const path = new URL(url).pathname;
  const c = creds.get(path) ?? creds.get('*');
  return c ? url.replace('rtsp://', `rtsp://${c}@`) : url;
}

describe('README and --help, from the packed package', { timeout: 600_000 }, () => {
  it('finds the commands and code blocks it checks', () => {
    const cmds = readmeCommands(README);
    assert.ok(cmds.some((c) => c.startsWith('npm install && npm start')));
    assert.ok(cmds.filter((c) => c.startsWith('smolrtsp serve')).length >= 5, JSON.stringify(cmds));
    assert.ok(fencedBlocks(README).filter((b) => b.lang === 'ts').length >= 3);
  });

  it('compiles every TypeScript block, runs the first example, runs every command', async (t: TestContext) => {
    if (!requireTools(t, 'ffmpeg', 'ffprobe', 'openssl', 'npm')) return;
    const work = mkdtempSync(join(tmpdir(), 'smolrtsp-docs-'));
    const project = join(work, 'project');
    mkdirSync(project);

    // The package as published.
    sh('npm', ['pack', '--silent', '--pack-destination', work], ROOT, 300_000);
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack made a tarball');
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'docs-check', private: true, type: 'module' }),
    );
    sh(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        join(work, tarball),
        'typescript@~5.9.3',
        '@types/node@20',
      ],
      project,
      300_000,
    );
    const installed = readdirSync(join(project, 'node_modules'));
    assert.ok(!installed.includes('mediabunny'), 'mediabunny is bundled, not installed');

    // Every TypeScript block, as its own module.
    const blocks = fencedBlocks(README).filter((b) => b.lang === 'ts');
    const files = blocks.map((b, i) => {
      const name = `block${i}.ts`;
      writeFileSync(join(project, name), b.code);
      return name;
    });
    // What `tsc --init` writes in TypeScript 5.9, without skipLibCheck, for Node.
    const strict = {
      module: 'nodenext',
      target: 'esnext',
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      verbatimModuleSyntax: true,
      isolatedModules: true,
      noUncheckedSideEffectImports: true,
      moduleDetection: 'force',
      skipLibCheck: false,
      outDir: 'out',
    };
    const variants: Record<string, object> = {
      'tsconfig.dom.json': { ...strict, types: ['node'] },
      'tsconfig.es2023.json': { ...strict, types: ['node'], lib: ['es2023'], outDir: 'out-es2023' },
      'tsconfig.alltypes.json': { ...strict, outDir: 'out-alltypes' },
    };
    for (const [name, compilerOptions] of Object.entries(variants)) {
      writeFileSync(join(project, name), JSON.stringify({ compilerOptions, files }, null, 2));
      const r = spawnSync(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', name], {
        cwd: project,
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, `tsc -p ${name}:\n${r.stdout}${r.stderr}`);
    }

    // The first example, run: the README's port 8554 on all addresses becomes a free loopback port.
    copyFileSync(SAMPLE_264, join(project, 'clip.264'));
    const examplePort = await freePort();
    const js = readFileSync(join(project, 'out/block0.js'), 'utf8');
    assert.equal(
      js.split('createServer({ port: 8554 })').length,
      2,
      'the first example listens on 8554 once',
    );
    writeFileSync(
      join(project, 'example.mjs'),
      js.replace('createServer({ port: 8554 })', `createServer({ port: ${examplePort}, host: '127.0.0.1' })`),
    );
    {
      const child = spawn(process.execPath, ['example.mjs'], {
        cwd: project,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        const deadline = Date.now() + 20_000;
        while (!out.includes('serving rtsp://')) {
          assert.ok(Date.now() < deadline && child.exitCode === null, `the example did not start:\n${out}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.deepEqual(await probe(`rtsp://127.0.0.1:${examplePort}/test`), ['h264,video,1280,720']);
        assert.deepEqual(await probe(`rtsp://127.0.0.1:${examplePort}/cam`), ['h264,video,640,480']);
      } finally {
        child.kill('SIGINT');
      }
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('hung'), 10_000))]);
      assert.equal(code, 0, `the example exits on SIGINT:\n${out}`);
    }

    // Files, certificate and users the commands name.
    for (const [name, args] of [
      [
        'movie.mp4',
        [
          '-f',
          'lavfi',
          '-i',
          'testsrc2=size=640x360:rate=25',
          '-f',
          'lavfi',
          '-i',
          'sine=frequency=440',
          '-t',
          '4',
          '-c:v',
          'libx264',
          '-pix_fmt',
          'yuv420p',
          '-c:a',
          'aac',
          '-shortest',
        ],
      ],
      [
        'clip.mp4',
        [
          '-f',
          'lavfi',
          '-i',
          'testsrc2=size=320x240:rate=25',
          '-t',
          '3',
          '-c:v',
          'libx264',
          '-pix_fmt',
          'yuv420p',
        ],
      ],
    ] as const) {
      sh('ffmpeg', ['-v', 'error', '-y', ...args, name], project);
    }
    sh(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-days',
        '1',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
      ],
      project,
    );
    const config = fencedBlocks(README).find((b) => b.lang === 'yaml' && /^paths:/m.test(b.code));
    assert.ok(config, 'the README has a config file example');
    writeFileSync(join(project, 'smolrtsp.yaml'), config.code);

    // The README's hash-password line prints the HA1 its config holds.
    const hashLine = fencedBlocks(README)
      .filter((b) => b.lang === 'sh')
      .flatMap((b) => b.code.split('\n'))
      .find((l) => l.includes('smolrtsp hash-password'));
    assert.ok(hashLine, 'the README shows hash-password');
    const binDir = join(project, 'node_modules/.bin');
    const hashed = spawnSync('sh', ['-c', hashLine], {
      cwd: project,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${binDir}:${process.env.PATH}` },
    });
    assert.equal(hashed.status, 0, hashed.stderr);
    assert.ok(
      config.code.includes(`ha1Md5: ${hashed.stdout.trim()}`),
      `${hashed.stdout} is the config's HA1`,
    );

    // A camera for rtsp://10.0.0.7/stream1, and the ffmpeg stand-in that points there. It also
    // stands in for the origin of the scale-out section, whose edges relay rtsp://10.0.0.7:8554/live.
    const camera: RtspServer = await createServer({ host: '127.0.0.1', port: 0 });
    const cameraPatterns = ['/stream1', '/live'].map((path) =>
      createTestPattern(camera.addStream(path, { video: { codec: 'H264' } }).video!, {
        width: 320,
        height: 240,
        fps: 25,
        gopFrames: 25,
        label: path,
      }),
    );
    const standIns = join(work, 'bin');
    mkdirSync(standIns);
    writeFfmpegStandIn(standIns, camera.port);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${standIns}:${binDir}:${process.env.PATH}`,
      SMOLRTSP_USERS: '',
    };

    const help = sh(join(binDir, 'smolrtsp'), ['serve', '--help'], project);
    const examples = help.slice(help.indexOf('\nExamples:\n'));
    const helpCommands = [...examples.matchAll(/^ {2}(smolrtsp serve .*)$/gm)].map((m) => m[1]);
    assert.ok(helpCommands.length >= 4, `--help shows examples:\n${help}`);
    const commands = [...new Set([...readmeCommands(README), ...helpCommands])];
    const report: string[] = [];
    try {
      for (const command of commands) {
        const port = await freePort();
        const tail = ['--host', '127.0.0.1', '--port', String(port)];
        let cmd: string;
        let args: string[];
        let cwd = project;
        // Leading NAME=value words set the command's environment, as in a shell.
        const words = splitArgs(command);
        const commandEnv = { ...env };
        while (/^\w+=/.test(words[0])) {
          const [name, ...value] = words.shift()!.split('=');
          commandEnv[name] = value.join('=');
        }
        if (words[0] === 'smolrtsp') {
          cmd = join(binDir, 'smolrtsp');
          // A relay of the camera (or origin) at rtsp://[user:pass@]10.0.0.7[:port]/ pulls the local
          // camera server.
          args = [...words.slice(1), ...tail].map((a) =>
            a.replace(
              /^(rtsp:\/\/(?:[^@/]*@)?)10\.0\.0\.7(?::\d+)?\//,
              (_m, pre: string) => `${pre}127.0.0.1:${camera.port}/`,
            ),
          );
          if (args.includes('--config')) args.push('--tls-port', String(await freePort()));
        } else {
          // `npm install && npm start`: installed already (CI ran npm ci); then npm start as written.
          const npmArgs = splitArgs(command.replace(/^npm install && /, ''));
          cmd = 'npm';
          args = [...npmArgs.slice(1), ...(npmArgs.includes('--') ? [] : ['--']), ...tail];
          cwd = ROOT;
        }
        if (args.includes('--help')) {
          assert.match(sh(cmd, args, cwd), /^Usage:$/m, `${command} prints the help`);
          report.push(`${command}\n    printed the help`);
          continue;
        }
        const served = await startServing(cmd, args, { cwd, env: commandEnv, port });
        try {
          assert.ok(served.urls.length > 0, `${command}: no URL printed:\n${served.output()}`);
          const creds = credentialsFor(args, commandEnv);
          for (const url of served.urls) {
            const publisher = served.publishUrls.has(url)
              ? publishTo(withCredentials(url, creds))
              : undefined;
            try {
              const streams = await assertPlays(withCredentials(url, creds));
              report.push(
                `${command}\n    ${url}: ${streams.join(' | ')}${publisher ? ' (published by ffmpeg)' : ''}`,
              );
            } finally {
              publisher?.kill('SIGKILL');
            }
          }
        } finally {
          killGroup(served.child);
          const code = await Promise.race([
            served.exited,
            new Promise((r) => setTimeout(() => r('hung'), 15_000)),
          ]);
          if (code === 'hung') killGroup(served.child, 'SIGKILL');
          // npm itself dies of the signal it passes on; the server under it must have stopped cleanly.
          if (cmd === 'npm') {
            // npm may be gone before the server under it has finished: wait for its last line.
            const deadline = Date.now() + 10_000;
            while (!served.output().includes('"msg":"stopped"') && Date.now() < deadline)
              await new Promise((r) => setTimeout(r, 100));
            assert.match(served.output(), /"msg":"stopped"/, `${command}: stops on SIGTERM`);
          } else assert.equal(code, 0, `${command}: exit on SIGTERM\n${served.output()}`);
        }
      }
    } finally {
      for (const p of cameraPatterns) p.stop();
      await camera.close();
    }
    t.diagnostic(`played:\n${report.join('\n')}`);
  });
});
