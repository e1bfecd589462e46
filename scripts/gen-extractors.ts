// Writes emulator/arm64/decode/extractors.generated.ts from the decode tables (pattern.ts
// extractorsModuleSource). Run after changing a table's fields: npx tsx scripts/gen-extractors.ts
import { writeFileSync } from 'node:fs';
import { allTables } from '../emulator/arm64/decode/index.ts';
import { extractorsModuleSource } from '../emulator/arm64/decode/pattern.ts';

const file = new URL('../emulator/arm64/decode/extractors.generated.ts', import.meta.url);
writeFileSync(file, extractorsModuleSource(allTables().flat()));
process.stdout.write(`wrote ${file.pathname}\n`);
