// Builds WatermelonDB's appSchema, schemaMigrations and one generic Model class per table from
// the schema JSON the server publishes at GET /api/v1/sync/schema:
//
//   {"version": 2,
//    "tables": [{"name": "partners", "columns": [{"name": "name", "type": "string", "isOptional": false, "isIndexed": false}, ...]}],
//    "migrations": [{"toVersion": 2, "steps": [{"type": "add_columns", "table": "partners", "columns": [...]},
//                                              {"type": "create_table", "schema": {"name": "...", "columns": [...]}}]}]}
//
// `migrations` must cover every version from the oldest one an installed app can still have up to
// `version` (WatermelonDB refuses a schema whose migrations stop short of it), and the sync wiring's
// `migrationsEnabledAtVersion` must not be lower than the oldest migration's `toVersion - 1`.
import { Model, appSchema, tableSchema } from '@nozbe/watermelondb'
import type { AppSchema, ColumnSchema, TableSchema } from '@nozbe/watermelondb/Schema'
import { schemaMigrations, addColumns, createTable } from '@nozbe/watermelondb/Schema/migrations'
import type { SchemaMigrations } from '@nozbe/watermelondb/Schema/migrations'
import { field } from '@nozbe/watermelondb/decorators'

export type ColumnJson = {
  name: string
  type: 'string' | 'number' | 'boolean'
  isOptional?: boolean
  isIndexed?: boolean
}
export type TableJson = { name: string; columns: ColumnJson[] }
export type MigrationStepJson =
  | { type: 'add_columns'; table: string; columns: ColumnJson[] }
  | { type: 'create_table'; schema: TableJson }
export type SchemaJson = {
  version: number
  tables: TableJson[]
  migrations?: { toVersion: number; steps: MigrationStepJson[] }[]
}

const column = (c: ColumnJson): ColumnSchema =>
  ({
    name: c.name,
    type: c.type,
    ...(c.isOptional ? { isOptional: true } : {}),
    ...(c.isIndexed ? { isIndexed: true } : {}),
  }) as ColumnSchema

const table = (t: TableJson): TableSchema =>
  tableSchema({ name: t.name, columns: t.columns.map(column) })

export function buildAppSchema(json: SchemaJson): AppSchema {
  return appSchema({ version: json.version, tables: json.tables.map(table) })
}

export function buildMigrations(json: SchemaJson): SchemaMigrations {
  return schemaMigrations({
    migrations: (json.migrations ?? []).map((m) => ({
      toVersion: m.toVersion,
      steps: m.steps.map((s) =>
        s.type === 'add_columns'
          ? addColumns({ table: s.table, columns: s.columns.map(column) })
          : createTable({ name: s.schema.name, columns: s.schema.columns.map(column) }),
      ),
    })),
  })
}

// `pain_points_json` -> `painPointsJson`
const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())

// One Model class per table, with a property per column (camelCase of the column name), made with
// WatermelonDB's own @field decorator so that writes go through the same path as in an app
// (`record.name = 'x'` inside `update()` marks `name` in `_changed`).
export function buildModelClasses(json: SchemaJson): (typeof Model)[] {
  return json.tables.map((t) => {
    const cls = class extends Model {
      static table = t.name
    }
    Object.defineProperty(cls, 'name', { value: `${camel(`_${t.name}`)}Model` })
    for (const c of t.columns) {
      const key = camel(c.name)
      if (key in cls.prototype) {
        throw new Error(`column ${t.name}.${c.name}: property ${key} clashes with Model's own`)
      }
      Object.defineProperty(cls.prototype, key, (field as any)(c.name)(cls.prototype, key, { initializer: undefined }))
    }
    return cls
  })
}
