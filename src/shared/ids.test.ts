import { describe, expect, test } from 'bun:test'
import { newId, ulid } from './ids.ts'

describe('ulid', () => {
  test('ids made in the same millisecond sort in the order they were made', () => {
    const ids = Array.from({ length: 5000 }, () => ulid(1_795_700_000_000))
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual(ids)
  })

  test('a later millisecond sorts after, whatever the random part', () => {
    const a = ulid(1_795_700_000_000)
    const b = ulid(1_795_700_000_001)
    expect(b > a).toBe(true)
    expect(b.slice(0, 10) > a.slice(0, 10)).toBe(true)
  })

  test('prefixed, 26 Crockford base32 characters', () => {
    expect(newId('vid')).toMatch(/^vid_[0-9A-HJKMNP-TV-Z]{26}$/)
  })
})
