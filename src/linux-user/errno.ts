// Linux errno values the system-call layer answers with (include/uapi/asm-generic/errno-base.h,
// errno.h), and the exception a helper deep in a call raises to answer -errno.

export const E = {
  PERM: 1, NOENT: 2, SRCH: 3, BADF: 9, CHILD: 10, AGAIN: 11, NOMEM: 12, ACCES: 13, FAULT: 14, EXIST: 17,
  NODEV: 19, NOTDIR: 20, ISDIR: 21, INVAL: 22, MFILE: 24, NOTTY: 25, SPIPE: 29, ROFS: 30, PIPE: 32,
  RANGE: 34, NAMETOOLONG: 36, NOSYS: 38,
} as const;

/** Raised inside a call to answer -errno (validation failures deep in a helper). */
export class Errno extends Error {
  constructor(readonly errno: number) {
    super(`errno ${errno}`);
  }
}
