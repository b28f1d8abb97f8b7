// A remote sender's tracks on one timeline: arrival-anchored until a track's first RTCP sender
// report, then lined up by the sender's clock — across the 32-bit wrap, with reports arriving at
// different times per track, never stepping back, and a sender clock that jumps absorbed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { msToNtp } from '../../../src/rtp/ntp.js';
import {
  CLOCK_JUMP_US,
  MAX_ALIGN_STEP_US,
  MAX_SLEW_PER_UNIT_US,
  RtpMediaTime,
  SenderReportClock,
  SenderTimeline,
} from '../../../src/rtp/sender-timeline.js';

/** The sender's wall clock: an hour behind ours, so nothing can pass by taking its time for ours. */
const SENDER_EPOCH_MS = 1_700_000_000_000;
const OUR_EPOCH_US = (SENDER_EPOCH_MS + 3_600_000) * 1000;

/** One simulated track: content time (µs since the sender's start) to RTP, SRs as the sender makes them. */
function sender(clockRate: number, base: number) {
  const rtpAt = (contentUs: number) => (base + Math.round((contentUs * clockRate) / 1e6)) >>> 0;
  const clock = new SenderReportClock(clockRate);
  const media = new RtpMediaTime(clockRate);
  return {
    rtpAt,
    /** The sender's SR for content time `contentUs`, with its clock `skewUs` off (a jump). */
    report(contentUs: number, skewUs = 0) {
      const ntp = msToNtp(SENDER_EPOCH_MS + (contentUs + skewUs) / 1000);
      clock.report(ntp.seconds, ntp.fraction, rtpAt(contentUs));
    },
    /** [media µs, sender µs] of the unit with content time `contentUs`. */
    unit(contentUs: number): [number, number | undefined] {
      const ts = rtpAt(contentUs);
      return [media.usAt(ts), clock.senderUsAt(ts)];
    },
  };
}

describe('RTP timestamps to media and sender time', () => {
  it('media time runs on across the 32-bit wrap and steps back for B-frames', () => {
    const m = new RtpMediaTime(90_000);
    assert.equal(m.usAt(0xffffec78), 0); // 5000 ticks before the wrap
    assert.equal(m.usAt(0x00000e10), (8600 * 1e6) / 90_000);
    assert.equal(m.usAt(0x00000000), (5000 * 1e6) / 90_000); // a B-frame, back across the wrap
  });

  it('a sender report dates timestamps on both sides of the wrap', () => {
    const c = new SenderReportClock(8000);
    assert.equal(c.senderUsAt(123), undefined);
    const ntp = msToNtp(SENDER_EPOCH_MS);
    c.report(ntp.seconds, ntp.fraction, 0xffffff00);
    const at = (ts: number) => (c.senderUsAt(ts) ?? Number.NaN) - SENDER_EPOCH_MS * 1000;
    assert.ok(Math.abs(at(0x00000100) - 64_000) < 1, `${at(0x00000100)}`); // 512 samples later
    assert.ok(Math.abs(at(0xfffffe00) + 32_000) < 1); // 256 samples earlier
  });
});

describe('SenderTimeline', () => {
  /**
   * Video's first packet arrives at `t0`, audio's 400 ms later for the same content time (it
   * came through a slower path); the tracks' first SRs come at different times, after some of
   * their packets. Returns each track's [content time, pts] pairs.
   */
  function lateAudio(audioReportsFirst: boolean) {
    const timeline = new SenderTimeline();
    const vt = timeline.track();
    const at = timeline.track();
    const video = sender(90_000, 0xfffe0000); // wraps during the run
    const audio = sender(48_000, 12345);
    const lagUs = 400_000;
    const seen = { video: [] as number[][], audio: [] as number[][] };
    const push = (kind: 'video' | 'audio', contentUs: number) => {
      const [mediaUs, senderUs] = (kind === 'video' ? video : audio).unit(contentUs);
      const arrival = OUR_EPOCH_US + contentUs + (kind === 'audio' ? lagUs : 0);
      const pts = (kind === 'video' ? vt : at).ptsUs(mediaUs, arrival, senderUs);
      seen[kind].push([contentUs, pts]);
    };
    // Events in arrival order: video every 40 ms from 0, audio every 20 ms from 400 ms.
    const events: Array<[number, 'video' | 'audio', number]> = [];
    for (let c = 0; c < 3_000_000; c += 40_000) events.push([c, 'video', c]);
    for (let c = 0; c < 3_000_000; c += 20_000) events.push([c + lagUs, 'audio', c]);
    events.sort((a, b) => a[0] - b[0]);
    let videoReported = false;
    for (const [arrival, kind, content] of events) {
      if (kind === 'video' && !videoReported && (!audioReportsFirst || arrival >= 1_000_000)) {
        video.report(content);
        videoReported = true;
      }
      // Audio's first report comes 200 ms into it: its first units are anchored by arrival.
      if (kind === 'audio' && content === 200_000) audio.report(content);
      push(kind, content);
    }
    return seen;
  }

  function assertNeverBack(pts: number[][]) {
    for (let i = 1; i < pts.length; i++) {
      assert.ok(
        pts[i][1] - pts[i - 1][1] >= -MAX_SLEW_PER_UNIT_US,
        `pts step back at content ${pts[i][0]}: ${pts[i - 1][1]} → ${pts[i][1]}`,
      );
    }
  }

  for (const audioReportsFirst of [false, true]) {
    it(`lines up a track whose first packet came 400 ms late (${audioReportsFirst ? 'audio' : 'video'} reports first); pts never step back`, () => {
      const seen = lateAudio(audioReportsFirst);
      const videoAt = new Map(seen.video.map(([c, p]) => [c, p]));
      // Same content time, same pts, once both tracks follow their reports.
      const late = seen.audio.filter(([c]) => c >= 1_200_000 && videoAt.has(c));
      assert.ok(late.length > 20);
      for (const [c, p] of late) {
        const off = p - (videoAt.get(c) ?? Number.NaN);
        assert.ok(Math.abs(off) < 1000, `content ${c}: audio ${off} µs from video`);
      }
      assertNeverBack(seen.video);
      assertNeverBack(seen.audio);
    });
  }

  it('before its first sender report a track is anchored at its first arrival', () => {
    const timeline = new SenderTimeline();
    const t = timeline.track();
    assert.equal(t.ptsUs(5_000_000, 1_000, undefined), 1_000);
    assert.equal(t.ptsUs(5_040_000, 99_999, undefined), 41_000);
    assert.equal(t.senderAligned, false);
    // A track that must not start before an earlier sender's last unit.
    const later = new SenderTimeline().track(50_000);
    assert.equal(later.ptsUs(0, 1_000, undefined), 50_000);
  });

  it('a sender clock jump is absorbed: pts go on; drift is followed at most 1 ms a unit', () => {
    const timeline = new SenderTimeline();
    const t = timeline.track();
    const s = sender(8000, 777);
    s.report(0);
    const pts: number[] = [];
    const unit = (c: number) => {
      const [m, snd] = s.unit(c);
      pts.push(t.ptsUs(m, OUR_EPOCH_US + c, snd));
    };
    for (let c = 0; c < 1_000_000; c += 20_000) unit(c);
    s.report(1_000_000, 7_200_000_000); // the sender's clock set two hours ahead
    for (let c = 1_000_000; c < 2_000_000; c += 20_000) unit(c);
    for (let i = 1; i < pts.length; i++) assert.ok(Math.abs(pts[i] - pts[i - 1] - 20_000) < 1);
    // Drift: the sender's clock now says its RTP clock ran 5 ms slow.
    s.report(2_000_000, 7_200_000_000 + 5_000);
    for (let c = 2_000_000; c < 2_400_000; c += 20_000) unit(c);
    const steps = pts.slice(50).map((p, i) => p - pts[49 + i]);
    assert.ok(
      steps.every((d) => Math.abs(d - 20_000) <= MAX_SLEW_PER_UNIT_US),
      steps.join(','),
    );
    assert.ok(Math.abs(pts.at(-1)! - pts[0] - 2_385_000) < 1, `${pts.at(-1)! - pts[0]}`);
    assert.ok(CLOCK_JUMP_US > 5_000);
  });

  it('a track whose sender time is far from its siblings is not believed: it stays anchored by arrival', () => {
    const timeline = new SenderTimeline();
    const a = timeline.track();
    const b = timeline.track();
    const sa = sender(8000, 1);
    const sb = sender(8000, 2);
    sa.report(0);
    sb.report(0, MAX_ALIGN_STEP_US + 3_600_000_000); // another clock altogether
    const [ma, xa] = sa.unit(0);
    a.ptsUs(ma, OUR_EPOCH_US, xa);
    const [mb, xb] = sb.unit(0);
    assert.equal(b.ptsUs(mb, OUR_EPOCH_US + 300_000, xb), OUR_EPOCH_US + 300_000);
    assert.equal(a.senderAligned, true);
    assert.equal(b.senderAligned, false);
  });

  it('restart (a new sender session) keeps every track where it is', () => {
    const timeline = new SenderTimeline();
    const t = timeline.track();
    const s = sender(90_000, 5);
    s.report(0);
    const [m0, x0] = s.unit(0);
    const first = t.ptsUs(m0, OUR_EPOCH_US, x0);
    timeline.restart();
    assert.equal(t.senderAligned, false);
    const [m1] = s.unit(40_000);
    assert.ok(Math.abs(t.ptsUs(m1, OUR_EPOCH_US + 900_000, undefined) - first - 40_000) < 1);
  });
});
