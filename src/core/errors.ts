/**
 * The one error type the platform throws, and the catalogue that says how each code appears on the wire.
 * Codes are the AWS exception names, since those are the vocabulary every client already speaks; the
 * protocol codecs in `api/aws/protocol` render a PlatformError from this table and nowhere else.
 */
export interface ErrorSpec {
  status: number;
  /** Who is at fault: AWS clients retry server faults. */
  fault: 'client' | 'server';
  /** A few Lambda errors carry their text in `Message` rather than `message`. */
  messageKey?: 'message' | 'Message';
  /**
   * The rest-json body carries no `Type` member: Lambda adds it to its own exceptions only, not to the
   * framework's refusals of a malformed request.
   */
  untyped?: true;
}

export const ERROR_CATALOGUE = {
  // Shared
  /** CloudFormation's one client error, which `versa deploy` answers with. */
  ValidationError: { status: 400, fault: 'client' },
  /** CloudFormation's throttle ("Rate exceeded"), which the SDKs retry with back-off. */
  Throttling: { status: 400, fault: 'client' },
  /** The JSON services' throttle (CloudWatch Logs), which the SDKs retry with back-off. */
  ThrottlingException: { status: 400, fault: 'client' },
  ValidationException: { status: 400, fault: 'client', untyped: true },
  InternalFailure: { status: 500, fault: 'server' },
  UnknownOperationException: { status: 404, fault: 'client' },
  SerializationException: { status: 400, fault: 'client' },
  AccessDeniedException: { status: 403, fault: 'client' },
  /** STS's (a query protocol) name for it. */
  AccessDenied: { status: 403, fault: 'client' },
  // Authentication, at the front door (JSON-RPC services answer these with 400; the query protocol renames them)
  MissingAuthenticationTokenException: { status: 403, fault: 'client' },
  UnrecognizedClientException: { status: 403, fault: 'client' },
  InvalidSignatureException: { status: 403, fault: 'client' },
  IncompleteSignatureException: { status: 403, fault: 'client' },
  // Lambda (and CloudWatch Logs, whose JSON-RPC codec always writes `message` and answers 400)
  ResourceNotFoundException: { status: 404, fault: 'client', messageKey: 'Message' },
  InvalidParameterValueException: { status: 400, fault: 'client' },
  ResourceConflictException: { status: 409, fault: 'client' },
  PolicyLengthExceededException: { status: 400, fault: 'client' },
  ResourceInUseException: { status: 400, fault: 'client' },
  PreconditionFailedException: { status: 412, fault: 'client' },
  TooManyRequestsException: { status: 429, fault: 'client' },
  RequestTooLargeException: { status: 413, fault: 'client' },
  RequestTimeout: { status: 400, fault: 'client' },
  /** What Lambda really sends for a body over an operation's limit (Invoke, CreateFunction, UpdateFunctionCode). */
  RequestEntityTooLargeException: { status: 413, fault: 'client', messageKey: 'Message' },
  /** Invoke of a stored package that cannot be unpacked (only packages stored before the upload checks). */
  InvalidZipFileException: { status: 502, fault: 'server', messageKey: 'Message' },
  InvalidRequestContentException: { status: 400, fault: 'client' },
  UnsupportedMediaTypeException: { status: 415, fault: 'client' },
  CodeStorageExceededException: { status: 400, fault: 'client' },
  ServiceException: { status: 500, fault: 'server', messageKey: 'Message' },
  // CloudWatch (shape names; the query protocol's codes are mapped in its codec)
  MissingRequiredParameterException: { status: 400, fault: 'client' },
  InvalidParameterCombinationException: { status: 400, fault: 'client' },
  ResourceNotFound: { status: 404, fault: 'client' },
  InvalidFormatFault: { status: 400, fault: 'client' },
  InvalidNextToken: { status: 400, fault: 'client' },
  LimitExceededFault: { status: 400, fault: 'client' },
  InternalServiceFault: { status: 500, fault: 'server' },
  /** The query protocol's answer to an `Action` the service does not have. */
  InvalidAction: { status: 400, fault: 'client' },
  // CodeDeploy
  ApplicationAlreadyExistsException: { status: 400, fault: 'client' },
  ApplicationDoesNotExistException: { status: 400, fault: 'client' },
  ApplicationNameRequiredException: { status: 400, fault: 'client' },
  DeploymentGroupAlreadyExistsException: { status: 400, fault: 'client' },
  DeploymentGroupDoesNotExistException: { status: 400, fault: 'client' },
  DeploymentGroupNameRequiredException: { status: 400, fault: 'client' },
  DeploymentConfigAlreadyExistsException: { status: 400, fault: 'client' },
  DeploymentConfigDoesNotExistException: { status: 400, fault: 'client' },
  DeploymentConfigNameRequiredException: { status: 400, fault: 'client' },
  DeploymentConfigInUseException: { status: 400, fault: 'client' },
  InvalidDeploymentConfigNameException: { status: 400, fault: 'client' },
  InvalidTrafficRoutingConfigurationException: { status: 400, fault: 'client' },
  InvalidComputePlatformException: { status: 400, fault: 'client' },
  RoleRequiredException: { status: 400, fault: 'client' },
  AlarmsLimitExceededException: { status: 400, fault: 'client' },
  TriggerTargetsLimitExceededException: { status: 400, fault: 'client' },
  DeploymentDoesNotExistException: { status: 400, fault: 'client' },
  DeploymentIdRequiredException: { status: 400, fault: 'client' },
  InvalidDeploymentIdException: { status: 400, fault: 'client' },
  BatchLimitExceededException: { status: 400, fault: 'client' },
  DeploymentTargetListSizeExceededException: { status: 400, fault: 'client' },
  InvalidNextTokenException: { status: 400, fault: 'client' },
  InvalidDeploymentStatusException: { status: 400, fault: 'client' },
  DeploymentLimitExceededException: { status: 400, fault: 'client' },
  DeploymentAlreadyCompletedException: { status: 400, fault: 'client' },
  InvalidRevisionException: { status: 400, fault: 'client' },
  RevisionRequiredException: { status: 400, fault: 'client' },
  DeploymentTargetDoesNotExistException: { status: 400, fault: 'client' },
  InvalidLifecycleEventHookExecutionIdException: { status: 400, fault: 'client' },
  InvalidLifecycleEventHookExecutionStatusException: { status: 400, fault: 'client' },
  LifecycleEventAlreadyCompletedException: { status: 400, fault: 'client' },
  ResourceArnRequiredException: { status: 400, fault: 'client' },
  InvalidArnException: { status: 400, fault: 'client' },
  ArnNotSupportedException: { status: 400, fault: 'client' },
  TagRequiredException: { status: 400, fault: 'client' },
  InvalidTagsToAddException: { status: 400, fault: 'client' },
  TagLimitExceededException: { status: 400, fault: 'client' },
  InvalidTriggerConfigException: { status: 400, fault: 'client' },
  InvalidApplicationNameException: { status: 400, fault: 'client' },
  InvalidDeploymentGroupNameException: { status: 400, fault: 'client' },
  InvalidRoleException: { status: 400, fault: 'client' },
  DescriptionTooLongException: { status: 400, fault: 'client' },
  InvalidAlarmConfigException: { status: 400, fault: 'client' },
  InvalidAutoRollbackConfigException: { status: 400, fault: 'client' },
  InvalidDeploymentStyleException: { status: 400, fault: 'client' },
  InvalidBlueGreenDeploymentConfigurationException: { status: 400, fault: 'client' },
  // API Gateway
  NotFoundException: { status: 404, fault: 'client' },
  BadRequestException: { status: 400, fault: 'client' },
  ConflictException: { status: 409, fault: 'client' },
  LimitExceededException: { status: 429, fault: 'client' },
  // CloudFormation (shape names; its query codec writes the model's codes)
  AlreadyExistsException: { status: 400, fault: 'client' },
  InsufficientCapabilitiesException: { status: 400, fault: 'client' },
  ChangeSetNotFoundException: { status: 404, fault: 'client' },
  InvalidChangeSetStatusException: { status: 400, fault: 'client' },
  // STS
  /** STS's refusal of session tags it cannot take (duplicate keys, a transitive key not among them). */
  InvalidParameterValue: { status: 400, fault: 'client' },
  // CloudWatch Logs
  ResourceAlreadyExistsException: { status: 400, fault: 'client' },
  InvalidParameterException: { status: 400, fault: 'client' },
  TooManyTagsException: { status: 400, fault: 'client' },
  // SSM Parameter Store (its JSON-RPC codec answers every client error with 400)
  ParameterNotFound: { status: 400, fault: 'client' },
  ParameterAlreadyExists: { status: 400, fault: 'client' },
  ParameterVersionNotFound: { status: 400, fault: 'client' },
  HierarchyLevelLimitExceededException: { status: 400, fault: 'client' },
  UnsupportedParameterType: { status: 400, fault: 'client' },
  ParameterLimitExceeded: { status: 400, fault: 'client' },
  ParameterPatternMismatchException: { status: 400, fault: 'client' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class PlatformError extends Error {
  override readonly name = 'PlatformError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    /**
     * Extra members for the wire body (e.g. Lambda's throttling `Reason`) and headers; `untyped` leaves out
     * the rest-json `Type` member, which a few of Lambda's refusals come without.
     */
    readonly details: { body?: Record<string, unknown>; headers?: Record<string, string>; untyped?: true } = {},
  ) {
    super(message);
  }

  get spec(): ErrorSpec {
    return ERROR_CATALOGUE[this.code];
  }
}

/** Turns anything thrown into a PlatformError; unknown errors become an internal failure. */
export function asPlatformError(err: unknown): { error: PlatformError; unexpected: boolean } {
  if (err instanceof PlatformError) return { error: err, unexpected: false };
  return { error: new PlatformError('ServiceException', 'An internal error occurred.'), unexpected: true };
}
