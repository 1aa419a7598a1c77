import { setFlagsFromString } from 'node:v8';

/**
 * Regular expressions whose patterns come from users (a template parameter's AllowedPattern, an
 * integration response's selectionPattern) and whose subjects may come from anyone. V8's backtracking
 * engine takes time exponential in the subject for patterns such as `(a+)+`: 30 characters hold the
 * event loop for a minute, 40 for hours. V8's other engine (the `l` flag) matches in time linear in the
 * subject, and runs every pattern but those with backreferences or lookaround, which no linear engine
 * can: those are refused where the pattern is given. The engine is behind a V8 flag, set here before any
 * pattern is compiled with it; where it cannot be (a future Node that freezes its flags), patterns run
 * on the backtracking engine, as before (`linearEngine` says which).
 */
setFlagsFromString('--enable-experimental-regexp-engine');

/** The flag that asks for the linear engine. */
const LINEAR = 'l';

export const linearEngine = (() => {
  try {
    new RegExp('a', LINEAR);
    return true;
  } catch {
    return false;
  }
})();

const UNSUPPORTED =
  'cannot be matched in linear time, as Versa matches patterns: it uses a backreference or lookaround, or repeats a group too often';

/** A matcher for the whole of a subject (`^(?:pattern)$`) that runs in linear time; throws PatternProblem if there is none. */
export function wholeMatch(pattern: string, flags = ''): RegExp {
  const source = `^(?:${pattern})$`;
  try {
    new RegExp(source, flags);
  } catch {
    throw new PatternProblem('is not a valid regular expression');
  }
  if (!linearEngine || isLiteralPattern(pattern)) return new RegExp(source, flags);
  try {
    return new RegExp(source, flags + LINEAR);
  } catch {
    throw new PatternProblem(UNSUPPORTED);
  }
}

/**
 * A regular expression for `pattern` (found anywhere in a subject, as `replaceAll` and `split` use it)
 * that runs in linear time; throws PatternProblem if there is none. Unlike wholeMatch, a Node without the
 * linear engine refuses every pattern: its subjects (a mapping template's strings) are a public caller's.
 */
export function linearPattern(pattern: string, flags = ''): RegExp {
  try {
    new RegExp(pattern, flags);
  } catch {
    throw new PatternProblem('is not a valid regular expression');
  }
  // Plain text is matched in linear time by V8's usual engine, many times faster than by the linear one.
  if (isLiteralPattern(pattern)) return new RegExp(pattern, flags);
  if (!linearEngine) throw new PatternProblem('cannot be run in linear time by this Node.js');
  try {
    return new RegExp(pattern, flags + LINEAR);
  } catch {
    throw new PatternProblem(UNSUPPORTED);
  }
}

/**
 * What matching `pattern` costs the linear engine per character of subject, in units of about 100 ns (a
 * mapping template's step). The engine walks every state of the pattern at every character: measured on
 * Node 20, 1.5 µs a character for `.*token.*`, 0.5 for `[^a-z]`, 18 for thirty `.*` in a row (weighed
 * higher than measured, so that a render's step budget holds). A counted repetition (`x{100}`) is that many states.
 */
export function linearCost(pattern: string): number {
  let states = pattern.length;
  for (const m of pattern.matchAll(/\{(\d{1,4})(?:,(\d{0,4}))?\}/g)) states += Math.max(Number(m[1]), Number(m[2] || 0));
  return 2 + 3 * states;
}

/** Whether `pattern` is plain text (no character a regular expression reads specially): any engine matches it in linear time. */
export function isLiteralPattern(pattern: string): boolean {
  return !/[\\^$.|?*+()[\]{}]/.test(pattern);
}

/** Why a pattern cannot be used: the end of a sentence that begins with the pattern's name. */
export class PatternProblem extends Error {
  override readonly name = 'PatternProblem';
}
