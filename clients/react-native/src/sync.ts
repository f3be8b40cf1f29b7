import { synchronize } from '@nozbe/watermelondb/sync'
import type { SyncLog } from '@nozbe/watermelondb/sync'
import type { Database } from '@nozbe/watermelondb'

// WatermelonDB's own sync protocol: pullChanges and pushChanges return the server's JSON as is.
export async function sync(database: Database, base: string, token: string, log?: SyncLog) {
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }
  const call = async (query: string, init?: RequestInit) => {
    const res = await fetch(`${base}/api/v1/sync?${query}&coord=gcj02`, { headers, ...init })
    if (!res.ok) throw new Error(`sync: HTTP ${res.status} ${await res.text()}`)
    return res.json()
  }
  await synchronize({
    database,
    pullChanges: ({ lastPulledAt, schemaVersion, migration }) =>
      call(
        `last_pulled_at=${lastPulledAt ?? 0}&schema_version=${schemaVersion}` +
          `&migration=${encodeURIComponent(JSON.stringify(migration))}`,
      ),
    pushChanges: ({ changes, lastPulledAt }) =>
      call(`last_pulled_at=${lastPulledAt}`, { method: 'POST', body: JSON.stringify({ changes }) }),
    sendCreatedAsUpdated: true, // the server sends every record in `updated`
    migrationsEnabledAtVersion: 1, // the server publishes every schema migration
    log,
  })
}
