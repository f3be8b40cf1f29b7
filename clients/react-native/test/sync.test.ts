// WatermelonDB's real synchronize(), in Node with LokiJS, through the kit's sync wiring (src/sync.ts,
// unmodified), against the mock server. Any warning or error WatermelonDB prints fails the test.
import { describe, it, before, after, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import type { Model } from '@nozbe/watermelondb'
import { hasUnsyncedChanges } from '@nozbe/watermelondb/sync'
import type { SyncLog } from '@nozbe/watermelondb/sync'
import { sync } from '../src/sync'
import { makeNodeDatabase, save, type NodeDatabase } from '../src/node-database'
import type { SchemaJson } from '../src/schema'
import { MockServer } from './mock-server'
import { LogCapture } from './log-capture'
import { dump } from './dump'

const capture = new LogCapture()
let server: MockServer
before(() => capture.start())
after(() => capture.stop())
beforeEach(async () => {
  server = await new MockServer().start()
})
afterEach(async () => {
  await server.stop()
  assert.deepEqual(capture.takeProblems(), [], 'WatermelonDB printed a warning or an error')
})

const TOKEN: Record<string, string> = { 'user-a': 'token-a', 'user-b': 'token-b' }
type Phone = NodeDatabase & { user: string }

const schemaJson = async (version?: number): Promise<SchemaJson> =>
  (await fetch(`${server.url}/api/v1/sync/schema${version ? `?version=${version}` : ''}`)).json()

async function phone(user: string, version?: number): Promise<Phone> {
  return { ...makeNodeDatabase(await schemaJson(version)), user }
}

// The app is updated: the same local data, opened with the server's newest schema.
async function upgrade(p: Phone): Promise<Phone> {
  await save(p.database)
  return { ...makeNodeDatabase(await schemaJson(), p.memory), user: p.user }
}

const syncPhone = (p: Phone, log?: SyncLog) => sync(p.database, server.url, TOKEN[p.user], log)

const pending = (p: Phone) => hasUnsyncedChanges({ database: p.database })
const find = (p: Phone, table: string, id: string): Promise<any> => p.database.get(table).find(id)
const write = <T>(p: Phone, fn: () => Promise<T>) => p.database.write(fn)
const create = (p: Phone, table: string, set: (r: any) => void): Promise<any> =>
  write(p, () => p.database.get(table).create(set))
const update = (p: Phone, table: string, id: string, set: (r: any) => void) =>
  write(p, async () => (await find(p, table, id)).update(set))
const markAsDeleted = (p: Phone, table: string, id: string) =>
  write(p, async () => (await find(p, table, id)).markAsDeleted())
const exists = async (p: Phone, table: string, id: string) =>
  (await p.database.get(table).query().fetchIds()).includes(id)

async function assertConverged(...phones: Phone[]) {
  for (const p of phones) {
    assert.equal(await pending(p), false, `${p.user}: nothing pending`)
    assert.deepEqual(await dump(p.database), server.snapshot(p.user, p.schema.version), `${p.user} = server`)
  }
}

const lastPush = () => server.requests.filter((r) => r.method === 'POST').at(-1)!
const lastPull = () => server.requests.filter((r) => r.method === 'GET').at(-1)!

describe('WatermelonDB synchronize() against the mock server', () => {
  it('two phones: first sync, offline creates and edits, push, pull; the pushed record shape', async () => {
    const a = await phone('user-a')
    const b = await phone('user-b')
    await syncPhone(a)
    await syncPhone(b)
    await assertConverged(a, b)
    assert.match(lastPull().query.last_pulled_at, /^0$/)

    // A day offline on phone a.
    const p = await create(a, 'partners', (r) => {
      r.name = '  Wang Wu Noodles ' // the server trims names
      r.phone = '13900000009'
      r.lat = 22.543096
      r.lon = 114.057865
      r.isActive = true
    })
    await create(a, 'visits', (r) => {
      r.partnerId = p.id
      r.note = 'met the owner'
      r.visitedAt = 1_700_000_123_000
      r.photoCount = 0
    })
    await update(a, 'partners', 'p-seed-2', (r) => {
      r.phone = '13700000002'
    })
    await markAsDeleted(a, 'visits', 'v-seed-1')
    assert.match(p.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)

    await syncPhone(a)
    assert.equal(await pending(a), false)
    const { changes } = lastPush().body
    // Every table is present, with the three lists, even when empty.
    assert.deepEqual(Object.keys(changes).sort(), ['partners', 'sync_rejections', 'visits'])
    assert.deepEqual(changes.sync_rejections, { created: [], updated: [], deleted: [] })
    assert.deepEqual(changes.visits.deleted, ['v-seed-1'])
    // A created record: id, _status, _changed and every column of the schema, typed by the schema.
    const created = changes.partners.created[0]
    assert.deepEqual(Object.keys(created), [
      'id', '_status', '_changed', 'name', 'phone', 'lat', 'lon', 'is_active', 'owner_id', 'updated_at', 'rating',
    ])
    assert.equal(created._status, 'created')
    assert.equal(created._changed, '')
    assert.equal(created.is_active, true)
    assert.equal(created.lat, 22.543096)
    assert.equal(created.rating, null) // optional, never set
    assert.equal(created.owner_id, '') // not optional, never set: the type's empty value
    assert.equal(typeof created.updated_at, 'number') // set by WatermelonDB (model has `updatedAt`)
    // An updated record: the whole record, `_changed` names the columns changed locally, including
    // updated_at which WatermelonDB touches on every update of a model with an `updatedAt` property.
    const updated = changes.partners.updated[0]
    assert.equal(updated.id, 'p-seed-2')
    assert.equal(updated._status, 'updated')
    assert.deepEqual(updated._changed.split(',').sort(), ['phone', 'updated_at'])
    assert.equal(updated.name, 'Li Si Teahouse')

    // Phone a still has its untrimmed name until it pulls the server's copy.
    assert.equal((await find(a, 'partners', p.id)).name, '  Wang Wu Noodles ')
    await syncPhone(a)
    await syncPhone(b)
    await assertConverged(a, b)
    assert.equal((await find(a, 'partners', p.id)).name, 'Wang Wu Noodles')
    assert.equal((await find(b, 'partners', p.id)).ownerId, 'user-a')
    assert.equal(await exists(b, 'visits', 'v-seed-1'), false)
    // Its own create came back in `updated` (not `created`), and nothing was logged (afterEach).
    const pulled = lastPull().response.changes.partners
    assert.equal(pulled.created.length, 0)
  })

  it('the same partner edited on both phones: different fields merge, the same field: the later push wins', async () => {
    const a = await phone('user-a')
    const b = await phone('user-b')
    await syncPhone(a)
    await syncPhone(b)
    await update(a, 'partners', 'p-seed-1', (r) => {
      r.name = 'Name from A'
      r.lat = 22.5
    })
    await update(b, 'partners', 'p-seed-1', (r) => {
      r.name = 'Name from B'
      r.phone = '13600000006'
    })
    await syncPhone(a)
    const log: SyncLog = {}
    await syncPhone(b, log) // pulls A's edit; its own pending columns win locally, then pushed
    assert.equal(log.resolvedConflicts?.length, 1)
    assert.equal(log.resolvedConflicts![0].resolved.name, 'Name from B')
    assert.equal(log.resolvedConflicts![0].resolved.lat, 22.5)
    await syncPhone(a)
    await syncPhone(b)
    await assertConverged(a, b)
    const p = await find(a, 'partners', 'p-seed-1')
    assert.deepEqual([p.name, p.lat, p.phone], ['Name from B', 22.5, '13600000006'])
  })

  it('a lost push answer: the retry changes nothing on the server, then nothing is pending', async () => {
    const a = await phone('user-a')
    await syncPhone(a)
    const p = await create(a, 'partners', (r) => {
      r.name = 'Zhao Liu Fruit'
      r.lat = 113.13614958733415
      r.isActive = true
    })
    await update(a, 'partners', 'p-seed-1', (r) => {
      r.phone = '13500000005'
    })
    server.loseNextPushAnswer = true
    await assert.rejects(syncPhone(a))
    assert.equal(await pending(a), true)
    const before = server.snapshot('user-a')
    await syncPhone(a) // pulls its own changes (pending local columns win), pushes them again
    assert.deepEqual(server.snapshot('user-a'), before, 'the replayed push changed nothing')
    // … but phone a's pending `updated_at` (its own clock) won over the server's during that pull:
    // the server sends its copy again, so the next sync ends with exactly the server's record.
    assert.equal(lastPush().body.changes.partners.created[0].id, p.id)
    await syncPhone(a)
    await assertConverged(a)
    assert.equal((await find(a, 'partners', p.id)).lat, 113.13614958733415)
  })

  it('refused changes converge: acknowledged, then corrected by the next pull, with the reason', async () => {
    const a = await phone('user-a')
    const b = await phone('user-b')
    await syncPhone(a)
    await syncPhone(b)
    await update(a, 'partners', 'p-seed-1', (r) => {
      r.name = '   ' // refused: empty name
      r.phone = '13100000001' // … the whole change is refused, not just the name
    })
    const v = await create(a, 'visits', (r) => {
      r.partnerId = 'no-such-partner' // refused create
      r.note = 'x'
    })
    await markAsDeleted(a, 'partners', 'p-seed-2') // refused delete
    const log: SyncLog = {}
    await syncPhone(a, log)
    assert.deepEqual(lastPush().response, {})
    assert.equal(log.rejectedIds, undefined)
    assert.equal(await pending(a), false, 'acknowledged: nothing pending after this sync')

    await syncPhone(a) // the corrections arrive
    await syncPhone(b) // b gets a tombstone for an id it never had: ignored silently
    await assertConverged(a, b)
    const p1 = await find(a, 'partners', 'p-seed-1')
    assert.deepEqual([p1.name, p1.phone], ['Zhang San Hardware', '13800000001'])
    assert.equal(await exists(a, 'visits', v.id), false)
    assert.equal(await exists(a, 'partners', 'p-seed-2'), true)
    const reasons = (await a.database.get('sync_rejections').query().fetch()).map((r: any) => [
      r.tableName,
      r.recordId,
      r.code,
    ])
    assert.deepEqual(reasons.sort(), [
      ['partners', 'p-seed-1', 'validation_failed'],
      ['partners', 'p-seed-2', 'not_deletable'],
      ['visits', v.id, 'unknown_partner'],
    ].sort())
    assert.deepEqual(await dump(b.database).then((d) => d.sync_rejections), [])

    // The app dismisses a reason by deleting it; that is a normal synced delete.
    const first = (await a.database.get('sync_rejections').query().fetch())[0]
    await write(a, () => first.markAsDeleted())
    await syncPhone(a)
    await syncPhone(a)
    await assertConverged(a)
    assert.equal((await dump(a.database)).sync_rejections.length, 2)
  })

  it('experimentalRejectedIds keeps a change pending: a refused update or delete loops, a refused create ends on its tombstone', async () => {
    server.mode = 'experimentalRejectedIds'
    const a = await phone('user-a')
    await syncPhone(a)
    await update(a, 'partners', 'p-seed-1', (r) => {
      r.name = ''
    })
    const v = await create(a, 'visits', (r) => {
      r.partnerId = 'no-such-partner'
    })
    await markAsDeleted(a, 'partners', 'p-seed-2')
    const log: SyncLog = {}
    await syncPhone(a, log)
    assert.deepEqual(log.rejectedIds, { partners: ['p-seed-1', 'p-seed-2'], visits: [v.id] })
    assert.equal(await pending(a), true)

    for (let i = 0; i < 2; i++) {
      await syncPhone(a) // the server's copy of p-seed-1 is pulled, but the local pending name wins
    }
    const p1 = await find(a, 'partners', 'p-seed-1')
    assert.equal(p1.name, '')
    assert.equal(p1._raw._status, 'updated')
    assert.equal(await exists(a, 'partners', 'p-seed-2'), false) // still deleted locally, pending
    assert.deepEqual(await a.database.adapter.getDeletedRecords('partners'), ['p-seed-2'])
    assert.equal(await exists(a, 'visits', v.id), false) // the tombstone destroyed the pending create
    assert.equal(await pending(a), true)
    assert.deepEqual(lastPush().response, { experimentalRejectedIds: { partners: ['p-seed-1', 'p-seed-2'] } })
  })

  it('tombstones: a server delete removes the record, even one with local pending edits', async () => {
    const a = await phone('user-a')
    await syncPhone(a)
    await update(a, 'partners', 'p-seed-2', (r) => {
      r.phone = '13000000000'
    })
    server.remove('partners', 'p-seed-2')
    server.remove('visits', 'never-existed')
    await syncPhone(a)
    assert.equal(await exists(a, 'partners', 'p-seed-2'), false)
    await assertConverged(a)
  })

  it('600 offline changes in one push', async () => {
    const a = await phone('user-a')
    await syncPhone(a)
    await write(a, async () => {
      const visits = a.database.get('visits')
      const batch: Model[] = []
      for (let i = 0; i < 600; i++) {
        batch.push(
          visits.prepareCreate((r: any) => {
            r.partnerId = 'p-seed-1'
            r.note = `visit ${i}`
            r.visitedAt = 1_700_000_000_000 + i
          }),
        )
      }
      await a.database.batch(batch)
    })
    await syncPhone(a)
    assert.equal(lastPush().body.changes.visits.created.length, 600)
    await syncPhone(a)
    await assertConverged(a)
    assert.equal((await dump(a.database)).visits.length, 601)
  })

  it('a schema upgrade: the migration pull brings the values of the new column', async () => {
    const a = await phone('user-a', 1)
    await syncPhone(a)
    await assertConverged(a)
    assert.equal(lastPull().query.schema_version, '1')
    assert.equal(lastPull().query.migration, 'null')
    // A change to the new column while the phone cannot hold it yet: it passes the phone by.
    server.put('partners', { id: 'p-seed-2', rating: 5 })
    await syncPhone(a)

    const upgraded = await upgrade(a) // WatermelonDB runs the add_columns migration on open
    assert.equal(await upgraded.database.adapter.getLocal('__watermelon_last_pulled_schema_version'), '1')
    const log: SyncLog = {}
    await syncPhone(upgraded, log)
    const migration = { from: 1, tables: [], columns: [{ table: 'partners', columns: ['rating'] }] }
    assert.deepEqual(log.migration, migration)
    assert.deepEqual(JSON.parse(lastPull().query.migration), migration)
    assert.equal(lastPull().query.schema_version, '2')
    await assertConverged(upgraded)
    assert.equal((await find(upgraded, 'partners', 'p-seed-1')).rating, 4)
    assert.equal((await find(upgraded, 'partners', 'p-seed-2')).rating, 5)
    await syncPhone(upgraded)
    assert.equal(lastPull().query.migration, 'null')
  })

  it('the log capture sees what WatermelonDB reports (server sends `created`, an unknown table)', async () => {
    const a = await phone('user-a')
    server.legacyCreated = true
    server.extraPullTable = 'leads'
    await syncPhone(a)
    const p = await create(a, 'partners', (r) => {
      r.name = 'Sun Qi Rice'
    })
    await syncPhone(a)
    await syncPhone(a) // the server sends a's own partner back in `created`
    const problems = capture.takeProblems().map((e) => `${e.level}: ${e.text}`)
    const expected = [
      "error: [Sync] 'sendCreatedAsUpdated' option is enabled, and yet server sends some records as 'created'",
      `error: [Sync] Server wants client to create record partners#${p.id}, but it already exists locally. This may suggest last sync partially executed, and then failed; or it could be a serious bug. Will update existing record instead.`,
      'warn: [🍉] You are trying to sync a collection named leads, but it does not exist. Will skip it (for forward-compatibility). If this is unexpected, perhaps you forgot to add it to your Database constructor\'s modelClasses property?',
    ]
    for (const line of expected) assert.ok(problems.includes(line), `expected: ${line}\ngot: ${problems.join('\n')}`)
    assert.ok(problems.every((l) => expected.includes(l)), problems.join('\n'))
  })
})
