/**
 * RTP-Info (RFC 2326 section 12.33), sent in the PLAY response so the client can map RTP
 * sequence numbers and timestamps to the play range:
 *
 *   RTP-Info: url=rtsp://h/p/trackID=0;seq=1234;rtptime=5678,url=rtsp://h/p/trackID=1;seq=9;rtptime=10
 *
 * URLs are not quoted in RTSP 1.0 and may themselves contain ';' or ','. Entries are therefore
 * split only where a ',' is followed by `url=`, and parameters are peeled off the end of each
 * entry only while they are known ones (seq, rtptime, ssrc), so `rtsp://h/a;b=c/trackID=1` survives.
 * (ffmpeg and live555 cut URLs at the first ';' or ',': we cannot help them, so do not put those
 * characters into control URLs.)
 */
import { RtspHeaderError } from '../errors.js';
import { withoutUserInfo } from '../url.js';
import { assertHeaderSafe, parseDecimal } from './syntax.js';

const HEADER = 'RTP-Info';

export interface RtpInfoEntry {
  url: string;
  /** Sequence number of the first packet sent after PLAY (0..65535). */
  seq?: number;
  /** RTP timestamp corresponding to the start of the play range (0..2^32-1). */
  rtptime?: number;
}

export function formatRtpInfo(entries: RtpInfoEntry[]): string {
  if (entries.length === 0) throw new RtspHeaderError(HEADER, 'no entries');
  return entries
    .map((entry) => {
      if (entry.url === '' || /[\s"]/.test(entry.url))
        throw new RtspHeaderError(HEADER, `invalid url '${withoutUserInfo(entry.url)}'`);
      assertHeaderSafe(HEADER, 'url', entry.url);
      let out = `url=${entry.url}`;
      if (entry.seq !== undefined) out += `;seq=${checkedInteger('seq', entry.seq, 0xffff)}`;
      if (entry.rtptime !== undefined)
        out += `;rtptime=${checkedInteger('rtptime', entry.rtptime, 0xffffffff)}`;
      return out;
    })
    .join(',');
}

export function parseRtpInfo(value: string): RtpInfoEntry[] {
  const text = value.trim();
  if (text === '') throw new RtspHeaderError(HEADER, 'empty');
  return text.split(/,\s*(?=url\s*=)/i).map(parseEntry);
}

// A parameter needs a value: `ssrc=` with nothing after it is left to the URL, so formatting what
// was parsed gives back text that parses the same.
// Matched against a trimmed tail: no lazy quantifier before `\s*$`, which was quadratic on long blanks.
const TRAILING_PARAM = /^(seq|rtptime|ssrc)\s*=\s*([^;\s][^;]*)$/i;

function parseEntry(entryText: string): RtpInfoEntry {
  const head = /^\s*url\s*=\s*/i.exec(entryText);
  if (!head) throw new RtspHeaderError(HEADER, `entry does not start with url=: '${entryText}'`);
  let rest = entryText.slice(head[0].length).trimEnd();
  const entry: RtpInfoEntry = { url: '' };
  let sawParameter = false;
  for (;;) {
    const semicolon = rest.lastIndexOf(';');
    if (semicolon < 0) break;
    const tail = rest.slice(semicolon + 1);
    if (tail.trim() === '') {
      // A trailing ';' after the last parameter is noise; before a parameter it belongs to the URL.
      if (sawParameter) break;
      rest = rest.slice(0, semicolon);
      continue;
    }
    const param = TRAILING_PARAM.exec(tail.trim());
    if (!param) break;
    sawParameter = true;
    const name = param[1].toLowerCase();
    if (name === 'seq') entry.seq = parseDecimal(HEADER, 'seq', param[2], 0, 0xffff);
    else if (name === 'rtptime') entry.rtptime = parseDecimal(HEADER, 'rtptime', param[2], 0, 0xffffffff);
    // ssrc (RTSP 2.0) is recognised so it is not mistaken for part of the URL, then dropped.
    rest = rest.slice(0, semicolon);
  }
  let url = rest.trim();
  if (url.length >= 2 && url.startsWith('"') && url.endsWith('"')) url = url.slice(1, -1);
  if (url === '') throw new RtspHeaderError(HEADER, 'empty url');
  entry.url = url;
  return entry;
}

function checkedInteger(name: string, n: number, max: number): number {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new RtspHeaderError(HEADER, `invalid ${name} ${n}`);
  return n;
}
