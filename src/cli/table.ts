import { printable } from './printable.js';

/**
 * Rows as aligned columns, two spaces apart; the last column is not padded, so long text runs on. Cells
 * are the server's words (names, reasons a deployment ended): printed as printable text.
 */
export function table(cells: string[][]): string {
  const rows = cells.map((r) => r.map((cell) => printable(cell).replace(/\n/g, '\\n')));
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)));
  return rows
    .map(
      (r) =>
        r
          .map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!)))
          .join('  ')
          .trimEnd() + '\n',
    )
    .join('');
}
