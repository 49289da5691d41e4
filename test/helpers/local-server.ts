/** A loopback HTTP server on a free port that a test starts, stops and answers through `handle`. */
export abstract class LocalServer {
  private server: ReturnType<typeof Bun.serve> | null = null
  port = 0

  start(): this {
    this.server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (req) => this.handle(req) })
    this.port = this.server.port!
    return this
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`
  }

  async stop(): Promise<void> {
    await this.server?.stop(true)
    this.server = null
  }

  protected abstract handle(req: Request): Promise<Response>
}
