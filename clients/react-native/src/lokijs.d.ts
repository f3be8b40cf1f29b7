// The only part of LokiJS (WatermelonDB's fork, @nozbe/lokijs) the kit touches.
declare module 'lokijs' {
  export class LokiMemoryAdapter {
    constructor(options?: { asyncResponses?: boolean; asyncTimeout?: number })
  }
}
