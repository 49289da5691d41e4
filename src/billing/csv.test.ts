import { expect, test } from 'bun:test'
import { csvText, usageCsvLine, usdDecimal } from './csv.ts'

test.each([
  ['plain', 'plain'],
  ['Acme, Inc.', '"Acme, Inc."'],
  ['say "hi"', '"say ""hi"""'],
  ['two\nlines', '"two\nlines"'],
  ['=SUM(A1:A9)', "'=SUM(A1:A9)"],
  ['+1', "'+1"],
  ['-2', "'-2"],
  ['@cmd', "'@cmd"],
  ['=HYPERLINK("x","y")', `"'=HYPERLINK(""x"",""y"")"`],
  [null, ''],
])('csvText(%p)', (input, expected) => {
  expect(csvText(input)).toBe(expected)
})

test.each([
  [0n, '0.000000000'],
  [12_600n, '0.000012600'],
  [1_500_000_000n, '1.500000000'],
  [500_000_000_000n, '500.000000000'],
  [-1n, '-0.000000001'],
])('usdDecimal(%p)', (nano, text) => {
  expect(usdDecimal(nano)).toBe(text)
})

test('a whole line', () => {
  const line = usageCsvLine({
    created_at: new Date('2026-11-26T10:00:00.000Z'),
    id: 'req_1',
    client_id: 'cli_1',
    client_name: 'Acme, "the" firm',
    key_prefix: 'vi_live_abcd',
    model_requested: 'default',
    model_used: 'gpt-4o-mini',
    provider: 'openai',
    prompt_tokens: 12,
    completion_tokens: 18,
    cached_tokens: 0,
    cost_nano: 12_600n,
    markup_nano: 3_780n,
    billed_nano: 16_380n,
    status: 200,
    stream: false,
  })
  expect(line).toBe('2026-11-26T10:00:00.000Z,req_1,cli_1,"Acme, ""the"" firm",vi_live_abcd,default,gpt-4o-mini,openai,12,18,0,0.000012600,0.000003780,0.000016380,200,false')
})
