import { PlatformError, type ErrorCode } from '../core/errors.js';

/**
 * Collects constraint violations the way AWS reports them: one ValidationException whose message lists
 * every failed member ("2 validation errors detected: Value 'x' at 'timeout' failed to satisfy ...").
 */
export class Violations {
  private readonly items: string[] = [];

  add(value: unknown, member: string, constraint: string): this {
    // String(NaN) is NaN; JSON would show it as null.
    const shown = typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value);
    this.items.push(`Value '${shown}' at '${member}' failed to satisfy constraint: ${constraint}`);
    return this;
  }

  /** A required member left out: AWS quotes it as null, bare. */
  missing(member: string): this {
    this.items.push(`Value null at '${member}' failed to satisfy constraint: Member must not be null`);
    return this;
  }

  pattern(value: string | undefined, member: string, re: RegExp, shown = re.source): this {
    if (value !== undefined && !re.test(value)) this.add(value, member, `Member must satisfy regular expression pattern: ${shown}`);
    return this;
  }

  length(value: string | undefined, member: string, min: number, max: number): this {
    if (value === undefined) return this;
    if (value.length < min) this.add(value, member, `Member must have length greater than or equal to ${min}`);
    else if (value.length > max) this.add(value, member, `Member must have length less than or equal to ${max}`);
    return this;
  }

  range(value: number | undefined, member: string, min: number, max: number): this {
    if (value === undefined) return this;
    if (value < min) this.add(value, member, `Member must have value greater than or equal to ${min}`);
    else if (value > max) this.add(value, member, `Member must have value less than or equal to ${max}`);
    return this;
  }

  /**
   * A whole number within [min, max]. Checked before the range: NaN compares false with every bound, so
   * range() alone lets it by, and whichever door a value comes through, it must not reach the runtime.
   */
  integer(value: number | undefined, member: string, min: number, max: number): this {
    if (value === undefined) return this;
    if (typeof value !== 'number' || !Number.isInteger(value)) return this.add(value, member, 'Member must be a whole number');
    return this.range(value, member, min, max);
  }

  /** Throws the collected violations as one error: ValidationException, or the code a service uses instead. */
  throwIfAny(code: ErrorCode = 'ValidationException'): void {
    if (this.items.length === 0) return;
    const n = this.items.length;
    throw new PlatformError(code, `${n} validation error${n === 1 ? '' : 's'} detected: ${this.items.join('; ')}`);
  }
}
