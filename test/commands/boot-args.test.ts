import { describe, expect, it } from 'vitest';
import { HELP, parseBootArgs } from '../../src/commands/boot.ts';
import { UsageError } from '../../src/errors.ts';

describe('boot options', () => {
  it('--seed N takes a 64-bit seed, decimal or 0x hex; none given leaves the default to the machine', () => {
    const seed = (...a: string[]) => {
      const o = parseBootArgs(a);
      return o === 'help' ? 'help' : o.seed;
    };
    expect(seed('--seed', '42')).toBe(42n);
    expect(seed('--seed=0x10')).toBe(16n);
    expect(seed('--seed', '18446744073709551615')).toBe(0xffffffffffffffffn);
    expect(seed()).toBeUndefined();
    for (const bad of ['-1', '1.5', 'abc', '18446744073709551616', '']) {
      expect(() => parseBootArgs(['--seed', bad])).toThrow(UsageError);
    }
    expect(() => parseBootArgs(['--seed'])).toThrow(/--seed needs a value/);
    expect(HELP).toMatch(/--seed N +seeds everything random the guests are given/);
  });

  it('--hostfwd is repeatable, takes --hostfwd=SPEC too, and a bad spec is a UsageError', () => {
    const o = parseBootArgs(['--net', 'user', '--hostfwd', 'tcp:8080-gvm1:80', '--hostfwd=tcp:0-:22']);
    expect(o === 'help' ? [] : o.hostfwd.map((r) => [r.hostPort, r.vm, r.guestPort])).toEqual([[8080, 'gvm1', 80], [0, null, 22]]);
    expect(() => parseBootArgs(['--hostfwd', 'tcp:8080'])).toThrow(UsageError);
    expect(() => parseBootArgs(['--hostfwd'])).toThrow(/--hostfwd needs a value/);
    expect(HELP).toMatch(/--hostfwd tcp:HOSTPORT-VM:GUESTPORT\n +with --net user: listen on 127\.0\.0\.1:HOSTPORT/);
  });
});
