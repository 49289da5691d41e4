/** @module Allocator settings a long-running Bun process is started with. */

/**
 * mimalloc, Bun's allocator, hands pages back to the OS 10 ms after they empty; a gateway under load empties and
 * refills them all the time (each request's garbage, each usage batch's buffers), so it paid for the purge on one
 * thread and the page faults on another: ~11 % of its CPU per request on the loopback bench, a third of its own
 * in-process cost (a bare Bun proxy saves ~10 % too). Never purging at all left RSS at its high-water mark for good,
 * start-up's garbage included (~108 MiB idle against ~43). A page empty for a whole second is not one the load is
 * about to refill: `viapi serve` (and the benchmarks' Bun processes) run with a 1 s delay, re-executing themselves in
 * place (same pid) to set it, unless MIMALLOC_PURGE_DELAY is already set, which is left to the operator.
 */
export const PURGE_DELAY_MS = '1000'

export function tuneAllocator(): void {
  if ('MIMALLOC_PURGE_DELAY' in process.env || typeof process.execve !== 'function') return
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], { ...process.env, MIMALLOC_PURGE_DELAY: PURGE_DELAY_MS })
  } catch {
    // Not re-executed (the runtime refused): serve anyway, with the allocator's defaults.
  }
}
