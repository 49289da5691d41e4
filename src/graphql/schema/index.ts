/** @module Assembles the schema from the type files. */
import { builder } from '../builder.ts'
import './alerts.ts'
import './audit.ts'
import './billing.ts'
import './clients.ts'
import './credentials.ts'
import './firms.ts'
import './keys.ts'
import './limits.ts'
import './models.ts'
import './routes.ts'
import './tokens.ts'
import './usage.ts'

export const schema = builder.toSchema({ sortSchema: true })
