import type { RollbackEvent, TrafficRouting } from './deployment.js';

export interface ApplicationDoc {
  applicationId: string;
  applicationName: string;
  computePlatform: string;
  createTime: number;
}

export interface DeploymentGroupDoc {
  applicationName: string;
  deploymentGroupId: string;
  deploymentGroupName: string;
  deploymentConfigName: string;
  serviceRoleArn: string;
  alarmConfiguration: { enabled: boolean; ignorePollAlarmFailure: boolean; alarms: { name: string }[] };
  autoRollbackConfiguration: { enabled: boolean; events: RollbackEvent[] };
  deploymentStyle: { deploymentType: string; deploymentOption: string };
  blueGreenDeploymentConfiguration?: {
    terminateBlueInstancesOnDeploymentSuccess?: { action?: string; terminationWaitTimeInMinutes?: number };
    /** EC2 options, kept and returned as given. */
    deploymentReadyOption?: { actionOnTimeout?: string; waitTimeInMinutes?: number };
    greenFleetProvisioningOption?: { action?: string };
  };
  /** What to do with targets that missed a deployment: CodeDeploy's UPDATE (the default) or IGNORE. Absent in groups stored before it was kept. */
  outdatedInstancesStrategy?: 'UPDATE' | 'IGNORE';
  /** Kept and returned as given; Versa sends no notifications. */
  triggerConfigurations?: TriggerConfig[];
  terminationHookEnabled?: boolean;
  lastSuccessfulDeployment?: { deploymentId: string; status: string; endTime?: number; createTime: number };
  lastAttemptedDeployment?: { deploymentId: string; status: string; endTime?: number; createTime: number };
}

export interface DeploymentConfigDoc {
  deploymentConfigId: string;
  deploymentConfigName: string;
  computePlatform: string;
  createTime: number;
  routing: TrafficRouting;
}

export interface TriggerConfig {
  triggerName: string;
  triggerTargetArn: string;
  triggerEvents: string[];
}
