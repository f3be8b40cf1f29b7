// The real Outreach server for the kit's tests: the binary named by OUTREACH_BIN, started with the
// demo branch on a fresh data directory (a copy of OUTREACH_DEMO_DIR when CI has seeded one) or,
// with OUTREACH_KIT_DATABASE_URL, on that (empty) PostgreSQL database; and a recording proxy in
// front of it, which can lose a push's answer the way a tunnel does.
import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const DEMO_PASSWORD = 'outreach-demo-2026'

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = http.createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })

export class Outreach {
  url = ''
  private child?: ChildProcess
  private dir = ''
  private log: string[] = []

  async start(): Promise<this> {
    const bin = process.env.OUTREACH_BIN
    if (!bin) throw new Error('OUTREACH_BIN must name the outreach binary (cargo build; target/debug/outreach)')
    this.dir = mkdtempSync(join(tmpdir(), 'outreach-kit-'))
    if (process.env.OUTREACH_DEMO_DIR && !process.env.OUTREACH_KIT_DATABASE_URL) {
      cpSync(process.env.OUTREACH_DEMO_DIR, this.dir, { recursive: true })
    }
    const port = await freePort()
    this.url = `http://127.0.0.1:${port}`
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      OUTREACH_DATA_DIR: this.dir,
      OUTREACH_BIND: `127.0.0.1:${port}`,
      RUST_LOG: 'warn',
    }
    delete env.DATABASE_URL
    if (process.env.OUTREACH_KIT_DATABASE_URL) env.DATABASE_URL = process.env.OUTREACH_KIT_DATABASE_URL
    this.child = spawn(bin, ['serve', '--demo'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    const keep = (b: Buffer) => this.log.push(b.toString())
    this.child.stdout!.on('data', keep)
    this.child.stderr!.on('data', keep)
    const deadline = Date.now() + 600_000
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`outreach exited:\n${this.log.join('')}`)
      if (Date.now() > deadline) throw new Error(`outreach did not start:\n${this.log.join('')}`)
      try {
        await this.login('13800000001')
        return this
      } catch {
        await new Promise((r) => setTimeout(r, 500))
      }
    }
  }

  async stop() {
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((r) => this.child!.once('exit', r))
      this.child.kill('SIGTERM')
      await exited
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true })
  }

  async login(phone: string, password = DEMO_PASSWORD): Promise<string> {
    const res = await fetch(`${this.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ phone, password }),
    })
    if (!res.ok) throw new Error(`login ${phone}: HTTP ${res.status}`)
    return (await res.json()).access_token
  }

  // The REST API, as the app's online screens call it; throws on an unexpected status.
  async rest(token: string, method: string, path: string, body?: unknown, expect = [200, 201, 204]): Promise<any> {
    const res = await fetch(`${this.url}/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    if (!expect.includes(res.status)) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`)
    return text ? JSON.parse(text) : null
  }

  // Every item of a paged REST list.
  async all(token: string, path: string): Promise<any[]> {
    const items: any[] = []
    let cursor: string | null = null
    do {
      const sep = path.includes('?') ? '&' : '?'
      const page: any = await this.rest(token, 'GET', `${path}${sep}limit=500${cursor ? `&cursor=${cursor}` : ''}`)
      items.push(...page.items)
      cursor = page.next_cursor
    } while (cursor)
    return items
  }
}

export type Exchange = {
  method: string
  path: string
  query: Record<string, string>
  status: number
  request: any
  response: any
}

// Forwards to the server and records every sync exchange; `loseNextPushAnswer()` forwards the
// next push, lets the server apply it, and then drops the connection instead of answering.
export class Proxy {
  url = ''
  exchanges: Exchange[] = []
  private server?: http.Server
  private loseNext = false

  constructor(private target: string) {}

  loseNextPushAnswer() {
    this.loseNext = true
  }

  async start(): Promise<this> {
    this.server = http.createServer(async (req, res) => {
      const chunks: Buffer[] = []
      for await (const c of req) chunks.push(c as Buffer)
      const body = Buffer.concat(chunks)
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && !['host', 'content-length', 'connection', 'accept-encoding'].includes(k)) headers[k] = v
      }
      const upstream = await fetch(`${this.target}${req.url}`, {
        method: req.method,
        headers,
        body: body.length ? body : undefined,
      })
      const text = await upstream.text()
      const lose = req.method === 'POST' && this.loseNext
      if (req.url!.startsWith('/api/v1/sync')) {
        this.exchanges.push({
          method: req.method!,
          path: req.url!,
          query: Object.fromEntries(new URL(req.url!, this.target).searchParams),
          status: lose ? 0 : upstream.status,
          request: body.length ? JSON.parse(body.toString()) : null,
          response: text ? JSON.parse(text) : null,
        })
      }
      if (lose) {
        this.loseNext = false
        req.socket.destroy()
        return
      }
      res.writeHead(upstream.status, { 'Content-Type': upstream.headers.get('content-type') ?? 'application/json' })
      res.end(text)
    })
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()))
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`
    return this
  }

  async stop() {
    await new Promise((r) => this.server?.close(r))
  }

  pulls = () => this.exchanges.filter((e) => e.method === 'GET' && e.path.startsWith('/api/v1/sync?'))
  pushes = () => this.exchanges.filter((e) => e.method === 'POST')
}
