/**
 * The seccomp filter bubblewrap installs in every sandbox (`--seccomp`): a classic BPF program that
 * refuses the kernel keyring's system calls with EPERM, as Docker's default profile does, and allows
 * everything else. The keyring is not namespaced: a function could otherwise link, read or clear the
 * keyring of its user outside (Kerberos tickets, filesystem keys), and two functions could pass data
 * through it.
 *
 * Where the sandbox has no user namespace of its own (a server running as root starts its runtimes as an
 * unprivileged user of the host, sandbox.ts), the filter also refuses to make one, as bubblewrap's
 * `--disable-userns` does where there is: `unshare` and `clone` with CLONE_NEWUSER fail with EPERM, and
 * `clone3`, whose flags a classic filter cannot read, with ENOSYS, so that the C library falls back to
 * `clone` (Docker's answer too). Built here because it is a score of instructions; see seccomp(2).
 */

/** `struct seccomp_data`: the system call number at offset 0, the audit architecture at 4, the first argument's low half at 16. */
const NR = 0;
const ARCH = 4;
const ARG0_LOW = 16;
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;
const CLONE_NEWUSER = 0x10000000;
/** x86-64's x32 ABI numbers its calls from here; no runtime uses it, so none of them is allowed. */
const X32_SYSCALL_BIT = 0x40000000;

interface Calls {
  audit: number;
  /** add_key, request_key, keyctl. */
  keyring: readonly number[];
  /** Calls whose first argument holds clone flags. */
  unshare: number;
  clone: number;
  clone3: number;
}

/** The numbers on each architecture Node and Python run on here. */
const ARCHITECTURES: Record<string, Calls> = {
  x64: { audit: 0xc000003e, keyring: [248, 249, 250], unshare: 272, clone: 56, clone3: 435 },
  arm64: { audit: 0xc00000b7, keyring: [217, 218, 219], unshare: 97, clone: 220, clone3: 435 },
};

/** A jump names where it goes, by label; assemble() turns labels into the offsets BPF counts. */
type Step = { code: number; k: number; then?: string; else?: string } | { label: string };

/**
 * The filter for `arch` (Node's `process.arch`), as the bytes of an array of `struct sock_filter`; undefined
 * for an architecture it does not know, whose sandboxes then run without one. A call made under another
 * audit architecture (a 32-bit one) is refused as a whole: its numbers mean other calls. `namespaces`:
 * refuse new user namespaces too.
 */
export function sandboxFilter(opts: { namespaces: boolean }, arch: string = process.arch): Buffer | undefined {
  const calls = ARCHITECTURES[arch];
  if (!calls) return undefined;
  const steps: Step[] = [
    { code: LD_W_ABS, k: ARCH },
    { code: JEQ_K, k: calls.audit, else: 'deny' },
    { code: LD_W_ABS, k: NR },
    ...(arch === 'x64' ? [{ code: JGE_K, k: X32_SYSCALL_BIT, then: 'deny' }] : []),
    ...calls.keyring.map((nr) => ({ code: JEQ_K, k: nr, then: 'deny' })),
    ...(opts.namespaces
      ? [
          { code: JEQ_K, k: calls.unshare, then: 'flags' },
          { code: JEQ_K, k: calls.clone, then: 'flags' },
          { code: JEQ_K, k: calls.clone3, then: 'nosys' },
        ]
      : []),
    { code: RET_K, k: RET_ALLOW },
    ...(opts.namespaces
      ? [
          { label: 'flags' },
          { code: LD_W_ABS, k: ARG0_LOW },
          { code: JSET_K, k: CLONE_NEWUSER, then: 'deny' },
          { code: RET_K, k: RET_ALLOW },
          { label: 'nosys' },
          { code: RET_K, k: RET_ERRNO | ENOSYS },
        ]
      : []),
    { label: 'deny' },
    { code: RET_K, k: RET_ERRNO | EPERM },
  ];
  return assemble(steps);
}

/** The bytes of the program: a jump's offset counts the instructions it skips (from the next one). */
function assemble(steps: Step[]): Buffer {
  const at = new Map<string, number>();
  const program: Exclude<Step, { label: string }>[] = [];
  for (const step of steps) {
    if ('label' in step) at.set(step.label, program.length);
    else program.push(step);
  }
  const offset = (from: number, label: string | undefined): number => {
    if (label === undefined) return 0;
    const skip = at.get(label)! - from - 1;
    if (skip < 0 || skip > 255) throw new Error(`seccomp: jump to ${label} out of range`);
    return skip;
  };
  const out = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    out.writeUInt16LE(ins.code, i * 8);
    out.writeUInt8(offset(i, ins.then), i * 8 + 2);
    out.writeUInt8(offset(i, ins.else), i * 8 + 3);
    out.writeUInt32LE(ins.k >>> 0, i * 8 + 4);
  });
  return out;
}
