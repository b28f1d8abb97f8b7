// A relay does not lose the upstream's first keyframe when it comes with the PLAY answer (in the
// same TCP segment, or over UDP just before it): that keyframe is what its players start from.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RtpPacketBatch } from '../../src/rtp/batch.js';
import { createServer } from '../../src/server/rtsp-server.js';
import { RelaySource } from '../../src/sources/relay.js';
import { eagerServer } from '../helpers/eager-rtsp-server.js';

describe('RelaySource: media with the upstream PLAY answer', () => {
  for (const transport of ['tcp', 'udp'] as const) {
    it(`${transport}: the first two units reach the relayed track, the keyframe first`, async () => {
      const upstream = await eagerServer();
      const server = await createServer({ host: '127.0.0.1', port: 0, rtpPortRange: [45000, 45999] });
      const relay = new RelaySource({ url: upstream.url, transport, retry: { initialDelayMs: 5000 } });
      const keyframes: boolean[] = [];
      try {
        const stream = server.addStream('/cam', { tracks: [...(await relay.open())] });
        relay.on('tracks', () => {
          stream.video?.subscribe({ deliver: (batch: RtpPacketBatch) => keyframes.push(batch.keyframe) });
        });
        relay.start(stream);
        const deadline = Date.now() + 3000;
        while (keyframes.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(keyframes, [true, false]);
      } finally {
        relay.stop();
        await server.close();
        upstream.close();
      }
    });
  }
});
