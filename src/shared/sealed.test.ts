import { expect, test } from 'bun:test'
import { needsReseal, openIfSealed, parseSecretKey, seal, sealIfKeyed, unseal } from './sealed.ts'

const a = parseSecretKey('11'.repeat(32))
const b = parseSecretKey(Buffer.alloc(32, 7).toString('base64'))

test('seal and unseal round trip; every seal differs', () => {
  const s1 = seal(a, 'sk-ant-secret')
  const s2 = seal(a, 'sk-ant-secret')
  expect(s1).not.toBe(s2)
  expect(s1).not.toContain('sk-ant')
  expect(unseal([a], s1)).toBe('sk-ant-secret')
})

test('a value sealed with another key names it; both keys open both', () => {
  const s = seal(b, 'x')
  expect(() => unseal([a], s)).toThrow('unknown key')
  expect(unseal([a, b], s)).toBe('x')
})

test('tampering is detected', () => {
  const parts = seal(a, 'hello').split(':')
  parts[3] = Buffer.from('jello').toString('base64')
  expect(() => unseal([a], parts.join(':'))).toThrow()
})

test.each(['short', '00'.repeat(31), ''])('bad keys are refused: %p', (k) => {
  expect(() => parseSecretKey(k)).toThrow('32 bytes')
})

test('optional sealing: sealed with a key, as is without; opening takes either; re-seal what is plain or under another key', () => {
  const sealed = sealIfKeyed([a], 'whsec_1')
  expect(sealed).toStartWith('v1:')
  expect(openIfSealed([a], sealed)).toBe('whsec_1')
  expect(sealIfKeyed([], 'whsec_1')).toBe('whsec_1')
  expect(openIfSealed([a], 'whsec_1')).toBe('whsec_1')
  expect(() => openIfSealed([b], sealed)).toThrow('unknown key')
  expect([needsReseal(a, sealed), needsReseal(b, sealed), needsReseal(a, 'whsec_1')]).toEqual([false, true, true])
})
