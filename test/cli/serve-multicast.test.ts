// `smolrtsp serve --multicast GROUP:PORT` as a user runs it, inside a network namespace the test
// creates (only loopback, with multicast routed to it; never a real network): ffmpeg with
// `-rtsp_transport udp_multicast` decodes the CLI-served path, and /metrics counts it as multicast.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireNetns, requireTools, run } from '../helpers/tools.js';

const SCENARIO = fileURLToPath(new URL('../helpers/cli-multicast-netns.ts', import.meta.url));
const NAMESPACE_SETUP =
  'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && ' +
  'exec node --import tsx "$0"';

describe('serve --multicast (in a network namespace)', () => {
  it('ffmpeg (-rtsp_transport udp_multicast) decodes the CLI-served path from the group', async (t) => {
    if (!requireNetns(t) || !requireTools(t, 'ffmpeg')) return;
    const r = await run('unshare', ['-n', 'sh', '-c', NAMESPACE_SETUP, SCENARIO], 90_000);
    const line = r.stdout.toString().trim().split('\n').pop() ?? '';
    // biome-ignore lint/suspicious/noExplicitAny: the scenario's JSON, checked field by field.
    let s: any;
    try {
      s = JSON.parse(line);
    } catch {
      assert.fail(`the scenario printed no result (exit ${r.code}): ${r.stderr.toString().slice(-2000)}`);
    }
    assert.equal(s.error, undefined, s.error);
    assert.ok(s.ffmpeg.frames >= 50, `ffmpeg decoded ${s.ffmpeg.frames} frames in 4 s`);
    assert.equal(s.ffmpeg.errors, '');
    assert.match(String(s.playing), /^udp multicast 239\.255\.12\.2:5010-5011 ttl=1$/);
    const sent = (s.metrics as string[]).find((l) => l.startsWith('smolrtsp_sent_packets_total{'));
    assert.ok(sent && Number(sent.split(' ').pop()) > 0, `multicast sends counted: ${s.metrics.join('\n')}`);
    assert.ok(
      (s.metrics as string[]).some((l) => /^smolrtsp_readers\{.*\} 1$/.test(l)),
      `one multicast reader: ${s.metrics.join('\n')}`,
    );
    assert.equal(s.exit, 0);
    t.diagnostic(`ffmpeg decoded ${s.ffmpeg.frames} frames from ${s.playing}`);
  });
});
