/**
 * @module Usage events held column by column until they are written. A queued event keeps no object of its own:
 * numbers sit in typed arrays, repeated text (firm, client, key, model, outcome) as an index into the batch's own
 * dictionary, and only the request id is a string per event. Measured in the gateway, holding each event as an
 * object until the flush cost ~2 µs of CPU a request, almost all of it in garbage collection: every event outlived
 * a young collection and was promoted, and the old generation then had to be collected for it.
 */
import { arrayElement, CHUNK_SPAN_MS, idList } from './usage-chunks.ts'
import type { UsageRow } from './usage.ts'

/** A usage row as the meter queues it: with whether the client was on prepaid billing when it ran. */
export type QueuedRow = UsageRow & { prepaid?: boolean }
/** A queued row as read back: whether the client was prepaid is always said. */
export type HeldRow = UsageRow & { prepaid: boolean }

const TEXT = ['firmId', 'clientId', 'keyId', 'endpoint', 'modelRequested', 'modelUsed', 'provider', 'outcome', 'errorCode'] as const
const INT_COLUMNS = 6
const MONEY_COLUMNS = 3
const FLAG_COLUMNS = 3
type TextField = (typeof TEXT)[number]

/** Text, int, money and flag columns in the order CHUNK_COLUMNS (usage-chunks.ts) sends them (after ids, before created_ms). */
const ORDER: readonly ({ text: number } | { int: number } | { money: number } | { flag: number })[] = [
  { text: 2 }, { text: 3 }, { text: 4 }, { text: 5 }, { text: 6 },
  { int: 0 }, { int: 1 }, { int: 2 }, { money: 0 }, { money: 1 }, { money: 2 }, { int: 3 },
  { text: 7 }, { text: 8 }, { flag: 0 }, { flag: 1 }, { int: 4 },
]

const I64_MIN = -(2n ** 63n)
const I64_MAX = 2n ** 63n - 1n
const inI64 = (v: bigint) => v >= I64_MIN && v <= I64_MAX
/** `n` is Number(v); exact below 2^53, else `v` is checked against int64 itself. */
const fits = (n: number, v: bigint) => Number.isSafeInteger(n) || inI64(v)
const isI32 = (v: number) => (v | 0) === v
export class UsageBatch {
  length = 0
  /** Some rows may be stored already (a retried write, a spill file): writes look their ids up first. */
  mayRepeat = false
  private capacity: number
  private ids: string[] = []
  private text: Int32Array[]
  private ints: Int32Array[]
  /** Amounts as doubles, exact up to 2^53 nano-dollars (~$9M); a larger one is kept aside as a bigint (NaN here). */
  private money: Float64Array[]
  private bigMoney: Map<number, bigint>[] = [new Map(), new Map(), new Map()]
  private flags: Uint8Array[]
  private times: Float64Array
  /** The batch's distinct text values; a text column holds 1 + a value's index here, 0 for NULL. */
  private dict: string[] = []
  private dictIndex = new Map<string, number>()
  /** The previous event's value and index per text column: consecutive events mostly share them. */
  private lastText: (string | null | undefined)[] = TEXT.map(() => undefined)
  private lastIndex: number[] = TEXT.map(() => 0)

  constructor(capacity = 256) {
    this.capacity = capacity
    this.text = TEXT.map(() => new Int32Array(capacity))
    this.ints = Array.from({ length: INT_COLUMNS }, () => new Int32Array(capacity))
    this.money = Array.from({ length: MONEY_COLUMNS }, () => new Float64Array(capacity))
    this.flags = Array.from({ length: FLAG_COLUMNS }, () => new Uint8Array(capacity))
    this.times = new Float64Array(capacity)
  }

  static of(rows: readonly QueuedRow[]): UsageBatch {
    const b = new UsageBatch(Math.max(16, rows.length))
    for (const r of rows) b.push(r)
    return b
  }

  /**
   * Queues a row. RangeError for an amount outside int64 or a count outside int32, which their columns could not
   * hold either (Postgres would refuse the whole batch; the typed arrays would wrap it silently).
   */
  push(r: QueuedRow): void {
    // Amounts as doubles when exact (all real ones): one conversion each, and a bigint range check only past 2^53.
    const cost = Number(r.costNano)
    const markup = Number(r.markupNano)
    const billed = Number(r.billedNano)
    if (!fits(cost, r.costNano) || !fits(markup, r.markupNano) || !fits(billed, r.billedNano)) throw new RangeError(`usage event ${r.id}: an amount is outside the range of a bigint column`)
    if (!isI32(r.promptTokens) || !isI32(r.completionTokens) || !isI32(r.cachedTokens) || !isI32(r.status) || !isI32(r.latencyMs) || !isI32(r.attempt ?? 0)) {
      throw new RangeError(`usage event ${r.id}: a count is outside the range of an integer column`)
    }
    if (this.length === this.capacity) this.grow()
    const i = this.length++
    this.ids[i] = r.id
    // Written out field by field: this runs once per proxied request.
    const text = this.text
    text[0]![i] = this.intern(0, r.firmId)
    text[1]![i] = this.intern(1, r.clientId)
    text[2]![i] = this.intern(2, r.keyId)
    text[3]![i] = this.intern(3, r.endpoint)
    text[4]![i] = this.intern(4, r.modelRequested)
    text[5]![i] = this.intern(5, r.modelUsed)
    text[6]![i] = this.intern(6, r.provider)
    text[7]![i] = this.intern(7, r.outcome)
    text[8]![i] = this.intern(8, r.errorCode)
    const ints = this.ints
    ints[0]![i] = r.promptTokens
    ints[1]![i] = r.completionTokens
    ints[2]![i] = r.cachedTokens
    ints[3]![i] = r.status
    ints[4]![i] = r.latencyMs
    ints[5]![i] = r.attempt ?? 0
    this.setMoney(0, i, cost, r.costNano)
    this.setMoney(1, i, markup, r.markupNano)
    this.setMoney(2, i, billed, r.billedNano)
    this.flags[0]![i] = r.usageEstimated ? 1 : 0
    this.flags[1]![i] = r.stream ? 1 : 0
    this.flags[2]![i] = r.prepaid === true ? 1 : 0
    this.times[i] = r.createdAt.getTime()
  }

  /** `n` is Number(v): stored as is when exact, else NaN here and `v` aside. */
  private setMoney(c: number, i: number, n: number, v: bigint): void {
    if (Number.isSafeInteger(n)) this.money[c]![i] = n
    else {
      this.money[c]![i] = NaN
      this.bigMoney[c]!.set(i, v)
    }
  }

  private moneyAt(c: number, i: number): bigint {
    const v = this.money[c]![i]!
    return v === v ? BigInt(v) : this.bigMoney[c]!.get(i)!
  }

  private intern(c: number, v: string | null): number {
    if (v === this.lastText[c]) return this.lastIndex[c]!
    let idx = 0
    if (v !== null) {
      const known = this.dictIndex.get(v)
      if (known !== undefined) idx = known
      else {
        this.dict.push(v)
        idx = this.dict.length
        this.dictIndex.set(v, idx)
      }
    }
    this.lastText[c] = v
    this.lastIndex[c] = idx
    return idx
  }

  private grow(): void {
    const cap = this.capacity * 2
    const more = <T extends Int32Array | Uint8Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap)
      b.set(a as never)
      return b
    }
    this.text = this.text.map((a) => more(a, (n) => new Int32Array(n)))
    this.ints = this.ints.map((a) => more(a, (n) => new Int32Array(n)))
    this.money = this.money.map((a) => more(a, (n) => new Float64Array(n)))
    this.flags = this.flags.map((a) => more(a, (n) => new Uint8Array(n)))
    this.times = more(this.times, (n) => new Float64Array(n))
    this.capacity = cap
  }

  private textAt(c: number, i: number): string | null {
    const idx = this.text[c]![i]!
    return idx === 0 ? null : this.dict[idx - 1]!
  }

  /** Row i as an object (spill files, prepaid debits). */
  row(i: number): HeldRow {
    const t = (f: TextField) => this.textAt(TEXT.indexOf(f), i)
    return {
      id: this.ids[i]!,
      firmId: t('firmId')!,
      clientId: t('clientId')!,
      keyId: t('keyId')!,
      endpoint: t('endpoint')!,
      modelRequested: t('modelRequested')!,
      modelUsed: t('modelUsed'),
      provider: t('provider'),
      promptTokens: this.ints[0]![i]!,
      completionTokens: this.ints[1]![i]!,
      cachedTokens: this.ints[2]![i]!,
      costNano: this.moneyAt(0, i),
      markupNano: this.moneyAt(1, i),
      billedNano: this.moneyAt(2, i),
      status: this.ints[3]![i]!,
      outcome: t('outcome')!,
      errorCode: t('errorCode'),
      usageEstimated: this.flags[0]![i] === 1,
      stream: this.flags[1]![i] === 1,
      latencyMs: this.ints[4]![i]!,
      createdAt: new Date(this.times[i]!),
      attempt: this.ints[5]![i]!,
      prepaid: this.flags[2]![i] === 1,
    }
  }

  rows(from = 0, to = this.length): HeldRow[] {
    const out = []
    for (let i = from; i < to; i++) out.push(this.row(i))
    return out
  }

  /** Rows from..to-1 as a batch of their own (what is left of a failed write: it may repeat). */
  slice(from: number, to = this.length): UsageBatch {
    const b = UsageBatch.of(this.rows(from, to))
    b.mayRepeat = true
    return b
  }

  /** Whether row i debits prepaid credit (a prepaid client, a billed amount). */
  debits(i: number): boolean {
    return this.flags[2]![i] === 1 && this.moneyAt(2, i) > 0n
  }

  /** Request id of row i. */
  id(i: number): string {
    return this.ids[i]!
  }

  /** Client of row i. */
  clientId(i: number): string {
    return this.textAt(1, i)!
  }

  /** Time of row i, epoch milliseconds. */
  time(i: number): number {
    return this.times[i]!
  }

  /**
   * The rows at these indexes as the chunk insert's parameters: grouped into chunks, one per client and minute
   * (CHUNK_SPAN_MS), each chunk's rows in their order here; per chunk the CHUNK_META arrays, then one Postgres
   * array literal per CHUNK_COLUMNS column over all chunks' rows. A column holding one value for all the rows goes
   * as that one value, which every chunk stores once. Request ids are the only text always sent per row.
   */
  chunkParams(rows: readonly number[]): string[] {
    const groups = new Map<number, number[]>()
    for (const i of rows) {
      // A client's dictionary index and its minute make one number (the minute since 1970 stays below 2^27 until 2225).
      const key = this.text[1]![i]! * 2 ** 27 + Math.floor(this.times[i]! / CHUNK_SPAN_MS)
      const g = groups.get(key)
      if (g) g.push(i)
      else groups.set(key, [i])
    }
    const order: number[] = []
    const meta = { id: [] as string[], firm: [] as string[], client: [] as string[], tMin: [] as number[], tMax: [] as number[], s: [] as number[], e: [] as number[] }
    for (const g of groups.values()) {
      let lo = Infinity
      let hi = -Infinity
      for (const i of g) {
        const t = this.times[i]!
        if (t < lo) lo = t
        if (t > hi) hi = t
      }
      meta.id.push(this.ids[g[0]!]!)
      meta.firm.push(arrayElement(this.textAt(0, g[0]!)))
      meta.client.push(arrayElement(this.textAt(1, g[0]!)))
      meta.tMin.push(lo)
      meta.tMax.push(hi)
      meta.s.push(order.length + 1)
      for (const i of g) order.push(i)
      meta.e.push(order.length)
    }
    const out = [idList(meta.id), `{${meta.firm.join(',')}}`, `{${meta.client.join(',')}}`, `{${meta.tMin.join(',')}}`, `{${meta.tMax.join(',')}}`, `{${meta.s.join(',')}}`, `{${meta.e.join(',')}}`]
    const n = order.length
    out.push(idList(order.map((i) => this.ids[i]!)))
    const same = (a: Int32Array | Uint8Array | Float64Array) => {
      const first = a[order[0]!]!
      if (first !== first) return false
      for (let k = 1; k < n; k++) if (a[order[k]!] !== first) return false
      return true
    }
    const numbers = (a: Int32Array | Uint8Array | Float64Array, big?: Map<number, bigint>): string => {
      if (n === 0) return '{}'
      if (same(a)) return `{${a[order[0]!]}}`
      const vals = new Array<number | bigint>(n)
      for (let k = 0; k < n; k++) {
        const v = a[order[k]!]!
        vals[k] = v === v ? v : big!.get(order[k]!)!
      }
      return `{${vals.join(',')}}`
    }
    const text = (c: number): string => {
      if (n === 0) return '{}'
      if (same(this.text[c]!)) return `{${arrayElement(this.textAt(c, order[0]!))}}`
      return `{${order.map((i) => arrayElement(this.textAt(c, i))).join(',')}}`
    }
    for (const col of ORDER) {
      if ('text' in col) out.push(text(col.text))
      else if ('int' in col) out.push(numbers(this.ints[col.int]!))
      else if ('money' in col) out.push(numbers(this.money[col.money]!, this.bigMoney[col.money]))
      else out.push(numbers(this.flags[col.flag]!))
    }
    out.push(numbers(this.times))
    out.push(numbers(this.ints[5]!))
    return out
  }
}
