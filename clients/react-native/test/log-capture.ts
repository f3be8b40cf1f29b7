// Captures everything WatermelonDB prints (its logger writes to console.*; logError passes an
// Error whose message starts with "[Sync]") so that a test fails on any warning or error.
import { inspect } from 'node:util'

export type Entry = { level: 'debug' | 'log' | 'info' | 'warn' | 'error'; text: string }

// Printed by the LokiJS adapter's constructor for `useIncrementalIndexedDB: false` — setup, not sync.
const ALLOWED = new Set([
  '[🍉] LokiJSAdapter {useIncrementalIndexedDB: false} option is now deprecated. If you rely on this feature, please file an issue',
])

const text = (args: unknown[]) =>
  args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : inspect(a))).join(' ')

export class LogCapture {
  entries: Entry[] = []
  private saved: Partial<Record<Entry['level'], (...a: unknown[]) => void>> = {}

  start(): this {
    for (const level of ['debug', 'log', 'info', 'warn', 'error'] as const) {
      this.saved[level] = console[level]
      console[level] = (...args: unknown[]) => {
        this.entries.push({ level, text: text(args) })
        if (process.env.WMDB_VERBOSE) this.saved[level]!(...args)
      }
    }
    return this
  }

  stop() {
    Object.assign(console, this.saved)
  }

  // Warnings and errors since the last call (and forget them).
  takeProblems(): Entry[] {
    const problems = this.entries.filter(
      (e) => (e.level === 'warn' || e.level === 'error') && !ALLOWED.has(e.text),
    )
    this.entries = []
    return problems
  }
}
