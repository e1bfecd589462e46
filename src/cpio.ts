// A cpio "newc" archive (what the kernel's initramfs unpacker reads) of directories and files:
// tests and benchmarks append one to the kit's initramfs to add their own files (Linux unpacks
// concatenated archives in order).
export function cpio(entries: [string, Uint8Array | null][]): Uint8Array {
  const parts: Buffer[] = [];
  const pad = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  const add = (name: string, mode: number, data: Uint8Array, ino: number) => {
    const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length + 1, 0];
    const head = Buffer.from('070701' + fields.map((f) => f.toString(16).padStart(8, '0')).join('') + name + '\0');
    parts.push(head, pad(head.length), Buffer.from(data), pad(data.length));
  };
  entries.forEach(([name, data], i) => add(name, data === null ? 0o40755 : 0o100644, data ?? new Uint8Array(0), i + 1));
  add('TRAILER!!!', 0, new Uint8Array(0), 0);
  return new Uint8Array(Buffer.concat(parts));
}
