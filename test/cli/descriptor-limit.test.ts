// `smolrtsp serve` under a descriptor limit of 200 (prlimit), sent more connections than that: each one
// it cannot serve gets a 503 and a warn line instead of a reset; the clients already in keep being
// served, and once they leave new ones are served again.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { startCli } from '../helpers/cli.js';
import { hasTool } from '../helpers/tools.js';

interface Outcome {
  socket: Socket;
  /** The first status line answered, or the error that ended the socket first. */
  result: Promise<string>;
}

function optionsRequest(port: number, cseq: number): Outcome {
  const socket = connect({ port, host: '127.0.0.1' });
  const result = new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end >= 0) resolve(`${text.split('\r\n')[0]} ${/CSeq: (\d+)/i.exec(text)?.[1] ?? '-'}`);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    socket.on('close', () => resolve('closed unanswered'));
  });
  socket.write(`OPTIONS * RTSP/1.0\r\nCSeq: ${cseq}\r\n\r\n`);
  return { socket, result };
}

describe('descriptor limit', () => {
  it('past a 200-descriptor limit: 503 with the CSeq and a warn line per refused connection, the others served, recovery after', async (t) => {
    if (!hasTool('prlimit')) {
      t.skip('prlimit not installed');
      return;
    }
    const cli = await startCli([], ['prlimit', '--nofile=200:200', '--']);
    const held: Outcome[] = [];
    try {
      // Opened one by one, each answered before the next: the first ones are served, the rest refused.
      for (let i = 0; i < 260; i++) {
        const o = optionsRequest(cli.port, i + 1);
        held.push(o);
        await o.result;
      }
      const results = await Promise.all(held.map((o) => o.result));
      const served = results.filter((r) => r.startsWith('RTSP/1.0 200'));
      const refused = results.filter((r) => r.startsWith('RTSP/1.0 503'));
      t.diagnostic(
        `served ${served.length}, refused ${refused.length}, other ${260 - served.length - refused.length}`,
      );
      assert.ok(served.length >= 10, `served: ${served.length}`);
      assert.equal(
        served.length + refused.length,
        260,
        `every connection answered: ${JSON.stringify(results)}`,
      );
      // The 503 answers the request it refuses.
      for (const [i, r] of results.entries()) assert.ok(r.endsWith(` ${i + 1}`), `${r} for CSeq ${i + 1}`);
      const warn = await cli.waitForLine((l) => l.code === 'ERR_RTSP_TOO_MANY_FILES');
      assert.equal(warn.level, 40);
      assert.match(warn.msg, /refused .*503 descriptor limit reached \(200 open files/);

      // Those already in are still served on their open connections.
      const first = held[0];
      const again = new Promise<string>((resolve) =>
        first.socket.once('data', (d: Buffer) => resolve(d.toString('latin1').split('\r\n')[0])),
      );
      first.socket.write('OPTIONS * RTSP/1.0\r\nCSeq: 100\r\n\r\n');
      assert.equal(await again, 'RTSP/1.0 200 OK');

      // They leave: newcomers are served again.
      for (const o of held) o.socket.destroy();
      held.length = 0;
      let recovered = '';
      for (let attempt = 0; attempt < 40 && !recovered.startsWith('RTSP/1.0 200'); attempt++) {
        await new Promise((r) => setTimeout(r, 100));
        const o = optionsRequest(cli.port, 7);
        held.push(o);
        recovered = await o.result;
      }
      assert.match(recovered, /^RTSP\/1\.0 200/);
      assert.equal(cli.child.exitCode, null, 'still running');
    } finally {
      for (const o of held) o.socket.destroy();
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });
});
