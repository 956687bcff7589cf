/**
 * The resource detectors of `OTEL_NODE_RESOURCE_DETECTORS`, by the names of the
 * official register (`@opentelemetry/auto-instrumentations-node`): `env`,
 * `host`, `os`, `process`, `serviceinstance` (from `@opentelemetry/resources`)
 * and `container`, `alibaba`, `aws`, `azure`, `gcp` (from the official
 * `@opentelemetry/resource-detector-*` packages), `all` and `none`.
 *
 * The list works as the official one does: `all` anywhere means every
 * detector, `none` (without `all`) means none, an unknown name is dropped with
 * a warning (OTW004). Two differences, both on the side of doing less:
 *
 * - Unset, the default is not `all`: `all` probes the metadata endpoints of
 *   EC2, Azure VMs, Alibaba Cloud and Google Cloud over the network on every
 *   start, and the exports wait for the answers (seconds, off those clouds).
 *   The default is what needs no probe: `host`, `os`, `process`,
 *   `serviceinstance` and `env` (the Node SDK's own default), `container` where
 *   the cgroup files hold a container id, and the cloud detectors that read
 *   only what the platform put in the environment, where it did (see
 *   {@link defaultDetectorIds}).
 * - A list of nothing but unknown names keeps the default rather than turning
 *   detection off (as `OTEL_NODE_ENABLED_INSTRUMENTATIONS` does here).
 *
 * Each package is loaded only when one of its detectors is chosen. The cloud
 * detectors read `process.env` themselves, not the `env` given here, which only
 * chooses them.
 */
import { diag } from '@opentelemetry/api';
import type { alibabaCloudEcsDetector } from '@opentelemetry/resource-detector-alibaba-cloud';
import type * as Aws from '@opentelemetry/resource-detector-aws';
import type * as Azure from '@opentelemetry/resource-detector-azure';
import type { containerDetector } from '@opentelemetry/resource-detector-container';
import type { gcpDetector } from '@opentelemetry/resource-detector-gcp';
import type {
  DetectedResource,
  DetectedResourceAttributes,
  ResourceDetectionConfig,
  ResourceDetector,
} from '@opentelemetry/resources';
import { readFileSync } from 'node:fs';
import { requireHere } from '#require-here';
import { readListEnv, readStringEnv, type Env } from '../env.js';
import { warn } from '../warnings.js';
import { installed } from './sdk-providers.js';

/** `@opentelemetry/resource-detector-gcp` is an optional peer dependency (it brings 55 packages). */
const GCP_PACKAGE = '@opentelemetry/resource-detector-gcp';

/** One detector, by the package it comes from and its name there. */
export type ResourceDetectorId =
  | 'container'
  | 'host'
  | 'os'
  | 'serviceinstance'
  | 'process'
  | 'alibaba'
  | 'gcp'
  | 'aws.ec2'
  | 'aws.ecs'
  | 'aws.eks'
  | 'aws.beanstalk'
  | 'aws.lambda'
  | 'azure.appservice'
  | 'azure.functions'
  | 'azure.containerapps'
  | 'azure.aks'
  | 'azure.vm'
  | 'env';

/**
 * Each name `OTEL_NODE_RESOURCE_DETECTORS` takes, with its detectors, in the
 * order `all` runs them: the official register's order, so that `env`
 * (`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SERVICE_NAME`) comes last and wins. `azure`
 * also has the two detectors of its package that read only the environment
 * (Container Apps, AKS), which the official list predates.
 */
export const RESOURCE_DETECTOR_NAMES: Readonly<Record<string, readonly ResourceDetectorId[]>> = {
  container: ['container'],
  host: ['host'],
  os: ['os'],
  serviceinstance: ['serviceinstance'],
  process: ['process'],
  alibaba: ['alibaba'],
  gcp: ['gcp'],
  aws: ['aws.ec2', 'aws.ecs', 'aws.eks', 'aws.beanstalk', 'aws.lambda'],
  azure: ['azure.appservice', 'azure.functions', 'azure.containerapps', 'azure.aks', 'azure.vm'],
  env: ['env'],
};

/** The detectors that make network requests wherever they run (probes), for the docs and tests. */
export const PROBING_DETECTORS: readonly ResourceDetectorId[] = [
  'alibaba', // http://100.100.100.200
  'gcp', // http://169.254.169.254, http://metadata.google.internal
  'aws.ec2', // http://169.254.169.254
  'aws.eks', // https://kubernetes.default.svc, where a service account token is mounted
  'azure.vm', // http://169.254.169.254
];

const VARIABLE = 'OTEL_NODE_RESOURCE_DETECTORS';

/** The files the container detector reads. */
export interface ContainerFiles {
  /** cgroup v1: `/proc/self/cgroup`. */
  readonly cgroup: string;
  /** cgroup v2: `/proc/self/mountinfo`. */
  readonly mountinfo: string;
}

const PROC_SELF: ContainerFiles = {
  cgroup: '/proc/self/cgroup',
  mountinfo: '/proc/self/mountinfo',
};

function linesOf(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').trim().split('\n');
  } catch {
    return []; // Not Linux, or not readable: no container id either way.
  }
}

/** The container detector's test of a cgroup v1 line: its last segment, prefix and suffix off, is hex. */
function cgroupLineHasId(line: string): boolean {
  const sections = line.split('/');
  if (sections.length <= 1) return false;
  let last = sections[sections.length - 1]!;
  last = last.slice(last.lastIndexOf(':') + 1);
  const prefix = ['crio-', 'docker-', 'cri-containerd-'].find((p) => last.startsWith(p));
  if (prefix !== undefined) last = last.slice(prefix.length);
  return /^[a-f0-9]+$/i.test(last.split('.')[0]!);
}

/**
 * Whether `@opentelemetry/resource-detector-container` will find a container
 * id: the same tests on the same two small files, read now. Where it would
 * find none it is left out, for with `@opentelemetry/resources` 3 an attribute
 * that settles to nothing is reported as invalid (`diag.warn`).
 */
export function containerIdFound(files: ContainerFiles = PROC_SELF): boolean {
  if (linesOf(files.cgroup).some(cgroupLineHasId)) return true;
  const hostname = linesOf(files.mountinfo).find((line) => line.includes('hostname'));
  const parts = hostname?.split('/') ?? [];
  return parts.some(
    (part, i) =>
      (part === 'containers' || part === 'overlay-containers') && parts[i + 1]?.length === 64,
  );
}

function set(env: Env, ...names: string[]): boolean {
  return names.some((name) => readStringEnv(env, name) !== undefined);
}

/**
 * The detectors of the default (`OTEL_NODE_RESOURCE_DETECTORS` unset): none
 * probes the network. A cloud detector is chosen where the platform's own
 * variables say the app runs there, and only one that reads those variables:
 *
 * - AWS Lambda (`AWS_LAMBDA_FUNCTION_NAME`, or `AWS_EXECUTION_ENV` `AWS_Lambda_*`):
 *   `aws.lambda`;
 * - Amazon ECS, on EC2 or Fargate (`ECS_CONTAINER_METADATA_URI_V4` or `_URI`): `aws.ecs`, which
 *   asks the task metadata endpoint the variable names;
 * - Azure App Service and Functions (`WEBSITE_SITE_NAME`): `azure.appservice`, `azure.functions`;
 * - Azure Container Apps (`CONTAINER_APP_NAME`): `azure.containerapps`;
 * - AKS (`CLUSTER_RESOURCE_ID`): `azure.aks`;
 * - Cloud Run, Cloud Functions, App Engine (`K_SERVICE`, `FUNCTION_TARGET`, `GAE_SERVICE`):
 *   `gcp`, which asks the metadata server, if its package is installed.
 *
 * `GOOGLE_CLOUD_PROJECT` is not a sign: developers set it on their laptops for
 * the Google client libraries.
 */
export function defaultDetectorIds(
  env: Env,
  files: ContainerFiles = PROC_SELF,
): ResourceDetectorId[] {
  const ids: ResourceDetectorId[] = [];
  if (containerIdFound(files)) ids.push('container');
  ids.push('host', 'os', 'serviceinstance', 'process');
  if (set(env, 'K_SERVICE', 'FUNCTION_TARGET', 'GAE_SERVICE')) {
    if (installed(GCP_PACKAGE)) ids.push('gcp');
    else diag.debug(`otel-winston: on Google Cloud, ${GCP_PACKAGE} adds the cloud.* attributes`);
  }
  if (set(env, 'ECS_CONTAINER_METADATA_URI_V4', 'ECS_CONTAINER_METADATA_URI')) ids.push('aws.ecs');
  if (
    set(env, 'AWS_LAMBDA_FUNCTION_NAME') ||
    readStringEnv(env, 'AWS_EXECUTION_ENV')?.startsWith('AWS_Lambda_')
  ) {
    ids.push('aws.lambda');
  }
  if (set(env, 'WEBSITE_SITE_NAME')) ids.push('azure.appservice', 'azure.functions');
  if (set(env, 'CONTAINER_APP_NAME')) ids.push('azure.containerapps');
  if (set(env, 'CLUSTER_RESOURCE_ID')) ids.push('azure.aks');
  ids.push('env');
  return ids;
}

/**
 * The detectors `OTEL_NODE_RESOURCE_DETECTORS` chooses, by id, loading
 * nothing. Unknown names are dropped with a warning (OTW004); `gcp` named
 * without its package installed too.
 */
export function resourceDetectorIdsFromEnv(
  env: Env = process.env,
  files: ContainerFiles = PROC_SELF,
): ResourceDetectorId[] {
  const listed = readListEnv(env, VARIABLE);
  if (listed === undefined) return defaultDetectorIds(env, files);
  const gcp = installed(GCP_PACKAGE);
  if (listed.includes('all')) {
    return Object.values(RESOURCE_DETECTOR_NAMES)
      .flat()
      .filter((id) => id !== 'gcp' || gcp);
  }
  if (listed.includes('none')) return [];
  const known = Object.keys(RESOURCE_DETECTOR_NAMES);
  const unknown = listed.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    warn(
      'OTW004',
      `Unknown resource detector(s) ${unknown.map((n) => JSON.stringify(n)).join(', ')} in ${VARIABLE}; known: ${known.join(', ')}, all, none${listed.length === unknown.length ? '; using the default' : ''}`,
      VARIABLE,
    );
    // A list of nothing but typos would turn detection off, OTEL_SERVICE_NAME with it.
    if (listed.length === unknown.length) return defaultDetectorIds(env, files);
  }
  if (listed.includes('gcp') && !gcp) {
    warn(
      'OTW004',
      `${VARIABLE} names gcp, but ${GCP_PACKAGE} is not installed (npm install ${GCP_PACKAGE}); detecting without it`,
      `${VARIABLE}:gcp`,
    );
  }
  // Only own keys: `constructor` is no detector.
  const ids = listed
    .filter((name) => known.includes(name))
    .flatMap((name) => RESOURCE_DETECTOR_NAMES[name]!);
  return [...new Set(ids)].filter((id) => id !== 'gcp' || gcp);
}

/**
 * A detector of the official packages, that leaves out the attributes it
 * found no value for (an AWS Lambda without `AWS_REGION`, say), which
 * `@opentelemetry/resources` 3 would report as invalid. `id` names it.
 */
class ChosenDetector implements ResourceDetector {
  constructor(
    readonly id: ResourceDetectorId,
    private readonly detector: ResourceDetector,
  ) {}

  detect(config?: ResourceDetectionConfig): DetectedResource {
    const found = this.detector.detect(config);
    const attributes: DetectedResourceAttributes = {};
    for (const [key, value] of Object.entries(found.attributes ?? {})) {
      // A promise stays: whether it settles to a value is known only later.
      if (value === undefined || value === null || Number.isNaN(value)) continue;
      attributes[key] = value;
    }
    return { ...found, attributes };
  }
}

function load<T>(id: string): T {
  return requireHere(id) as T;
}

type Resources = typeof import('@opentelemetry/resources');

/** Loads the detector of an id; its package is loaded then, not before. */
const LOADERS: Record<ResourceDetectorId, () => ResourceDetector> = {
  container: () =>
    load<{ containerDetector: typeof containerDetector }>(
      '@opentelemetry/resource-detector-container',
    ).containerDetector,
  host: () => load<Resources>('@opentelemetry/resources').hostDetector,
  os: () => load<Resources>('@opentelemetry/resources').osDetector,
  serviceinstance: () => load<Resources>('@opentelemetry/resources').serviceInstanceIdDetector,
  process: () => load<Resources>('@opentelemetry/resources').processDetector,
  alibaba: () =>
    load<{ alibabaCloudEcsDetector: typeof alibabaCloudEcsDetector }>(
      '@opentelemetry/resource-detector-alibaba-cloud',
    ).alibabaCloudEcsDetector,
  gcp: () => load<{ gcpDetector: typeof gcpDetector }>(GCP_PACKAGE).gcpDetector,
  'aws.ec2': () => load<typeof Aws>('@opentelemetry/resource-detector-aws').awsEc2Detector,
  'aws.ecs': () => load<typeof Aws>('@opentelemetry/resource-detector-aws').awsEcsDetector,
  'aws.eks': () => load<typeof Aws>('@opentelemetry/resource-detector-aws').awsEksDetector,
  'aws.beanstalk': () =>
    load<typeof Aws>('@opentelemetry/resource-detector-aws').awsBeanstalkDetector,
  'aws.lambda': () => load<typeof Aws>('@opentelemetry/resource-detector-aws').awsLambdaDetector,
  'azure.appservice': () =>
    load<typeof Azure>('@opentelemetry/resource-detector-azure').azureAppServiceDetector,
  'azure.functions': () =>
    load<typeof Azure>('@opentelemetry/resource-detector-azure').azureFunctionsDetector,
  'azure.containerapps': () =>
    load<typeof Azure>('@opentelemetry/resource-detector-azure').azureContainerAppsDetector,
  'azure.aks': () => load<typeof Azure>('@opentelemetry/resource-detector-azure').azureAksDetector,
  'azure.vm': () => load<typeof Azure>('@opentelemetry/resource-detector-azure').azureVmDetector,
  env: () => load<Resources>('@opentelemetry/resources').envDetector,
};

/**
 * The resource detectors `OTEL_NODE_RESOURCE_DETECTORS` asks for (see the
 * module's description for the names and the default), each with an `id`,
 * ready for `detectResources()` or the Node SDK's `resourceDetectors`. Only
 * the packages of the chosen detectors are loaded.
 *
 * @example
 * const resource = detectResources({ detectors: resourceDetectorsFromEnv(process.env) });
 * await resource.waitForAsyncAttributes?.();
 */
export function resourceDetectorsFromEnv(
  env: Env = process.env,
  files: ContainerFiles = PROC_SELF,
): Array<ResourceDetector & { readonly id: ResourceDetectorId }> {
  return resourceDetectorIdsFromEnv(env, files).map((id) => new ChosenDetector(id, LOADERS[id]()));
}
