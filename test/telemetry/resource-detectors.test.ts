import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type * as Resources from '@opentelemetry/resources';
import { parse } from 'yaml';
import {
  containerIdFound,
  PROBING_DETECTORS,
  RESOURCE_DETECTOR_NAMES,
  resourceDetectorIdsFromEnv,
  resourceDetectorsFromEnv,
  type ContainerFiles,
  type ResourceDetectorId,
} from '../../src/telemetry/resource-detectors.js';
import { useDiagCapture } from '../helpers/diag.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/detect-resources.ts', import.meta.url));
const require = createRequire(import.meta.url);
// The CommonJS copies: the ones resourceDetectorsFromEnv() loads, through `#require-here`.
const { detectResources } = require('@opentelemetry/resources') as typeof Resources;

/** Files that do not exist: no container id, wherever the tests run. */
const NO_CONTAINER: ContainerFiles = {
  cgroup: '/nonexistent/otel-winston/cgroup',
  mountinfo: '/nonexistent/otel-winston/mountinfo',
};
const SDK_DEFAULT: ResourceDetectorId[] = ['host', 'os', 'serviceinstance', 'process', 'env'];
const EVERY_ID = Object.values(RESOURCE_DETECTOR_NAMES).flat();
/** What `@opentelemetry/resources` 3 says of an attribute that settled to nothing (see the README). */
const UNSETTLED = /^dropping invalid resource attribute value for key "[^"]+"$/;

/**
 * The warnings of a child's detection, but the one the Node SDK's own default gives where
 * `/etc/machine-id` is missing (`host.id`, some container images): not these detectors'.
 */
const warningsOf = (out: { warnings: string[] }): string[] =>
  out.warnings.filter((w) => w !== 'dropping invalid resource attribute value for key "host.id"');

const ids = (variable: string | undefined, env: Record<string, string> = {}) =>
  resourceDetectorIdsFromEnv(
    { ...env, ...(variable !== undefined ? { OTEL_NODE_RESOURCE_DETECTORS: variable } : {}) },
    NO_CONTAINER,
  );

describe('resource detectors: OTEL_NODE_RESOURCE_DETECTORS', () => {
  const diag = useDiagCapture();

  it('unset or empty: the Node SDK default, in the official order, with env last; no warning', () => {
    expect(ids(undefined)).to.deep.equal(SDK_DEFAULT);
    expect(ids('')).to.deep.equal(SDK_DEFAULT);
    expect(ids('  ')).to.deep.equal(SDK_DEFAULT);
    expect(diag.warnings).to.deep.equal([]);
  });

  it('all, anywhere in the list, is every detector of every package, all first (official)', () => {
    expect(EVERY_ID.slice(0, 5)).to.deep.equal([
      'container',
      'host',
      'os',
      'serviceinstance',
      'process',
    ]);
    expect(EVERY_ID.at(-1)).to.equal('env');
    expect(ids('all')).to.deep.equal(EVERY_ID);
    expect(ids('env,all')).to.deep.equal(EVERY_ID);
    expect(ids('all,none')).to.deep.equal(EVERY_ID);
    expect(diag.warnings).to.deep.equal([]);
  });

  it('none, without all, is no detector at all (official: OTEL_SERVICE_NAME is then not read either)', () => {
    expect(ids('none')).to.deep.equal([]);
    expect(ids('env,none')).to.deep.equal([]);
    expect(diag.warnings).to.deep.equal([]);
  });

  it('a list is taken in its order, each package name as its detectors; case and spaces do not matter', () => {
    expect(ids('aws, ENV')).to.deep.equal([...RESOURCE_DETECTOR_NAMES.aws!, 'env']);
    expect(ids('azure')).to.deep.equal([
      'azure.appservice',
      'azure.functions',
      'azure.containerapps',
      'azure.aks',
      'azure.vm',
    ]);
    expect(ids('env,host,env')).to.deep.equal(['env', 'host']);
    expect(ids('container,gcp,alibaba')).to.deep.equal(['container', 'gcp', 'alibaba']);
    expect(diag.warnings).to.deep.equal([]);
  });

  it('an unknown name is dropped with a coded warning naming it; nothing but unknown names keeps the default', () => {
    expect(ids('env,k8s,hosts,constructor,__proto__')).to.deep.equal(['env']);
    expect(diag.warnings).to.have.length(1);
    expect(diag.warnings[0]).to.match(/^otel-winston OTW004: /);
    expect(diag.warnings[0])
      .to.include('"k8s", "hosts", "constructor", "__proto__"')
      .and.include('OTEL_NODE_RESOURCE_DETECTORS');
    diag.clear();
    expect(ids('k8s')).to.deep.equal(SDK_DEFAULT);
    expect(diag.warnings).to.have.length(1);
    expect(diag.warnings[0]).to.include('using the default');
  });

  it('loads the detectors it names, each with its id, and only those', () => {
    const detectors = resourceDetectorsFromEnv({ OTEL_NODE_RESOURCE_DETECTORS: 'aws,env' });
    expect(detectors.map((d) => d.id)).to.deep.equal([...RESOURCE_DETECTOR_NAMES.aws!, 'env']);
    expect(detectors.every((d) => typeof d.detect === 'function')).to.equal(true);
  });
});

describe('resource detectors: the default follows where the environment says the app runs', () => {
  const signals: Array<[string, Record<string, string>, ResourceDetectorId[]]> = [
    [
      'AWS Lambda',
      { AWS_LAMBDA_FUNCTION_NAME: 'f', AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' },
      ['aws.lambda'],
    ],
    [
      'AWS Lambda, by AWS_EXECUTION_ENV alone',
      { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' },
      ['aws.lambda'],
    ],
    [
      'Amazon ECS (metadata v4)',
      { ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/x' },
      ['aws.ecs'],
    ],
    [
      'Amazon ECS (metadata v3)',
      { ECS_CONTAINER_METADATA_URI: 'http://169.254.170.2/v3/x' },
      ['aws.ecs'],
    ],
    [
      'Azure App Service / Functions',
      { WEBSITE_SITE_NAME: 'shop' },
      ['azure.appservice', 'azure.functions'],
    ],
    ['Azure Container Apps', { CONTAINER_APP_NAME: 'shop' }, ['azure.containerapps']],
    [
      'AKS',
      {
        CLUSTER_RESOURCE_ID:
          '/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c',
      },
      ['azure.aks'],
    ],
    ['Cloud Run', { K_SERVICE: 'shop' }, ['gcp']],
    ['Cloud Functions', { FUNCTION_TARGET: 'handler' }, ['gcp']],
    ['App Engine', { GAE_SERVICE: 'default' }, ['gcp']],
    ['GOOGLE_CLOUD_PROJECT alone (a developer laptop)', { GOOGLE_CLOUD_PROJECT: 'p' }, []],
    [
      'AWS_EXECUTION_ENV of ECS alone (no metadata endpoint to ask)',
      { AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE' },
      [],
    ],
  ];
  for (const [where, env, added] of signals) {
    it(`${where}: ${added.length === 0 ? 'nothing added' : added.join(', ')}`, () => {
      const chosen = ids(undefined, env);
      expect(chosen.filter((id) => !SDK_DEFAULT.includes(id))).to.deep.equal(added);
      expect(chosen.at(-1)).to.equal('env');
    });
  }

  it('no default, whatever the variables say, has a detector that probes where it may not be answered', () => {
    const everything = Object.assign({}, ...signals.map(([, env]) => env)) as Record<
      string,
      string
    >;
    const chosen = ids(undefined, everything);
    // gcp asks the metadata server, which Cloud Run, Cloud Functions and App Engine have.
    expect(chosen.filter((id) => PROBING_DETECTORS.includes(id))).to.deep.equal(['gcp']);
    expect(ids(undefined).filter((id) => PROBING_DETECTORS.includes(id))).to.deep.equal([]);
  });
});

describe('resource detectors: container', () => {
  const ID = 'a'.repeat(12) + '0123456789abcdef'.repeat(3) + 'b'.repeat(4); // 64 hex
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'otel-winston-cgroup-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  // The detector reads /proc/self/* at paths it keeps on its (shared) instance: point them here.
  const { containerDetector } = require('@opentelemetry/resource-detector-container') as {
    containerDetector: { DEFAULT_CGROUP_V1_PATH: string; DEFAULT_CGROUP_V2_PATH: string };
  };
  async function detectedContainerId(files: ContainerFiles): Promise<unknown> {
    const saved = { ...containerDetector };
    Object.assign(containerDetector, {
      DEFAULT_CGROUP_V1_PATH: files.cgroup,
      DEFAULT_CGROUP_V2_PATH: files.mountinfo,
    });
    try {
      const detectors = resourceDetectorsFromEnv({}, files).filter((d) => d.id === 'container');
      expect(detectors, 'chosen by the default').to.have.length(1);
      const resource = detectResources({ detectors });
      await resource.waitForAsyncAttributes?.();
      return resource.attributes['container.id'];
    } finally {
      Object.assign(containerDetector, {
        DEFAULT_CGROUP_V1_PATH: saved.DEFAULT_CGROUP_V1_PATH,
        DEFAULT_CGROUP_V2_PATH: saved.DEFAULT_CGROUP_V2_PATH,
      });
    }
  }

  it('cgroup v1 (Docker, containerd, CRI-O): the default chooses it, and container.id comes from the file', async () => {
    const files = {
      cgroup: write(
        'cgroup',
        `12:pids:/docker/${ID}\n11:memory:/docker/${ID}\n1:name=systemd:/docker/${ID}\n`,
      ),
      mountinfo: write('mountinfo', ''),
    };
    expect(containerIdFound(files)).to.equal(true);
    expect(await detectedContainerId(files)).to.equal(ID);
    const crio = { ...files, cgroup: write('crio', `0::/kubepods.slice/crio-${ID}.scope\n`) };
    expect(await detectedContainerId(crio)).to.equal(ID);
  });

  it('cgroup v2 (Docker): container.id comes from the hostname mount in mountinfo', async () => {
    const files = {
      cgroup: write('cgroup', '0::/\n'),
      mountinfo: write(
        'mountinfo',
        `612 603 254:1 / /etc/resolv.conf rw,relatime - ext4 /dev/vda1 rw\n` +
          `613 603 254:1 /var/lib/docker/containers/${ID}/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw\n`,
      ),
    };
    expect(containerIdFound(files)).to.equal(true);
    expect(await detectedContainerId(files)).to.equal(ID);
  });

  it('no id in either file (not in a container; containerd on cgroup v2): left out of the default', () => {
    const files = {
      cgroup: write('cgroup', '0::/\n'),
      mountinfo: write(
        'mountinfo',
        `613 603 254:1 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/${ID}/hostname /etc/hostname rw - ext4 /dev/vda1 rw\n`,
      ),
    };
    expect(containerIdFound(files)).to.equal(false);
    expect(containerIdFound(NO_CONTAINER)).to.equal(false);
    expect(resourceDetectorIdsFromEnv({}, files)).to.deep.equal(SDK_DEFAULT);
    // Named, it runs anyway.
    expect(
      resourceDetectorIdsFromEnv({ OTEL_NODE_RESOURCE_DETECTORS: 'container' }, files),
    ).to.deep.equal(['container']);
  });
});

interface Detected {
  ids: ResourceDetectorId[];
  attributes: Record<string, unknown>;
  loaded: string[];
  warnings: string[];
  connections: string[];
}

const execFileAsync = promisify(execFile);

/** Detects the resource of a fresh process with exactly `env` (and PATH). */
async function detectInChild(
  env: Record<string, string>,
  files?: ContainerFiles,
): Promise<Detected> {
  const { stdout } = await execFileAsync(
    process.execPath,
    ['--import', 'tsx', FIXTURE, ...(files !== undefined ? [JSON.stringify(files)] : [])],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Detected;
}

/** A loopback HTTP server answering JSON (or text) by path; 404 otherwise. */
async function serve(
  routes: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ server: Server; host: string; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    const body = routes[req.url ?? ''];
    if (body === undefined) {
      res.writeHead(404, headers).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}`, paths };
}

describe('resource detectors: loading and the network (child processes)', function () {
  this.timeout(60_000);

  it('the default loads no detector package and opens no connection', async () => {
    const out = await detectInChild({}, NO_CONTAINER);
    expect(out.ids).to.deep.equal(SDK_DEFAULT);
    expect(out.loaded).to.deep.equal([]);
    expect(out.connections).to.deep.equal([]);
    expect(warningsOf(out)).to.deep.equal([]);
    expect(out.attributes).to.include.keys('host.name', 'process.pid', 'service.instance.id');
  });

  it('the default on this machine, /proc files and all, opens no connection either', async () => {
    const out = await detectInChild({ OTEL_SERVICE_NAME: 'checkout' });
    expect(out.connections).to.deep.equal([]);
    expect(warningsOf(out)).to.deep.equal([]);
    expect(out.attributes['service.name']).to.equal('checkout');
    expect(out.loaded.filter((p) => !p.endsWith('-container'))).to.deep.equal([]);
  });

  it('a named package is loaded, and no other', async () => {
    const out = await detectInChild({ OTEL_NODE_RESOURCE_DETECTORS: 'alibaba,env' }, NO_CONTAINER);
    expect(out.loaded).to.deep.equal(['@opentelemetry/resource-detector-alibaba-cloud']);
    expect(out.connections).to.deep.equal(['100.100.100.200:80']); // the probe it was named for
  });

  it('all probes the clouds’ metadata endpoints (refused here before leaving the process)', async () => {
    const out = await detectInChild({ OTEL_NODE_RESOURCE_DETECTORS: 'all' }, NO_CONTAINER);
    expect(out.loaded).to.include.members([
      '@opentelemetry/resource-detector-alibaba-cloud',
      '@opentelemetry/resource-detector-aws',
      '@opentelemetry/resource-detector-azure',
      '@opentelemetry/resource-detector-container',
      '@opentelemetry/resource-detector-gcp',
    ]);
    expect([...new Set(out.connections)].sort()).to.deep.equal([
      '100.100.100.200:80', // alibaba
      '169.254.169.254:80', // aws.ec2, azure.vm, gcp
      'metadata.google.internal.:80', // gcp
    ]);
    // Every detector that found nothing says so, through the SDK (see UNSETTLED).
    expect(out.warnings.filter((w) => !UNSETTLED.test(w))).to.deep.equal([]);
  });

  it('AWS Lambda: cloud.* and faas.* from the variables, no connection, no warning for what is unset', async () => {
    const out = await detectInChild(
      {
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
        AWS_LAMBDA_FUNCTION_NAME: 'checkout',
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_REGION: 'eu-west-1',
        // No AWS_LAMBDA_FUNCTION_MEMORY_SIZE: the detector's NaN is left out.
      },
      NO_CONTAINER,
    );
    expect(out.ids).to.include('aws.lambda');
    expect(out.loaded).to.deep.equal(['@opentelemetry/resource-detector-aws']);
    expect(out.attributes).to.include({
      'cloud.provider': 'aws',
      'cloud.platform': 'aws_lambda',
      'cloud.region': 'eu-west-1',
      'faas.name': 'checkout',
      'faas.version': '$LATEST',
    });
    expect(out.attributes).to.not.have.key('faas.max_memory');
    expect(out.connections).to.deep.equal([]);
    expect(warningsOf(out)).to.deep.equal([]);
  });

  it('Azure App Service: cloud.* and service.name from the variables; OTEL_SERVICE_NAME still wins', async () => {
    const env = {
      WEBSITE_SITE_NAME: 'shop-web',
      REGION_NAME: 'westeurope',
      WEBSITE_INSTANCE_ID: 'i-1',
      WEBSITE_OWNER_NAME: 'sub-1+shop-westeuropewebspace',
      WEBSITE_RESOURCE_GROUP: 'shop',
    };
    const out = await detectInChild(env, NO_CONTAINER);
    expect(out.attributes).to.include({
      'cloud.provider': 'azure',
      'cloud.platform': 'azure.app_service',
      'cloud.region': 'westeurope',
      'service.name': 'shop-web',
      'service.instance.id': 'i-1',
      'cloud.resource_id':
        '/subscriptions/sub-1/resourceGroups/shop/providers/Microsoft.Web/sites/shop-web',
    });
    expect(out.loaded).to.deep.equal(['@opentelemetry/resource-detector-azure']);
    expect(out.connections).to.deep.equal([]);
    expect(warningsOf(out)).to.deep.equal([]);
    const named = await detectInChild({ ...env, OTEL_SERVICE_NAME: 'checkout' }, NO_CONTAINER);
    expect(named.attributes['service.name']).to.equal('checkout');
  });

  it('Amazon ECS: the task metadata endpoint the variable names is asked, and only it', async () => {
    const arn = 'arn:aws:ecs:eu-west-1:111122223333';
    const { server, host, paths } = await serve({
      '/v4/c1': {
        ContainerARN: `${arn}:container/shop/t1/c1`,
        LogDriver: 'awslogs',
        LogOptions: {
          'awslogs-group': '/ecs/checkout',
          'awslogs-region': 'eu-west-1',
          'awslogs-stream': 'ecs/app/t1',
        },
      },
      '/v4/c1/task': {
        Cluster: `${arn}:cluster/shop`,
        TaskARN: `${arn}:task/shop/t1`,
        Family: 'checkout',
        Revision: '7',
        LaunchType: 'FARGATE',
        AvailabilityZone: 'eu-west-1a',
      },
    });
    try {
      const out = await detectInChild(
        { ECS_CONTAINER_METADATA_URI_V4: `http://${host}/v4/c1` },
        NO_CONTAINER,
      );
      expect(out.ids).to.include('aws.ecs');
      expect(out.attributes).to.include({
        'cloud.provider': 'aws',
        'cloud.platform': 'aws_ecs',
        'cloud.account.id': '111122223333',
        'cloud.region': 'eu-west-1',
        'cloud.availability_zone': 'eu-west-1a',
        'aws.ecs.task.arn': `${arn}:task/shop/t1`,
        'aws.ecs.cluster.arn': `${arn}:cluster/shop`,
        'aws.ecs.launchtype': 'fargate',
        'aws.ecs.task.family': 'checkout',
      });
      expect(out.attributes['aws.log.group.names']).to.deep.equal(['/ecs/checkout']);
      expect(paths.sort()).to.deep.equal(['/v4/c1', '/v4/c1/task']);
      expect(new Set(out.connections)).to.deep.equal(new Set([host]));
      // container.id comes from /proc/self/cgroup, which may hold none where the tests run.
      expect(out.warnings.filter((w) => !UNSETTLED.test(w))).to.deep.equal([]);
    } finally {
      server.close();
    }
  });

  it('Cloud Run (the optional gcp package, installed here): faas.* and cloud.* from the metadata server', async () => {
    const { server, host } = await serve(
      {
        '/computeMetadata/v1/instance': 'ok',
        '/computeMetadata/v1/instance/id': '"4520031799277581759"',
        '/computeMetadata/v1/instance/region': 'projects/123/regions/europe-west1',
        '/computeMetadata/v1/project/project-id': 'shop-prod',
      },
      { 'Metadata-Flavor': 'Google' },
    );
    try {
      const out = await detectInChild(
        {
          K_SERVICE: 'checkout',
          K_CONFIGURATION: 'checkout',
          K_REVISION: 'checkout-00007-abc',
          GCE_METADATA_HOST: host, // gcp-metadata's own variable: the metadata server is ours
        },
        NO_CONTAINER,
      );
      expect(out.ids).to.include('gcp');
      expect(out.loaded).to.deep.equal(['@opentelemetry/resource-detector-gcp', 'gcp-metadata']);
      expect(out.attributes).to.include({
        'cloud.provider': 'gcp',
        'cloud.platform': 'gcp_cloud_run',
        'cloud.account.id': 'shop-prod',
        'cloud.region': 'europe-west1',
        'faas.name': 'checkout',
        'faas.version': 'checkout-00007-abc',
        'faas.instance': '4520031799277581759',
      });
      expect(new Set(out.connections)).to.deep.equal(new Set([host]));
      // The zone, cluster and host attributes Cloud Run has not settle to nothing.
      expect(out.warnings.filter((w) => !UNSETTLED.test(w))).to.deep.equal([]);
    } finally {
      server.close();
    }
  });
});

/**
 * Kubernetes sets a variable from the downward API, and expands `$(NAME)` in a
 * value from the variables listed before it: done here as the kubelet does it.
 */
function podEnv(spec: unknown, pod: Record<string, string>): Record<string, string> {
  // A container's fragment (`env:`), or the list of containers with it.
  type Container = { env: Array<Record<string, unknown>> };
  const list = ((spec as { containers?: Container[] }).containers?.[0] ?? (spec as Container)).env;
  const env: Record<string, string> = {};
  for (const entry of list) {
    const name = entry.name as string;
    const field = (entry.valueFrom as { fieldRef?: { fieldPath: string } } | undefined)?.fieldRef
      ?.fieldPath;
    if (field !== undefined) {
      expect(pod, `the downward API field ${field}`).to.have.property(field);
      env[name] = pod[field]!;
    } else {
      env[name] = String(entry.value).replace(
        /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
        (all, ref: string) => env[ref] ?? all,
      );
    }
  }
  return env;
}

/** The YAML blocks of a markdown page's section (from `heading` to the next heading of its level). */
function yamlBlocks(path: string, heading: string): unknown[] {
  const text = readFileSync(join(ROOT, path), 'utf8');
  const start = text.indexOf(`\n${heading}\n`);
  expect(start, `${path}: ${heading}`).to.be.greaterThan(-1);
  const level = heading.split(' ')[0]!;
  const rest = text.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`\\n#{1,${level.length}} `));
  const section = end === -1 ? rest : rest.slice(0, end);
  return [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map(([, body]) => parse(body!));
}

describe('resource detectors: Kubernetes, the pod spec of the docs', function () {
  this.timeout(60_000);
  const pod = {
    'metadata.name': 'checkout-7d9f8-x2x4q',
    'metadata.namespace': 'shop',
    'metadata.uid': '0b4b1a2e-5d6f-4c7a-9e8b-1a2b3c4d5e6f',
    'spec.nodeName': 'node-a1',
  };
  const expected = {
    'k8s.pod.name': 'checkout-7d9f8-x2x4q',
    'k8s.namespace.name': 'shop',
    'k8s.pod.uid': '0b4b1a2e-5d6f-4c7a-9e8b-1a2b3c4d5e6f',
    'k8s.node.name': 'node-a1',
  };

  for (const [page, heading] of [
    ['README.md', '### Kubernetes'],
    ['docs/configuration.md', '### Kubernetes'],
  ] as const) {
    it(`${page}: the snippet's variables give the k8s.* attributes, with the default detectors`, async () => {
      const blocks = yamlBlocks(page, heading);
      expect(blocks, 'a yaml block').to.have.length.greaterThan(0);
      for (const block of blocks) {
        const env = podEnv(block, pod);
        expect(env.OTEL_RESOURCE_ATTRIBUTES, 'expanded').to.not.include('$(');
        const out = await detectInChild(env, NO_CONTAINER);
        expect(out.attributes).to.include(expected);
        expect(out.attributes['k8s.container.name']).to.be.a('string');
        expect(warningsOf(out)).to.deep.equal([]);
      }
    });
  }
});
