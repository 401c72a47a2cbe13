// Types for scripts/check-i18n.mjs, for the unit test that imports it.
export function literalsIn(source: string): { line: number; text: string }[];
export function catalogueProblems(catalogues: Record<string, Record<string, unknown>>): string[];
