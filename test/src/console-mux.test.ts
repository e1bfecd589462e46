// The console multiplexer: each VM's lines prefixed, an unfinished line (a prompt) shown at the
// next flush, another VM's output never glued onto it, the keyboard only for the focused VM.
import { describe, expect, it } from 'vitest';
import { HostConsole } from '../../emulator/devices/console.ts';
import { ConsoleMux } from '../../src/console-mux.ts';

function setup(interactive = false) {
  let out = '';
  const host = new HostConsole((b) => void (out += String.fromCharCode(b)));
  const mux = new ConsoleMux(host, { interactive, prefix: true });
  const say = (id: number, s: string) => {
    for (const ch of s) mux.console(id).write(ch.charCodeAt(0));
  };
  return { host, mux, say, out: () => out };
}

describe('console multiplexer', () => {
  it('prefixes whole lines and holds an unfinished one until flushAll', () => {
    const { mux, say, out } = setup();
    say(0, 'boot ok\n/ # ');
    say(1, 'hello\n');
    expect(out()).toBe('[vm0] boot ok\n[vm1] hello\n');
    mux.flushAll();
    expect(out()).toBe('[vm0] boot ok\n[vm1] hello\n[vm0] / # ');
  });

  it('another VM writing after a shown prompt starts a new line; the prompt line continues with its prefix', () => {
    const { mux, say, out } = setup();
    say(0, '/ # ');
    mux.flushAll();
    say(1, 'tick\n');
    say(0, 'echo hi\n');
    expect(out()).toBe('[vm0] / # \n[vm1] tick\n[vm0] echo hi\n');
  });

  it('with a virtual clock, an unfinished line is shown once it has not grown for 5 ms of guest time, before the next line of another VM', () => {
    let out = '';
    let t = 0;
    const host = new HostConsole((b) => void (out += String.fromCharCode(b)));
    const mux = new ConsoleMux(host, { interactive: false, prefix: true, now: () => t });
    const say = (id: number, s: string) => {
      for (const ch of s) mux.console(id).write(ch.charCodeAt(0));
    };
    say(0, '/ # ');
    t = 4_999_999;
    say(1, 'early\n');
    mux.flushStale(); // host steps do not count: only guest time does
    mux.flushStale();
    mux.flushStale();
    mux.flushStale();
    expect(out).toBe('[vm1] early\n');
    t = 5_000_000;
    say(1, 'late\n');
    expect(out).toBe('[vm1] early\n[vm0] / # \n[vm1] late\n');
    say(2, 'x');
    t = 20_000_000;
    mux.flushStale();
    expect(out).toBe('[vm1] early\n[vm0] / # \n[vm1] late\n[vm2] x');
  });

  it('the keyboard reaches only the focused VM; select moves it', () => {
    const { host, mux } = setup(true);
    const c0 = mux.console(0);
    const c1 = mux.console(1);
    let woke = 0;
    c1.setInputListener(() => woke++);
    host.pushInput('a');
    expect(c1.hasInput()).toBe(false);
    expect(woke).toBe(0);
    expect(c0.read()).toBe(0x61);
    mux.select(1);
    host.pushInput('b');
    expect(woke).toBe(1);
    expect(c0.read()).toBe(-1);
    expect(c1.read()).toBe(0x62);
  });
});
