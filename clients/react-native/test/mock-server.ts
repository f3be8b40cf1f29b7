// A stand-in for the Outreach server's sync endpoints, just big enough to validate the harness.
// It implements the protocol as described in PROTOCOL-NOTES.md:
// - `timestamp` is a change counter (`seq`), one change set per pull, everything not deleted is
//   sent in `updated` (the app passes `sendCreatedAsUpdated: true`), tombstones in `deleted`;
// - a push applies, for an existing record, only the writable columns named in `_changed` (a
//   create: all writable columns); `_status`, `_changed` and server-managed columns are ignored;
//   a replayed create or update whose normalised content is what the server holds is no edit;
// - whenever the pushed copy differs from what the server then holds (normalised values,
//   server-managed columns such as `updated_at`), the record is sent again on the next pull, so
//   the phone ends up with exactly the server's copy;
// - a refused change is acknowledged (not listed in `experimentalRejectedIds`) and corrected on the
//   next pull: the server's copy again in `updated` (refused update or delete), or a tombstone
//   (refused create), plus a `sync_rejections` row for the user with the reason.
//   `mode = 'experimentalRejectedIds'` lists refused ids instead, to show why that loops.
// It is not the real server: the real-client test targets the Rust server.
import http from 'node:http'
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { ColumnJson, SchemaJson, TableJson } from '../src/schema'

type Data = Record<string, string | number | boolean | null>
type Row = { id: string; data: Data; seq: number; deleted: boolean; user?: string }
type Migration = { from: number; tables: string[]; columns: { table: string; columns: string[] }[] }
type TableChanges = { created: Data[]; updated: Data[]; deleted: string[] }
type Refusal = { table: string; id: string; kind: 'create' | 'update' | 'delete'; code: string; message: string }

const col = (name: string, type: ColumnJson['type'], extra: Partial<ColumnJson> = {}): ColumnJson => ({
  name,
  type,
  isOptional: false,
  isIndexed: false,
  ...extra,
})

const partnersV1: TableJson = {
  name: 'partners',
  columns: [
    col('name', 'string'),
    col('phone', 'string', { isOptional: true }),
    col('lat', 'number', { isOptional: true }),
    col('lon', 'number', { isOptional: true }),
    col('is_active', 'boolean'),
    col('owner_id', 'string', { isIndexed: true }),
    col('updated_at', 'number'),
  ],
}
const rating = col('rating', 'number', { isOptional: true })
const visits: TableJson = {
  name: 'visits',
  columns: [
    col('partner_id', 'string', { isIndexed: true }),
    col('note', 'string'),
    col('visited_at', 'number'),
    col('photo_count', 'number'),
  ],
}
const syncRejections: TableJson = {
  name: 'sync_rejections',
  columns: [
    col('table_name', 'string'),
    col('record_id', 'string', { isIndexed: true }),
    col('code', 'string'),
    col('message', 'string'),
    col('created_at', 'number'),
  ],
}

// Version 1, then version 2 adds partners.rating.
export const SCHEMAS: Record<number, SchemaJson> = {
  1: { version: 1, tables: [partnersV1, visits, syncRejections], migrations: [] },
  2: {
    version: 2,
    tables: [{ ...partnersV1, columns: [...partnersV1.columns, rating] }, visits, syncRejections],
    migrations: [{ toVersion: 2, steps: [{ type: 'add_columns', table: 'partners', columns: [rating] }] }],
  },
}
const LATEST = 2
const TABLE_ORDER = ['partners', 'visits', 'sync_rejections'] // push applies tables in this order

// What a phone may write; everything else is the server's.
const WRITABLE: Record<string, string[]> = {
  partners: ['name', 'phone', 'lat', 'lon', 'is_active', 'rating'],
  visits: ['partner_id', 'note', 'visited_at', 'photo_count'],
  sync_rejections: [],
}

const columnsOf = (table: string, version: number): ColumnJson[] | undefined =>
  SCHEMAS[version]?.tables.find((t) => t.name === table)?.columns

const defaultOf = (c: ColumnJson) =>
  c.isOptional ? null : c.type === 'string' ? '' : c.type === 'number' ? 0 : false

// The server's normalisation of a pushed value (what it stores).
function normalise(c: ColumnJson, v: unknown): string | number | boolean | null {
  if (c.type === 'string' && typeof v === 'string') return c.name === 'name' ? v.trim() : v
  if (c.type === 'number' && typeof v === 'number' && Number.isFinite(v)) return v
  if (c.type === 'boolean' && typeof v === 'boolean') return v
  return defaultOf(c)
}

export class MockServer {
  readonly tables: Record<string, Map<string, Row>> = {
    partners: new Map(),
    visits: new Map(),
    sync_rejections: new Map(),
  }
  seq = 0
  mode: 'converge' | 'experimentalRejectedIds' = 'converge'
  loseNextPushAnswer = false // apply the next push, then drop the connection before answering
  legacyCreated = false // send pulled records in `created` (to show the errors WatermelonDB logs)
  extraPullTable: string | null = null // a table the app does not know, in every pull
  readonly requests: { method: string; query: Record<string, string>; body?: any; response?: any }[] = []
  readonly users: Record<string, string> = { 'token-a': 'user-a', 'token-b': 'user-b', 'token-m': 'manager' }
  url = ''
  private http?: http.Server

  constructor() {
    const now = 1_700_000_000_000
    this.put('partners', { id: 'p-seed-1', name: 'Zhang San Hardware', phone: '13800000001', lat: 22.54299, lon: 114.05786, is_active: true, rating: 4 })
    this.put('partners', { id: 'p-seed-2', name: 'Li Si Teahouse', phone: null, lat: 22.5401, lon: 114.0512, is_active: true })
    this.put('visits', { id: 'v-seed-1', partner_id: 'p-seed-1', note: 'first visit', visited_at: now, photo_count: 2 })
  }

  // --- server-side edits (another user, the REST API) ---

  put(table: string, data: Data & { id: string }, user?: string) {
    const columns = columnsOf(table, LATEST)!
    const full: Data = {}
    const old = this.tables[table].get(data.id)
    for (const c of columns) full[c.name] = c.name in data ? data[c.name] : (old?.data[c.name] ?? defaultOf(c))
    if (table === 'partners') {
      full.owner_id = (data.owner_id as string) ?? old?.data.owner_id ?? 'user-a'
      full.updated_at = this.clock()
    }
    this.tables[table].set(data.id, { id: data.id, data: full, seq: ++this.seq, deleted: false, user })
  }

  remove(table: string, id: string) {
    this.tables[table].set(id, { id, data: {}, seq: ++this.seq, deleted: true })
  }

  // Live records as a phone on `version` should hold them (for assertions), by table, sorted by id.
  snapshot(user: string, version = LATEST): Record<string, Data[]> {
    const out: Record<string, Data[]> = {}
    for (const t of SCHEMAS[version].tables) {
      out[t.name] = [...this.tables[t.name].values()]
        .filter((r) => !r.deleted && this.visible(r, user))
        .map((r) => this.render(t.name, r, version))
        .sort((x, y) => String(x.id).localeCompare(String(y.id)))
    }
    return out
  }

  private clock(): number {
    return 1_700_000_000_000 + this.seq * 1000
  }

  private visible(r: Row, user: string) {
    return r.user === undefined || r.user === user
  }

  private render(table: string, r: Row, version: number): Data {
    const out: Data = { id: r.id }
    for (const c of columnsOf(table, version)!) out[c.name] = r.data[c.name] ?? defaultOf(c)
    return out
  }

  // --- HTTP ---

  async start(): Promise<this> {
    this.http = http.createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        res.writeHead(500, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ code: 'internal', message: String(e?.stack ?? e) }))
      })
    })
    await new Promise<void>((resolve) => this.http!.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`
    return this
  }

  async stop() {
    this.http?.closeAllConnections()
    await new Promise<void>((resolve) => this.http?.close(() => resolve()))
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url!, 'http://x')
    const query = Object.fromEntries(url.searchParams)
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (req.method === 'GET' && url.pathname === '/api/v1/sync/schema') {
      return send(200, SCHEMAS[Number(query.version ?? LATEST)])
    }
    if (url.pathname !== '/api/v1/sync') return send(404, { code: 'not_found' })
    const user = this.users[(req.headers.authorization ?? '').replace(/^Bearer /, '')]
    if (!user) return send(401, { code: 'unauthorized' })
    if (query.coord !== 'gcj02') return send(400, { code: 'bad_coord' })
    const lastPulledAt = Number(query.last_pulled_at)
    if (!Number.isSafeInteger(lastPulledAt) || lastPulledAt < 0) return send(400, { code: 'bad_last_pulled_at' })

    if (req.method === 'GET') {
      const version = Number(query.schema_version)
      if (!SCHEMAS[version]) return send(400, { code: 'bad_schema_version' })
      const migration = JSON.parse(query.migration ?? 'null') as Migration | null
      const response = this.pull(user, lastPulledAt, version, migration)
      this.requests.push({ method: 'GET', query, response })
      return send(200, response)
    }
    if (req.method === 'POST') {
      let text = ''
      for await (const chunk of req) text += chunk
      const body = JSON.parse(text)
      const response = this.push(user, body.changes)
      this.requests.push({ method: 'POST', query, body, response })
      if (this.loseNextPushAnswer) {
        this.loseNextPushAnswer = false
        req.socket.destroy()
        return
      }
      return send(200, response)
    }
    return send(405, { code: 'method_not_allowed' })
  }

  // --- pull ---

  pull(user: string, lastPulledAt: number, version: number, migration: Migration | null) {
    const changes: Record<string, TableChanges> = {}
    for (const t of SCHEMAS[version].tables) {
      const ch: TableChanges = { created: [], updated: [], deleted: [] }
      const sent = new Set<string>()
      const add = (r: Row) => {
        if (sent.has(r.id)) return
        sent.add(r.id)
        ;(this.legacyCreated ? ch.created : ch.updated).push(this.render(t.name, r, version))
      }
      for (const r of this.tables[t.name].values()) {
        if (r.seq <= lastPulledAt || !this.visible(r, user)) continue
        if (r.deleted) {
          if (lastPulledAt > 0) ch.deleted.push(r.id) // a first sync needs no tombstones
        } else add(r)
      }
      // A migration pull: all records of tables the app just got, and every record with a
      // non-default value in a column it just got (whitelisted against our own schema).
      if (migration && lastPulledAt > 0) {
        const live = [...this.tables[t.name].values()].filter((r) => !r.deleted && this.visible(r, user))
        if (migration.tables.includes(t.name)) live.forEach(add)
        const cols = (migration.columns.find((c) => c.table === t.name)?.columns ?? [])
          .map((name) => columnsOf(t.name, version)!.find((c) => c.name === name))
          .filter((c): c is ColumnJson => !!c)
        live.filter((r) => cols.some((c) => (r.data[c.name] ?? defaultOf(c)) !== defaultOf(c))).forEach(add)
      }
      changes[t.name] = ch
    }
    if (this.extraPullTable) changes[this.extraPullTable] = { created: [], updated: [], deleted: [] }
    return { changes, timestamp: Math.max(this.seq, 1) }
  }

  // --- push ---

  push(user: string, changes: Record<string, TableChanges>) {
    const refusals: Refusal[] = []
    const refuse = (r: Refusal) => refusals.push(r)
    for (const table of Object.keys(changes)) {
      if (!TABLE_ORDER.includes(table)) throw new Error(`unknown table ${table}`)
    }
    for (const table of TABLE_ORDER) {
      const ch = changes[table]
      if (!ch) continue
      for (const raw of ch.created) this.upsert(user, table, raw, null, refuse)
      for (const raw of ch.updated) {
        const changed = typeof raw._changed === 'string' && raw._changed ? raw._changed.split(',') : []
        this.upsert(user, table, raw, changed, refuse)
      }
      for (const id of ch.deleted) this.delete(user, table, id, refuse)
    }
    for (const r of refusals) this.recordRefusal(user, r)
    if (this.mode === 'experimentalRejectedIds' && refusals.length) {
      const ids: Record<string, string[]> = {}
      for (const r of refusals) (ids[r.table] ??= []).push(r.id)
      return { experimentalRejectedIds: ids }
    }
    return {}
  }

  // `changed === null`: a create (all writable columns); else the columns the phone changed.
  private upsert(user: string, table: string, raw: Data, changed: string[] | null, refuse: (r: Refusal) => void) {
    const id = raw.id
    if (typeof id !== 'string' || !/^[0-9A-Za-z_.-]{1,64}$/.test(id)) throw new Error('bad id')
    const columns = columnsOf(table, LATEST)!
    const old = this.tables[table].get(id)
    if (old?.deleted) return // deleted on the server: the phone will get (or got) the tombstone
    const kind = old ? 'update' : 'create'
    const writable = WRITABLE[table].filter((c) => changed === null || !old || changed.includes(c))
    if (WRITABLE[table].length === 0) {
      return refuse({ table, id, kind, code: 'read_only', message: '只读数据，不能在手机上修改' })
    }
    const next: Data = { ...(old?.data ?? Object.fromEntries(columns.map((c) => [c.name, defaultOf(c)]))) }
    for (const name of writable) {
      const c = columns.find((x) => x.name === name)!
      if (name in raw) next[name] = normalise(c, raw[name])
    }
    const problem = this.validate(table, next, old)
    if (problem) return refuse({ table, id, kind, ...problem })
    if (old && columns.every((c) => next[c.name] === old.data[c.name])) {
      // Unchanged (a replay, or only server-managed columns differ): no edit. But if the phone's
      // copy differs from ours in any column (e.g. its own `updated_at`, which WatermelonDB touches
      // on every update and which wins locally while pending), send ours again on the next pull.
      if (columns.some((c) => c.name in raw && raw[c.name] !== old.data[c.name])) old.seq = ++this.seq
      return
    }
    if (table === 'partners') {
      next.owner_id = old ? old.data.owner_id : user
      next.updated_at = this.clock()
    }
    this.tables[table].set(id, { id, data: next, seq: ++this.seq, deleted: false })
  }

  private validate(table: string, d: Data, old?: Row): { code: string; message: string } | null {
    if (table === 'partners' && d.name === '') return { code: 'validation_failed', message: '名称不能为空' }
    if (table === 'visits') {
      const p = this.tables.partners.get(String(d.partner_id))
      if (!p || p.deleted) return { code: 'unknown_partner', message: '拜访的客户不存在' }
      if (old && old.data.partner_id !== d.partner_id) return { code: 'read_only_field', message: '不能修改拜访的客户' }
    }
    return null
  }

  private delete(user: string, table: string, id: string, refuse: (r: Refusal) => void) {
    const old = this.tables[table].get(id)
    if (!old || old.deleted || !this.visible(old, user)) return // nothing to do, reveals nothing
    if (table === 'partners') {
      return refuse({ table, id, kind: 'delete', code: 'not_deletable', message: '客户只能停用，不能删除' })
    }
    this.remove(table, id)
  }

  private recordRefusal(user: string, r: Refusal) {
    const rid = randomUUID()
    this.tables.sync_rejections.set(rid, {
      id: rid,
      user,
      seq: ++this.seq,
      deleted: false,
      data: { table_name: r.table, record_id: r.id, code: r.code, message: r.message, created_at: this.clock() },
    })
    // The correction the next pull carries.
    const old = this.tables[r.table].get(r.id)
    if (old) old.seq = ++this.seq // the server's copy again, in `updated`
    else this.remove(r.table, r.id) // a tombstone for the refused create
  }
}
