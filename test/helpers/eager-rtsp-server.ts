// A fake RTSP server that sends its first media with the PLAY answer: over TCP in the same write,
// over UDP 50 ms before the answer. Real servers do either (the first RTP right behind the answer;
// datagrams overtaking the TCP segment), and a client or relay that is not ready for it loses the
// keyframe it should start from.
import { createSocket } from 'node:dgram';
import { H264Packetizer } from '../../src/codecs/h264/packetizer.js';
import { h264FmtpFromParameterSets } from '../../src/codecs/h264/sdp.js';
import { RtpBatchWriter, type RtpPacketBatch } from '../../src/rtp/batch.js';
import { startScriptedRtspServer } from './scripted-rtsp-server.js';
import { sampleParameterSets } from './synthetic.js';

const { sps, pps } = sampleParameterSets();

/** Frame n: a keyframe (SPS, PPS, a 3000-byte IDR: FU-A) for n = 0, a small P slice after. */
export function eagerFrame(n: number): Buffer[] {
  const slice = Buffer.alloc(n === 0 ? 3000 : 300, n);
  slice[0] = n === 0 ? 0x65 : 0x41;
  slice.writeUInt32BE(n, 1);
  return n === 0 ? [sps, pps, slice] : [slice];
}

/**
 * Answers OPTIONS, DESCRIBE, SETUP and PLAY. On PLAY over TCP it writes the answer and frames 0 and 1
 * in one write; over UDP it sends frames 0 and 1 first and answers 50 ms later.
 */
export async function eagerServer(): Promise<{ url: string; close: () => void }> {
  const packetizer = new H264Packetizer({ mtu: 1400 });
  const writer = new RtpBatchWriter({ payloadType: 96, ssrc: 0x5eed, initialSequence: 100 });
  const batches: RtpPacketBatch[] = [0, 1].map((n) => packetizer.packetize(eagerFrame(n), n * 3600, writer));
  const sdp =
    'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=eager\r\nt=0 0\r\n' +
    `m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 ${h264FmtpFromParameterSets(sps, pps)}\r\n` +
    'a=control:track1\r\n';
  const udp = createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const server = await startScriptedRtspServer({
    sdp,
    udpServerPort: udp.address().port,
    onPlay({ socket, clientRtpPort }, answer) {
      if (clientRtpPort === 0) socket.write(Buffer.concat([answer, ...batches.map((b) => b.framed)]));
      else {
        for (const b of batches) for (const p of b.packets) udp.send(p, clientRtpPort, '127.0.0.1');
        setTimeout(() => socket.write(answer), 50);
      }
    },
  });
  return {
    url: server.url,
    close: () => {
      server.close();
      udp.close();
    },
  };
}
