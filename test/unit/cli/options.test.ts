// The options table is the one definition of `smolrtsp serve`'s options: every entry must reach
// the help, the parser, the config file and a destination, so an option cannot be half-added.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs } from 'node:util';
import { configSchema } from '../../../src/cli/config.js';
import {
  type CliOption,
  configSchemaOf,
  optionsHelp,
  parseArgsOptions,
  plainServerOptions,
  readFlagValue,
  SERVE_OPTIONS_TABLE,
  SERVER_DEFAULTS,
  VALUE_OPTIONS,
} from '../../../src/cli/options.js';
import { RtspServer } from '../../../src/server/rtsp-server.js';

/** A value the option accepts, from its own range. */
function sample(o: CliOption): string {
  if (o.kind === 'int') return String(o.max);
  if (o.kind === 'seconds') return String(o.max);
  if (o.kind === 'portRange') return '30000-30999';
  return 'x';
}

/** The same value as the config file holds it. */
function configSample(o: CliOption): unknown {
  if (o.kind === 'int' || o.kind === 'seconds') return o.max;
  if (o.kind === 'flag') return true;
  if (o.kind === 'list') return o.config === 'auth.users' ? [{ name: 'a', password: 'b' }] : ['10.0.0.0/8'];
  if (o.kind === 'portRange') return '30000-30999';
  return 'x';
}

/** `{ a: { b: value } }` for the key `a.b` (a `tls` object needs its cert and key besides). */
function nest(key: string, value: unknown): Record<string, unknown> {
  const [outer, inner] = key.split('.');
  if (inner === undefined) return { [outer]: value };
  return { [outer]: { ...(outer === 'tls' ? { cert: 'c.pem', key: 'k.pem' } : {}), [inner]: value } };
}

describe('serve options table', () => {
  const help = optionsHelp();

  for (const o of SERVE_OPTIONS_TABLE) {
    it(`--${o.flag}: in the help, parsed, mapped, and in the config file`, () => {
      // The help shows it, with its value name and its default.
      const label = `--${o.flag}${o.arg ? ` ${o.arg}` : ''}`;
      assert.ok(help.includes(label), `help lacks ${label}`);
      assert.ok(!help.includes('{default}'));
      if (o.default !== undefined && o.help.includes('{default}')) {
        const line = help.slice(help.indexOf(label)).split('\n\n')[0];
        assert.ok(line.includes(String(o.default)), `help of --${o.flag} shows ${o.default}`);
      }

      // The parser takes it (a value for value options, none for flags), also the short form.
      const args = o.kind === 'flag' ? [`--${o.flag}`] : [`--${o.flag}=${sample(o)}`];
      const { values } = parseArgs({ args, options: parseArgsOptions(), strict: true });
      assert.notEqual(values[o.flag], undefined);
      assert.equal(VALUE_OPTIONS.has(o.flag), o.kind !== 'flag');
      if (o.short)
        assert.equal(parseArgs({ args: [`-${o.short}`], options: parseArgsOptions() }).values[o.flag], true);
      assert.doesNotThrow(() => readFlagValue(o, sample(o)));

      // It goes somewhere: a plain server option is set from the flag and from the config key.
      assert.ok('server' in o.to || 'path' in o.to || 'cli' in o.to || 'http' in o.to);
      if ('server' in o.to && o.to.field === undefined) {
        const fromFlag = plainServerOptions({ [o.flag]: sample(o) }, {}) as Record<string, unknown>;
        assert.notEqual(fromFlag[o.to.server], undefined, `--${o.flag} sets ${o.to.server}`);
        const fromConfig = plainServerOptions({}, { [o.config!]: readFlagValue(o, sample(o)) });
        assert.deepEqual((fromConfig as Record<string, unknown>)[o.to.server], fromFlag[o.to.server]);
      }

      // A server or HTTP option has a config key the config file accepts (and refuses out of range).
      if ('server' in o.to || 'http' in o.to) {
        assert.ok(o.config, `--${o.flag} has a config key`);
        const parsed = configSchema.safeParse({ paths: {}, ...nest(o.config, configSample(o)) });
        assert.ok(parsed.success, `config ${o.config}: ${parsed.error?.message}`);
        if (o.kind === 'int') {
          const tooBig = configSchema.safeParse({ paths: {}, ...nest(o.config, (o.max ?? 0) + 1) });
          assert.equal(tooBig.success, false, `config ${o.config} refuses ${(o.max ?? 0) + 1}`);
          assert.throws(() => readFlagValue(o, String((o.max ?? 0) + 1)), /must be an integer from/);
        }
      }
    });
  }

  it('flag names are unique and the help lists nothing the table lacks', () => {
    const flags = SERVE_OPTIONS_TABLE.map((o) => o.flag);
    assert.equal(new Set(flags).size, flags.length);
    const listed = [...help.matchAll(/^ {2}(?:-\w, )?--([a-z-]+)/gm)].map((m) => m[1]);
    assert.deepEqual(listed.sort(), [...flags].sort());
  });

  it('seconds become milliseconds; the config file takes the same ranges', () => {
    assert.deepEqual(plainServerOptions({ 'request-timeout': '2', port: '0' }, { idleTimeout: 3 }), {
      requestTimeoutMs: 2000,
      idleTimeoutMs: 3000,
      port: 0,
    });
    const session = SERVE_OPTIONS_TABLE.find((o) => o.flag === 'session-timeout')!;
    assert.equal(configSchemaOf(session).safeParse(4).success, false);
    assert.throws(() => readFlagValue(session, '4'), /--session-timeout must be an integer from 5 to 3600/);
  });

  it("the defaults the help shows are the server's own", () => {
    // The CLI reads the server's table; a server built without options must use the same values.
    const server = new RtspServer({});
    const { tlsPort, ...rest } = SERVER_DEFAULTS;
    for (const [key, value] of Object.entries(rest)) {
      assert.deepEqual((server.options as Record<string, unknown>)[key], value, key);
    }
    assert.equal(tlsPort, 8322);
  });
});
