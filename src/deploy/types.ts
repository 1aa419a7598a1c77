import type { RollbackEvent, TrafficRouting } from '../domain/deployment.js';

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
  };
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
