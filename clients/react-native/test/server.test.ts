// WatermelonDB's real synchronize(), in Node with LokiJS, through the kit's sync wiring
// (src/sync.ts, unmodified, the snippet docs/SYNC.md quotes), against the real Outreach server
// (test/outreach.ts): two account managers' phones of one outlet and their manager, a day's work
// offline. Any warning or error WatermelonDB prints fails the test.
import { describe, it, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { hasUnsyncedChanges } from '@nozbe/watermelondb/sync'
import { sync } from '../src/sync'
import { makeNodeDatabase, save, type NodeDatabase } from '../src/node-database'
import type { SchemaJson } from '../src/schema'
import type { SyncLog } from '@nozbe/watermelondb/sync'
import { Outreach, Proxy } from './outreach'
import { LogCapture } from './log-capture'
import { dump } from './dump'

const capture = new LogCapture()
const server = new Outreach()
let proxy: Proxy
let schema: SchemaJson
type Phone = NodeDatabase & { token: string }
// 张客户经理 of 北街网点, a second account manager made there for the test, and 王支行, the
// sub-branch manager over it.
let am = '', am2 = '', manager = '', admin = '', outlet = '', otherOutlet = '', otherAm = ''

before(async () => {
  await server.start()
  proxy = await new Proxy(server.url).start()
  schema = await (await fetch(`${server.url}/api/v1/sync/schema`)).json()
  am = await server.login('13800000004')
  manager = await server.login('13800000002')
  admin = await server.login('13800000000')
  const units = await server.all(admin, '/org-units')
  outlet = units.find((u) => u.name === '北街网点').id
  otherOutlet = units.find((u) => u.name === '白沙网点').id
  const users = await server.all(admin, '/users')
  otherAm = users.find((u) => u.phone === '13800000006').id
  await server.rest(admin, 'POST', '/users', {
    phone: '13900000404', name: '赵客户经理', password: 'kit-test-password', role: 'account_manager', org_unit_id: outlet,
  })
  am2 = await server.login('13900000404', 'kit-test-password')
  capture.start()
})
after(async () => {
  capture.stop()
  await proxy?.stop()
  await server.stop()
})
afterEach(() => {
  assert.deepEqual(capture.takeProblems(), [], 'WatermelonDB printed a warning or an error')
})

const phone = (token: string): Phone => ({ ...makeNodeDatabase(schema), token })
const syncPhone = (p: Phone, log?: SyncLog) => sync(p.database, proxy.url, p.token, log)
const pending = (p: Phone) => hasUnsyncedChanges({ database: p.database })
const find = (p: Phone, table: string, id: string): Promise<any> => p.database.get(table).find(id)
const exists = async (p: Phone, table: string, id: string) =>
  (await p.database.get(table).query().fetchIds()).includes(id)
const create = (p: Phone, table: string, set: (r: any) => void): Promise<any> =>
  p.database.write(() => p.database.get(table).create(set))
const update = (p: Phone, table: string, id: string, set: (r: any) => void) =>
  p.database.write(async () => (await find(p, table, id)).update(set))
const markAsDeleted = (p: Phone, table: string, id: string) =>
  p.database.write(async () => (await find(p, table, id)).markAsDeleted())

// The phone holds exactly what a fresh first sync of the same user gets, and nothing is pending.
async function assertConverged(...phones: Phone[]) {
  for (const p of phones) {
    assert.equal(await pending(p), false, 'nothing pending')
    const fresh = phone(p.token)
    await syncPhone(fresh)
    assert.deepEqual(await dump(p.database), await dump(fresh.database), 'the phone = a fresh sync of the server')
  }
}

// A partner the way the app makes one in the market (GCJ-02 position from the phone's map).
const newPartner = (p: Phone, name: string, lat = 22.5869, lon = 113.0866) =>
  create(p, 'partners', (r) => {
    r.name = name
    r.category = 'supermarket'
    r.lat = lat
    r.lon = lon
    r.address = '江门市蓬江区北街1号'
  })

const newVisit = (p: Phone, partnerId: string, lat = 22.5869, lon = 113.0866) =>
  create(p, 'visits', (r) => {
    r.partnerId = partnerId
    r.visitedAt = Date.now() - 3_600_000
    r.lat = lat
    r.lon = lon
    r.accuracyM = 8
    r.purpose = 'relationship'
    r.notes = '见了店长'
  })

describe('WatermelonDB synchronize() against the Outreach server', () => {
  it('a first sync holds what the REST API lists', async () => {
    const a = phone(am)
    await syncPhone(a)
    const ids = async (table: string) => (await a.database.get(table).query().fetchIds()).sort()
    const rest = (items: any[]) => items.map((i) => i.id).sort()
    assert.deepEqual(await ids('partners'), rest(await server.all(am, '/partners')))
    assert.deepEqual(await ids('visits'), rest(await server.all(am, '/visits')))
    assert.ok((await ids('partners')).length > 0, 'the demo outlet has partners')
    const pulled = proxy.pulls().at(-1)!.response
    assert.ok(Number.isSafeInteger(pulled.timestamp) && pulled.timestamp > 0)
    assert.ok(Object.values<any>(pulled.changes).every((t) => t.created.length === 0))
    // The same numbers as the REST API's, in the same datum.
    const [first] = await server.all(am, '/partners?coord=gcj02')
    const local = await find(a, 'partners', first.id)
    assert.equal(local.lat, first.location.lat)
    assert.equal(local.lon, first.location.lon)
    assert.deepEqual(JSON.parse(local.painPointsJson), first.pain_points)
  })

  it('a day offline on two phones of one outlet: creates, edits and deletes converge', async () => {
    const a = phone(am)
    const b = phone(am2)
    const m = phone(manager)
    await syncPhone(a)
    await syncPhone(b)
    await syncPhone(m)
    const [shared, other] = (await b.database.get('partners').query().fetch()).map((r) => r.id)

    // Phone a, offline: a new partner found in the market (its name with stray spaces), a visit
    // to it, and an edit of a shared partner; its own earlier visit deleted.
    const doomed = await newVisit(a, shared)
    await syncPhone(a)
    const found = await newPartner(a, '  北街新开的超市 ')
    const visit = await newVisit(a, found.id)
    await update(a, 'partners', shared, (r) => {
      r.contactName = '店长陈'
    })
    await markAsDeleted(a, 'visits', doomed.id)
    // The manager, offline: another column of the same partner, and its name, which phone a
    // renames too and pushes later (the later push wins the column). Phone b, whose partner it
    // is not, tries an edit: refused, with its reason.
    await update(m, 'partners', shared, (r) => {
      r.address = '北街2号（新址）'
      r.name = '经理改的名字'
    })
    await update(b, 'partners', other, (r) => {
      r.geofenceM = 999
    })
    await syncPhone(m)
    await update(a, 'partners', shared, (r) => {
      r.name = 'a改的名字'
    })
    await syncPhone(a)
    await syncPhone(b)
    await syncPhone(b)
    await syncPhone(a)
    await syncPhone(m)

    const rest = await server.rest(am, 'GET', `/partners/${shared}`)
    assert.equal(rest.contact_name, '店长陈')
    assert.equal(rest.address, '北街2号（新址）', 'different columns merge')
    assert.equal(rest.name, 'a改的名字', 'the later push wins the column')
    const refused = await b.database.get('sync_rejections').query().fetch()
    assert.deepEqual(refused.map((r: any) => [r.recordId, r.code]), [[other, 'not_owner']])
    assert.notEqual((await find(b, 'partners', other)).geofenceM, 999, 'the server copy came back')
    assert.equal((await server.rest(am, 'GET', `/partners/${found.id}`)).name, '北街新开的超市', 'normalised')
    assert.equal((await server.rest(am, 'GET', `/visits/${visit.id}`)).partner_id, found.id)
    await server.rest(am, 'GET', `/visits/${doomed.id}`, undefined, [404])
    assert.equal((await find(a, 'partners', found.id)).name, '北街新开的超市', 'the server copy came back')
    assert.equal(await exists(b, 'partners', found.id), true, 'the colleague got it')
    assert.equal(await exists(b, 'visits', visit.id), false, "an account manager holds their own visits only")
    assert.equal(await exists(m, 'visits', visit.id), true, 'the manager holds the subtree')
    // Own creates come back in `updated`, never `created` (which WatermelonDB reports as a bug).
    assert.ok(proxy.pulls().every((e) => Object.values<any>(e.response.changes).every((t) => t.created.length === 0)))
    await assertConverged(a, b, m)
  })

  it('a lost push answer: the next sync is a no-op on the server and nothing stays pending', async () => {
    const a = phone(am)
    await syncPhone(a)
    const p = await newPartner(a, '隧道里的新店')
    proxy.loseNextPushAnswer()
    await assert.rejects(syncPhone(a))
    assert.equal(await pending(a), true)
    const stored = await server.rest(am, 'GET', `/partners/${p.id}`)
    await syncPhone(a)
    const retry = proxy.pushes().at(-1)!
    assert.equal(retry.response.applied, 0, 'the retry changed nothing')
    assert.equal(retry.response.unchanged, 1)
    assert.equal((await server.rest(am, 'GET', `/partners/${p.id}`)).version, stored.version)
    await syncPhone(a)
    await assertConverged(a)
  })

  it('an untouched coordinate stays the same bits through a whole-record push', async () => {
    const a = phone(am)
    await syncPhone(a)
    const p = await newPartner(a, '坐标精确的店', 22.578653119873047, 113.13614958733415)
    await syncPhone(a)
    const before = await server.rest(am, 'GET', `/partners/${p.id}`)
    await syncPhone(a)
    await update(a, 'partners', p.id, (r) => {
      r.contactName = '只改联系人'
    })
    await syncPhone(a)
    await syncPhone(a)
    const after = await server.rest(am, 'GET', `/partners/${p.id}`)
    assert.deepEqual(after.location, before.location)
    assert.equal(after.version, before.version + 1, 'one edit: the contact')
    const local = await find(a, 'partners', p.id)
    const gcj = await server.rest(am, 'GET', `/partners/${p.id}?coord=gcj02`)
    assert.equal(local.lat, gcj.location.lat)
    assert.equal(local.lon, gcj.location.lon)
  })

  it('refused changes converge to the server copy and show their reason; reasons are dismissed', async () => {
    const a = phone(am)
    await syncPhone(a)
    const p = await newPartner(a, '状态跳级的店')
    await syncPhone(a)
    await syncPhone(a)
    await update(a, 'partners', p.id, (r) => {
      r.status = 'signed' // a prospect cannot be signed before it is contacted
    })
    const bad = await newVisit(a, p.id, 91, 113) // no such latitude
    await syncPhone(a)
    assert.equal(await pending(a), false, 'acknowledged')
    await syncPhone(a)
    assert.equal((await find(a, 'partners', p.id)).status, 'prospect', 'the server copy')
    assert.equal(await exists(a, 'visits', bad.id), false, 'the refused create is gone')
    const reasons = await a.database.get('sync_rejections').query().fetch()
    const codes = reasons.map((r: any) => `${r.tableName}:${r.recordId}:${r.code}`).sort()
    assert.deepEqual(codes, [`partners:${p.id}:invalid_transition`, `visits:${bad.id}:validation_failed`].sort())
    assert.ok(reasons.every((r: any) => /[\u4e00-\u9fff]/.test(r.message)), 'a message in Chinese')
    for (const r of reasons) await markAsDeleted(a, 'sync_rejections', r.id)
    await syncPhone(a)
    await syncPhone(a)
    assert.equal((await a.database.get('sync_rejections').query().fetchIds()).length, 0)
    await assertConverged(a)
  })

  it('the owner closes a finding from the phone', async () => {
    const supervisor = await server.login('13800000003')
    const me = await server.rest(am, 'GET', '/me')
    const s = await server.rest(supervisor, 'POST', '/supervisions', {
      org_unit_id: outlet,
      location: { lat: 22.5869, lon: 113.0866, accuracy_m: 10 },
      visited_at: new Date(Date.now() - 3_600_000).toISOString(),
      checklist: [{ item: 'retail_situation', score: 3, notes: '厅堂动线乱' }],
    })
    const due = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10)
    const f = await server.rest(supervisor, 'POST', `/supervisions/${s.id}/findings`, {
      title: '更新客群地图', owner_id: me.id, due_on: due,
    })
    const a = phone(am)
    await syncPhone(a)
    assert.equal((await find(a, 'supervision_findings', f.id)).status, 'open')
    await update(a, 'supervision_findings', f.id, (r) => {
      r.status = 'done'
      r.doneNote = '地图已更新并张贴'
    })
    await syncPhone(a)
    const closed = await server.rest(am, 'GET', `/findings/${f.id}`)
    assert.equal(closed.status, 'done')
    assert.equal(closed.title, '更新客群地图')
    await syncPhone(a)
    await assertConverged(a)
  })

  it('tombstones: a deleted partner and one moved to another outlet leave the phone', async () => {
    const m = phone(manager)
    const a = phone(am)
    await syncPhone(m)
    const me = await server.rest(am, 'GET', '/me')
    const placed = async (name: string) => {
      const p = await newPartner(m, name)
      await update(m, 'partners', p.id, (r) => {
        r.orgUnitId = outlet
        r.ownerId = me.id
      })
      return p
    }
    const gone = await placed('要关门的店')
    const moved = await placed('要转走的店')
    await syncPhone(m)
    await syncPhone(a)
    assert.equal(await exists(a, 'partners', gone.id), true, 'placed in the outlet')
    await server.rest(manager, 'DELETE', `/partners/${gone.id}`)
    await server.rest(manager, 'PATCH', `/partners/${moved.id}`, { org_unit_id: otherOutlet, owner_id: otherAm })
    await update(a, 'partners', gone.id, (r) => {
      r.address = '编辑已被删除的店'
    })
    await syncPhone(a)
    await syncPhone(a)
    assert.equal(await exists(a, 'partners', gone.id), false)
    assert.equal(await exists(a, 'partners', moved.id), false)
    await syncPhone(m)
    assert.equal(await exists(m, 'partners', moved.id), true, 'still in the manager’s subtree')
    await assertConverged(a, m)
  })

  it('600 offline changes in one sync', async () => {
    const b = phone(am2)
    await syncPhone(b)
    const p = await newPartner(b, '批量拜访的店')
    await b.database.write(async () => {
      const visits = b.database.get('visits')
      const batch = Array.from({ length: 599 }, (_, i) =>
        visits.prepareCreate((r: any) => {
          r.partnerId = p.id
          r.visitedAt = Date.now() - 3_600_000 - i * 1000
          r.lat = 22.5869
          r.lon = 113.0866
          r.accuracyM = 8
          r.purpose = 'relationship'
          r.notes = `第${i}次`
        }),
      )
      await b.database.batch(batch)
    })
    await syncPhone(b)
    assert.deepEqual(proxy.pushes().at(-1)!.response, { applied: 600, unchanged: 0, refused: 0 })
    const visits = await server.all(am2, '/visits')
    assert.equal(visits.filter((v) => v.partner_id === p.id).length, 599)
    await syncPhone(b)
    await assertConverged(b)
  })
  it('a schema upgrade: the app of version 1 keeps its pending work and gets the new tables', async () => {
    const v1: SchemaJson = await (await fetch(`${server.url}/api/v1/sync/schema?version=1`)).json()
    const old: Phone = { ...makeNodeDatabase(v1), token: am }
    await syncPhone(old)
    assert.equal(proxy.pulls().at(-1)!.query.schema_version, '1')
    assert.equal('leads' in proxy.pulls().at(-1)!.response.changes, false, 'version 1 has no leads')
    const p = await newPartner(old, '升级前录入的店')
    await save(old.database)
    // The app update: WatermelonDB runs the server's migrations on open; nothing is lost.
    const upgraded: Phone = { ...makeNodeDatabase(schema, old.memory), token: am }
    assert.equal((await find(upgraded, 'partners', p.id)).name, '升级前录入的店')
    assert.equal(await pending(upgraded), true)
    const log: SyncLog = {}
    await syncPhone(upgraded, log)
    const added = ['org_units', 'colleagues', 'projects', 'leads', 'events', 'event_steps', 'event_attendees']
    assert.deepEqual(log.migration, { from: 1, tables: added, columns: [] })
    assert.equal((await server.rest(am, 'GET', `/partners/${p.id}`)).name, '升级前录入的店')
    const ids = async (table: string) => (await upgraded.database.get(table).query().fetchIds()).sort()
    const rest = (items: any[]) => items.map((i) => i.id).sort()
    // Leads who asked not to be called too: the phone must know not to call them.
    assert.deepEqual(await ids('leads'), rest(await server.all(am, '/leads?include_do_not_contact=true')))
    assert.deepEqual(await ids('events'), rest(await server.all(am, '/events')))
    assert.deepEqual(await ids('projects'), rest(await server.all(am, '/projects')))
    assert.ok((await ids('colleagues')).length > 1, 'the directory')
    await syncPhone(upgraded)
    assert.equal(proxy.pulls().at(-1)!.query.migration, 'null')
    await assertConverged(upgraded)
  })

  it('leads offline: created and worked in the market; a phone already a lead names it', async () => {
    const a = phone(am)
    await syncPhone(a)
    const lead = await create(a, 'leads', (r) => {
      r.kind = 'person'
      r.name = '菜场摊主李姐'
      r.phone = '13912340001'
      r.source = 'walk_in'
      r.segment = 'outreach'
      r.portraitTagsJson = '["个体户"]'
      r.productInterestJson = '[]'
      r.needs = '收款码'
      r.status = 'new'
    })
    await syncPhone(a)
    await update(a, 'leads', lead.id, (r) => {
      r.status = 'contacted'
    })
    // The same person recorded again, later in the day.
    const twin = await create(a, 'leads', (r) => {
      r.kind = 'person'
      r.name = '李姐'
      r.phone = '13912340001'
      r.source = 'walk_in'
      r.status = 'new'
    })
    await syncPhone(a)
    await syncPhone(a)
    const stored = await server.rest(am, 'GET', `/leads/${lead.id}`)
    assert.equal((stored.name as string), '菜场摊主李姐')
    assert.equal(stored.status, 'contacted')
    assert.equal(await exists(a, 'leads', twin.id), false, 'the refused duplicate is gone')
    const [reason] = (await a.database.get('sync_rejections').query().fetch()).filter((r: any) => r.recordId === twin.id)
    assert.equal((reason as any).code, 'duplicate_lead')
    assert.equal((reason as any).existingId, lead.id, 'it names the lead that exists')
    await assertConverged(a)
  })

  it('check-ins offline at the door, idempotent by ticket; event steps worked offline', async () => {
    const me = await server.rest(am, 'GET', '/me')
    const [partner] = await server.all(am, '/partners')
    const hour = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString()
    const event = await server.rest(am, 'POST', '/events', {
      partner_id: partner.id, title: '社区防诈骗讲座', theme: 'anti_fraud', starts_at: hour(1), ends_at: hour(3),
      venue: '社区活动室', capacity: 20,
    })
    const register = (phone: string) =>
      fetch(`${server.url}/api/v1/public/events/${event.registration_code}/registrations`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: '黄先生', phone, consent: true }),
      }).then((r) => r.json())
    const ticket = await register('13911112222')
    const a = phone(am)
    const m = phone(manager)
    await syncPhone(a)
    await syncPhone(m)
    // No signal in the community hall: both phones scan the same QR code.
    const byTicket = async (p: Phone) =>
      (await p.database.get('event_attendees').query().fetch()).find((r: any) => r.ticketCode === ticket.ticket_code)!
    const mine = await byTicket(a)
    assert.equal((mine as any).eventId, event.id)
    const scanned = Date.now() - 60_000
    await update(a, 'event_attendees', mine.id, (r) => {
      r.checkedInAt = scanned
    })
    await update(m, 'event_attendees', mine.id, (r) => {
      r.checkedInAt = scanned + 20_000
    })
    const plan = (await a.database.get('event_steps').query().fetch()).find(
      (s: any) => s.eventId === event.id && s.step === 'plan',
    )!
    await update(a, 'event_steps', plan.id, (r) => {
      r.completed = true
      r.notes = '与社区主任确认了场地'
    })
    await syncPhone(a)
    await syncPhone(m)
    assert.deepEqual(proxy.pushes().at(-1)!.response, { applied: 0, unchanged: 1, refused: 0 }, 'checked in already')
    await syncPhone(a)
    await syncPhone(m)
    const list = await server.rest(am, 'GET', `/events/${event.id}/attendees`)
    const attendee = list.items.find((i: any) => i.ticket_code === ticket.ticket_code)
    assert.equal(new Date(attendee.checked_in_at).getTime(), scanned, 'the first scan counts')
    assert.ok(attendee.lead_id, 'the attendee became a lead')
    assert.equal((await find(m, 'event_attendees', mine.id)).checkedInAt, scanned, 'the manager’s phone agrees')
    const steps = await server.rest(am, 'GET', `/events/${event.id}/steps`)
    const done = steps.items.find((s: any) => s.step === 'plan')
    assert.equal(done.notes, '与社区主任确认了场地')
    assert.equal(done.completed_by, me.id)
    await assertConverged(a, m)
  })
})
