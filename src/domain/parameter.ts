/** An SSM parameter with the versions it has had (AWS keeps the last 100). */
export interface ParameterDoc {
  name: string;
  type: 'String' | 'StringList' | 'SecureString';
  dataType: string;
  description?: string;
  /**
   * `Advanced` once a put asked for it (or Intelligent-Tiering needed it): the value may then hold 8 KB,
   * and the parameter never goes back to Standard. Absent is Standard, as every parameter was before tiers.
   */
  tier?: 'Advanced';
  /** Every kept version, oldest first; the last one is current. */
  versions: ParameterVersion[];
  /**
   * Set when a function's key wrote the current version. A parameter an operator wrote last is not a
   * function's to change or delete: templates read their inputs from Parameter Store at deploy time.
   */
  byFunction?: true;
}

export interface ParameterVersion {
  version: number;
  value: string;
  type: 'String' | 'StringList' | 'SecureString';
  modified: number;
  description?: string;
}
