import { expect, test } from 'bun:test'
import { parseSecretKey, seal, unseal } from './sealed.ts'

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
