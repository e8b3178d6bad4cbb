import type { InstanceFleetConfig, InstanceGroupConfig, RunJobFlowCommandInput } from '@aws-sdk/client-emr';
import { BOOTSTRAP_SCRIPT, codeLocation } from './code.ts';
import type { EmrSettings } from './settings.ts';
import { TOOLKIT_SCRIPT } from './toolkit.ts';

/** What one cluster is for: its steps (command-runner.jar arguments), tags and code. */
export interface ClusterPlan {
  /** The cluster's name after the pipeline name, e.g. 'etl,ml 2026-11-28T06'. */
  label: string;
  steps: Array<{ name: string; args: string[] }>;
  tags: Record<string, string>;
  /** The code bundle's hash (uploaded under settings.codeUri). */
  codeHash: string;
  /** Spot capacity for this run (fleets fall back to on-demand). */
  spot: boolean;
  /** The toolkit tarball (s3://) to install on the primary node, for steps that run `openevents`. */
  toolkit?: string;
}

/**
 * The RunJobFlow request of a plan: one spark-submit step per entry through command-runner.jar,
 * the bootstrap action that installs the code and its Python dependencies on every node (and the
 * toolkit with Node.js on the primary one when a step runs `openevents`), logs to
 * LogUri, and a cluster that ends after its last step (an idle timeout as a safety net).
 */
export function runJobFlowRequest(settings: EmrSettings, plan: ClusterPlan): RunJobFlowCommandInput {
  const code = codeLocation(settings.codeUri, plan.codeHash);
  return {
    Name: `${settings.name} ${plan.label}`.slice(0, 256),
    ReleaseLabel: settings.releaseLabel,
    LogUri: settings.logUri,
    Applications: [{ Name: 'Spark' }],
    ServiceRole: settings.serviceRole,
    JobFlowRole: settings.instanceProfile,
    VisibleToAllUsers: true,
    Instances: {
      ...(settings.instances === 'fleets' ? { InstanceFleets: fleets(settings, plan.spot) } : { InstanceGroups: groups(settings, plan.spot) }),
      ...subnets(settings),
      // The cluster ends when its last step has: no idle cluster left running (and billing).
      KeepJobFlowAliveWhenNoSteps: false,
      TerminationProtected: false,
    },
    AutoTerminationPolicy: { IdleTimeout: settings.idleTimeoutMinutes * 60 },
    BootstrapActions: [
      { Name: 'openevents code and Python dependencies', ScriptBootstrapAction: { Path: `${code}${BOOTSTRAP_SCRIPT}`, Args: [code] } },
      ...(plan.toolkit ? [{ Name: 'openevents toolkit and Node.js', ScriptBootstrapAction: { Path: `${code}${TOOLKIT_SCRIPT}`, Args: [plan.toolkit] } }] : []),
    ],
    Steps: plan.steps.map((step) => ({
      Name: step.name.slice(0, 256),
      ActionOnFailure: settings.actionOnFailure,
      HadoopJarStep: { Jar: 'command-runner.jar', Args: step.args },
    })),
    Tags: Object.entries(plan.tags).map(([Key, Value]) => ({ Key, Value: Value.slice(0, 256) })),
  };
}

function fleets(settings: EmrSettings, spot: boolean): InstanceFleetConfig[] {
  const fleet = (type: 'MASTER' | 'CORE', types: string[], units: number): InstanceFleetConfig => ({
    Name: type === 'MASTER' ? 'primary' : 'core',
    InstanceFleetType: type,
    ...(spot ? { TargetSpotCapacity: units } : { TargetOnDemandCapacity: units }),
    // The primary node takes one type; several are allowed for it only in the same family, so keep the first.
    InstanceTypeConfigs: (type === 'MASTER' ? types.slice(0, 1) : types).map((InstanceType) => ({ InstanceType, WeightedCapacity: 1 })),
    ...(spot
      ? {
          LaunchSpecifications: {
            // Spot with on-demand fallback: after the timeout EMR provisions on-demand instead.
            SpotSpecification: { TimeoutDurationMinutes: settings.spotTimeoutMinutes, TimeoutAction: 'SWITCH_TO_ON_DEMAND', AllocationStrategy: 'capacity-optimized' },
          },
        }
      : {}),
  });
  return [fleet('MASTER', settings.primaryInstanceTypes, 1), ...(settings.coreInstances > 0 ? [fleet('CORE', settings.coreInstanceTypes, settings.coreInstances)] : [])];
}

function groups(settings: EmrSettings, spot: boolean): InstanceGroupConfig[] {
  const market = spot ? ('SPOT' as const) : ('ON_DEMAND' as const);
  return [
    { Name: 'primary', InstanceRole: 'MASTER', InstanceType: settings.primaryInstanceTypes[0]!, InstanceCount: 1, Market: market },
    ...(settings.coreInstances > 0
      ? [{ Name: 'core', InstanceRole: 'CORE' as const, InstanceType: settings.coreInstanceTypes[0]!, InstanceCount: settings.coreInstances, Market: market }]
      : []),
  ];
}

function subnets(settings: EmrSettings): { Ec2SubnetIds?: string[]; Ec2SubnetId?: string } {
  if (settings.subnetIds.length === 0) return {};
  // Fleets choose among several subnets; groups take one.
  return settings.instances === 'fleets' ? { Ec2SubnetIds: settings.subnetIds } : { Ec2SubnetId: settings.subnetIds[0]! };
}
