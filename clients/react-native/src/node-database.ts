// A WatermelonDB Database for Node: LokiJS in memory, no web worker, no IndexedDB. Used by the tests
// in place of the SQLite adapter an app uses; the sync code paths are the same.
import { Database } from '@nozbe/watermelondb'
import LokiJSAdapter from '@nozbe/watermelondb/adapters/lokijs'
import { LokiMemoryAdapter } from 'lokijs'
import './ids'
import { buildAppSchema, buildMigrations, buildModelClasses, type SchemaJson } from './schema'

export type NodeDatabase = { database: Database; memory: LokiMemoryAdapter; schema: SchemaJson }

// `memory`: pass the one of an earlier database to reopen its saved contents, e.g. with a newer
// schema (an app upgrade: WatermelonDB runs the schema migrations on open). Call `save()` first.
export function makeNodeDatabase(schema: SchemaJson, memory = new LokiMemoryAdapter()): NodeDatabase {
  const adapter = new LokiJSAdapter({
    dbName: 'outreach',
    schema: buildAppSchema(schema),
    migrations: buildMigrations(schema),
    useWebWorker: false,
    useIncrementalIndexedDB: false,
    extraLokiOptions: { autosave: false },
    _testLokiAdapter: memory,
    onSetUpError: (error) => {
      throw error
    },
  })
  const database = new Database({ adapter, modelClasses: buildModelClasses(schema) })
  return { database, memory, schema }
}

// Writes the Loki database to its memory adapter (autosave is off, so nothing keeps Node alive).
export function save(database: Database): Promise<void> {
  return database.adapter.unsafeExecute({
    loki: (loki: any) => {
      loki.saveDatabase()
    },
  } as any)
}
