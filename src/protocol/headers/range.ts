/**
 * Range (RFC 2326 sections 3.5-3.7 and 12.29): `npt=0-`, `npt=now-`, `npt=10.5-20`,
 * `clock=19961108T142300Z-19961108T143520Z`, `smpte=0:10:20-;time=19970123T153600Z`.
 */
import { RtspHeaderError } from '../errors.js';
import { assertHeaderSafe } from './syntax.js';

const HEADER = 'Range';

/** Normal play time, in seconds. */
export interface NptRange {
  unit: 'npt';
  /** Seconds, or 'now' for live. Absent only for the `-end` form (`npt=-20`). */
  start?: number | 'now';
  end?: number;
  /** The `;time=` wall-clock at which to start, verbatim. */
  time?: string;
}

/** Units we do not interpret are kept verbatim so the server can answer 457 or ignore them. */
export interface OtherRange {
  unit: 'clock' | 'smpte' | 'smpte-30-drop' | 'smpte-25';
  /** The text after `unit=`, e.g. `19961108T142300Z-19961108T143520Z`. */
  raw: string;
  time?: string;
}

export type RangeSpec = NptRange | OtherRange;

const OTHER_UNITS = new Set<OtherRange['unit']>(['clock', 'smpte', 'smpte-30-drop', 'smpte-25']);

/** npt-sec = 1*DIGIT [ "." *DIGIT ];  npt-hhmmss = npt-hh ":" npt-mm ":" npt-ss [ "." *DIGIT ]. */
const NPT_SEC = /^(\d{1,12})(\.\d*)?$/;
const NPT_HHMMSS = /^(\d{1,9}):(\d{1,2}):(\d{1,2})(\.\d*)?$/;

/** Parses one ranges-specifier with an optional `;time=` parameter (other parameters are ignored). */
export function parseRangeHeader(value: string): RangeSpec {
  const [rangeText, ...params] = value.split(';').map((p) => p.trim());
  let time: string | undefined;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'time') continue;
    time = param.slice(eq + 1).trim();
    if (!/^[0-9]{8}T[0-9]{6}(\.[0-9]*)?Z$/.test(time))
      throw new RtspHeaderError(HEADER, `invalid time '${time}'`);
  }

  const eq = rangeText.indexOf('=');
  if (eq < 0) throw new RtspHeaderError(HEADER, `missing unit in '${rangeText}'`);
  const unit = rangeText.slice(0, eq).trim().toLowerCase();
  const body = rangeText.slice(eq + 1).trim();

  if (unit === 'npt') {
    const range = parseNpt(body);
    if (time !== undefined) range.time = time;
    return range;
  }
  if (OTHER_UNITS.has(unit as OtherRange['unit'])) {
    // Only the shape is checked: a range of time tokens separated by one '-'.
    if (!/^[0-9A-Za-z:.]*-[0-9A-Za-z:.]*$/.test(body) || body === '-') {
      throw new RtspHeaderError(HEADER, `invalid ${unit} range '${body}'`);
    }
    const range: OtherRange = { unit: unit as OtherRange['unit'], raw: body };
    if (time !== undefined) range.time = time;
    return range;
  }
  throw new RtspHeaderError(HEADER, `unknown unit '${unit}'`);
}

function parseNpt(body: string): NptRange {
  const dash = body.indexOf('-');
  if (dash < 0) throw new RtspHeaderError(HEADER, `npt range without '-': '${body}'`);
  const startText = body.slice(0, dash).trim();
  const endText = body.slice(dash + 1).trim();
  if (startText === '' && endText === '')
    throw new RtspHeaderError(HEADER, 'npt range has neither start nor end');
  const range: NptRange = { unit: 'npt' };
  if (startText !== '') range.start = startText.toLowerCase() === 'now' ? 'now' : parseNptTime(startText);
  if (endText !== '') {
    // `now` as an end point has no useful meaning for a server and no representation here.
    if (endText.toLowerCase() === 'now')
      throw new RtspHeaderError(HEADER, "'now' is not supported as an end");
    range.end = parseNptTime(endText);
  }
  return range;
}

function parseNptTime(text: string): number {
  // Number() accepts both '12.5' and '12.' once the regex has vetted the shape.
  if (NPT_SEC.test(text)) return Number(text);
  const hms = NPT_HHMMSS.exec(text);
  if (hms) {
    const minutes = Number(hms[2]);
    const seconds = Number(hms[3]);
    if (minutes > 59 || seconds > 59) throw new RtspHeaderError(HEADER, `invalid npt time '${text}'`);
    const fraction = hms[4] === undefined ? 0 : Number(`0${hms[4]}`);
    return Number(hms[1]) * 3600 + minutes * 60 + seconds + fraction;
  }
  throw new RtspHeaderError(HEADER, `invalid npt time '${text}'`);
}

/** Writes `npt=0.000-`, `npt=now-`, `npt=10.000-20.500`, `npt=-20.000` or `<unit>=<raw>`, plus `;time=`. */
export function formatRangeHeader(spec: RangeSpec): string {
  let out: string;
  if (spec.unit === 'npt') {
    if (spec.start === undefined && spec.end === undefined) {
      throw new RtspHeaderError(HEADER, 'npt range has neither start nor end');
    }
    const start = spec.start === undefined ? '' : spec.start === 'now' ? 'now' : formatSeconds(spec.start);
    const end = spec.end === undefined ? '' : formatSeconds(spec.end);
    out = `npt=${start}-${end}`;
  } else {
    if (!OTHER_UNITS.has(spec.unit)) throw new RtspHeaderError(HEADER, `unknown unit '${spec.unit}'`);
    assertHeaderSafe(HEADER, 'range', spec.raw);
    if (/[;,\s]/.test(spec.raw))
      throw new RtspHeaderError(HEADER, `invalid ${spec.unit} range '${spec.raw}'`);
    out = `${spec.unit}=${spec.raw}`;
  }
  if (spec.time !== undefined) {
    if (!/^[0-9]{8}T[0-9]{6}(\.[0-9]*)?Z$/.test(spec.time)) {
      throw new RtspHeaderError(HEADER, `invalid time '${spec.time}'`);
    }
    out += `;time=${spec.time}`;
  }
  return out;
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new RtspHeaderError(HEADER, `invalid npt time ${seconds}`);
  return seconds.toFixed(3);
}
