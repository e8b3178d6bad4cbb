import type { Command } from 'commander';
import { UserError } from '../../errors.ts';
import { printJson, println, type CliContext } from '../context.ts';

interface BuildOptions {
  lake?: string;
  out?: string;
  json?: boolean;
}

interface PublishOptions {
  lake?: string;
  bucket?: string;
  prefix?: string;
  endpointUrl?: string;
  json?: boolean;
}

/** Registers `report build` and `report publish`. */
export function registerReportCommands(program: Command, ctx: CliContext): void {
  const report = program.command('report').summary('The HTML dashboard: build it, publish it to S3').description('The dashboard: a self-contained HTML report built from the lake, and its S3 website.');

  report
    .command('build')
    .summary('Build the HTML report from the lake')
    .description('Build the report from the curated tables and the newest model; write reports/<timestamp>.html and reports/index.html in the lake.')
    .option('--lake <dir|s3://bucket/prefix>', 'the lake (default: config "lake", ./lake)')
    .option('--out <dir>', 'also write a copy of the page into this folder')
    .option('--json', 'print the result as JSON')
    .action(async (opts: BuildOptions) => {
      const config = ctx.config(opts.lake ? { lake: opts.lake } : {});
      // Services load when the command runs (Vega, DuckDB), not at CLI start.
      const { buildReport } = await import('../../report/build.ts');
      const store = await ctx.runtime(config).lake();
      const result = await buildReport(store, opts.out ? { out: opts.out } : {});
      if (opts.json) return printJson(ctx.stdout, result);
      println(ctx.stdout, result.location);
      println(ctx.stdout, `  index: ${result.indexLocation}`);
      if (result.outFile) println(ctx.stdout, `  copy:  ${result.outFile}`);
      const range = result.coveredFrom ? `${result.coveredFrom} to ${result.coveredTo} UTC` : 'no data yet';
      println(ctx.stdout, `  ${(result.bytes / 1024).toFixed(0)} KiB in ${(result.durationMs / 1000).toFixed(1)} s; covers ${range}; ${result.hasModel ? 'with' : 'no'} model metrics`);
    });

  report
    .command('publish')
    .summary('Upload the newest report to an S3 website bucket')
    .description(
      'Upload the newest built report and index.html to an S3 website bucket, turn on website hosting if needed, make only the prefix publicly readable, and print the URL. With the local profile and no --bucket, print the report file instead.',
    )
    .option('--lake <dir|s3://bucket/prefix>', 'the lake holding the built report (default: config "lake", ./lake)')
    .option('--bucket <name>', 'the website bucket (default: config "aws.report.bucket")')
    .option('--prefix <prefix>', 'key prefix in the bucket, the only public part (default: config "aws.report.prefix", reports/)')
    .option('--endpoint-url <url>', 'AWS endpoint override, e.g. an emulator (default: config "aws.endpointUrl", AWS_ENDPOINT_URL)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: PublishOptions) => {
      const config = ctx.config({
        ...(opts.lake ? { lake: opts.lake } : {}),
        aws: {
          ...(opts.endpointUrl ? { endpointUrl: opts.endpointUrl } : {}),
          report: { ...(opts.bucket ? { bucket: opts.bucket } : {}), ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}) },
        },
      });
      const { locationOf, newestReportKey } = await import('../../report/build.ts');
      const runtime = ctx.runtime(config);
      const store = await runtime.lake();
      if (config.profile === 'local' && !opts.bucket) {
        const key = await newestReportKey(store);
        if (!key) throw new UserError(`No report has been built in ${store.url} yet.`, { hint: `Run: openevents report build --lake ${config.lake}` });
        const file = locationOf(store, key);
        if (opts.json) return printJson(ctx.stdout, { published: false, file });
        return println(ctx.stdout, file);
      }
      const bucket = config.aws.report.bucket;
      if (!bucket) {
        throw new UserError('No report bucket is configured.', { hint: 'Pass --bucket <name> or set aws.report.bucket (OPENEVENTS_AWS_REPORT_BUCKET).' });
      }
      const { publishReport } = await import('../../report/publish.ts');
      const aws = await runtime.aws();
      const endpoint = aws.endpoint('s3');
      const result = await publishReport(store, { bucket, prefix: config.aws.report.prefix, client: await aws.client('s3'), ...(endpoint ? { endpoint } : {}) });
      if (opts.json) return printJson(ctx.stdout, { published: true, ...result });
      println(ctx.stdout, result.url);
      println(ctx.stdout, `  uploaded s3://${bucket}/${result.reportKey} and s3://${bucket}/${result.indexKey}`);
      println(ctx.stdout, `  public: ${result.publicResource}${result.websiteConfigured ? '; website hosting turned on' : ''}`);
    });
}
