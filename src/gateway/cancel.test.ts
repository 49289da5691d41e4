import { expect, test } from 'bun:test'
import { abortSignalOf, Cancel } from './cancel.ts'

test('aborts once: the first reason stays, each listener still attached is called once', () => {
  const c = new Cancel()
  const calls: string[] = []
  const a = () => calls.push('a')
  const b = () => calls.push('b')
  c.addEventListener('abort', a)
  c.addEventListener('abort', b)
  c.removeEventListener('abort', a)
  c.abort(new Error('first'))
  c.abort(new Error('second'))
  expect(calls).toEqual(['b'])
  expect(c.aborted).toBe(true)
  expect((c.reason as Error).message).toBe('first')
  // Added after the abort: never called (callers check `aborted` first, as with an AbortSignal).
  c.addEventListener('abort', a)
  expect(calls).toEqual(['b'])
})

test('a real AbortSignal for fetch follows it, made before or after the abort', async () => {
  const before = new Cancel()
  const signal = abortSignalOf(before)
  expect(signal).toBeInstanceOf(AbortSignal)
  expect(abortSignalOf(before)).toBe(signal)
  const fetched = fetch('http://127.0.0.1:9/', { signal }).catch((e: unknown) => e)
  before.abort(new Error('client gone'))
  expect(signal.aborted).toBe(true)
  expect(((await fetched) as Error).message).toBe('client gone')
  const after = new Cancel()
  after.abort('late')
  expect(abortSignalOf(after).reason).toBe('late')
  const plain = new AbortController().signal
  expect(abortSignalOf(plain)).toBe(plain)
})
