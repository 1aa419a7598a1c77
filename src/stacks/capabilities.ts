import { PlatformError } from '../core/errors.js';
import { isObject } from './template-values.js';
import type { JsonObject, ResourceDefinition } from '../domain/stack.js';

/**
 * What a caller of CloudFormation must acknowledge before a template may change anything: IAM
 * resources (`CAPABILITY_IAM`, or `CAPABILITY_NAMED_IAM` when one is given a name), and a transform
 * expanded by a stack operation rather than a change set (`CAPABILITY_AUTO_EXPAND`). Versa stores IAM
 * resources without enforcing them, but asks as AWS does, so that a release pipeline written for AWS
 * passes the same flags here.
 */
export type Capability = 'CAPABILITY_IAM' | 'CAPABILITY_NAMED_IAM' | 'CAPABILITY_AUTO_EXPAND';

export interface RequiredCapabilities {
  capabilities: Capability[];
  /** AWS's `CapabilitiesReason`: which resources need them. */
  reason?: string;
}

/** IAM resource types, with the property that names each (naming one needs CAPABILITY_NAMED_IAM). */
const IAM_TYPES: Record<string, string | undefined> = {
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::Policy': undefined,
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::IAM::User': 'UserName',
  'AWS::IAM::Group': 'GroupName',
  'AWS::IAM::InstanceProfile': 'InstanceProfileName',
  'AWS::IAM::AccessKey': undefined,
  'AWS::IAM::UserToGroupAddition': undefined,
};

/**
 * The capabilities `resources` (a template after any transform) need. `expanded`: the template had a
 * transform and is being run by CreateStack/UpdateStack, not through a change set.
 */
export function requiredCapabilities(resources: Record<string, ResourceDefinition>, expanded: boolean): RequiredCapabilities {
  const iam: string[] = [];
  let named = false;
  for (const [id, def] of Object.entries(resources)) {
    if (!(def.Type in IAM_TYPES)) continue;
    iam.push(id);
    const nameProperty = IAM_TYPES[def.Type];
    if (nameProperty !== undefined && def.Properties?.[nameProperty] !== undefined) named = true;
  }
  const capabilities: Capability[] = [];
  if (iam.length > 0) capabilities.push(named ? 'CAPABILITY_NAMED_IAM' : 'CAPABILITY_IAM');
  if (expanded) capabilities.push('CAPABILITY_AUTO_EXPAND');
  return {
    capabilities,
    ...(iam.length > 0 && {
      reason: `The following resource(s) require capabilities: [${[...new Set(iam.map((id) => resources[id]!.Type))].join(', ')}]`,
    }),
  };
}

/**
 * The same for a template read but not transformed (ValidateTemplate, GetTemplateSummary): a SAM
 * function or deployment preference without its own role makes one.
 */
export function declaredCapabilities(template: JsonObject): RequiredCapabilities {
  const resources: Record<string, ResourceDefinition> = {};
  if (isObject(template.Resources ?? null)) {
    for (const [id, def] of Object.entries(template.Resources as JsonObject)) {
      if (isObject(def) && typeof def.Type === 'string') resources[id] = def as unknown as ResourceDefinition;
    }
  }
  const globals = isObject(template.Globals ?? null) ? (template.Globals as JsonObject) : {};
  const globalRole = isObject(globals.Function ?? null) && (globals.Function as JsonObject).Role !== undefined;
  const implied: Record<string, ResourceDefinition> = { ...resources };
  for (const [id, def] of Object.entries(resources)) {
    if (def.Type !== 'AWS::Serverless::Function') continue;
    const props = def.Properties ?? {};
    if (props.Role === undefined && !globalRole) implied[`${id}Role`] = { Type: 'AWS::IAM::Role' };
  }
  return requiredCapabilities(implied, template.Transform !== undefined);
}

/** Refuses, as CloudFormation does, when the caller did not acknowledge every capability needed. */
export function checkCapabilities(required: RequiredCapabilities, granted: readonly string[]): void {
  const missing = required.capabilities.filter(
    (c) => !granted.includes(c) && !(c === 'CAPABILITY_IAM' && granted.includes('CAPABILITY_NAMED_IAM')),
  );
  if (missing.length > 0) throw new PlatformError('InsufficientCapabilitiesException', `Requires capabilities : [${missing.join(', ')}]`);
}
