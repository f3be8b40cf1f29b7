// The typed REST client (src/api/client.ts, types generated from api-spec/openapi.json) against the
// real Outreach server (test/outreach.ts): 张客户经理 of 北街网点 logs in and lists her partners.
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createOutreachClient, type components } from '../src/api/client'
import { DEMO_PASSWORD, Outreach } from './outreach'

type Partner = components['schemas']['PartnerBody']

const server = new Outreach()
before(() => server.start())
after(() => server.stop())

describe('the typed REST client against the Outreach server', () => {
  it('logs in and lists the partners in scope, page by page', async () => {
    let token: string | undefined
    const api = createOutreachClient(server.url, () => token)

    const { data: session, error } = await api.POST('/api/v1/auth/login', {
      body: { phone: '13800000004', password: DEMO_PASSWORD },
    })
    assert.equal(error, undefined)
    assert.ok(session)
    assert.equal(session.token_type, 'Bearer')
    assert.equal(session.user.role, 'account_manager')
    assert.equal(session.user.name, '张客户经理')
    token = session.access_token

    const partners: Partner[] = []
    let cursor: string | undefined
    do {
      const { data: page } = await api.GET('/api/v1/partners', { params: { query: { limit: 20, cursor } } })
      assert.ok(page, 'a page of partners')
      assert.ok(page.items.length <= 20)
      partners.push(...page.items)
      cursor = page.next_cursor ?? undefined
    } while (cursor)

    assert.ok(partners.length > 20, 'the demo outlet has more than one page of partners')
    assert.equal(new Set(partners.map((p) => p.id)).size, partners.length, 'no partner on two pages')
    assert.ok(partners.every((p) => p.org_unit_id === session.user.org_unit_id), 'all in her outlet')
    assert.ok(partners.some((p) => p.owner_id === session.user.id), 'some are her own')
    for (const p of partners) {
      assert.ok(p.name.trim().length > 0)
      assert.ok(Math.abs(p.location.lat - 22.6) < 0.5 && Math.abs(p.location.lon - 113.1) < 0.5, 'in Jiangmen')
    }
  })

  it('answers a typed problem without a token', async () => {
    const api = createOutreachClient(server.url, () => undefined)
    const { data, error, response } = await api.GET('/api/v1/partners')
    assert.equal(data, undefined)
    assert.equal(response.status, 401)
    assert.equal(error?.code, 'missing_token')
  })
})
