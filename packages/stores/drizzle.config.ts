import { defineConfig } from 'drizzle-kit'

// Generation only needs the schema; migrations are applied by `openDatabase` at start-up.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema.ts',
  out: './drizzle',
})
