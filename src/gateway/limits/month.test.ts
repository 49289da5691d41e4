import { expect, test } from 'bun:test'
import { MonthClock, monthOf } from './month.ts'

test.each([
  ['UTC', '2026-11-26T17:00:00Z', '2026-11', '2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
  ['UTC', '2026-12-31T23:59:59Z', '2026-12', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
  ['UTC', '2026-12-01T00:00:00Z', '2026-12', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
  ['America/New_York', '2026-12-01T03:00:00Z', '2026-11', '2026-11-01T04:00:00.000Z', '2026-12-01T05:00:00.000Z'],
  ['Asia/Tokyo', '2026-11-30T16:00:00Z', '2026-12', '2026-11-30T15:00:00.000Z', '2026-12-31T15:00:00.000Z'],
  ['Europe/Berlin', '2027-03-31T21:59:00Z', '2027-03', '2027-02-28T23:00:00.000Z', '2027-03-31T22:00:00.000Z'],
])('%s %s is in %s, from %s to %s', (tz, at, label, start, end) => {
  const m = monthOf(tz, Date.parse(at))
  expect(m.label).toBe(label)
  expect(new Date(m.startsAt).toISOString()).toBe(start)
  expect(new Date(m.endsAt).toISOString()).toBe(end)
})

test('the clock moves to the next month exactly at the boundary', () => {
  const clock = new MonthClock()
  const end = Date.parse('2026-12-01T00:00:00Z')
  expect(clock.at('UTC', end - 1).label).toBe('2026-11')
  expect(clock.at('UTC', end).label).toBe('2026-12')
})
