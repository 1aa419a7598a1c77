/**
 * Text that came from the server made safe to print: what a function logged, answered or failed with,
 * and what an alarm or a hook was told. A control character (ESC above all) or a bidirectional override
 * in it could steer the operator's terminal, recolour or overwrite earlier lines, set the title or the
 * clipboard, or make a line read backwards; each is shown escaped instead (`\x1b`, `\u202e`). Tabs and
 * line ends stay.
 */
export function printable(text: string): string {
  return text.replace(STEERING, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

// eslint-disable-next-line no-control-regex
const STEERING = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
