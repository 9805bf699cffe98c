// OCI platform as the builder takes it (same shape as the frontend's Platform).
import type { Platform as PbPlatform } from '../gen/github.com/moby/buildkit/solver/pb/ops.ts';

export interface LlbPlatform {
  os: string;
  architecture: string;
  variant?: string;
  osVersion?: string;
}

const NODE_ARCH: Record<string, string> = {
  x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64',
  loong64: 'loong64', mips: 'mips', mipsel: 'mipsle',
};

/**
 * Used only when neither the state nor marshal() names a platform (Go falls back
 * to the host platform the same way). Frontends should always pass the target
 * platform to marshal().
 */
export function hostPlatform(): LlbPlatform {
  const architecture = NODE_ARCH[process.arch] ?? process.arch;
  return architecture === 'arm' ? { os: 'linux', architecture, variant: 'v7' } : { os: 'linux', architecture };
}

export function toPbPlatform(p: LlbPlatform): PbPlatform {
  return {
    Architecture: p.architecture,
    OS: p.os,
    Variant: p.variant ?? '',
    OSVersion: p.osVersion ?? '',
    OSFeatures: [],
  };
}
