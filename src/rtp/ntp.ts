/**
 * NTP timestamps as RTCP uses them (RFC 3550 section 4): 32-bit seconds since 1900-01-01 plus a
 * 32-bit binary fraction. The caller passes wall-clock time in; nothing here reads a clock.
 */

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
export const NTP_UNIX_OFFSET_SECONDS = 2208988800;
const TWO_POW_32 = 4294967296;
const TWO_POW_16 = 65536;

export interface NtpTimestamp {
  /** uint32; wraps in 2036 (era 1), see ntpToMs. */
  seconds: number;
  /** uint32, units of 2^-32 s. */
  fraction: number;
}

/** Unix time in milliseconds (fractional allowed) to a 64-bit NTP timestamp. */
export function msToNtp(unixMs: number): NtpTimestamp {
  const unixSeconds = Math.floor(unixMs / 1000);
  const remainderMs = unixMs - unixSeconds * 1000;
  // Floating rounding can push a remainder just under 1000 ms to 2^32; clamp it.
  const fraction = Math.min(Math.floor((remainderMs * TWO_POW_32) / 1000), 0xffffffff);
  const seconds = (unixSeconds + NTP_UNIX_OFFSET_SECONDS) % TWO_POW_32;
  return { seconds: seconds < 0 ? seconds + TWO_POW_32 : seconds, fraction };
}

/**
 * NTP timestamp back to Unix milliseconds. Seconds with the top bit clear are taken as era 1
 * (2036-02-07 onward), the RFC 4330 section 3 convention, so the mapping stays valid past 2036.
 */
export function ntpToMs(seconds: number, fraction: number): number {
  const fullSeconds = seconds >= 0x80000000 ? seconds : seconds + TWO_POW_32;
  return (fullSeconds - NTP_UNIX_OFFSET_SECONDS) * 1000 + (fraction * 1000) / TWO_POW_32;
}

/** The middle 32 bits of a 64-bit NTP timestamp: the LSR field of a report block (16.16 fixed point). */
export function ntpMiddle32(seconds: number, fraction: number): number {
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
}

/** A duration in 1/65536 s units (DLSR, or a difference of middle-32 values) to milliseconds. */
export function ntpShortToMs(units: number): number {
  return (units * 1000) / TWO_POW_16;
}

/** Milliseconds to 1/65536 s units (uint32, e.g. for DLSR). */
export function msToNtpShort(ms: number): number {
  return Math.round((ms * TWO_POW_16) / 1000) >>> 0;
}

/**
 * Round-trip time from a report block (RFC 3550 section 6.4.1): arrival - LSR - DLSR, all in
 * middle-32 units. `arrivalMiddle32` is ntpMiddle32 of the time the report arrived. Returns null when
 * the block carries no LSR (no SR received yet) or the result is negative (clock or report bogus).
 */
export function roundTripMs(arrivalMiddle32: number, lsr: number, dlsr: number): number | null {
  if (lsr === 0) return null;
  const rtt = (arrivalMiddle32 - lsr - dlsr) | 0;
  return rtt < 0 ? null : ntpShortToMs(rtt);
}
