/**
 * The seccomp filter bubblewrap installs in every sandbox (`--seccomp`): a classic BPF program that
 * refuses the kernel keyring's system calls with EPERM, as Docker's default profile does, and allows
 * everything else. The keyring is not namespaced: the sandbox user maps to the server's user, whose
 * keyring (Kerberos tickets, filesystem keys) a function could otherwise link, read or clear, and two
 * functions could pass data through. Built here because it is a dozen instructions; see seccomp(2).
 */

/** `struct seccomp_data`: the system call number at offset 0, the audit architecture at 4. */
const NR = 0;
const ARCH = 4;
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const EPERM = 1;
/** x86-64's x32 ABI numbers its calls from here; no runtime uses it, so none of them is allowed. */
const X32_SYSCALL_BIT = 0x40000000;

/** add_key, request_key and keyctl on each architecture Node and Python run on here. */
const ARCHITECTURES: Record<string, { audit: number; calls: readonly number[] }> = {
  x64: { audit: 0xc000003e, calls: [248, 249, 250] },
  arm64: { audit: 0xc00000b7, calls: [217, 218, 219] },
};

type Instruction = [code: number, jt: number, jf: number, k: number];

/**
 * The filter for `arch` (Node's `process.arch`), as the bytes of an array of `struct sock_filter`; undefined
 * for an architecture it does not know, whose sandboxes then run without one. A call made under another
 * audit architecture (a 32-bit one) is refused as a whole: its numbers mean other calls.
 */
export function keyringFilter(arch: string = process.arch): Buffer | undefined {
  const target = ARCHITECTURES[arch];
  if (!target) return undefined;
  const checks: [code: number, k: number][] = [
    ...(arch === 'x64' ? [[JGE_K, X32_SYSCALL_BIT] as [number, number]] : []),
    ...target.calls.map((nr): [number, number] => [JEQ_K, nr]),
  ];
  // Load the architecture, check it, load the call's number, the checks, allow, deny. A jump's offset
  // counts the instructions it skips, so from instruction i, deny is (deny - i - 1) ahead.
  const deny = 4 + checks.length;
  const program: Instruction[] = [
    [LD_W_ABS, 0, 0, ARCH],
    [JEQ_K, 0, deny - 2, target.audit],
    [LD_W_ABS, 0, 0, NR],
    ...checks.map(([code, k], j): Instruction => [code, deny - (3 + j) - 1, 0, k]),
    [RET_K, 0, 0, RET_ALLOW],
    [RET_K, 0, 0, RET_ERRNO | EPERM],
  ];
  const out = Buffer.alloc(program.length * 8);
  program.forEach(([code, jt, jf, k], i) => {
    out.writeUInt16LE(code, i * 8);
    out.writeUInt8(jt, i * 8 + 2);
    out.writeUInt8(jf, i * 8 + 3);
    out.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return out;
}
