// Signal state of the one user-mode process (kernel/signal.c): actions and the blocked mask are
// recorded (rt_sigaction, rt_sigprocmask) but handlers are never run; what matters is whether a
// signal's default action ends the process.
import type { AddressSpace } from './address-space.ts';
import { E } from './errno.ts';

export const SIG = { HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, SEGV: 11, PIPE: 13, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, WINCH: 28 };
export const SIGNAMES: Record<number, string> = { 4: 'SIGILL', 5: 'SIGTRAP', 7: 'SIGBUS', 11: 'SIGSEGV' };
const SIG_DFL = 0n;
const SIG_IGN = 1n;
/** Signals whose default action is to ignore (or to stop, which a lone process cannot). */
const DEFAULT_IGNORED = new Set([SIG.CHLD, SIG.CONT, SIG.STOP, SIG.TSTP, SIG.TTIN, SIG.TTOU, SIG.URG, SIG.WINCH]);

export class Signals {
  /** The 32-byte struct sigaction per signal (1..64), absent = SIG_DFL. */
  private readonly actions = new Map<number, Uint8Array>();
  private sigmask = 0n;

  private handler(sig: number): bigint {
    const a = this.actions.get(sig);
    return a ? new DataView(a.buffer).getBigUint64(0, true) : SIG_DFL;
  }

  private blocked(sig: number): boolean {
    return ((this.sigmask >> BigInt(sig - 1)) & 1n) !== 0n;
  }

  /**
   * Does kill() of `sig` end the process? SIGKILL always does; a blocked or ignored signal, or one
   * whose default action is to ignore, does not; a caught one does too, since handlers never run.
   */
  kills(sig: number): boolean {
    if (sig === SIG.KILL) return true;
    const h = this.handler(sig);
    if (this.blocked(sig) || h === SIG_IGN) return false;
    return !(h === SIG_DFL && DEFAULT_IGNORED.has(sig));
  }

  /** Is `sig` neither blocked nor handled, so its default action applies (SIGPIPE on a closed pipe)? */
  takesDefault(sig: number): boolean {
    return !this.blocked(sig) && this.handler(sig) === SIG_DFL;
  }

  sigaction(as: AddressSpace, sig: number, act: number, oact: number, setsize: number): number {
    if (setsize !== 8) return -E.INVAL;
    if (sig < 1 || sig > 64) return -E.INVAL;
    const next = act ? as.read(act, 32) : null;
    if (next && (sig === SIG.KILL || sig === SIG.STOP)) return -E.INVAL;
    if (oact) as.write(oact, this.actions.get(sig) ?? new Uint8Array(32));
    if (next) this.actions.set(sig, next);
    return 0;
  }

  sigprocmask(as: AddressSpace, how: number, set: number, oset: number, setsize: number): number {
    if (setsize !== 8) return -E.INVAL;
    let next = this.sigmask;
    if (set) {
      const v = new DataView(as.read(set, 8).buffer).getBigUint64(0, true);
      if (how === 0) next |= v;
      else if (how === 1) next &= ~v;
      else if (how === 2) next = v;
      else return -E.INVAL;
    }
    if (oset) {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, this.sigmask, true);
      as.write(oset, b);
    }
    // SIGKILL and SIGSTOP cannot be blocked.
    this.sigmask = next & ~((1n << BigInt(SIG.KILL - 1)) | (1n << BigInt(SIG.STOP - 1)));
    return 0;
  }
}
