import { expect, test } from 'bun:test'
import { checkOutboundUrl, isPrivateAddress } from './urls.ts'

test.each([
  ['127.0.0.1', true],
  ['10.1.2.3', true],
  ['172.16.0.1', true],
  ['172.32.0.1', false],
  ['192.168.1.1', true],
  ['169.254.169.254', true],
  ['100.64.0.1', true],
  ['0.0.0.0', true],
  ['8.8.8.8', false],
  ['::1', true],
  ['::', true],
  ['fd00::1', true],
  ['fe80::1', true],
  ['::ffff:127.0.0.1', true],
  ['2001:4860:4860::8888', false],
  ['not-an-ip', true],
])('isPrivateAddress(%p) = %p', (ip, expected) => {
  expect(isPrivateAddress(ip)).toBe(expected)
})

test.each([
  ['http://127.0.0.1:9999/hook', false, 'must use https'],
  ['https://127.0.0.1/hook', false, 'not allowed'],
  ['https://[::1]/hook', false, 'not allowed'],
  ['https://169.254.169.254/latest', false, 'not allowed'],
  ['ftp://example.com', true, 'http(s)'],
  ['https://user:pw@example.com', true, 'credentials'],
  ['nonsense', true, 'not a valid URL'],
])('checkOutboundUrl refuses %p (private allowed: %p)', async (url, allowPrivate, words) => {
  await expect(checkOutboundUrl(url, 'url', allowPrivate)).rejects.toThrow(words)
})

test('private addresses pass when explicitly allowed', async () => {
  expect((await checkOutboundUrl('http://127.0.0.1:9999/hook', 'url', true)).port).toBe('9999')
})
