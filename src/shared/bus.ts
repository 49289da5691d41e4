/**
 * @module Change notifications between replicas: admin writes publish what changed, every replica's caches drop
 * it. Delivered in-process at once; with Redis, also over pub/sub to the other replicas. After a gap in the
 * subscription (Redis restarted), subscribers get `all` since messages may have been missed; the caches' TTL is
 * the backstop beyond that.
 */
import { RedisClient } from 'bun'
import { describeError, log } from './log.ts'

/** Which cached key contexts a change may affect. */
export interface Invalidation {
  keyId?: string
  keyHash?: string
  clientId?: string
  firmId?: string
  all?: boolean
}

export type BusMessage = { kind: 'invalidate'; inv: Invalidation } | { kind: 'catalog' } | { kind: 'breaker'; target: string; openUntil: number }

export interface Bus {
  publish(message: BusMessage): void
  subscribe(handler: (message: BusMessage) => void): void
  readonly redis: boolean
  close(): Promise<void>
}

class LocalBus implements Bus {
  protected handlers: ((m: BusMessage) => void)[] = []
  readonly redis: boolean = false

  publish(message: BusMessage): void {
    this.deliver(message)
  }

  subscribe(handler: (message: BusMessage) => void): void {
    this.handlers.push(handler)
  }

  protected deliver(message: BusMessage): void {
    for (const h of this.handlers) {
      try {
        h(message)
      } catch (err) {
        log.error('bus handler failed', { error: describeError(err) })
      }
    }
  }

  async close(): Promise<void> {}
}

class RedisBus extends LocalBus {
  override readonly redis = true
  private readonly origin = crypto.randomUUID()
  private readonly channel: string
  private hadConnection = false

  constructor(
    private readonly pub: RedisClient,
    private readonly sub: RedisClient,
    prefix: string,
  ) {
    super()
    this.channel = `${prefix}bus`
  }

  async start(): Promise<void> {
    this.sub.onconnect = () => {
      if (this.hadConnection) {
        log.info('invalidation bus reconnected; dropping caches in case messages were missed')
        this.deliver({ kind: 'invalidate', inv: { all: true } })
      }
      void this.listen()
    }
    this.sub.onclose = (err) => log.warn('invalidation bus disconnected', { error: describeError(err) })
    await this.sub.connect()
    await this.listen()
  }

  private async listen(): Promise<void> {
    try {
      await this.sub.subscribe(this.channel, (raw) => {
        const msg = JSON.parse(raw) as { origin: string; message: BusMessage }
        if (msg.origin !== this.origin) this.deliver(msg.message)
      })
      this.hadConnection = true
    } catch (err) {
      log.warn('invalidation bus subscribe failed', { error: describeError(err) })
    }
  }

  override publish(message: BusMessage): void {
    this.deliver(message)
    this.pub.publish(this.channel, JSON.stringify({ origin: this.origin, message })).catch((err: unknown) => {
      log.warn('invalidation publish failed; other replicas rely on their cache TTL', { error: describeError(err) })
    })
  }

  override async close(): Promise<void> {
    this.sub.onconnect = null
    this.sub.onclose = null
    this.sub.close()
    this.pub.close()
  }
}

/** In-process only without a Redis URL; otherwise also across replicas. Never throws when Redis is down. */
export async function createBus(redisUrl: string | undefined, prefix: string): Promise<Bus> {
  if (!redisUrl) return new LocalBus()
  const opts = { autoReconnect: true, maxRetries: 4_294_967_295, enableOfflineQueue: false, connectionTimeout: 2000 }
  const bus = new RedisBus(new RedisClient(redisUrl, opts), new RedisClient(redisUrl, opts), prefix)
  try {
    await bus.start()
  } catch (err) {
    log.warn('redis unreachable at start; invalidation is local until it returns', { error: describeError(err) })
  }
  return bus
}
