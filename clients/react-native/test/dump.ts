// A database's records, table by table, sorted by id and without WatermelonDB's sync bookkeeping
// (`_status`, `_changed`): what two phones that converged hold alike.
import type { Database } from '@nozbe/watermelondb'

export async function dump(db: Database): Promise<Record<string, object[]>> {
  const out: Record<string, object[]> = {}
  for (const table of Object.keys(db.schema.tables)) {
    const records = await db.get(table).query().fetch()
    out[table] = records
      .map((r) => {
        const { _status, _changed, ...rest } = r._raw as any
        return rest
      })
      .sort((x: any, y: any) => x.id.localeCompare(y.id))
  }
  return out
}
