/** An SSM parameter with the versions it has had (AWS keeps the last 100). */
export interface ParameterDoc {
  name: string;
  type: 'String' | 'StringList' | 'SecureString';
  dataType: string;
  description?: string;
  /** Every kept version, oldest first; the last one is current. */
  versions: ParameterVersion[];
}

export interface ParameterVersion {
  version: number;
  value: string;
  type: 'String' | 'StringList' | 'SecureString';
  modified: number;
  description?: string;
}
