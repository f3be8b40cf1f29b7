// Fails when src/api/schema.d.ts is not what `npm run generate:api` makes from the current
// api-spec/openapi.json: regenerates into a temporary file and compares.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const kit = fileURLToPath(new URL('..', import.meta.url))
const tmp = mkdtempSync(join(tmpdir(), 'outreach-api-types-'))
try {
  const fresh = join(tmp, 'schema.d.ts')
  const cli = join(kit, 'node_modules/openapi-typescript/bin/cli.js')
  execFileSync(process.execPath, [cli, '../../api-spec/openapi.json', '-o', fresh], { cwd: kit, stdio: ['ignore', 'ignore', 'inherit'] })
  if (readFileSync(fresh, 'utf8') !== readFileSync(join(kit, 'src/api/schema.d.ts'), 'utf8')) {
    console.error('src/api/schema.d.ts is out of date with api-spec/openapi.json: run `npm run generate:api` in clients/react-native')
    process.exitCode = 1
  }
} finally {
  rmSync(tmp, { recursive: true, force: true })
}
