// `npm run bench`: interrupt latency of the real-time test guest (guests/rtvm), in cycles of the
// RK3588's A76 core 7, in the seed talk's three configurations and under load (src/rt-latency.ts):
//   latency: native=A vgic=B passthrough=C                      (average cycles)
//   latency-worst: native=... vgic=... passthrough=... loaded=... (worst cycles)
import { formatLatency, runLoaded, runNative, runVm } from '../rt-latency.ts';

export async function latencyLines(): Promise<string[]> {
  return formatLatency({ native: await runNative(), vgic: await runVm('vgic'), passthrough: await runVm('passthrough'), loaded: await runLoaded() });
}
