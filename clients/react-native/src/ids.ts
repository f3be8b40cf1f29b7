// Record ids are UUIDs (the server's ids), made on the phone. WatermelonDB's generator is global.
// In React Native (no crypto.randomUUID there), the same one line with the `uuid` package:
//   import 'react-native-get-random-values'; import { v4 } from 'uuid'; setGenerator(() => v4())
import { setGenerator } from '@nozbe/watermelondb/utils/common/randomId'

setGenerator(() => globalThis.crypto.randomUUID())
